/** An AnnData held in memory: for notebooks, browsers and tests. Same interface as the file stores. */
import { type AnnDataStore, type Axis, type Column, type ColumnInput, type DenseMatrix, type LazyColumn, type UnsDict, type UnsValue, type XReadOptions, AnnDataError, boolValues, checkLength, checkRange, isUnsDict } from "./model.js";
import { checkColumnName, resolveColumn } from "./element-rules.js";
import { checkColumn, checkUnsWrite } from "./encodings/registry.js";

/** What anndata names an unnamed index when it writes a data frame. */
const INDEX_NAME = "_index";

export interface DataFrameInit {
  index: string[];
  columns?: Record<string, Column>;
}

interface Frame {
  index: string[];
  columns: Map<string, Column>;
}

export class MemoryAnnData implements AnnDataStore {
  readonly name: string;
  private readonly frames: Record<Axis, Frame>;
  uns: UnsDict;
  /** Dense matrices, row-major: X and layers are nObs × nVars, obsm entries nObs × dims. */
  private readonly X: DenseMatrix | null;
  private readonly layers: Map<string, DenseMatrix>;
  private readonly obsm: Map<string, DenseMatrix>;

  constructor(init: {
    obs: DataFrameInit;
    var: DataFrameInit;
    uns?: UnsDict;
    name?: string;
    X?: DenseMatrix;
    layers?: Record<string, DenseMatrix>;
    obsm?: Record<string, DenseMatrix>;
  }) {
    this.name = init.name ?? "<in-memory AnnData>";
    this.frames = {
      obs: { index: [...init.obs.index], columns: new Map(Object.entries(init.obs.columns ?? {})) },
      var: { index: [...init.var.index], columns: new Map(Object.entries(init.var.columns ?? {})) },
    };
    this.uns = init.uns ?? {};
    for (const axis of ["obs", "var"] as const) for (const [n, c] of this.frames[axis].columns) checkLength(this, axis, n, c);
    this.X = init.X ?? null;
    this.layers = new Map(Object.entries(init.layers ?? {}));
    this.obsm = new Map(Object.entries(init.obsm ?? {}));
    for (const [name, m] of [["X", this.X] as const, ...this.layers]) {
      if (m && (m.shape[0] !== this.nObs || m.shape[1] !== this.nVars || m.data.length !== m.shape[0] * m.shape[1])) {
        throw new AnnDataError("BAD_LENGTH", `${this.name}: ${name} is ${m.shape.join(" × ")} with ${m.data.length} values, expected ${this.nObs} × ${this.nVars}`);
      }
    }
    for (const [key, m] of this.obsm) {
      if (m.shape[0] !== this.nObs || m.data.length !== m.shape[0] * m.shape[1]) throw new AnnDataError("BAD_LENGTH", `${this.name}: obsm ${key} has ${m.shape[0]} rows, expected ${this.nObs}`);
    }
  }

  get nObs(): number {
    return this.frames.obs.index.length;
  }
  get nVars(): number {
    return this.frames.var.index.length;
  }

  columnNames(axis: Axis): string[] {
    return [...this.frames[axis].columns.keys()];
  }
  async readIndex(axis: Axis): Promise<string[]> {
    return [...this.frames[axis].index];
  }
  async readIndexRange(axis: Axis, start: number, end: number): Promise<string[]> {
    checkRange(this.name, axis, start, end, this.frames[axis].index.length);
    return this.frames[axis].index.slice(start, end);
  }
  indexName(): string {
    return INDEX_NAME;
  }
  async readColumn(axis: Axis, name: string): Promise<Column> {
    const c = this.frames[axis].columns.get(name);
    if (!c) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return c;
  }
  /** Synchronous access for in-memory users. */
  column(axis: Axis, name: string): Column | undefined {
    return this.frames[axis].columns.get(name);
  }
  async setColumn(axis: Axis, name: string, lazy: ColumnInput | LazyColumn): Promise<void> {
    checkColumnName(this.name, axis, name, INDEX_NAME);
    const column = await resolveColumn(lazy);
    checkLength(this, axis, name, column);
    checkColumn(column, `${this.name}: ${axis}/${name}`);
    // Held as it reads back: a bool column by its true rows becomes its dense bytes.
    this.frames[axis].columns.set(name, "trueRows" in column ? { kind: "bool", values: boolValues(column) } : column);
  }
  async readUns(path: string[] = []): Promise<UnsValue | undefined> {
    let v: UnsValue | undefined = this.uns;
    for (const p of path) v = isUnsDict(v) ? v[p] : undefined;
    return v;
  }
  /** Refuses what the file stores refuse (a key no store can hold: BAD_NAME), so an apply behaves the same on each. */
  async setUns(path: string[], value: UnsValue): Promise<void> {
    checkUnsWrite(this.name, path, value);
    let d: UnsDict = this.uns;
    for (const p of path.slice(0, -1)) {
      const next: UnsValue | undefined = d[p];
      if (!isUnsDict(next)) d[p] = {};
      d = d[p] as UnsDict;
    }
    d[path[path.length - 1]!] = value;
  }
  async close(): Promise<void> {}

  obsmKeys(): string[] {
    return [...this.obsm.keys()];
  }
  async readObsm(key: string): Promise<DenseMatrix> {
    const m = this.obsm.get(key);
    if (!m) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no obsm entry ${key}`);
    return m;
  }
  obsmShape(key: string): [number, number] | null {
    return this.obsm.get(key)?.shape ?? null;
  }
  layerKeys(): string[] {
    return [...this.layers.keys()];
  }
  async readXColumn(varIndex: number, opts: XReadOptions = {}): Promise<Float32Array> {
    const m = this.matrix(opts.layer);
    if (!Number.isInteger(varIndex) || varIndex < 0 || varIndex >= this.nVars) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no gene at index ${varIndex} (n_vars ${this.nVars})`);
    const out = new Float32Array(this.nObs);
    for (let r = 0, at = varIndex; r < out.length; r++, at += this.nVars) out[r] = m.data[at]!;
    return out;
  }
  async readXRows(start: number, end: number, opts: XReadOptions = {}): Promise<DenseMatrix> {
    const m = this.matrix(opts.layer);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= this.nObs)) throw new AnnDataError("BAD_LENGTH", `${this.name}: rows ${start}..${end} are outside 0..${this.nObs}`);
    return { shape: [end - start, this.nVars], data: Float32Array.from(m.data.subarray(start * this.nVars, end * this.nVars)) };
  }
  private matrix(layer: string | undefined): DenseMatrix {
    const m = layer === undefined ? this.X : this.layers.get(layer);
    if (!m) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no ${layer === undefined ? "X" : `layer ${layer}`}`);
    return m;
  }

  /** A copy whose frames and uns can change without touching this one (column arrays are shared, never mutated). */
  copy(): MemoryAnnData {
    const frame = (f: Frame): DataFrameInit => ({ index: f.index, columns: Object.fromEntries(f.columns) });
    return new MemoryAnnData({
      name: this.name, obs: frame(this.frames.obs), var: frame(this.frames.var), uns: structuredClone(this.uns),
      ...(this.X ? { X: this.X } : {}), layers: Object.fromEntries(this.layers), obsm: Object.fromEntries(this.obsm),
    });
  }
}
