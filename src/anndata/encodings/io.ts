/**
 * What an encoding needs from a backend: the element I/O that the HDF5 file
 * (h5/elements.ts) and the Zarr directory (zarr/elements.ts) each implement
 * once. Paths are store-relative ("obs/leiden/codes"), whatever the backend.
 * Metadata (kind, members, attributes, dtype and claimed shape) is read
 * synchronously: it is small, HDF5 reads it synchronously anyway, and the
 * store interface lists obsm and layers synchronously. Array data is read and
 * written asynchronously.
 *
 * Also here: the reads every encoding shares, which check a member's claimed
 * shape before anything is allocated for it.
 */
import { AnnDataError, type NumericArray, type Utf8Strings } from "../model.js";
import { MAX_ROWS } from "../element-rules.js";

export type DType =
  | "bool" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" | "float32" | "float64" | "string";

export type NodeKind = "group" | "array";

/** Array values as the encodings use them. */
export type ArrayData =
  | { type: "numeric"; data: NumericArray }
  /** numpy bool: one byte per element, 0 or 1. */
  | { type: "bool"; data: Uint8Array }
  | { type: "string"; data: string[] };

/** A bool array by the rows that are 1 (the model's BoolRowsColumn): backends write its runs, never its dense bytes. */
export interface BoolRows {
  type: "bool";
  length: number;
  trueRows: Uint32Array;
}

/** What an array is written from. */
export type ArrayWrite = ArrayData | BoolRows;

/** A read: N-d data comes back flattened, row-major, with its (selected) shape. */
export type ArrayRead = ArrayData & { shape: number[] };

export interface ArrayInfo {
  /** The shape the metadata claims; not trusted (readers check it before reading). */
  shape: unknown;
  /** null: a dtype no encoding here reads (compound, float16, ...); the shape is then not known either. */
  dtype: DType | null;
}

/** Rows [start, end) along the first axis. */
export interface RowRange {
  start: number;
  end: number;
}

export type Attrs = Readonly<Record<string, unknown>>;
/** Attribute values an encoding writes: strings, booleans, integers and lists of them. */
export type AttrWrite = string | boolean | number | readonly string[] | readonly number[];
export type AttrsWrite = Readonly<Record<string, AttrWrite>>;

export interface ElementIO {
  /** The file or folder, for messages. */
  readonly name: string;
  /** What is at `path`: null when nothing (readable) is there. */
  kind(path: string): NodeKind | null;
  /** Member names of the group at `path`. */
  members(path: string): string[];
  attrs(path: string): Attrs;
  /** An array's dtype and claimed shape, from its metadata only. */
  info(path: string): ArrayInfo;
  /** The whole array, or rows [start, end) of it. */
  read(path: string, range?: RowRange): Promise<ArrayRead>;
  /**
   * A string array's entries (or rows [start, end) of it) as valid UTF-8
   * bytes, without a JS string for each; null when it holds no strings.
   * Optional: backends without it give strings through read().
   */
  readUtf8?(path: string, range?: RowRange): Promise<Utf8Strings | null>;
  /** A new array (0-d with `scalar`) with its attributes; `path` must not exist. */
  writeArray(path: string, value: ArrayWrite, attrs: AttrsWrite, scalar?: boolean): Promise<void>;
  /** A new group with its attributes, then its members; it is complete only when `members` has run. */
  writeGroup(path: string, attrs: AttrsWrite, members?: () => Promise<void>): Promise<void>;
  /** Changes whenever the element at `path` may have changed: the key of cached one-time work. */
  identity(path: string): Promise<string>;
}

/** "file: obs/leiden", the way every message names an element. */
export function what(io: ElementIO, path: string): string {
  return `${io.name}: ${path}`;
}

export function join(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

/** The shape's dimensions when they are all non-negative safe integers; null otherwise. */
export function dimsOf(shape: unknown): number[] | null {
  return Array.isArray(shape) && shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0) ? (shape as number[]) : null;
}

/**
 * Refuses (BAD_LENGTH) a claimed shape no array can have (negative,
 * fractional, 1e300), or whose read (of `range` rows, when given) would need
 * more elements than a typed array holds.
 */
