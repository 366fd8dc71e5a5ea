/**
 * The one registry of AnnData encodings, keyed by (encoding-type,
 * encoding-version): every element either store reads or writes, and every
 * column the in-memory store takes, goes through here. An element's
 * attributes pick its module; an element without them (files of anndata <
 * 0.8) is taken by its node kind and dtype. An encoding this code does not
 * know, or a version of it, is refused with UNSUPPORTED_ENCODING naming the
 * element and the file.
 *
 * Adding an encoding: one module in this folder, and one line in ENCODINGS
 * (plus its row in test/encodings-conformance.test.ts, which checks there is one).
 */
import { AnnDataError, type Column, type ColumnInput, type ColumnKind, type DenseMatrix, type UnsValue, type XReadOptions } from "../model.js";
import { checkUnsKey } from "../element-rules.js";
import type { XSource } from "../x/source.js";
import type { ColumnIndexOf, ColumnRole, Encoding, SparseMatrix, UnsRole } from "./encoding.js";
import { type ElementIO, type NodeKind, dimsOf, isNumericDType, join, readChecked, what } from "./io.js";
import { array } from "./array.js";
import { categorical } from "./categorical.js";
import { cscMatrix } from "./csc-matrix.js";
import { csrMatrix } from "./csr-matrix.js";
import { type FrameHeader, dataframe, readFrameHeader } from "./dataframe.js";
import { dict } from "./dict.js";
import { nullableBoolean, nullableInteger } from "./nullable.js";
import { numericScalar, string } from "./scalar.js";
import { stringArray } from "./string-array.js";

/**
 * Every encoding this code reads and writes. For writing a value, and for an
 * element without encoding-version, the first one that fits wins: a newer
 * version goes after the one anndata writes.
 */
export const ENCODINGS: readonly Encoding[] = [
  dataframe, array, stringArray, categorical, nullableInteger, nullableBoolean, dict, string, numericScalar, csrMatrix, cscMatrix,
];

const key = (type: string, version: string) => `${type}\0${version}`;
const BY_KEY = new Map(ENCODINGS.map((e) => [key(e.type, e.version), e]));
const VERSIONS = new Map<string, string[]>();
for (const e of ENCODINGS) VERSIONS.set(e.type, [...(VERSIONS.get(e.type) ?? []), e.version]);

/** What the encodings do with no attributes: files written before anndata 0.8. */
function legacy(io: ElementIO, path: string, kind: NodeKind): Encoding {
  if (kind === "group") return dict;
  if ("categories" in io.attrs(path)) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} is a pre-0.8 anndata categorical (codes with a "categories" attribute)`);
  return io.info(path).dtype === "string" ? stringArray : array;
}

/**
 * The encoding of the element at `path` (which must exist). Throws
 * UNSUPPORTED_ENCODING for an encoding-type or encoding-version not in the
 * registry. An absent version is taken as the first registered.
 */
export function encodingAt(io: ElementIO, path: string): Encoding {
  const kind = io.kind(path);
  if (kind === null) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} is missing`);
  const attrs = io.attrs(path);
  const type = attrs["encoding-type"];
  if (type === undefined) return legacy(io, path, kind);
  if (typeof type !== "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} has a non-string encoding-type`);
  const versions = VERSIONS.get(type);
  if (!versions) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} has encoding-type ${type}, which this code does not read`);
  const version = attrs["encoding-version"];
  const found = BY_KEY.get(key(type, version === undefined ? versions[0]! : String(version)));
  if (!found) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} has encoding ${type} ${String(version)}; only ${versions.join(", ")} is supported`);
  return found;
}

/** The encoding at `path`, or null when it is missing or unsupported: for listings, which skip what they cannot show. */
function encodingIfKnown(io: ElementIO, path: string): Encoding | null {
  if (io.kind(path) === null) return null;
  try {
    return encodingAt(io, path);
  } catch (err) {
    if (err instanceof AnnDataError && err.code === "UNSUPPORTED_ENCODING") return null;
    throw err;
  }
}

function role<R>(e: Encoding, r: R | undefined, io: ElementIO, path: string, use: string): R {
  if (!r) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} has encoding-type ${e.type}, not ${use}`);
  return r;
}

// ---------------------------------------------------------------- data frames

/**
 * Opens the AnnData at the root of `io`: the root's encoding (anndata, or
 * none before 0.8) and the obs / var data frame headers.
 */
export function readFrames(io: ElementIO): Record<"obs" | "var", FrameHeader> {
  const type = io.attrs("")["encoding-type"];
  if (type !== undefined && type !== "anndata") throw new AnnDataError("NOT_ANNDATA", `${io.name}: not an AnnData store (root encoding-type ${String(type)})`);
  const frame = (axis: "obs" | "var") => {
    if (io.kind(axis) !== "group") throw new AnnDataError("NOT_ANNDATA", `${io.name}: not an AnnData store (no ${axis} data frame)`);
    const e = io.attrs(axis)["encoding-type"] === undefined ? dataframe : encodingAt(io, axis);
    if (e !== dataframe) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, axis)} has encoding-type ${e.type}, not dataframe`);
    return readFrameHeader(io, axis);
  };
  return { obs: frame("obs"), var: frame("var") };
}

