/**
 * The Cellucid web app's cell-order fingerprint (`datasetFingerprint.cellOrder`,
 * WEBAPP.md): a 64-bit fold over the float32 bit patterns of the viewer's XYZ
 * positions in row order, and the positions an AnnData gives for a dimension,
 * as the app's two loading paths compute them. Pure: no I/O, runs in browsers.
 */

export type CellOrderDimension = 1 | 2 | 3;

export interface CellOrder {
  dimension: CellOrderDimension;
  /** 16 lowercase hex characters. */
  digest: string;
}

/**
 * How the positions were rounded: "python" is the Python-served AnnData
 * (float32 at every step), "browser" the app opening an .h5ad itself
 * (double precision, one float32 rounding at the end).
 */
export type PositionsPath = "python" | "browser";
export const POSITIONS_PATHS: readonly PositionsPath[] = ["python", "browser"];

const DIGEST_RE = /^[0-9a-f]{16}$/;

/** `{dimension, digest}` when `value` is exactly that shape, else null. */
export function parseCellOrder(value: unknown): CellOrder | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 2 || !("dimension" in o) || !("digest" in o)) return null;
  if (o["dimension"] !== 1 && o["dimension"] !== 2 && o["dimension"] !== 3) return null;
  if (typeof o["digest"] !== "string" || !DIGEST_RE.test(o["digest"])) return null;
  return { dimension: o["dimension"], digest: o["digest"] };
}

/**
 * Folds 32-bit words into the app's digest. Words are fed one at a time so
 * positions can be digested as they are computed, without an n × 3 array.
 */
export class CellOrderDigester {
  private low: number;
  private high: number;
  private fed = 0;
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  /** `wordCount` (n × 3) seeds both accumulators, so it must be known up front. */
  constructor(private readonly wordCount: number) {
    this.low = (0x9e3779b1 ^ wordCount) | 0;
    this.high = (0x85ebca6b ^ wordCount) | 0;
  }

  word(w: number): void {
    let low = Math.imul(this.low ^ w, 0x85ebca77);
    let high = Math.imul(this.high ^ w, 0xc2b2ae3d);
    this.low = (low << 13) | (low >>> 19);
    this.high = (high << 17) | (high >>> 15);
    this.fed++;
  }

  /** Feeds a value as its float32 bit pattern (so -0 and +0 differ). */
  float(v: number): void {
    this.f32[0] = v;
    this.word(this.u32[0]!);
  }

  digest(): string {
    if (this.fed !== this.wordCount) throw new RangeError(`cell-order digest fed ${this.fed} words, expected ${this.wordCount}`);
    const low = Math.imul(this.low ^ (this.low >>> 16), 0x2c1b3c6d) ^ Math.imul(this.high ^ (this.high >>> 13), 0x297a2d39);
    const high = Math.imul(this.high ^ (this.high >>> 16), 0x2c1b3c6d) ^ Math.imul(low ^ (low >>> 13), 0x297a2d39);
    return hex8(high) + hex8(low);
  }
}

function hex8(v: number): string {
  return (v >>> 0).toString(16).padStart(8, "0");
}

/** The digest of a ready XYZ array (n × 3 float32, row-major). */
export function digestCellOrder(positions: Float32Array): string {
  const words = new Uint32Array(positions.buffer, positions.byteOffset, positions.length);
  const d = new CellOrderDigester(words.length);
  for (let i = 0; i < words.length; i++) d.word(words[i]!);
  return d.digest();
}

/** An embedding as stores describe it: obsm key and [rows, columns]. */
export interface ObsmEntry {
  key: string;
  shape: [number, number];
}

/**
 * Which obsm key the app shows for each dimension: `X_umap_{d}d` when it has
 * n_obs rows and exactly d columns, else `X_umap` when it has d (1–3) columns
 * and no explicit key took that dimension. No other key is an embedding.
 */
export function resolveAppEmbeddings(entries: ObsmEntry[], nObs: number): Map<CellOrderDimension, string> {
  const out = new Map<CellOrderDimension, string>();
  const byKey = new Map(entries.map((e) => [e.key, e.shape]));
  for (const d of [1, 2, 3] as const) {
    const shape = byKey.get(`X_umap_${d}d`);
    if (shape && shape[0] === nObs && shape[1] === d) out.set(d, `X_umap_${d}d`);
  }
  const plain = byKey.get("X_umap");
  if (plain && plain[0] === nObs && plain[1] >= 1 && plain[1] <= 3) {
    const d = plain[1] as CellOrderDimension;
    if (!out.has(d)) out.set(d, "X_umap");
  }
  return out;
}

/**
 * The dimension the app opens a dataset in: its highest available one
 * (3 when there is a 3-D embedding, else 2, else 1).
 */
