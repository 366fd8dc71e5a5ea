/** An AnnData held in memory: for notebooks, browsers and tests. Same interface as the file stores. */
import { type AnnDataStore, type Axis, type Column, type UnsDict, type UnsValue, AnnDataError, checkLength, isUnsDict } from "./model.js";

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

  constructor(init: { obs: DataFrameInit; var: DataFrameInit; uns?: UnsDict; name?: string }) {
    this.name = init.name ?? "<in-memory AnnData>";
    this.frames = {
      obs: { index: [...init.obs.index], columns: new Map(Object.entries(init.obs.columns ?? {})) },
      var: { index: [...init.var.index], columns: new Map(Object.entries(init.var.columns ?? {})) },
    };
    this.uns = init.uns ?? {};
    for (const axis of ["obs", "var"] as const) for (const [n, c] of this.frames[axis].columns) checkLength(this, axis, n, c);
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
  async readColumn(axis: Axis, name: string): Promise<Column> {
    const c = this.frames[axis].columns.get(name);
    if (!c) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return c;
  }
  /** Synchronous access for in-memory users. */
  column(axis: Axis, name: string): Column | undefined {
    return this.frames[axis].columns.get(name);
  }
  async setColumn(axis: Axis, name: string, column: Column): Promise<void> {
    checkLength(this, axis, name, column);
    this.frames[axis].columns.set(name, column);
  }
  async readUns(path: string[] = []): Promise<UnsValue | undefined> {
    let v: UnsValue | undefined = this.uns;
    for (const p of path) v = isUnsDict(v) ? v[p] : undefined;
    return v;
  }
  async setUns(path: string[], value: UnsValue): Promise<void> {
    let d: UnsDict = this.uns;
    for (const p of path.slice(0, -1)) {
      const next: UnsValue | undefined = d[p];
      if (!isUnsDict(next)) d[p] = {};
      d = d[p] as UnsDict;
    }
    d[path[path.length - 1]!] = value;
  }
  async close(): Promise<void> {}

  /** A copy whose frames and uns can change without touching this one (column arrays are shared, never mutated). */
  copy(): MemoryAnnData {
    const frame = (f: Frame): DataFrameInit => ({ index: f.index, columns: Object.fromEntries(f.columns) });
    return new MemoryAnnData({ name: this.name, obs: frame(this.frames.obs), var: frame(this.frames.var), uns: structuredClone(this.uns) });
  }
}
