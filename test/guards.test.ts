/** One crafted malformed bundle per guard of SPEC §5, each asserting the error code and message. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { CellucidSessionBundle, NoSuchChunkError, encodeCodes, encodeIndexSet, validateBundle, webGzip, zlibGzip, type GzipCodec } from "../src/node/index.js";
import { binaryChunk, jsonChunk, rawBundle, rejectsWithCode, withTempDir } from "./helpers.js";

const open = (bytes: Uint8Array, gzip?: GzipCodec) => CellucidSessionBundle.fromBytes(bytes, { name: "bad.cellucid-session", gzip });
const enc = new TextEncoder();

test("magic: wrong header, empty file, a JSON export", async () => {
  for (const bytes of [rawBundle([], { magic: enc.encode("CELLUCID_SESSIOX\n") }), new Uint8Array(0), enc.encode('{"chunks": []}')]) {
    await rejectsWithCode(() => open(bytes), "BAD_MAGIC", "Not a .cellucid-session file (invalid MAGIC header)");
  }
});

test("header: file ends inside the header", async () => {
  await rejectsWithCode(() => open(enc.encode("CELLUCID_SESSION\n\x05")), "TRUNCATED");
});

test("manifest length must be 1..16 MiB and inside the file", async () => {
  await rejectsWithCode(() => open(rawBundle([], { manifestLength: 0 })), "MANIFEST_LENGTH", "outside 1..");
  await rejectsWithCode(() => open(rawBundle([], { manifestLength: 16 * 1024 * 1024 + 1 })), "MANIFEST_LENGTH");
  await rejectsWithCode(() => open(rawBundle([], { manifestLength: 5000 })), "TRUNCATED", "manifest");
});

test("manifest must be UTF-8 JSON", async () => {
  await rejectsWithCode(() => open(rawBundle([], { manifestBytes: enc.encode("{not json") })), "MANIFEST_JSON");
  await rejectsWithCode(() => open(rawBundle([], { manifestBytes: new Uint8Array([0x7b, 0xff, 0x7d]) })), "MANIFEST_JSON");
});

test("manifest shape: object, chunks array, chunk objects with non-empty string ids, unique ids", async () => {
  const cases: [string, string][] = [
    ["[]", "must be a JSON object"],
    ['{"chunks": {}}', "chunks must be an array"],
    ['{"chunks": [1]}', "chunks[0] must be an object"],
    ['{"chunks": [{"id": ""}]}', "non-empty string"],
    ['{"chunks": [{"id": 5}]}', "non-empty string"],
    ['{"chunks": [{"id": "a", "storedBytes": -1}]}', "storedBytes"],
    ['{"chunks": [], "datasetFingerprint": {"cellCount": "many"}}', "cellCount"],
  ];
  for (const [json, fragment] of cases) await rejectsWithCode(() => open(rawBundle([], { manifestBytes: enc.encode(json) })), "MANIFEST_SHAPE", fragment);
  const dup = [binaryChunk("x", new Uint8Array([1])), binaryChunk("x", new Uint8Array([2]))];
  await rejectsWithCode(() => open(rawBundle(dup)), "DUPLICATE_CHUNK_ID", "'x'");
});

test("chunk frames: over 512 MiB, past the end of the file, missing, storedBytes mismatch", async () => {
  const c = binaryChunk("cells", new Uint8Array([1, 2, 3]));
  await rejectsWithCode(() => open(rawBundle([{ ...c, meta: { ...c.meta, storedBytes: undefined }, frameLength: 512 * 1024 * 1024 + 1 }])), "CHUNK_LENGTH", "chunk 'cells'");
  await rejectsWithCode(() => open(rawBundle([{ ...c, meta: { ...c.meta, storedBytes: undefined }, frameLength: 100 }])), "TRUNCATED", "runs past the end");
  await rejectsWithCode(() => open(rawBundle([c]).subarray(0, -5)), "TRUNCATED");
  await rejectsWithCode(() => open(rawBundle([c, binaryChunk("second", new Uint8Array(1))]).subarray(0, -5)), "TRUNCATED", "'second'");
  await rejectsWithCode(() => open(rawBundle([{ ...c, meta: { ...c.meta, storedBytes: 4 } }])), "STORED_BYTES_MISMATCH", "storedBytes is 4 but the frame holds 3");
});

test("frames the manifest pins are opened without reading their headers; a wrong header fails the chunk that is read, as opening would have", async () => {
  const good = binaryChunk("highlights/cells/a", encodeIndexSet([1, 2, 3]));
  const cells = encodeIndexSet([4, 5]);
  // storedBytes add up to the end of the file, so the layout is decided by the manifest alone.
  const lying = (frameLength: number) =>
    rawBundle([good, { ...binaryChunk("highlights/cells/b", cells), frameLength }, binaryChunk("c", new Uint8Array([9]))]);
  const cases: [number, string, string][] = [
    [cells.length - 1, "STORED_BYTES_MISMATCH", `storedBytes is ${cells.length} but the frame holds ${cells.length - 1} bytes`],
    [1000, "TRUNCATED", "stored length 1000 runs past the end of the file"],
    [512 * 1024 * 1024 + 1, "CHUNK_LENGTH", "exceeds the 536870912-byte chunk limit"],
  ];
  for (const [frameLength, code, fragment] of cases) {
    const b = await open(lying(frameLength));
    assert.equal(b.index.framesVerified, false);
    assert.deepEqual(b.listChunkIds(), ["highlights/cells/a", "highlights/cells/b", "c"]);
    assert.deepEqual([...(await b.readHighlightCells("a"))], [1, 2, 3]);
    assert.deepEqual([...(await b.readChunkBytes("c"))], [9]);
    const err = await rejectsWithCode(() => b.readHighlightCells("b"), code, fragment);
    assert.equal(err.chunkId, "highlights/cells/b");
    await rejectsWithCode(() => b.readChunkBytes("highlights/cells/b"), code, "chunk 'highlights/cells/b'");
    const report = await validateBundle(b);
    assert.equal(report.valid, false);
    assert.deepEqual(report.errors.map((e) => [e.code, e.chunkId]), [[code, "highlights/cells/b"]]);
    assert.deepEqual(report.chunks.map((c) => c.ok), [true, false, true]);
  }
  // Without a pinned layout (a trailing byte, or a chunk without storedBytes) every header is read at open, as before.
  const trailing = rawBundle([good, { ...binaryChunk("highlights/cells/b", cells), frameLength: cells.length - 1 }], { trailing: new Uint8Array(1) });
  await rejectsWithCode(() => open(trailing), "STORED_BYTES_MISMATCH", "chunk 'highlights/cells/b'");
  const undeclared = await open(rawBundle([good, { ...binaryChunk("b", cells), meta: { id: "b", kind: "binary", codec: "none" } }], { trailing: new Uint8Array(2) }));
  assert.equal(undeclared.index.framesVerified, true);
  assert.equal(undeclared.trailingBytes, 2);
});

test("unknown codec and kind are refused when the chunk is decoded, naming the chunk", async () => {
  const b = await open(rawBundle([binaryChunk("z", new Uint8Array([1]), { codec: "brotli" }), binaryChunk("k", new Uint8Array([1]), { kind: "xml" })]));
  await rejectsWithCode(() => b.decodeChunk("z"), "UNSUPPORTED_CODEC", "Unsupported session chunk codec: brotli");
  await rejectsWithCode(() => b.decodeChunk("k"), "UNSUPPORTED_KIND", "chunk 'k'");
  // The stored bytes stay readable: listing and copying a bundle never needs the codec.
  assert.deepEqual([...(await b.readChunkBytes("z"))], [1]);
});

for (const [name, gzip] of [["zlib", zlibGzip], ["web streams", webGzip]] as const) {
  test(`gzip (${name}): output larger than uncompressedBytes is stopped at the limit`, async () => {
    const payload = new Uint8Array(100_000);
    const c = binaryChunk("bomb", payload, { uncompressedBytes: 1000 }, "gzip");
    const b = await open(rawBundle([c]), gzip);
    await rejectsWithCode(() => b.readChunkPayload("bomb"), "DECOMPRESSED_LARGER_THAN_EXPECTED", "Chunk decompressed larger than expected");
  });

  test(`gzip (${name}): corrupt data and truncated streams`, async () => {
    const good = gzipSync(new Uint8Array(5000).fill(7));
    const bad = new Uint8Array(good);
    bad[20] ^= 0xff;
    bad[21] ^= 0xff;
    for (const stored of [bad, new Uint8Array(good.subarray(0, good.length - 12)), enc.encode("plain text, not gzip")]) {
      const b = await open(rawBundle([{ meta: { id: "g", kind: "binary", codec: "gzip", uncompressedBytes: 5000 }, stored }]), gzip);
      await rejectsWithCode(() => b.readChunkPayload("g"), "CORRUPT_GZIP", "chunk 'g'");
    }
  });

  test(`gzip (${name}): without uncompressedBytes, the trailer's size is a hint that a multi-member stream or a lie cannot abuse`, async () => {
    const a = new Uint8Array(70_000).map((_, i) => i % 251);
    const b = new Uint8Array(5_000).fill(3);
    const undeclared = (stored: Uint8Array) => open(rawBundle([{ meta: { id: "u", kind: "binary", codec: "gzip" }, stored }]), gzip);
    assert.deepEqual(await (await undeclared(new Uint8Array(gzipSync(a)))).readChunkPayload("u"), a);
    // Two members: the trailer tells only the last one's size; the output passes it and is measured instead.
    const twoMembers = new Uint8Array([...gzipSync(a), ...gzipSync(b)]);
    assert.deepEqual(await (await undeclared(twoMembers)).readChunkPayload("u"), new Uint8Array([...a, ...b]));
    // A trailer claiming less than the output: zlib's own length check refuses it.
    const lying = new Uint8Array(gzipSync(a));
    lying[lying.length - 4] = 10;
    lying[lying.length - 3] = 0;
    lying[lying.length - 2] = 0;
    lying[lying.length - 1] = 0;
    await rejectsWithCode(async () => (await undeclared(lying)).readChunkPayload("u"), "CORRUPT_GZIP");
  });

  test(`gzip (${name}): a declared size the data cannot reach is not allocated up front`, async () => {
    // Claims 500 MB from 30 bytes: deflate cannot expand that much, so nothing that size is allocated.
    const c = binaryChunk("liar", new Uint8Array(10), { uncompressedBytes: 500_000_000 }, "gzip");
    const before = process.memoryUsage().arrayBuffers;
    const out = await (await open(rawBundle([c]), gzip)).readChunkPayload("liar");
    assert.equal(out.length, 10);
    assert.ok(process.memoryUsage().arrayBuffers - before < 100_000_000);
  });
}

test("gzip without uncompressedBytes: over 512 MiB is 'Chunk decompressed too large', with bounded memory", async () => {
  // 520 MiB of zeros, deflated as a stream: ~0.5 MB on disk.
  const zipped = await new Promise<Uint8Array>((resolve, reject) => {
    const z = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    z.on("data", (b: Buffer) => parts.push(b));
    z.on("end", () => resolve(new Uint8Array(Buffer.concat(parts))));
    z.on("error", reject);
    const zero = Buffer.alloc(1 << 20);
    for (let i = 0; i < 520; i++) z.write(zero);
    z.end();
  });
  const b = await open(rawBundle([{ meta: { id: "bomb", kind: "binary", codec: "gzip" }, stored: zipped }]));
  const rssBefore = process.memoryUsage().rss;
  await rejectsWithCode(() => b.readChunkPayload("bomb"), "DECOMPRESSED_TOO_LARGE", "Chunk decompressed too large");
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, "the bomb was not held in memory");
});

test("JSON chunks must hold JSON; structured chunks must have their shape", async () => {
  const b = await open(rawBundle([
    { meta: { id: "core/state", kind: "json", codec: "none" }, stored: enc.encode("{oops") },
    jsonChunk("highlights/meta", { pages: "not a list" }),
    jsonChunk("core/field-overlays", { userDefinedFields: [{ id: "" }] }),
  ]));
  await rejectsWithCode(() => b.decodeChunk("core/state"), "CHUNK_JSON", "chunk 'core/state'");
  await rejectsWithCode(() => b.highlightsMeta(), "CHUNK_SHAPE", "pages must be an array");
  await rejectsWithCode(() => b.fieldOverlays(), "CHUNK_SHAPE", "userDefinedFields[0].id");
});

test("highlight indices are bounded by the fingerprint's cellCount", async () => {
  const meta = jsonChunk("highlights/meta", { pages: [{ id: "p", highlightedGroups: [{ id: "a" }, { id: "b" }] }] });
  const b = await open(rawBundle([meta, binaryChunk("highlights/cells/a", encodeIndexSet([1, 100])), binaryChunk("highlights/cells/b", encodeIndexSet(Array.from({ length: 101 }, (_, i) => i)))]));
  await rejectsWithCode(() => b.readHighlightCells("a"), "INDEX_OUT_OF_RANGE", "index 100 (entry 1) is out of range for 100 cells");
  await rejectsWithCode(() => b.readHighlightCells("b"), "INDEX_COUNT", "chunk 'highlights/cells/b'");
  assert.deepEqual([...(await b.readHighlightCells("a", { nObs: 101 }))], [1, 100]);
});

test("codes length must equal n_obs / n_vars; RLE rules are enforced through the bundle", async () => {
  const overlays = jsonChunk("core/field-overlays", { userDefinedFields: [
    { id: "f", key: "k", source: "obs", kind: "category", categories: ["a"] },
    { id: "v", key: "g", source: "var", kind: "category", categories: ["a"] },
    { id: "r", key: "r", source: "obs", kind: "category", categories: ["a"] },
  ] });
  const b = await open(rawBundle([
    overlays,
    binaryChunk("user-defined/codes/f", encodeCodes(new Array(99).fill(0))),
    binaryChunk("user-defined/codes/v", encodeCodes(new Array(20).fill(0))),
    binaryChunk("user-defined/codes/r", new Uint8Array([2, 100, 1, 0, 99])),
  ]));
  const [f, v, r] = await b.userDefinedFields();
  await rejectsWithCode(() => b.readUserDefinedCodes(f!), "CODES_LENGTH", "codes length 99 does not match the expected 100");
  assert.equal((await b.readUserDefinedCodes(v!)).codes.length, 20);
  await rejectsWithCode(() => b.readUserDefinedCodes(r!), "RLE_INVALID", "chunk 'user-defined/codes/r'");
});

test("a missing chunk is a typed NoSuchChunkError naming the id", async () => {
  const b = await open(rawBundle([]));
  const err = await rejectsWithCode(() => b.decodeChunk("highlights/meta"), "NO_SUCH_CHUNK", "'highlights/meta'");
  assert.ok(err instanceof NoSuchChunkError);
  assert.equal(err.chunkId, "highlights/meta");
  assert.equal(b.hasChunk("highlights/meta"), false);
  assert.equal(await b.highlightsMeta(), null, "typed views treat a missing chunk as 'feature not used'");
});

test("errors from files name the file", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "broken.cellucid-session");
    await writeFile(p, "hello");
    await rejectsWithCode(() => CellucidSessionBundle.open(p), "BAD_MAGIC", "broken.cellucid-session");
  });
});

test("trailing bytes are ignored by the reader and reported by validate as a warning", async () => {
  const b = await open(rawBundle([jsonChunk("core/state", {})], { trailing: new Uint8Array(7) }));
  assert.equal(b.trailingBytes, 7);
  const report = await validateBundle(b);
  assert.equal(report.valid, true);
  assert.deepEqual(report.warnings.map((w) => w.code), ["TRAILING_BYTES"]);
});