export function defaultAppDimension(dims: Iterable<CellOrderDimension>): CellOrderDimension | null {
  let best: CellOrderDimension | null = null;
  for (const d of dims) if (best === null || d > best) best = d;
  return best;
}

/**
 * The cell-order digest of an embedding (row-major, `rows` × `cols`, cols 1–3),
 * normalised to [-1, 1] and padded to XYZ as the chosen loading path does
 * (WEBAPP.md, webapp/README.md). Two passes over the data, no n × 3 copy.
 */
export function embeddingCellOrderDigest(data: ArrayLike<number>, rows: number, cols: number, path: PositionsPath): string {
  if (cols < 1 || cols > 3) throw new RangeError(`an embedding for the cell order has 1 to 3 columns, not ${cols}`);
  if (data.length !== rows * cols) throw new RangeError(`embedding has ${data.length} values, expected ${rows} × ${cols}`);
  const f = path === "python" ? Math.fround : (v: number) => v;
  const min = new Array<number>(cols).fill(Infinity);
  const max = new Array<number>(cols).fill(-Infinity);
  for (let i = 0, k = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, k++) {
      const v = f(data[k]!);
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
    }
  }
  let maxRange = 0;
  for (let j = 0; j < cols; j++) {
    const range = rows ? f(max[j]! - min[j]!) : 0;
    if (range > maxRange) maxRange = range;
  }
  if (maxRange < 1e-8) maxRange = 1;
  const centre = min.map((lo, j) => (rows ? f(f(lo + max[j]!) / 2) : 0));
  // Scale is computed in double precision on both paths; the Python path rounds it once to float32.
  const scale = f(2 / maxRange);
  const d = new CellOrderDigester(rows * 3);
  for (let i = 0, k = 0; i < rows; i++) {
    for (let j = 0; j < 3; j++) {
      if (j < cols) {
        const v = f(data[k++]!);
        d.float(path === "python" ? Math.fround(Math.fround(v - centre[j]!) * scale) : (v - centre[j]!) * scale);
      } else d.word(0);
    }
  }
  return d.digest();
}

export type CellOrderStatus = "verified" | "mismatch" | "unverified" | "not-recorded";

export interface CellOrderCheck {
  status: CellOrderStatus;
  /** The bundle's cellOrder, when it has one. */
  expected: CellOrder | null;
  /** The obsm key the app would show for that dimension, when the data has it. */
  obsmKey: string | null;
  /** Which loading path produced the matching digest (verified only). */
  path: PositionsPath | null;
  /** The digests the data gives for that dimension, by path. */
  digests: Partial<Record<PositionsPath, string>>;
  /** Why the order is not verified, in the app's terms; null when verified. */
  reason: string | null;
}

/**
 * A bundle's `cellOrder` against data whose app-shown embeddings are `shown`
 * (`resolveAppEmbeddings`); `read` gives one of them, row-major. A different
 * digest means the rows were reordered or the embedding recomputed (a hash
 * cannot say which); embeddings of other dimensions only are another view (a
 * mismatch too, as in the app); no embedding the app shows leaves the order
 * unverified. Either loading path's digest verifies.
 */
export async function compareCellOrder(
  expected: CellOrder | null,
  shown: Map<CellOrderDimension, string>,
  read: (key: string) => Promise<{ data: ArrayLike<number>; shape: [number, number] }>,
): Promise<CellOrderCheck> {
  const check: CellOrderCheck = { status: "not-recorded", expected, obsmKey: null, path: null, digests: {}, reason: null };
  if (!expected) {
    check.reason = "the bundle records no cell order (made before the web app recorded one)";
    return check;
  }
  const key = shown.get(expected.dimension);
  if (!key) {
    const have = [...shown.keys()].sort();
    if (!have.length) {
      check.status = "unverified";
      check.reason = "the data has no embedding the web app would show (X_umap_{1,2,3}d or X_umap), so its cell order cannot be compared";
      return check;
    }
    // The app would show another dimension: its coordinates, and so its digest, are another view's.
    check.status = "mismatch";
    check.reason = `the session was saved on the ${expected.dimension}D view, and the data's embeddings the web app shows are ${have.map((d) => `${d}D (${shown.get(d)})`).join(", ")}: another view, whose coordinates cannot confirm the cell order`;
    return check;
  }
  check.obsmKey = key;
  const m = await read(key);
  for (const path of POSITIONS_PATHS) {
    const digest = embeddingCellOrderDigest(m.data, m.shape[0], m.shape[1], path);
    check.digests[path] = digest;
    if (digest === expected.digest) {
      check.status = "verified";
      check.path = path;
      return check;
    }
  }
  check.status = "mismatch";
  check.reason = `cellOrder digest ${expected.digest} != ${check.digests.python} (obsm '${key}', ${expected.dimension}D): ` +
    "the cells are stored in a different order, or the embedding was recomputed";
  return check;
}
