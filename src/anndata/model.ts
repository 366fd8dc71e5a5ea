/**
 * The AnnData model this project works with (SPEC §7): dimensions, obs/var
 * data frames of typed columns, and uns as a tree. Stores (.h5ad, .zarr) and
 * the in-memory model all implement AnnDataStore, so applying a bundle is the
 * same code whatever holds the data; stores read only what is asked for.
 */
import { AnnDataError } from "../format/errors.js";

export { AnnDataError, type AnnDataErrorCode } from "../format/errors.js";

export type Axis = "obs" | "var";

export type NumericArray =
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Float32Array | Float64Array;

export type CategoricalCodes = Int8Array | Int16Array | Int32Array | BigInt64Array;

export type Column =
  /** anndata `array` of numpy bool (h5py enum / zarr `|b1`); one byte per row, 0 or 1. */
  | { kind: "bool"; values: Uint8Array }
  /** anndata `array` of a numeric dtype. */
  | { kind: "numeric"; values: NumericArray }
  /** anndata `categorical` 0.2.0: signed codes, −1 = missing. */
  | { kind: "categorical"; codes: CategoricalCodes; categories: string[]; ordered: boolean }
  /** anndata `string-array` 0.2.0. */
  | { kind: "string"; values: string[] }
  /** anndata `nullable-integer` 0.1.0: mask 1 = missing. */
  | { kind: "nullable-integer"; values: NumericArray; mask: Uint8Array }
  /** anndata `nullable-boolean` 0.1.0: mask 1 = missing. */
  | { kind: "nullable-boolean"; values: Uint8Array; mask: Uint8Array };

export type ColumnKind = Column["kind"];

/**
 * A bool column given by the rows that are 1 (ascending, no repeats) out of
 * `length` rows, such as a group's cells: stores encode it from the rows, so
 * its dense bytes (a megabyte per million rows) are never made. It reads
 * back as the dense bool Column.
 */
export interface BoolRowsColumn {
  kind: "bool";
  length: number;
  trueRows: Uint32Array;
}

/** What setColumn writes: a Column, or a bool column by its true rows. */
export type ColumnInput = Column | BoolRowsColumn;

/**
 * A column produced when the store is ready to write it: apply hands these to
 * setColumn so that only the column being written is in memory, whatever the
 * number of columns in the transaction.
 */
export type LazyColumn = () => Promise<ColumnInput>;

/** uns values: what anndata stores as dict / string / numeric-scalar / array / string-array. */
export type UnsValue =
  | string
  | number
  | boolean
  | NumericArray
  | string[]
  | { [key: string]: UnsValue };

export type UnsDict = { [key: string]: UnsValue };