// ---------------------------------------------------------------- columns

const COLUMN_WRITERS = new Map<ColumnKind, ColumnRole>();
for (const e of ENCODINGS) for (const k of e.column?.kinds ?? []) if (!COLUMN_WRITERS.has(k)) COLUMN_WRITERS.set(k, e.column!);

function writerOf(c: ColumnInput): ColumnRole {
  const r = COLUMN_WRITERS.get(c.kind);
  if (!r) throw new TypeError(`no encoding writes a ${String(c.kind)} column`);
  return r;
}

/** The column at `path` (which must exist), its members of `rows` entries. */
export function readColumn(io: ElementIO, path: string, rows: number): Promise<Column> {
  const e = encodingAt(io, path);
  return role(e, e.column, io, path, "a column encoding").read(io, path, rows);
}

/** The kind of the column at `path` from its metadata alone; null when there is none or it is no column. */
export function columnKind(io: ElementIO, path: string): ColumnKind | null {
  const e = encodingIfKnown(io, path);
  return e?.column ? e.column.kindOf(io, path) : null;
}

/** Refuses (BAD_VALUE / BAD_LENGTH) a column anndata could not read back; `at` names it. */
export function checkColumn(c: ColumnInput, at: string): void {
  writerOf(c).check?.(c, at);
}

/** Writes `c` as a new element at `path`, in the encoding anndata writes for its kind. */
export function writeColumn(io: ElementIO, path: string, c: ColumnInput): Promise<void> {
  return writerOf(c).write(io, path, c);
}

// ---------------------------------------------------------------- uns

const UNS: UnsRole[] = ENCODINGS.flatMap((e) => (e.uns ? [e.uns] : []));

function unsRoleOf(v: UnsValue, at: string): UnsRole {
  const found = UNS.find((r) => r.holds(v));
  if (!found) throw new TypeError(`${at}: cannot store ${v === null ? "null" : ArrayBuffer.isView(v) ? v.constructor.name : typeof v} in uns`);
  return found;
}

/** The uns value at `path` (which must exist), dicts read recursively. */
export function readUns(io: ElementIO, path: string): Promise<UnsValue> {
  const e = encodingAt(io, path);
  const r = role(e, e.uns, io, path, "one read in uns (only dict, string, numeric-scalar, array and string-array are)");
  return r.read(io, path, (p) => readUns(io, p));
}

/**
 * Refuses what no store can hold, before anything is written: a dict key
 * that cannot be an element name (BAD_NAME), a value of no uns encoding or a
 * list of non-strings (TypeError: the type says it cannot happen). `at` names
 * where the value goes.
 */
export function checkUns(v: UnsValue, at: string): void {
  unsRoleOf(v, at).check?.(v, at, checkUns);
}

/** What every store checks first in setUns(path, v): the path's keys and the value, so each refuses the same input with the same error. */
export function checkUnsWrite(store: string, path: readonly string[], v: UnsValue): void {
  if (path.length === 0) throw new TypeError("setUns needs a non-empty path");
  for (const p of path) checkUnsKey(store, p);
  checkUns(v, `${store}: uns/${path.join("/")}`);
}

/** Whether `path` holds a dict (uns writes go into it rather than replace it). */
export function isDict(io: ElementIO, path: string): boolean {
  return io.kind(path) === "group" && encodingIfKnown(io, path) === dict;
}

/** Writes `v`, checked first as a whole, as a new element at `path`. */
export function writeUns(io: ElementIO, path: string, v: UnsValue): Promise<void> {
  checkUns(v, what(io, path));
  const write = (p: string, value: UnsValue): Promise<void> => unsRoleOf(value, what(io, p)).write(io, p, value, write);
  return write(path, v);
}

// ---------------------------------------------------------------- matrices

/** A matrix's reads for the viewer: one gene's column, or a block of rows, as float32. */
export interface MatrixReader {
  readonly source: XSource;
  column(gene: number, opts?: XReadOptions): Promise<Float32Array>;
  rows(start: number, end: number, opts?: XReadOptions): Promise<DenseMatrix>;
}

