/**
 * What the page needs from the AnnData: the config summary, embeddings as
 * Float32, categorical obs columns as Int32 codes, numeric obs columns and
 * gene columns of X (or a layer) as Float32 with NaN for missing. Only shapes and
 * category lists are cached; the arrays are read per request, because the
 * page asks for each once and caching every embedding would hold all of
 * obsm in memory for the server's lifetime.
 */
import { basename } from "node:path";
import { endianness } from "node:os";
import type { AnnDataStore, Column, XReadOptions } from "../anndata/model.js";
import { HttpError } from "./errors.js";

export interface DatasetFingerprintInfo {
  sourceType: "local-user";
  datasetId: string;
  cellCount: number;
  varCount: number;
}

export interface DatasetInfo {
  name: string;
  nObs: number;
  nVars: number;
  fingerprint: DatasetFingerprintInfo;
  embeddings: { key: string; dims: number }[];
  obsCategoricals: { key: string; categories: string[] }[];
  /** Float and integer obs columns, coloured with a continuous scale; `index` is the column's place in the obs columns (the app's fieldIndex). */
  obsNumeric: { key: string; index: number }[];
  /** Whether genes can colour cells (the store reads columns of X), and from which layers besides X. */
  x: { readable: boolean; layers: string[] };
}

const LITTLE_ENDIAN_HOST = endianness() === "LE";

/** "pbmc-demo.h5ad" → "pbmc-demo"; "atlas.zarr/" → "atlas". */
export function datasetIdFor(name: string): string {
  const base = basename(name.replace(/[\\/]+$/, ""));
  return base.replace(/\.(h5ad|zarr)$/i, "");
}

/**
 * The dataset's own id when it records one (`uns["dataset_id"]`, as Cellucid
 * exports write it), so bundles saved from the web app for this dataset match
 * its fingerprint; otherwise the file name.
 */
export async function defaultDatasetId(store: AnnDataStore): Promise<string> {
  const recorded = await store.readUns(["dataset_id"]).catch(() => undefined);
  return typeof recorded === "string" && recorded !== "" ? recorded : datasetIdFor(store.name);
}

function categoricalView(col: Column): { categories: string[]; codes: (n: number) => Int32Array } | null {
  switch (col.kind) {
    case "categorical":
      return {
        categories: col.categories,
        codes: (n) => {
          const out = new Int32Array(n);
          for (let i = 0; i < n; i++) {
            const c = Number(col.codes[i]);
            out[i] = c >= 0 && c < col.categories.length ? c : -1;
          }
          return out;
        },
      };
    case "bool":
      return { categories: ["False", "True"], codes: (n) => Int32Array.from(col.values.subarray(0, n), (v) => (v ? 1 : 0)) };
    case "nullable-boolean":
      return { categories: ["False", "True"], codes: (n) => Int32Array.from(col.values.subarray(0, n), (v, i) => (col.mask[i] ? -1 : v ? 1 : 0)) };
    default:
      return null;
  }
}

/** A numeric obs column as float32, NaN where missing; null for columns that are not numbers. */
function numericValues(col: Column): Float32Array | null {
  switch (col.kind) {
    case "numeric":
      return col.values instanceof BigInt64Array || col.values instanceof BigUint64Array ? Float32Array.from(col.values, Number) : Float32Array.from(col.values);
    case "nullable-integer":
      return Float32Array.from(col.values as ArrayLike<number | bigint>, (v, i) => (col.mask[i] ? NaN : Number(v)));
    default:
      return null;
  }
}

function littleEndianBytes(a: Float32Array | Int32Array): Buffer {
  const buf = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (!LITTLE_ENDIAN_HOST) buf.swap32();
  return buf;
}

/** Cells one obs-name request may ask for (hover asks for one at a time). */
export const MAX_OBS_NAMES = 1000;

export class DatasetEndpoints {
  private info: Promise<DatasetInfo> | null = null;
  /** The obs names, read on the first hover and kept: one read of the index instead of one per hovered cell. */
  private obsIndex: Promise<string[]> | null = null;

  constructor(
    readonly store: AnnDataStore,
    readonly datasetId: string,
    /** Where one-time X work (a CSR matrix's per-gene index) is cached; beside the autosaves. */
    readonly xCacheDir: string,
  ) {}

  /** Computed on first use (reading the obs columns that can colour cells, and embedding shapes), then kept. */
  describe(): Promise<DatasetInfo> {
    if (!this.info) {
      this.info = this.compute();
      this.info.catch(() => (this.info = null)); // a failed read may be retried
    }
    return this.info;
  }

