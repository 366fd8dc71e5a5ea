/**
 * The cell order of an AnnData as the Cellucid web app would fingerprint it,
 * and the check `apply` runs against a bundle's `cellOrder` (WEBAPP.md).
 * Reads only the one obsm embedding involved (O(cells)), never X.
 */
import {
  type CellOrder,
  type CellOrderDimension,
  POSITIONS_PATHS,
  type PositionsPath,
  defaultAppDimension,
  embeddingCellOrderDigest,
  resolveAppEmbeddings,
} from "../chunks/cell-order.js";
import type { AnnDataStore, DenseMatrix } from "../anndata/model.js";

/** The embeddings the app could show for this store, by dimension. */
export function appEmbeddings(store: AnnDataStore): Map<CellOrderDimension, string> {
  const entries: { key: string; shape: [number, number] }[] = [];
  for (const key of store.obsmKeys?.() ?? []) {
    const shape = store.obsmShape?.(key);
    if (shape) entries.push({ key, shape });
  }
  return resolveAppEmbeddings(entries, store.nObs);
}

function readEmbedding(store: AnnDataStore, key: string): Promise<DenseMatrix> {
  if (!store.readObsm) throw new TypeError(`${store.name}: this store cannot read obsm embeddings`);
  return store.readObsm(key);
}

/** The digest of one obsm embedding (1–3 columns) by one loading path. */
export async function obsmCellOrderDigest(store: AnnDataStore, key: string, path: PositionsPath): Promise<string> {
  const m = await readEmbedding(store, key);
  return embeddingCellOrderDigest(m.data, m.shape[0], m.shape[1], path);
}

export interface StoreCellOrder extends CellOrder {
  obsmKey: string;
}

/**
 * The `cellOrder` the app would write for this dataset served from Python:
 * for `dimension` when the app can show it, else for the app's default
 * dimension; null when the app can show no embedding of this dataset.
 */
export async function appCellOrder(store: AnnDataStore, dimension?: CellOrderDimension | null): Promise<StoreCellOrder | null> {
  const shown = appEmbeddings(store);
  const d = dimension && shown.has(dimension) ? dimension : defaultAppDimension(shown.keys());
  if (d === null) return null;
  const obsmKey = shown.get(d)!;
  return { dimension: d, digest: await obsmCellOrderDigest(store, obsmKey, "python"), obsmKey };
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
 * Compares the bundle's `cellOrder` with the data. A different digest means
 * the rows were reordered or the embedding recomputed (a hash cannot say
 * which); a missing embedding for that dimension leaves the order unverified.
 */
export async function checkCellOrder(store: AnnDataStore, expected: CellOrder | null): Promise<CellOrderCheck> {
  const check: CellOrderCheck = { status: "not-recorded", expected, obsmKey: null, path: null, digests: {}, reason: null };
  if (!expected) {
    check.reason = "the bundle records no cell order (made before the web app recorded one)";
    return check;
  }
  const shown = appEmbeddings(store);
  const key = shown.get(expected.dimension);
  if (!key) {
    check.status = "unverified";
    const have = [...shown.keys()].sort();
    check.reason = `the data has no ${expected.dimension}D embedding the web app would show (X_umap_${expected.dimension}d or X_umap)` +
      (have.length ? `; it has ${have.map((d) => `${d}D`).join(", ")}, another view` : "");
    return check;
  }
  check.obsmKey = key;
  const m = await readEmbedding(store, key);
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