/** Whether `path` holds a matrix this code reads (dense, csr_matrix or csc_matrix), from its metadata. */
export function isMatrix(io: ElementIO, path: string): boolean {
  const m = encodingIfKnown(io, path)?.matrix;
  return m !== undefined && dimsOf(m.shapeOf(io, path))?.length === 2;
}

/**
 * The matrix at `path`, which must be `shape` (nObs × nVars): NO_SUCH_COLUMN
 * when there is no matrix there, BAD_LENGTH when its claimed shape differs.
 * Its sparse members are read a range at a time; a CSR matrix's gene columns
 * come from `indexOf` (the column index, which needs Node).
 */
export function openMatrix(io: ElementIO, path: string, shape: [number, number], indexOf: ColumnIndexOf): MatrixReader {
  const at = what(io, path);
  // A matrix of an encoding (or version) this code does not read is refused as such, not called missing.
  const m = io.kind(path) === null ? null : encodingAt(io, path).matrix;
  const claimed = m?.shapeOf(io, path);
  if (!m || !claimed) throw new AnnDataError("NO_SUCH_COLUMN", `${at}: no dense, csr_matrix or csc_matrix element there`);
  const dims = dimsOf(claimed);
  if (!dims || dims.length !== 2 || dims[0] !== shape[0] || dims[1] !== shape[1]) throw new AnnDataError("BAD_LENGTH", `${at} has shape ${JSON.stringify(claimed)}, expected [${shape[0]}, ${shape[1]}]`);
  const numeric = async (p: string, start: number, end: number, dims: number) => {
    const r = await readChecked(io, p, dims, { start, end });
    if (r.type === "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, p)} holds strings, not numbers`);
    return r.data;
  };
  const source: XSource = {
    what: at,
    shape,
    layout: m.layout,
    denseRows: (start, end) => numeric(path, start, end, 2),
    slice: (member, start, end) => numeric(join(path, member), start, end, 1),
    identity: () => io.identity(path),
  };
  const [rows, cols] = shape;
  return {
    source,
    async column(gene, opts = {}) {
      if (!Number.isInteger(gene) || gene < 0 || gene >= cols) throw new AnnDataError("NO_SUCH_COLUMN", `${at}: no gene at index ${gene} (n_vars ${cols})`);
      return m.column(source, gene, opts, indexOf);
    },
    async rows(start, end, opts = {}) {
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) throw new AnnDataError("BAD_LENGTH", `${at}: rows ${start}..${end} are outside 0..${rows}`);
      const n = end - start;
      if (n * cols > 2 ** 31 - 1) throw new AnnDataError("BAD_LENGTH", `${at}: rows ${start}..${end} hold ${n * cols} values, more than one array can (read fewer rows)`);
      const out = new Float32Array(n * cols);
      await m.rows(source, start, end, out, opts);
      return { shape: [n, cols], data: out };
    },
  };
}

/** Writes `m` as a new element at `path` (sparse matrices: csr_matrix / csc_matrix). */
export function writeMatrix(io: ElementIO, path: string, m: DenseMatrix | SparseMatrix): Promise<void> {
  const writer = ENCODINGS.find((e) => e.matrix?.holds(m))?.matrix?.write;
  if (!writer) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)}: writing a ${"format" in m ? m.format : "dense"} matrix is not supported`);
  return writer(io, path, m);
}

/** A dense numeric 2-d array's [rows, cols] (an obsm embedding), from its metadata; null for anything else. */
export function denseShape(io: ElementIO, path: string): [number, number] | null {
  if (io.kind(path) !== "array" || encodingIfKnown(io, path) !== array) return null;
  const info = io.info(path);
  const dims = dimsOf(info.shape);
  return dims?.length === 2 && isNumericDType(info.dtype) ? [dims[0]!, dims[1]!] : null;
}

/**
 * The dense numeric 2-d array at `path` (an obsm embedding), row-major,
 * integer types widened to float64: UNSUPPORTED_ENCODING for an encoding this
 * code does not read, NO_SUCH_COLUMN for anything else that is no such array.
 */
export async function readDense(io: ElementIO, path: string): Promise<DenseMatrix> {
  if (io.kind(path) !== null) encodingAt(io, path);
  if (denseShape(io, path) === null) throw new AnnDataError("NO_SUCH_COLUMN", `${what(io, path)}: no dense numeric 2-d array there`);
  const r = await readChecked(io, path, 2);
  const data = r.data instanceof Float32Array || r.data instanceof Float64Array ? r.data : Float64Array.from(r.data as ArrayLike<number | bigint>, Number);
  return { shape: [r.shape[0]!, r.shape[1]!], data };
}
