/**
 * Typed, synchronous access to HDF5 files through the `cellucid_hdf5` native
 * addon (native/hdf5/*.c, built by node-gyp from binding.gyp against the
 * system libhdf5). The API is intentionally narrow: just what is needed to
 * read AnnData `.h5ad` files and append columns to them in exactly the
 * layout h5py/anndata produce, so Python can read the result unchanged.
 *
 * Value conventions:
 *  - int64/uint64 datasets are returned as BigInt64Array/BigUint64Array
 *    (exact); attributes holding integers come back as `number` when they fit
 *    in 2^53 and as `bigint` otherwise.
 *  - bool datasets (h5py enum {FALSE, TRUE} over int8) are returned as a
 *    Uint8Array of 0/1; bool attributes as `boolean` / `boolean[]`.
 *  - strings (variable- or fixed-length, ASCII or UTF-8) are `string[]`.
 *  - null-dataspace attributes (h5py.Empty) and attribute types outside the
 *    supported set read as `null`.
 *
 * The addon is loaded lazily, on the first H5File.open(), so importing this
 * module never fails on machines where the addon was not built.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AnnDataError, boolValues } from "../model.js";
import { zlibRuns, zlibRunsOfRows } from "../../codecs/zlib-runs.js";

export type H5DType =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float32"
  | "float64"
  | "string";

/** The in-memory representation used for each dtype. */
export interface DTypeArrayMap {
  bool: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  float32: Float32Array;
  float64: Float64Array;
  string: string[];
}

/** Result of readDataset, discriminated on `dtype`. */
export type DatasetRead = {
  [D in H5DType]: { dtype: D; shape: number[]; data: DTypeArrayMap[D] };
}[H5DType];

export interface DatasetInfo {
  dtype: H5DType;
  shape: number[];
  /** Chunk shape, or null for contiguous/compact storage. */
  chunks: number[] | null;
  /** Filter pipeline using h5py's names: "gzip", "shuffle", "lzf", ... */
  filters: string[];
}

export type AttrValue =
  | string
  | string[]
  | number
  | bigint
  | (number | bigint)[]
  | boolean
  | boolean[]
  | null;

export type AttrWriteType = "int64" | "float64" | "bool" | "string";

export type AttrWriteValue =
  | string
  | readonly string[]
  | number
  | bigint
  | readonly (number | bigint)[]
  | boolean
  | readonly boolean[]
  | Float64Array
  | BigInt64Array;

export interface ReadOptions {
  /** First index along axis 0 (default 0). */
  start?: number;
  /** Number of entries along axis 0 (default: to the end). */
  count?: number;
}

export interface CreateDatasetOptions {
  /** gzip (deflate) level 0-9; implies chunked storage. */
  gzip?: number;
  /** Chunk length (elements); default: h5py's heuristic when chunking. */
  chunks?: number;
  /** A scalar dataspace (data must hold exactly one value): anndata's `string` / `numeric-scalar`. */
  scalar?: boolean;
  /**
   * One-byte data (bool, int8, uint8) of long runs, e.g. a group's boolean
   * column: stored deflated, each chunk a run-length zlib stream we encode
   * (zlibRuns) and HDF5 writes as is, when that is smaller than the raw bytes.
   * Any HDF5 reader inflates it (h5py, anndata, R); ~1% of the bytes for
   * 1,000 cells of 1M.
   */
  runs?: boolean;
  /**
   * Attributes of the new dataset, written by the same native call through
   * its open handle (no lookup of it by path, no check for an existing one).
   * Values and types as writeAttr takes them.
   */
  attrs?: readonly DatasetAttr[];
}

/** An attribute for createDataset: its name, value and (as in writeAttr) optional type. */
export type DatasetAttr = readonly [name: string, value: AttrWriteValue, type?: AttrWriteType];

/** Elements per chunk of a `runs` dataset: a range read inflates at most this much. */
export const RUN_CHUNK = 1 << 20;
const ONE_BYTE_DTYPES: ReadonlySet<H5DType> = new Set(["bool", "int8", "uint8"]);

/**
 * The chunks of `length` one-byte elements as run-length zlib streams,
 * `chunk(at, length)` making each, or null when together they are not
 * smaller than the raw bytes.
 */
function runChunks(length: number, chunk: (at: number, length: number) => Uint8Array): Uint8Array[] | null {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let at = 0; at < length; at += RUN_CHUNK) {
    const z = chunk(at, Math.min(RUN_CHUNK, length - at));
    total += z.length;
    if (total >= length) return null;
    chunks.push(z);
  }
  return chunks;
}

