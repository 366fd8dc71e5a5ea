/**
 * The shape of one encoding module: its `encoding-type` / `encoding-version`
 * and what it can be in an AnnData. An element can be a data frame column,
 * an uns value or a matrix (X, a layer, an obsm entry): each role is the
 * read, the write, the kind from metadata and the checks of that use.
 * Modules import only io.ts and the model; the registry (registry.ts) holds
 * them all and picks one per element.
 */
import type { Column, ColumnInput, ColumnKind, DenseMatrix, NumericArray, UnsValue, XReadOptions } from "../model.js";
import type { XSource } from "../x/source.js";
import type { AttrsWrite, ElementIO } from "./io.js";

export interface ColumnRole {
  /** The column kinds this encoding writes. */
  readonly kinds: readonly ColumnKind[];
  /** The kind of the column at `path`, from its metadata only; null when it is no column this encoding reads. */
  kindOf(io: ElementIO, path: string): ColumnKind | null;
  /** The column at `path`, whose members must hold `rows` entries (checked before they are read). */
  read(io: ElementIO, path: string, rows: number): Promise<Column>;
  /** Refuses (BAD_VALUE / BAD_LENGTH) a column Python anndata could not read back. */
  check?(c: ColumnInput, at: string): void;
  write(io: ElementIO, path: string, c: ColumnInput): Promise<void>;
}

/** A dict's members are read, written and checked by the registry, whatever their encoding. */
export type ReadChild = (path: string) => Promise<UnsValue>;
export type WriteChild = (path: string, value: UnsValue) => Promise<void>;
export type CheckChild = (value: UnsValue, at: string) => void;

export interface UnsRole {
  /** Whether this encoding is the one that writes `v`. */
  holds(v: UnsValue): boolean;
  read(io: ElementIO, path: string, readChild: ReadChild): Promise<UnsValue>;
  /** Refuses what cannot be written, before anything is (BAD_NAME; TypeError for what the types exclude). */
  check?(v: UnsValue, at: string, checkChild: CheckChild): void;
  write(io: ElementIO, path: string, v: UnsValue, writeChild: WriteChild): Promise<void>;
}

/** A matrix in compressed sparse form, as scipy holds it. */
export interface SparseMatrix {
  format: "csr" | "csc";
  shape: [number, number];
  data: NumericArray;
  indices: NumericArray;
  indptr: NumericArray;
}

/**
 * One gene's entries of a CSR matrix, from its column index (x/csr-index.ts,
 * which needs Node's file system): handed in by the stores, so this folder
 * stays free of Node.
 */
export type ColumnIndexOf = (src: XSource, gene: number, opts: XReadOptions) => Promise<{ rowIds: Uint32Array; values: Float32Array }>;

export interface MatrixRole {
  readonly layout: XSource["layout"];
  /** The [rows, cols] the metadata claims; null when the element is no matrix of this encoding. */
  shapeOf(io: ElementIO, path: string): unknown;
  /** Whether this encoding is the one that writes `m`. */
  holds(m: DenseMatrix | SparseMatrix): boolean;
  /** One column (gene) for every row, as float32. */
  column(src: XSource, gene: number, opts: XReadOptions, indexOf: ColumnIndexOf): Promise<Float32Array>;
  /** Rows [start, end) into `out`, row-major (the caller checked the range). */
  rows(src: XSource, start: number, end: number, out: Float32Array, opts: XReadOptions): Promise<void>;
  /** Absent for dense matrices: both backends write 1-d arrays only. */
  write?(io: ElementIO, path: string, m: DenseMatrix | SparseMatrix): Promise<void>;
}

export interface Encoding {
  readonly type: string;
  readonly version: string;
  readonly column?: ColumnRole;
  readonly uns?: UnsRole;
  readonly matrix?: MatrixRole;
}

/** The two attributes every element written here carries. */
export function encodingAttrs(e: Pick<Encoding, "type" | "version">, extra: AttrsWrite = {}): AttrsWrite {
  return { "encoding-type": e.type, "encoding-version": e.version, ...extra };
}
