/**
 * EncodedChunkCache: a writer given the same cells / codes arrays again
 * reuses their chunks, writes the very bytes a writer without a cache
 * writes, encodes anew only what changed, and still refuses what it must.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellucidSessionBundle, EncodedChunkCache, SessionWriter, validateBundle } from "../src/node/index.js";

const N = 200_000;
const FP = { sourceType: "local-user", datasetId: "d", cellCount: N, varCount: 9, cellOrder: { dimension: 2 as const, digest: "0123456789abcdef" } };
const createdAt = "2026-01-02T03:04:05.000Z";

function cells(from: number, step: number): Uint32Array {
  return Uint32Array.from({ length: Math.floor((N - from) / step) }, (_, i) => from + i * step);
}

const groups = [cells(0, 2), cells(1, 3), cells(5, 7), cells(100, 1)];
const codes = Uint8Array.from({ length: N }, (_, i) => (i % 11 === 0 ? 255 : i % 3));

function write(canonical: boolean, gs: Uint32Array[], cache?: EncodedChunkCache): Promise<Uint8Array> {
  const w = new SessionWriter({ canonical, createdAt, datasetFingerprint: FP, activeFieldId: "f1", ...(cache && { cache }) });
  w.addHighlightPage({ id: "page_1", name: "P", groups: gs.map((c, i) => ({ id: `highlight_${i + 1}`, label: `g${i}`, type: "lasso", cells: c })) });
  w.addUserDefinedField({ id: "f1", key: "cell type", categories: ["a", "b", "c"], codes });
  return w.toBytes();
}

for (const canonical of [true, false]) {
  test(`${canonical ? "canonical" : "permissive"}: cached bundles are byte for byte the uncached ones; only a changed group is encoded again`, async () => {
    const cache = new EncodedChunkCache();
    const full = await write(canonical, groups);
    assert.deepEqual(await write(canonical, groups, cache), full);
    assert.deepEqual(cache.counts, { encoded: 5, reused: 0 });
    assert.deepEqual(await write(canonical, groups, cache), full);
    assert.deepEqual(cache.counts, { encoded: 5, reused: 5 });

    const changed = [groups[0]!, cells(3, 5), groups[2]!, groups[3]!];
    const incremental = await write(canonical, changed, cache);
    assert.deepEqual(cache.counts, { encoded: 6, reused: 9 }, "one group encoded, four chunks reused");
    assert.deepEqual(incremental, await write(canonical, changed));
    const bundle = await CellucidSessionBundle.fromBytes(incremental);
    assert.deepEqual((await bundle.highlightPages({ nObs: N }))[0]!.groups.map((g) => Array.from(g.cells)), changed.map((c) => Array.from(c)));
    if (canonical) assert.deepEqual((await validateBundle(bundle, { target: "webapp" })).errors, []);
    else assert.equal((await validateBundle(bundle)).valid, true);
  });
}

test("a cache serves canonical and permissive bundles of the same arrays apart, and still refuses bad codes and empty groups", async () => {
  const cache = new EncodedChunkCache();
  await write(true, groups, cache);
  assert.deepEqual(await write(false, groups, cache), await write(false, groups));
  assert.deepEqual(await write(true, groups, cache), await write(true, groups));
  // Refusals are not cached as payloads: the same array is refused every time.
  const bad = Uint8Array.from(codes, (c, i) => (i === 7 ? 9 : c));
  for (let k = 0; k < 2; k++) {
    const w = new SessionWriter({ createdAt, datasetFingerprint: FP, cache });
    assert.throws(() => w.addUserDefinedField({ id: "f2", key: "k", categories: ["a", "b", "c"], codes: bad }), /code 9 at cell 7/);
  }
  const empty = new Uint32Array(0);
  for (let k = 0; k < 2; k++) {
    const w = new SessionWriter({ createdAt, datasetFingerprint: FP, cache });
    assert.throws(() => w.addHighlightPage({ groups: [{ cells: empty }] }), /no cells/);
  }
});