/** Accepted input for createDataset: the exact array type, or plain values. */
export type DatasetInput<D extends H5DType> = D extends "string"
  ? readonly string[]
  : D extends "bool"
    ? Uint8Array | readonly boolean[]
    : D extends "int64" | "uint64"
      ? DTypeArrayMap[D] | readonly (number | bigint)[]
      : DTypeArrayMap[D] | readonly number[];

/* ---- native addon ------------------------------------------------------ */

/** What opening a file rolled back: an interrupted write's journal was found and undone. */
export interface H5Recovery {
  /** Bytes of pre-images written back over the file. */
  restoredBytes: number;
  /** Pre-image records applied. */
  records: number;
  /** The length the file had before the interrupted write (it was truncated to it). */
  originalLength: number;
  /** Bytes the interrupted write had appended, removed by the truncation. */
  truncatedBytes: number;
}

interface NativeIoFailure {
  code: IoCode;
  message: string;
}

interface NativeFile {
  close(): void;
  abort(): void;
  ioFailure(): NativeIoFailure | null;
  recovered(): H5Recovery | null;
  isOpen(): boolean;
  exists(path: string): boolean;
  kind(path: string): "group" | "dataset" | null;
  list(path: string): string[];
  createGroup(path: string): void;
  deleteLink(path: string): void;
  readAttrs(path: string): Record<string, AttrValue>;
  writeAttr(path: string, name: string, dtype: AttrWriteType, data: string[] | ArrayBufferView, scalar: boolean): void;
  deleteAttr(path: string, name: string): void;
  datasetInfo(path: string): DatasetInfo;
  readDataset(path: string, start: number, count: number, utf8?: boolean): DatasetRead | { dtype: "string"; shape: number[]; data: [Uint8Array, Uint32Array] };
  createDataset(path: string, dtype: H5DType, data: string[] | ArrayBufferView | number, gzip: number, chunks: number, scalar: boolean, deflated?: Uint8Array[], attrs?: NativeAttr[]): void;
  moveLink(src: string, dst: string): void;
}

/** An attribute as the addon writes it: name, dtype, data, scalar. */
type NativeAttr = [name: string, dtype: AttrWriteType, data: string[] | ArrayBufferView, scalar: boolean];

interface NativeAddon {
  NativeFile: new (path: string, mode: string) => NativeFile;
  recover(path: string): H5Recovery | null;
  hdf5Version: string;
}

const ADDON_FILE = join("build", "Release", "cellucid_hdf5.node");
let addon: NativeAddon | undefined;

/** Directory of the nearest package.json above this module (src or dist). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cellucid_hdf5: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of the addon (override with CELLUCID_HDF5_ADDON). */
export function addonPath(): string {
  const override = process.env["CELLUCID_HDF5_ADDON"];
  return override ? resolve(override) : join(packageRoot(), ADDON_FILE);
}

function loadAddon(): NativeAddon {
  if (addon) return addon;
  const file = addonPath();
  if (!existsSync(file)) {
    throw new Error(
      `cellucid_hdf5 native addon not found at ${file}; build it with \`npx node-gyp rebuild\` ` +
        "(needs a C compiler and the HDF5 headers, e.g. Debian's libhdf5-dev)",
    );
  }
  const require = createRequire(import.meta.url);
  addon = require(file) as NativeAddon;
  return addon;
}

/** Version of the linked HDF5 library, e.g. "1.10.8". */
export function hdf5Version(): string {
  return loadAddon().hdf5Version;
}

/* ---- value normalisation ----------------------------------------------- */

const ALL_DTYPES: ReadonlySet<string> = new Set<H5DType>([
  "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "string",
]);

const TYPED_CTORS = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

function fail(op: string, path: string, detail: string): never {
  throw new TypeError(`HDF5 ${op} '${path}' failed: ${detail}`);
}

function toBigInt(op: string, path: string, v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return fail(op, path, `expected an integer, got ${String(v)}`);
}

function toBoolBytes(op: string, path: string, values: ArrayLike<unknown>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "boolean") out[i] = v ? 1 : 0;
    else if (v === 0 || v === 1) out[i] = v;
    else fail(op, path, `expected booleans, got ${String(v)}`);
  }
  return out;
}