  private async compute(): Promise<DatasetInfo> {
    const s = this.store;
    const embeddings: DatasetInfo["embeddings"] = [];
    for (const key of s.obsmKeys?.() ?? []) {
      // Stores that know shapes from metadata spare reading every embedding here; an unreadable entry is just not offered.
      const shape = s.obsmShape ? s.obsmShape(key) : ((await s.readObsm!(key).catch(() => null))?.shape ?? null);
      if (shape && shape[0] === s.nObs && shape[1] >= 2) embeddings.push({ key, dims: shape[1] });
    }
    const obsCategoricals: DatasetInfo["obsCategoricals"] = [];
    const obsNumeric: DatasetInfo["obsNumeric"] = [];
    for (const [index, key] of s.columnNames("obs").entries()) {
      // Only columns that can colour cells are read (a store that knows kinds from metadata skips the rest).
      const kind = s.columnKind ? await s.columnKind("obs", key).catch(() => null) : (await s.readColumn("obs", key).catch(() => null))?.kind;
      if (kind === "numeric" || kind === "nullable-integer") obsNumeric.push({ key, index });
      if (kind !== "categorical" && kind !== "bool" && kind !== "nullable-boolean") continue;
      const col = await s.readColumn("obs", key).catch(() => null);
      const view = col && categoricalView(col);
      if (view) obsCategoricals.push({ key, categories: view.categories });
    }
    return {
      name: basename(s.name.replace(/[\\/]+$/, "")),
      nObs: s.nObs,
      nVars: s.nVars,
      fingerprint: { sourceType: "local-user", datasetId: this.datasetId, cellCount: s.nObs, varCount: s.nVars },
      embeddings,
      obsCategoricals,
      obsNumeric,
      x: { readable: typeof s.readXColumn === "function", layers: s.layerKeys?.() ?? [] },
    };
  }

  /** Row-major Float32 LE bytes and dims of an offered embedding; null when `key` is not one. */
  async embedding(key: string): Promise<{ bytes: Buffer; rows: number; dims: number } | null> {
    const entry = (await this.describe()).embeddings.find((e) => e.key === key);
    if (!entry) return null;
    const m = await this.store.readObsm!(key);
    const f32 = m.data instanceof Float32Array ? m.data : Float32Array.from(m.data);
    return { bytes: littleEndianBytes(f32), rows: m.shape[0], dims: m.shape[1] };
  }

  /** Int32 LE codes (−1 = missing) of an offered categorical; null when `key` is not one. */
  async obsCodes(key: string): Promise<Buffer | null> {
    if (!(await this.describe()).obsCategoricals.some((c) => c.key === key)) return null;
    const view = categoricalView(await this.store.readColumn("obs", key));
    return view && littleEndianBytes(view.codes(this.store.nObs));
  }

  /** Float32 LE values (NaN = missing) of an offered numeric obs column; null when `key` is not one. */
  async obsValues(key: string): Promise<Buffer | null> {
    if (!(await this.describe()).obsNumeric.some((c) => c.key === key)) return null;
    const values = numericValues(await this.store.readColumn("obs", key));
    return values && littleEndianBytes(values);
  }

  /** The var names, for the page's gene search. */
  varNames(): Promise<string[]> {
    return this.store.readIndex("var");
  }

  /**
   * One gene's values for every cell as Float32 LE, from X or `layer`.
   * Progress of one-time work (a CSR index build) goes to `onProgress`.
   */
  async xColumn(varIndex: number, layer: string | null, onProgress?: XReadOptions["onProgress"]): Promise<Buffer> {
    const s = this.store;
    if (!s.readXColumn) throw new HttpError(501, "X_NOT_READABLE", `This dataset's store cannot read gene expression (X) yet, so cells cannot be coloured by genes`);
    if (!Number.isInteger(varIndex) || varIndex < 0 || varIndex >= s.nVars) throw new HttpError(404, "NOT_FOUND", `No gene at index ${varIndex} (the dataset has ${s.nVars})`);
    if (layer !== null && !(s.layerKeys?.() ?? []).includes(layer)) throw new HttpError(404, "NOT_FOUND", "No such layer");
    const opts: XReadOptions = { cacheDir: this.xCacheDir };
    if (layer !== null) opts.layer = layer;
    if (onProgress) opts.onProgress = onProgress;
    const values = await s.readXColumn(varIndex, opts);
    if (values.length !== s.nObs) throw new HttpError(500, "DATA_READ_ERROR", "Could not read the gene's values");
    return littleEndianBytes(values);
  }

  /** The obs names of `cells` (indices checked against nObs). */
  async obsNames(cells: number[]): Promise<string[]> {
    if (cells.length > MAX_OBS_NAMES) throw new HttpError(400, "BAD_REQUEST", `At most ${MAX_OBS_NAMES} cells per request`);
    for (const i of cells) if (!Number.isInteger(i) || i < 0 || i >= this.store.nObs) throw new HttpError(404, "NOT_FOUND", `No cell at index ${i}`);
    if (!this.obsIndex) {
      this.obsIndex = this.store.readIndex("obs");
      this.obsIndex.catch(() => (this.obsIndex = null));
    }
    const index = await this.obsIndex;
    return cells.map((i) => index[i]!);
  }
}
