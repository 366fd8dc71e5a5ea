/**
 * The cell order of an AnnData as the Cellucid web app would fingerprint it,
 * and the check `apply` runs against a bundle's `cellOrder` (WEBAPP.md).
 * Reads only the one obsm embedding involved (O(cells)), never X.
 */
import {
  type CellOrder,
  type CellOrderCheck,
  type CellOrderDimension,
  type PositionsPath,
  compareCellOrder,
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

/**
 * Compares the bundle's `cellOrder` with the data (`compareCellOrder`): the
 * embedding the app shows for that dimension is read once, digested by both
 * loading paths.
 */
export async function checkCellOrder(store: AnnDataStore, expected: CellOrder | null): Promise<CellOrderCheck> {
  return compareCellOrder(expected, appEmbeddings(store), (key) => readEmbedding(store, key));
}