function toStrings(op: string, path: string, values: readonly unknown[]): string[] {
  for (const v of values) if (typeof v !== "string") fail(op, path, `expected strings, got ${typeof v}`);
  return values as string[];
}

/** Convert createDataset input to what the addon expects for `dtype`. */
function datasetPayload(op: string, path: string, dtype: H5DType, data: unknown): string[] | ArrayBufferView {
  if (dtype === "string") {
    if (!Array.isArray(data)) fail(op, path, "string data must be a string[]");
    return toStrings(op, path, data);
  }
  if (!Array.isArray(data) && !ArrayBuffer.isView(data)) fail(op, path, "data must be an array or TypedArray");
  const values = data as ArrayLike<unknown>;
  switch (dtype) {
    case "bool":
      return data instanceof Uint8Array ? data : toBoolBytes(op, path, values);
    case "int64":
      return data instanceof BigInt64Array
        ? data
        : BigInt64Array.from(Array.from(values, (v) => toBigInt(op, path, v)));
    case "uint64":
      return data instanceof BigUint64Array
        ? data
        : BigUint64Array.from(Array.from(values, (v) => toBigInt(op, path, v)));
    default: {
      const Ctor = TYPED_CTORS[dtype];
      if (data instanceof Ctor) return data;
      return Ctor.from(Array.from(values, (v) => {
        if (typeof v !== "number") fail(op, path, `expected numbers, got ${typeof v}`);
        return v;
      }));
    }
  }
}

function inferAttrType(op: string, path: string, value: AttrWriteValue): AttrWriteType {
  if (value instanceof Float64Array) return "float64";
  if (value instanceof BigInt64Array) return "int64";
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (Array.isArray(value) && value.length === 0) return "string"; // mirrors anndata's empty list
  switch (typeof first) {
    case "string": return "string";
    case "boolean": return "bool";
    case "bigint": return "int64";
    case "number": return "float64";
    default: return fail(op, path, `unsupported attribute value ${String(first)}`);
  }
}

/**
 * An attribute value in the form the addon writes. Without `type`: strings
 * -> vlen UTF-8, booleans -> h5py bool enum, bigint -> int64, number ->
 * float64. Scalars give scalar dataspaces, arrays 1-D ones. An empty string
 * array (or an empty array without `type`) becomes a 0-length float64 array,
 * which is exactly what h5py/anndata store for an empty `column-order`.
 */
function nativeAttr(path: string, name: string, value: AttrWriteValue, type?: AttrWriteType): NativeAttr {
  const op = "writeAttr";
  const t = type ?? inferAttrType(op, path, value);
  const isArray = Array.isArray(value) || ArrayBuffer.isView(value);
  const values = (isArray ? value : [value]) as ArrayLike<unknown>;
  // h5py stores `attrs[k] = []` as np.array([]): float64 with shape (0,).
  if (isArray && values.length === 0 && t === "string") return [name, "float64", new Float64Array(0), false];
  switch (t) {
    case "string":
      return [name, t, toStrings(op, path, Array.from(values)), !isArray];
    case "bool":
      return [name, t, toBoolBytes(op, path, values), !isArray];
    case "int64":
      return [name, t, value instanceof BigInt64Array ? value : BigInt64Array.from(Array.from(values, (v) => toBigInt(op, path, v))), !isArray];
    case "float64":
      return [name, t, Float64Array.from(Array.from(values, (v) => {
        if (typeof v !== "number" && typeof v !== "bigint") fail(op, path, `expected numbers, got ${typeof v}`);
        return Number(v);
      })), !isArray];
    default:
      return fail(op, path, `unknown attribute type ${String(t)}`);
  }
}

/* ---- I/O errors -------------------------------------------------------- */

type IoCode = "LOCKED" | "NO_SPACE" | "PERMISSION_DENIED" | "IO";
const IO_CODES: ReadonlySet<string> = new Set<IoCode>(["LOCKED", "NO_SPACE", "PERMISSION_DENIED", "IO"]);

/** The addon tags file-system failures with a code (LOCKED, NO_SPACE, ...): they become AnnDataErrors. */
function translate(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === "string" && IO_CODES.has(code)) return new AnnDataError(code as IoCode, err.message, { cause: err });
  return err;
}

function io<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translate(err);
  }
}

/**
 * Rolls back the interrupted write of an HDF5 file, if its journal
 * (`FILE-cellucid-journal`) is there; every open does it first. Null when
 * there was nothing to roll back. Throws AnnDataError LOCKED when a live
 * process holds the file, PERMISSION_DENIED when the file cannot be written.
 */