export function isUnsDict(v: UnsValue | undefined): v is UnsDict {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function columnLength(c: ColumnInput): number {
  if ("trueRows" in c) return c.length;
  switch (c.kind) {
    case "categorical":
      return c.codes.length;
    default:
      return c.values.length;
  }
}

/** The dense bytes of a bool column given by its true rows (for stores and callers that need every row). */
export function boolValues(c: BoolRowsColumn): Uint8Array {
  const values = new Uint8Array(c.length);
  for (let i = 0; i < c.trueRows.length; i++) values[c.trueRows[i]!] = 1;
  return values;
}

/** What apply and the CLI need from any AnnData, in memory or on disk. */
export interface AnnDataStore {
  /** Where the data lives, for messages. */
  readonly name: string;
  readonly nObs: number;
  readonly nVars: number;
  /** Column names in `column-order`. */
  columnNames(axis: Axis): string[];
  /** The obs / var names (the data frame's `_index`). */
  readIndex(axis: Axis): Promise<string[]>;
  /**
   * Names [start, end) of the index, for callers that walk millions of names
   * in batches (export) rather than hold them all as strings at once.
   */
  readIndexRange(axis: Axis, start: number, end: number): Promise<string[]>;
  /**
   * Names [start, end) of the index as valid UTF-8 bytes, back to back (see
   * Utf8Strings), for callers that copy names into text (export) without a
   * JS string for each; null when this store does not read them as bytes
   * (then readIndexRange does).
   */
  readIndexUtf8?(axis: Axis, start: number, end: number): Promise<Utf8Strings | null>;
  /** The name of the data frame member holding the index (e.g. `_index`, or `barcode` when the index was named): never a column name. */
  indexName(axis: Axis): string;
  readColumn(axis: Axis, name: string): Promise<Column>;
  /**
   * A column's kind from its metadata alone (never its values); null when
   * there is no such column or its encoding is not a column one. For callers
   * that only need to pick columns, such as the viewer's colour list.
   */
  columnKind?(axis: Axis, name: string): Promise<Column["kind"] | null>;
  /**
   * Adds a column at the end of `column-order`, or replaces an existing one in
   * place (keeping its position). Its length must be nObs / nVars. A lazy
   * column is produced (and checked) when the store writes it: inside a
   * transaction, one at a time.
   */
  setColumn(axis: Axis, name: string, column: ColumnInput | LazyColumn): Promise<void>;
  /** The whole uns tree, or one subtree by path. */
  readUns(path?: string[]): Promise<UnsValue | undefined>;
  /** Writes `value` at `path` (creating dicts on the way), replacing what was there. */
  setUns(path: string[], value: UnsValue): Promise<void>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
  /**
   * Runs `fn` so that the writes it makes are stored all together or not at
   * all (the Zarr store journals them); stores without it write as they go.
   */
  transaction?(fn: () => Promise<void>): Promise<void>;
  /** Releases the store leaving it as it was opened (a writable .h5ad's transaction is rolled back instead of committed by close). */
  abort?(): Promise<void>;
  /** Names of the obsm entries that are dense arrays (embeddings such as X_umap). */
  obsmKeys?(): string[];
  /** A dense obsm entry, row-major: shape [nObs, dims]. */
  readObsm?(key: string): Promise<DenseMatrix>;
  /** A dense obsm entry's [rows, dims] from its metadata, without reading it; null when there is no such entry. */
  obsmShape?(key: string): [number, number] | null;
  /** Names of the layers (cells × genes matrices besides X). */
  layerKeys?(): string[];
  /**
   * One gene's values for every cell (a column of X, or of `opts.layer`) as
   * float32, whatever X's encoding (dense, csr_matrix, csc_matrix), in memory
   * bounded by the column, not by X.
   */
  readXColumn?(varIndex: number, opts?: XReadOptions): Promise<Float32Array>;
  /** Rows [start, end) of X (or `opts.layer`) as a dense row-major float32 block. */
  readXRows?(start: number, end: number, opts?: XReadOptions): Promise<DenseMatrix>;
}

/** Strings as UTF-8 bytes back to back: string i is bytes[ends[i - 1], ends[i]) (from 0 for the first). */
export interface Utf8Strings {
  bytes: Uint8Array;
  ends: Uint32Array;
}

export interface XReadOptions {
  /** A layer instead of X. */
  layer?: string;
  /** Where one-time work (such as a CSR matrix's per-gene column index) may be cached between runs. */
  cacheDir?: string;
  /** Called as one-time work advances, with what is done out of the total (in the work's own unit). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface DenseMatrix {
  shape: [number, number];
  data: Float32Array | Float64Array;
}

export function checkLength(store: AnnDataStore, axis: Axis, name: string, column: ColumnInput): void {
  const expected = axis === "obs" ? store.nObs : store.nVars;
  const got = columnLength(column);
  if (got !== expected) throw new AnnDataError("BAD_LENGTH", `${store.name}: column ${axis}/${name} has ${got} rows, expected ${expected}`);
}

/** Refuses (BAD_LENGTH) an index range that is not within 0..length. */
export function checkRange(store: string, axis: Axis, start: number, end: number, length: number): void {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= length)) {
    throw new AnnDataError("BAD_LENGTH", `${store}: ${axis} names ${start}..${end} are outside 0..${length}`);
  }
}

/** The smallest signed integer array that holds codes 0..n−1 and −1, as anndata/pandas choose it. */
export function codesArrayFor(categoryCount: number, length: number): Int8Array | Int16Array | Int32Array {
  if (categoryCount < 128) return new Int8Array(length);
  if (categoryCount < 32768) return new Int16Array(length);
  return new Int32Array(length);
}
