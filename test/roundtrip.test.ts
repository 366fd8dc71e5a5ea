import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { CellucidSessionBundle, SessionWriter, createSessionWriter, writeSessionFile, webGzip, decodeIndexSet } from "../src/node/index.js";
import { CellucidSessionBundle as CoreBundle } from "../src/index.js";
import { EXAMPLE, withTempDir } from "./helpers.js";

async function sampleWriter(w: SessionWriter): Promise<SessionWriter> {
  const n = 5000;
  w.addJsonChunk("core/state", { camera: { zoom: 2 } }, { contributorId: "core-state" });
  w.addHighlightPage({ id: "p1", name: "Page one", groups: [
    { id: "g1", label: "first", cells: [4, 1, 1, 4999] },
    { id: "g2", label: "empty", cells: [] },
  ] });
  w.addHighlightPage({ id: "p2", name: "Page two", groups: [{ id: "g3", label: "many", cells: Array.from({ length: 2000 }, (_, i) => i * 2) }] }, { active: true });
  w.addUserDefinedField({ id: "f8", key: "raw u8", categories: ["a", "b", "c"], codes: Array.from({ length: n }, (_, i) => (i * 7919) % 3) });
  w.addUserDefinedField({ id: "f16", key: "raw u16", categories: Array.from({ length: 400 }, (_, i) => `c${i}`), codes: Array.from({ length: n }, (_, i) => (i * 7919) % 400) });
  w.addUserDefinedField({ id: "r8", key: "rle u8", categories: ["x", "y"], codes: Array.from({ length: n }, (_, i) => (i < 3000 ? 0 : 1)) });
  w.addUserDefinedField({ id: "r16", key: "rle u16", categories: Array.from({ length: 300 }, (_, i) => `k${i}`), codes: Array.from({ length: n }, (_, i) => (i < 2500 ? 299 : 3)) });
  w.addUserDefinedField({ id: "v1", key: "genes", source: "var", categories: ["m"], codes: [0, 0, 1, 0] });
  w.addBinaryChunk("analysis/artifacts/blob", new Uint8Array([1, 2, 3]), { priority: "lazy", codec: "none" });
  return w;
}

const fingerprint = { sourceType: "local-user", datasetId: "rt", cellCount: 5000, varCount: 4 };

async function checkSample(b: CoreBundle): Promise<void> {
  assert.deepEqual(b.datasetFingerprint, fingerprint);
  const pages = await b.highlightPages();
  assert.deepEqual(pages.map((p) => p.id), ["p1", "p2"]);
  assert.deepEqual([...pages[0]!.groups[0]!.cells], [1, 4, 4999]);
  assert.equal(pages[0]!.groups[0]!.declaredCellCount, 3);
  assert.equal(pages[0]!.groups[1]!.cells.length, 0);
  assert.equal(b.hasChunk("highlights/cells/g2"), false, "a group with no cells has no chunk");
  assert.deepEqual([...pages[1]!.groups[0]!.cells], Array.from({ length: 2000 }, (_, i) => i * 2));
  const meta = await b.highlightsMeta();
  assert.equal(meta?.activePageId, "p2");
  const encodings: Record<string, number> = {};
  for (const f of await b.userDefinedFields()) {
    const { codes, encoding } = await b.readUserDefinedCodes(f);
    encodings[f.id] = encoding;
    assert.equal(codes.length, f.source === "var" ? 4 : 5000);
    assert.equal(f.codesType, codes instanceof Uint16Array ? "Uint16Array" : "Uint8Array");
  }
  assert.deepEqual(encodings, { f8: 0, f16: 1, r8: 2, r16: 3, v1: 0 });
  const r16 = (await b.userDefinedFields()).find((f) => f.id === "r16")!;
  const { codes } = await b.readUserDefinedCodes(r16);
  assert.equal(codes[0], 299);
  assert.equal(codes[4999], 3);
  assert.deepEqual(await b.decodeChunk("core/state"), { camera: { zoom: 2 } });
  assert.deepEqual([...((await b.decodeChunk("analysis/artifacts/blob")) as Uint8Array)], [1, 2, 3]);
}

test("writer → file → reader round trip of every chunk type and codes encoding", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "s.cellucid-session");
    await writeSessionFile(await sampleWriter(createSessionWriter({ canonical: false, datasetFingerprint: fingerprint })), path);
    const b = await CellucidSessionBundle.open(path);
    try {
      await checkSample(b);
      // Eager chunks precede lazy ones; storedBytes/uncompressedBytes are set.
      const prios = b.listChunkIds().map((id) => b.getChunkMeta(id).priority);
      assert.deepEqual(prios, [...prios].sort((a, x) => (a === x ? 0 : a === "eager" ? -1 : 1)));
      for (const id of b.listChunkIds()) {
        const m = b.getChunkMeta(id);
        assert.equal(m.storedBytes, (await b.readChunkBytes(id)).length);
        assert.equal(m.uncompressedBytes, (await b.readChunkPayload(id)).length);
      }
      assert.deepEqual(readdirSyncNames(await readdir(dir)), ["s.cellucid-session"], "no temp files left behind");
    } finally {
      await b.close();
    }
  });
});

