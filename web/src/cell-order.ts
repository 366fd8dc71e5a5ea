/**
 * The `cellOrder` the viewer's Save State writes: the web app's digest of the
 * embedding the app would show for this dataset (WEBAPP.md), for the
 * dimension being looked at when the shown embedding is the app's one for
 * that dimension, else for the app's default dimension. A dataset with no
 * embedding the app could show gets the digest of the two axes on screen
 * (dimension 2): it proves the cell order to this viewer and to `apply`, not
 * to the app, which cannot open such a dataset's view anyway.
 */
import { type CellOrder, compareCellOrder, defaultAppDimension, embeddingCellOrderDigest, resolveAppEmbeddings } from "../../src/chunks/cell-order.js";
import type { ViewerConfig } from "./api.js";

export type EmbeddingLoader = (key: string, dims: number) => Promise<Float32Array>;

function appEmbeddingsOf(config: ViewerConfig) {
  const { nObs, embeddings } = config.dataset;
  return resolveAppEmbeddings(embeddings.map((e) => ({ key: e.key, shape: [nObs, e.dims] })), nObs);
}

/** Why a bundle's cell order is not this dataset's, in the app's terms, or null when it matches or cannot be checked. */
export async function cellOrderMismatch(config: ViewerConfig, expected: CellOrder, load: EmbeddingLoader): Promise<string | null> {
  const nObs = config.dataset.nObs;
  const check = await compareCellOrder(expected, appEmbeddingsOf(config), async (key) => ({ data: await load(key, expected.dimension), shape: [nObs, expected.dimension] }));
  return check.status === "mismatch" ? `cell order: ${check.reason}` : null;
}

export async function viewerCellOrder(config: ViewerConfig, shown: { embedding: string | null; axes: [number, number] }, load: EmbeddingLoader): Promise<CellOrder> {
  const { nObs, embeddings } = config.dataset;
  const app = appEmbeddingsOf(config);
  const looked = [...app].find(([, key]) => key === shown.embedding)?.[0];
  const dimension = looked ?? defaultAppDimension(app.keys());
  if (dimension !== null) {
    const key = app.get(dimension)!;
    return { dimension, digest: embeddingCellOrderDigest(await load(key, dimension), nObs, dimension, "python") };
  }
  const info = embeddings.find((e) => e.key === shown.embedding);
  if (!info) throw new Error("no embedding is shown, so the cell order cannot be fingerprinted");
  const data = await load(info.key, info.dims);
  const [a, b] = shown.axes;
  const xy = new Float32Array(nObs * 2);
  for (let i = 0; i < nObs; i++) {
    xy[2 * i] = data[i * info.dims + a]!;
    xy[2 * i + 1] = data[i * info.dims + b]!;
  }
  return { dimension: 2, digest: embeddingCellOrderDigest(xy, nObs, 2, "python") };
}