export function recoverH5(path: string): H5Recovery | null {
  const { recover } = loadAddon();
  return io(() => recover(path));
}

/* ---- public API -------------------------------------------------------- */

export class H5File {
  readonly #native: NativeFile;
  readonly filename: string;

  private constructor(native: NativeFile, filename: string) {
    this.#native = native;
    this.filename = filename;
  }

  /**
   * Open an existing file read-only ("r") or read-write ("r+"). An interrupted
   * write is rolled back first (see `recovered`). With "r+" every change is
   * one transaction: close() commits it, abort() or an I/O error undoes it,
   * and a crash is undone by the next open.
   */
  static open(path: string, mode: "r" | "r+" = "r"): H5File {
    const { NativeFile } = loadAddon();
    return new H5File(io(() => new NativeFile(path, mode)), path);
  }

  /** What opening rolled back (an interrupted write), or null. */
  get recovered(): H5Recovery | null {
    return this.#native.recovered();
  }

  /** The I/O error that doomed this write session (it will roll back at close), or null. */
  get failure(): AnnDataError | null {
    const f = this.#native.ioFailure();
    return f ? new AnnDataError(f.code, f.message) : null;
  }

  /** Commit the changes and close; calling it again is a no-op. Throws the I/O error that made it roll back instead. */
  close(): void {
    io(() => this.#native.close());
  }

  /** Close without committing: the file is left exactly as it was opened. */
  abort(): void {
    io(() => this.#native.abort());
  }

  /** Runs a change; once an I/O error has doomed the session, every change throws it. */
  #write<T>(fn: () => T): T {
    const before = this.failure;
    if (before) throw before;
    let out: T;
    try {
      out = fn();
    } catch (err) {
      throw this.failure ?? translate(err);
    }
    const after = this.failure;
    if (after) throw after;
    return out;
  }

  get isOpen(): boolean {
    return this.#native.isOpen();
  }

  /** Whether `path` resolves to an object (false for dangling links). */
  exists(path: string): boolean {
    return io(() => this.#native.exists(path));
  }

  kind(path: string): "group" | "dataset" | null {
    return io(() => this.#native.kind(path));
  }

  /** Member names of a group (creation order if tracked, else name order). */
  list(groupPath: string): string[] {
    return io(() => this.#native.list(groupPath));
  }

  /** Create a group, including missing parents. */
  createGroup(path: string): void {
    this.#write(() => this.#native.createGroup(path));
  }

  /** Unlink an object (e.g. before rewriting a column). */
  deleteLink(path: string): void {
    this.#write(() => this.#native.deleteLink(path));
  }

  /** Renames a link inside the file (parents of `dst` are created). */
  moveLink(src: string, dst: string): void {
    this.#write(() => this.#native.moveLink(src, dst));
  }

  readAttrs(path: string): Record<string, AttrValue> {
    return io(() => this.#native.readAttrs(path));
  }

  /** Create or replace attribute `name` on the object at `path` (types as nativeAttr gives them). */
  writeAttr(path: string, name: string, value: AttrWriteValue, type?: AttrWriteType): void {
    const [, dtype, data, scalar] = nativeAttr(path, name, value, type);
    this.#write(() => this.#native.writeAttr(path, name, dtype, data, scalar));
  }

  deleteAttr(path: string, name: string): void {
    this.#write(() => this.#native.deleteAttr(path, name));
  }

  datasetInfo(path: string): DatasetInfo {
    return io(() => this.#native.datasetInfo(path));
  }

  /**
   * Read a dataset, optionally a [start, start+count) range along axis 0.
   * N-D data comes back flattened in C order with its (selected) shape.
   */
  readDataset(path: string, opts: ReadOptions = {}): DatasetRead {
    const start = opts.start ?? 0;
    const count = opts.count ?? -1;
    if (!Number.isInteger(start) || start < 0) fail("readDataset", path, "start must be a non-negative integer");
    if (opts.count !== undefined && (!Number.isInteger(count) || count < 0)) {
      fail("readDataset", path, "count must be a non-negative integer");
    }
    const r = io(() => this.#native.readDataset(path, start, count)) as DatasetRead;
    // Strings come as one string with NUL between them (HDF5 strings hold no NUL): one split, not an N-API call each.
    if (r.dtype === "string" && typeof r.data === "string") {
      const joined = r.data as unknown as string;
      const n = r.shape.reduce((a, b) => a * b, 1);
      return { ...r, data: n === 0 ? [] : joined.split("\0") };
    }
    return r;
  }

  /**
   * A string dataset's [start, start+count) as UTF-8 bytes, back to back, and
   * where each string ends (string i is bytes[ends[i-1], ends[i])), the bytes
   * as the file holds them (not checked to be UTF-8); null when the dataset
   * does not hold strings. For callers that copy strings into text: no JS
   * string is made for each.
   */
  readStringBytes(path: string, opts: ReadOptions = {}): { bytes: Uint8Array; ends: Uint32Array } | null {
    if (this.datasetInfo(path).dtype !== "string") return null;
    const start = opts.start ?? 0;
    const count = opts.count ?? -1;
    if (!Number.isInteger(start) || start < 0) fail("readStringBytes", path, "start must be a non-negative integer");
    if (opts.count !== undefined && (!Number.isInteger(count) || count < 0)) fail("readStringBytes", path, "count must be a non-negative integer");
    const r = io(() => this.#native.readDataset(path, start, count, true));
    if (r.dtype !== "string" || !Array.isArray(r.data) || !(r.data[0] instanceof Uint8Array)) return fail("readStringBytes", path, "the addon did not return string bytes");
    const [bytes, ends] = r.data as [Uint8Array, Uint32Array];
    return { bytes, ends };
  }

  /**
   * Create a 1-D dataset laid out like h5py would write it (bool as the h5py
   * enum over int8, strings as variable-length UTF-8). Missing parent groups
   * are created. Fails if `path` already exists (use deleteLink first).
   */
  createDataset<D extends H5DType>(path: string, dtype: D, data: DatasetInput<D>, opts: CreateDatasetOptions = {}): void {
    const op = "createDataset";
    if (!ALL_DTYPES.has(dtype)) fail(op, path, `unknown dtype ${String(dtype)}`);
    const gzip = opts.gzip ?? -1;
    if (opts.gzip !== undefined && (!Number.isInteger(gzip) || gzip < 0 || gzip > 9)) fail(op, path, "gzip must be 0..9");
    const chunks = opts.chunks ?? 0;
    if (opts.chunks !== undefined && (!Number.isInteger(chunks) || chunks < 1 || chunks > 0x7fffffff)) {
      fail(op, path, "chunks must be a positive integer");
    }
    const payload = datasetPayload(op, path, dtype, data);
    const bytes = ONE_BYTE_DTYPES.has(dtype) && ArrayBuffer.isView(payload) ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) : null;
    const deflated = opts.runs && !opts.scalar && bytes ? runChunks(bytes.length, (at, length) => zlibRuns(bytes.subarray(at, at + length), { booleans: dtype === "bool" })) : null;
    this.#create(path, dtype, deflated ? bytes!.length : payload, deflated, gzip, chunks, opts);
  }

  /**
   * A 1-D bool dataset of `length` rows that are 1 exactly at `trueRows`
   * (ascending, each once, below `length`: the caller checked them), as
   * createDataset with `runs` writes it, its runs encoded from the rows
   * without making the dense bytes when they are the smaller form.
   */
  createBoolRowsDataset(path: string, length: number, trueRows: Uint32Array, opts: Pick<CreateDatasetOptions, "attrs"> = {}): void {
    // Above one row in 16 the runs save little and cost more time than the raw bytes they spare.
    const deflated = length > 0 && trueRows.length * 16 <= length ? runChunks(length, (at, n) => zlibRunsOfRows(trueRows, at, n)) : null;
    if (deflated) return this.#create(path, "bool", length, deflated, -1, 0, opts);
    this.#create(path, "bool", boolValues({ kind: "bool", length, trueRows }), null, -1, 0, opts);
  }

  /** The native create: pre-deflated chunks of RUN_CHUNK elements (`data` is then their count) or `data` as it is. */
  #create(path: string, dtype: H5DType, data: string[] | ArrayBufferView | number, deflated: Uint8Array[] | null, gzip: number, chunks: number, opts: CreateDatasetOptions): void {
    const attrs = opts.attrs?.map(([name, value, type]) => nativeAttr(path, name, value, type));
    if (deflated) this.#write(() => this.#native.createDataset(path, dtype, data, 1, RUN_CHUNK, false, deflated, attrs));
    else this.#write(() => this.#native.createDataset(path, dtype, data, gzip, chunks, opts.scalar === true, undefined, attrs));
  }
}