function readdirSyncNames(names: string[]): string[] {
  return [...names].sort();
}

test("the browser-ready core (web gzip) writes and reads the same bundles as the Node flavour", async () => {
  const webBytes = await (await sampleWriter(new SessionWriter({ canonical: false, datasetFingerprint: fingerprint, gzip: webGzip }))).toBytes();
  await checkSample(await CoreBundle.fromBytes(webBytes));
  await checkSample(await CellucidSessionBundle.fromBytes(webBytes)); // zlib reads CompressionStream output
  const nodeBytes = await (await sampleWriter(createSessionWriter({ canonical: false, datasetFingerprint: fingerprint }))).toBytes();
  await checkSample(await CoreBundle.fromBytes(nodeBytes)); // DecompressionStream reads zlib output
});

test("fromBlob, fromStream (with progress) and iterChunks", async () => {
  const bytes = await readFile(EXAMPLE);
  const fromBlob = await CoreBundle.fromBlob(new Blob([bytes]));
  const loaded: number[] = [];
  const stream = new Blob([bytes]).stream();
  const fromStream = await CoreBundle.fromStream(stream, { onProgress: (n) => loaded.push(n), totalBytes: bytes.length });
  assert.equal(loaded.at(-1), bytes.length);
  const ids = fromBlob.listChunkIds();
  assert.deepEqual(fromStream.listChunkIds(), ids);
  const items = [];
  for await (const item of fromBlob.iterChunks({ decode: true })) items.push(item);
  assert.deepEqual(items.map((i) => i.id), ids);
  assert.deepEqual(items.find((i) => i.id === "highlights/meta")!.data, await fromStream.decodeChunk("highlights/meta"));
  const stored = [];
  for await (const item of fromBlob.iterChunks()) stored.push(item.data as Uint8Array);
  assert.deepEqual(stored.map((s) => s.length), ids.map((id) => fromBlob.getChunkMeta(id).storedBytes));
});

test("fromStream honours an AbortSignal", async () => {
  const ac = new AbortController();
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulls++;
      if (pulls === 1) c.enqueue(new TextEncoder().encode("CELLUCID_SESSION\n"));
      else ac.abort();
      if (pulls < 5) c.enqueue(new Uint8Array(10));
    },
  });
  await assert.rejects(CoreBundle.fromStream(stream, { signal: ac.signal }), (e: Error & { code?: string }) => e.code === "ABORTED");
});

test("save() copies the bundle byte for byte, atomically", async () => {
  await withTempDir(async (dir) => {
    const b = await CellucidSessionBundle.open(EXAMPLE);
    const dest = join(dir, "copy.cellucid-session");
    await b.save(dest);
    await b.close();
    assert.deepEqual(await readFile(dest), await readFile(EXAMPLE));
    const fromMem = await CellucidSessionBundle.fromBytes(await readFile(EXAMPLE));
    const dest2 = join(dir, "copy2.cellucid-session");
    await fromMem.save(dest2);
    assert.deepEqual(await readFile(dest2), await readFile(EXAMPLE));
  });
});

test("the shipped example decodes to the documented content", async () => {
  const b = await CellucidSessionBundle.open(EXAMPLE);
  try {
    assert.equal(b.datasetFingerprint?.cellCount, 2638);
    const groups = (await b.highlightPages()).flatMap((p) => p.groups.map((g) => [g.id, g.cells.length, g.declaredCellCount]));
    for (const [, n, declared] of groups) assert.equal(n, declared);
    assert.equal(groups.length, 4);
    assert.deepEqual(b.cellOrder, { dimension: 2, digest: "70cf7744e6f6b23a" });
    const cd8 = await b.readHighlightCells("highlight_2");
    assert.equal(cd8.length, 340);
    assert.deepEqual(cd8, decodeIndexSet(await b.readChunkPayload("highlights/cells/highlight_2")));
  } finally {
    await b.close();
  }
});

test("writing over an existing file replaces it whole", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "x.cellucid-session");
    await writeFile(path, "old contents");
    await writeSessionFile(createSessionWriter({ canonical: false }), path);
    const b = await CellucidSessionBundle.open(path);
    assert.deepEqual(b.listChunkIds(), []);
    await b.close();
  });
});

test("countHighlightCells counts what readHighlightCells decodes, and refuses what it refuses", async () => {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "t", datasetId: "d", cellCount: 100 } });
  w.addHighlightPage({ id: "p", name: "P", groups: [{ id: "a", label: "A", cells: [1, 5, 99] }, { id: "empty", label: "E", cells: [] }] });
  const b = await CellucidSessionBundle.fromBytes(await w.toBytes());
  for (const id of ["a", "empty", "absent"]) assert.equal(await b.countHighlightCells(id), (await b.readHighlightCells(id)).length);
  await assert.rejects(b.readHighlightCells("a", { nObs: 50 }), /INDEX_OUT_OF_RANGE|out of range|>= 50|limit/i);
  await assert.rejects(b.countHighlightCells("a", { nObs: 50 }), /INDEX_OUT_OF_RANGE|out of range|>= 50|limit/i);
});
