/**
 * The read side both file stores share: every element is found by the same
 * store-relative path and read through the encoding registry, whatever the
 * backend's element I/O (h5/elements.ts, zarr/elements.ts). The stores add
 * their writes, transactions, locks and recovery.
 */
import { type Axis, type Column, type ColumnKind, type DenseMatrix, type UnsValue, type Utf8Strings, type XReadOptions, AnnDataError, checkRange } from "./model.js";
import { isStorableName } from "./element-rules.js";
import { csrColumn } from "./x/csr-index.js";
import { type ElementIO, join } from "./encodings/io.js";
import { type FrameHeader, readIndexRange, readIndexRangeUtf8 } from "./encodings/dataframe.js";
import { type MatrixReader, columnKind, denseShape, isMatrix, openMatrix, readColumn, readDense, readUns } from "./encodings/registry.js";

export abstract class ElementStore {
  abstract readonly name: string;
  private readonly matrices = new Map<string, MatrixReader>();

  protected constructor(
    protected readonly io: ElementIO,
    protected readonly frames: Record<Axis, FrameHeader>,
  ) {}

  /** Throws when the store can no longer be read (closed). */
  protected assertOpen(): void {}

  get nObs(): number {
    return this.frames.obs.length;
  }
  get nVars(): number {
    return this.frames.var.length;
  }

  columnNames(axis: Axis): string[] {
    return [...this.frames[axis].order];
  }

  indexName(axis: Axis): string {
    return this.frames[axis].indexKey;
  }

  async readIndex(axis: Axis): Promise<string[]> {
    return this.readIndexRange(axis, 0, this.frames[axis].length);
  }

  async readIndexRange(axis: Axis, start: number, end: number): Promise<string[]> {
    this.assertOpen();
    checkRange(this.name, axis, start, end, this.frames[axis].length);
    return readIndexRange(this.io, join(axis, this.frames[axis].indexKey), start, end);
  }

  async readIndexUtf8(axis: Axis, start: number, end: number): Promise<Utf8Strings | null> {
    this.assertOpen();
    checkRange(this.name, axis, start, end, this.frames[axis].length);
    return readIndexRangeUtf8(this.io, join(axis, this.frames[axis].indexKey), start, end);
  }

  async readColumn(axis: Axis, name: string): Promise<Column> {
    this.assertOpen();
    const path = join(axis, name);
    if (!isStorableName(name) || !this.io.kind(path)) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return readColumn(this.io, path, this.frames[axis].length);
  }

  async columnKind(axis: Axis, name: string): Promise<ColumnKind | null> {
    this.assertOpen();
    return isStorableName(name) ? columnKind(this.io, join(axis, name)) : null;
  }

  async readUns(path: string[] = []): Promise<UnsValue | undefined> {
    this.assertOpen();
    // A name that cannot be stored (e.g. with "/") names nothing, rather than a deeper path.
    if (!path.every(isStorableName)) return undefined;
    const key = join("uns", ...path);
    return this.io.kind(key) ? readUns(this.io, key) : undefined;
  }

  /** Names of the members of a top-level group (obsm, layers) that can be elements; none when it is absent. */
  private membersOf(group: string): string[] {
    this.assertOpen();
    return this.io.kind(group) === "group" ? this.io.members(group).filter(isStorableName) : [];
  }

  /** Dense numeric 2-d obsm entries, from their metadata (never their data). */
  obsmKeys(): string[] {
    return this.membersOf("obsm").filter((k) => this.obsmShape(k) !== null);
  }

  obsmShape(key: string): [number, number] | null {
    this.assertOpen();
    if (!isStorableName(key) || this.io.kind("obsm") !== "group") return null;
    return denseShape(this.io, join("obsm", key));
  }

  async readObsm(key: string): Promise<DenseMatrix> {
    this.assertOpen();
    if (!isStorableName(key) || this.io.kind("obsm") !== "group") throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no dense obsm entry '${key}'`);
    return readDense(this.io, join("obsm", key));
  }

  layerKeys(): string[] {
    return this.membersOf("layers").filter((k) => isMatrix(this.io, join("layers", k)));
  }

  async readXColumn(varIndex: number, opts: XReadOptions = {}): Promise<Float32Array> {
    return this.matrix(opts.layer).column(varIndex, opts);
  }

  async readXRows(start: number, end: number, opts: XReadOptions = {}): Promise<DenseMatrix> {
    return this.matrix(opts.layer).rows(start, end, opts);
  }

  /** One reader per element, so a CSR matrix's column index is built once per open store. */
  private matrix(layer: string | undefined): MatrixReader {
    this.assertOpen();
    const path = layer === undefined ? "X" : join("layers", layer);
    const known = this.matrices.get(path);
    if (known) return known;
    if (layer !== undefined && !isStorableName(layer)) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: ${path}: no dense, csr_matrix or csc_matrix element there`);
    const reader = openMatrix(this.io, path, [this.nObs, this.nVars], csrColumn);
    this.matrices.set(path, reader);
    return reader;
  }
}
