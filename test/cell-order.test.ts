/** The web app's cell-order digest: known answers computed by the app's own code, and pbmc-demo's positions. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { CellOrderDigester, digestCellOrder, embeddingCellOrderDigest, parseCellOrder, resolveAppEmbeddings } from "../src/chunks/cell-order.js";
import { appEmbeddings } from "../src/apply/cell-order-check.js";
import { appCellOrder, checkCellOrder, openAnnData } from "../src/node/index.js";

interface Case { name: string; n: number; xyzHex: string[]; xyzDecimal: string[]; digest: string }
const vectors = JSON.parse(readFileSync(fileURLToPath(new URL("../../test/fixtures/cell-order-vectors.json", import.meta.url)), "utf8")) as {
  cases: Case[];
  generated: { n: number; bytesSha256: string; digest: string; firstRowsHex: string[]; lastRowHex: string[] }[];
  datasets: { embeddings: { positionsSha256: string; digest: string; firstRowsHex: string[] }[] }[];
};
const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));

const hex = (v: number) => "0x" + v.toString(16).padStart(8, "0");
function bitsOf(a: Float32Array): string[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), hex);
}

test("every known-answer case: from bit patterns and from decimals", () => {
  for (const c of vectors.cases) {
    const fromBits = new Float32Array(new Uint32Array(c.xyzHex.map((h) => parseInt(h, 16))).buffer);
    assert.equal(digestCellOrder(fromBits), c.digest, c.name);
    const fromDecimal = Float32Array.from(c.xyzDecimal.map(Number));
    assert.deepEqual(bitsOf(fromDecimal), c.xyzHex, c.name);
    assert.equal(digestCellOrder(fromDecimal), c.digest, c.name);
  }
});

test("the generated 1,000 cells: same bytes, same digest", () => {
  const g = vectors.generated[0]!;
  const a = new Float32Array(g.n * 3);
  for (let i = 0; i < g.n; i++) {
    a[3 * i] = i * 0.001 - 0.5;
    a[3 * i + 1] = ((i * 7919) % 1000) / 500 - 1;
    a[3 * i + 2] = (i % 17) * 0.125 - 1;
  }
  assert.deepEqual(bitsOf(a.subarray(0, 9)), g.firstRowsHex);
  assert.equal(createHash("sha256").update(a).digest("hex"), g.bytesSha256);
  assert.equal(digestCellOrder(a), g.digest);
});

test("the streaming digester refuses a word count it was not built for", () => {
  const d = new CellOrderDigester(3);
  d.float(1);
  assert.throws(() => d.digest(), /fed 1 words, expected 3/);
});

test("cellOrder is read only in its exact shape", () => {
  assert.deepEqual(parseCellOrder({ dimension: 2, digest: "70cf7744e6f6b23a" }), { dimension: 2, digest: "70cf7744e6f6b23a" });
  for (const bad of [null, {}, { dimension: 4, digest: "70cf7744e6f6b23a" }, { dimension: 2, digest: "70CF7744E6F6B23A" }, { dimension: 2, digest: "70cf" }, { dimension: 2, digest: "70cf7744e6f6b23a", x: 1 }])
    assert.equal(parseCellOrder(bad), null, JSON.stringify(bad));
});

test("embedding keys resolve as the app's adapter does", () => {
  const r = (entries: [string, number, number][], n = 10) => Object.fromEntries(resolveAppEmbeddings(entries.map(([key, a, b]) => ({ key, shape: [a, b] })), n));
  assert.deepEqual(r([["X_umap", 10, 2], ["X_pca", 10, 3]]), { 2: "X_umap" });
  assert.deepEqual(r([["X_umap", 10, 2], ["X_umap_2d", 10, 2], ["X_umap_3d", 10, 3]]), { 2: "X_umap_2d", 3: "X_umap_3d" });
  assert.deepEqual(r([["X_umap", 10, 3], ["X_umap_2d", 10, 2]]), { 2: "X_umap_2d", 3: "X_umap" });
  assert.deepEqual(r([["X_umap", 10, 5], ["X_umap_1d", 10, 2]]), {});
  assert.deepEqual(r([["X_umap", 9, 2]]), {});
});

test("pbmc-demo.h5ad: the Python path gives 70cf7744e6f6b23a, the browser path d264fc0b29041e0f", async () => {
  const store = await openAnnData(DATASET);
  try {
    assert.deepEqual(Object.fromEntries(appEmbeddings(store)), { 2: "X_umap" });
    const order = await appCellOrder(store);
    assert.deepEqual(order, { dimension: 2, digest: "70cf7744e6f6b23a", obsmKey: "X_umap" });
    assert.equal(order!.digest, vectors.datasets[0]!.embeddings[0]!.digest);
    // The positions themselves, as the README of the vectors lists them.
    const m = await store.readObsm!("X_umap");
    const { positionsSha256, firstRowsHex } = vectors.datasets[0]!.embeddings[0]!;
    const positions = pythonPositions(m.data, m.shape[0]);
    assert.deepEqual(bitsOf(positions.subarray(0, 9)), firstRowsHex);
    assert.equal(createHash("sha256").update(positions).digest("hex"), positionsSha256);
    assert.equal(embeddingCellOrderDigest(m.data, m.shape[0], 2, "browser"), "d264fc0b29041e0f");

    const verified = await checkCellOrder(store, { dimension: 2, digest: "d264fc0b29041e0f" });
    assert.equal(verified.status, "verified");
    assert.equal(verified.path, "browser");
    const other = await checkCellOrder(store, { dimension: 3, digest: "70cf7744e6f6b23a" });
    assert.equal(other.status, "mismatch");
    assert.match(other.reason!, /saved on the 3D view, and the data's embeddings the web app shows are 2D \(X_umap\): another view/);
    const wrong = await checkCellOrder(store, { dimension: 2, digest: "0000000000000000" });
    assert.equal(wrong.status, "mismatch");
    assert.match(wrong.reason!, /different order, or the embedding was recomputed/);
  } finally {
    await store.close();
  }
});

/** An independent, array-at-a-time transcription of webapp/README.md steps 2–6 (float32 at each step). */
function pythonPositions(data: ArrayLike<number>, n: number): Float32Array {
  const f = Math.fround;
  const x = Float32Array.from(data);
  const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) { lo[j] = Math.min(lo[j]!, x[2 * i + j]!); hi[j] = Math.max(hi[j]!, x[2 * i + j]!); }
  const maxRange = Math.max(f(hi[0]! - lo[0]!), f(hi[1]! - lo[1]!));
  const centre = [0, 1].map((j) => f(f(lo[j]! + hi[j]!) / 2));
  const scale = f(2 / maxRange);
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) out[3 * i + j] = f(f(x[2 * i + j]! - centre[j]!) * scale);
  return out;
}