export function checkShape(shape: unknown, at: string, range?: RowRange): number[] {
  const dims = dimsOf(shape);
  if (dims && range && dims.length >= 1 && !(Number.isInteger(range.start) && Number.isInteger(range.end) && 0 <= range.start && range.start <= range.end && range.end <= dims[0]!)) {
    throw new AnnDataError("BAD_LENGTH", `${at}: rows ${range.start}..${range.end} are outside 0..${dims[0]}`);
  }
  const elements = dims ? dims.reduce((a, d, i) => a * (i === 0 && range ? range.end - range.start : d), 1) : NaN;
  if (!dims || !(elements <= MAX_ROWS)) {
    throw new AnnDataError("BAD_LENGTH", `${at} claims shape ${JSON.stringify(shape ?? null)}; reading it would need ${dims ? elements : "an impossible number of"} elements (at most ${MAX_ROWS}, of non-negative integer dimensions)`);
  }
  return dims;
}

/**
 * The array at `path`, of at most `maxDims` dimensions (and, with `rows`, of
 * exactly that many entries), its claimed shape checked before anything is
 * read: UNSUPPORTED_ENCODING for no array or a dtype no encoding reads,
 * BAD_LENGTH for a shape that does not fit.
 */
export async function readChecked(io: ElementIO, path: string, maxDims: number, range?: RowRange, rows?: number): Promise<ArrayRead> {
  checkArray(io, path, maxDims, range, rows);
  return io.read(path, range);
}

/** readChecked's checks, before anything is read. */
function checkArray(io: ElementIO, path: string, maxDims: number, range?: RowRange, rows?: number): void {
  const at = what(io, path);
  if (io.kind(path) !== "array") throw new AnnDataError("UNSUPPORTED_ENCODING", `${at} is missing or not an array`);
  const { shape, dtype } = io.info(path);
  if (dtype === null) throw new AnnDataError("UNSUPPORTED_ENCODING", `${at} has a dtype this code does not read`);
  if (rows !== undefined && !(Array.isArray(shape) && shape.length === 1 && shape[0] === rows)) {
    throw new AnnDataError("BAD_LENGTH", `${at} claims shape ${JSON.stringify(shape ?? null)}, expected [${rows}]`);
  }
  const dims = checkShape(shape, at, range);
  if (dims.length > maxDims) throw new AnnDataError("UNSUPPORTED_ENCODING", `${at} is a ${dims.length}-d array; only arrays of up to ${maxDims} dimension(s) are read here`);
}

/** A 1-d string array's rows as UTF-8 bytes (readChecked's checks first); null when the backend or the array does not give them. */
export async function readUtf8Checked(io: ElementIO, path: string, range: RowRange): Promise<Utf8Strings | null> {
  if (!io.readUtf8) return null;
  checkArray(io, path, 1, range);
  return io.readUtf8(path, range);
}

/** A 1-d member; with `rows`, its claimed length must be that. */
export async function readVector(io: ElementIO, path: string, rows: number | null): Promise<ArrayRead> {
  const r = await readChecked(io, path, 1, undefined, rows ?? undefined);
  if (r.shape.length !== 1) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, path)} is ${r.shape.length}-d, a 1-d array is expected`);
  return r;
}

export function isNumericArray(v: unknown): v is NumericArray {
  return (
    v instanceof Int8Array || v instanceof Int16Array || v instanceof Int32Array || v instanceof BigInt64Array ||
    v instanceof Uint8Array || v instanceof Uint16Array || v instanceof Uint32Array || v instanceof BigUint64Array ||
    v instanceof Float32Array || v instanceof Float64Array
  );
}

/** The dtype of a typed array. */
export function dtypeOf(values: NumericArray): DType {
  if (values instanceof Int8Array) return "int8";
  if (values instanceof Int16Array) return "int16";
  if (values instanceof Int32Array) return "int32";
  if (values instanceof BigInt64Array) return "int64";
  if (values instanceof Uint8Array) return "uint8";
  if (values instanceof Uint16Array) return "uint16";
  if (values instanceof Uint32Array) return "uint32";
  if (values instanceof BigUint64Array) return "uint64";
  if (values instanceof Float32Array) return "float32";
  return "float64";
}

export function isNumericDType(d: DType | null): boolean {
  return d !== null && d !== "bool" && d !== "string";
}
