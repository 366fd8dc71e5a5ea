/**
 * Hostile shapes (test/hostile-bundles.ts): each is refused with its typed
 * code by open/validate, by applying to an in-memory AnnData, and by the CLI
 * as a child process that exits 1 without a crash. Plus the JSON scanner,
 * the category caps per bundle, and indexing many small chunks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CellucidSessionBundle,
  CellucidSessionError,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  checkJsonLimits,
  createSessionWriter,
  validateBundle,
  type ByteSource,
} from "../src/node/index.js";
import { MemoryAnnData } from "../src/anndata/memory.js";
import { indexBundle } from "../src/format/framing.js";
import { applyCellucidSessionToAnnData } from "../src/apply/anndata.js";
import { EXAMPLE, ROOT, binaryChunk, jsonChunk, rawBundle, rejectsWithCode, withTempDir, cli } from "./helpers.js";
import { EXAMPLE_FINGERPRINT, hostileShapes, streamedChunk } from "./hostile-bundles.js";

const enc = new TextEncoder();
const DATASET = join(ROOT, "examples", "pbmc-demo.h5ad");

function exampleAnnData(): MemoryAnnData {
  return new MemoryAnnData({
    obs: { index: Array.from({ length: EXAMPLE_FINGERPRINT.cellCount }, (_, i) => `c${i}`) },
    var: { index: Array.from({ length: EXAMPLE_FINGERPRINT.varCount }, (_, i) => `g${i}`) },
  });
}

for (const shape of hostileShapes("test")) {
  test(`hostile: ${shape.name} → ${shape.code}`, async () => {
    const bytes = await shape.make();
    const where = shape.chunkId ?? undefined;
    // Library: open + validate report the code on the chunk; applying agrees where it reads the chunk.
    let bundle: CellucidSessionBundle;
    try {
      bundle = await CellucidSessionBundle.fromBytes(bytes, { name: "hostile" });
    } catch (err) {
      assert.ok(err instanceof CellucidSessionError, String(err));
      assert.equal(err.code, shape.code, err.message);
      assert.equal(shape.chunkId, null, "only a manifest problem stops opening");
      bundle = null as never;
    }
    if (bundle) {
      const report = await validateBundle(bundle);
      assert.equal(report.valid, false);
      const issue = report.errors.find((e) => e.chunkId === where);
      assert.equal(issue?.code, shape.code, JSON.stringify(report.errors));
      if (shape.appliedChunk) await rejectsWithCode(() => applyCellucidSessionToAnnData(bundle, exampleAnnData()), shape.code, `chunk '${where}'`);
      else await applyCellucidSessionToAnnData(bundle, exampleAnnData());
    }
    // CLI: exit 1 with the code, no stack trace, for validate and for apply.
    await withTempDir(async (dir) => {
      const file = join(dir, "hostile.cellucid-session");
      await writeFile(file, bytes);
      const v = await cli("validate", file, "--json");
      assert.equal(v.code, 1, v.stderr);
      assert.ok((JSON.parse(v.stdout) as { errors: { code: string }[] }).errors.some((e) => e.code === shape.code), v.stdout);
      if (shape.appliedChunk) {
        const a = await cli("apply", file, DATASET, "--dry-run");
        assert.equal(a.code, 1, a.stderr);
        assert.ok(a.stderr.includes(shape.code) || a.stderr.includes(shape.chunkId ?? "manifest"), a.stderr);
        assert.doesNotMatch(a.stderr, /\n\s+at /, "no stack trace");
      }
      assert.doesNotMatch(v.stderr, /\n\s+at /, "no stack trace");
    });
  });
}

test("the JSON scan: depth and values counted outside strings only, limits exact", () => {
  const ok = (s: string) => checkJsonLimits(enc.encode(s), "doc");
  const code = (s: string) => {
    try {
      ok(s);
      return "ok";
    } catch (err) {
      return (err as CellucidSessionError).code;
    }
  };
  assert.equal(code("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH)), "ok");
  assert.equal(code("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1)), "JSON_TOO_DEEP");
  assert.equal(code('{"a":' .repeat(MAX_JSON_DEPTH + 1) + "1" + "}".repeat(MAX_JSON_DEPTH + 1)), "JSON_TOO_DEEP");
  // Brackets and commas inside strings, escaped quotes included, are text.
  assert.equal(code(JSON.stringify(["[".repeat(500) + '\\"[[' + ",".repeat(MAX_JSON_VALUES + 5)])), "ok");
  // Unbalanced closers do not buy depth.
  assert.equal(code("]".repeat(100) + "[".repeat(MAX_JSON_DEPTH + 1)), "JSON_TOO_DEEP");
  assert.equal(code("[" + "0,".repeat(MAX_JSON_VALUES - 2) + "0]"), "ok");
  assert.equal(code("[" + "0,".repeat(MAX_JSON_VALUES) + "0]"), "JSON_TOO_LARGE");
  // A payload whose size alone is over the limit is refused without reading it.
  assert.equal(code(" ".repeat(16 * 1024 * 1024 + 1)), "JSON_TOO_LARGE");
});

test("JSON chunks stored without gzip are held to the same limits", async () => {
  const deep = enc.encode("[".repeat(100) + "]".repeat(100));
  const b = await CellucidSessionBundle.fromBytes(rawBundle([{ meta: { id: "core/state", kind: "json", codec: "none" }, stored: deep }]));
  await rejectsWithCode(() => b.decodeChunk("core/state"), "JSON_TOO_DEEP", "deeper than 64 levels");
});

test("category caps per bundle: count and bytes summed over fields", async () => {
  const field = (i: number, count: number, bytes: number) => ({
    id: `f${i}`, key: `f${i}`, source: "obs", kind: "category", categories: Array.from({ length: count }, (_, k) => `${k}`.padEnd(bytes, "x")),
  });
  const overlays = (fields: unknown[]) => rawBundle([jsonChunk("core/field-overlays", { userDefinedFields: fields })]);
  // 5 fields × 60,000: each under the per-field cap, 300,000 over the bundle's 262,144.
  const many = await CellucidSessionBundle.fromBytes(overlays([0, 1, 2, 3, 4].map((i) => field(i, 60_000, 1))));
  await rejectsWithCode(() => many.fieldOverlays(), "TOO_MANY_CATEGORIES", "per bundle");
  // 3 fields × 3 MiB of text: each under the per-field 4 MiB, 9 MiB over the bundle's 8 MiB.
  const large = await CellucidSessionBundle.fromBytes(overlays([0, 1, 2].map((i) => field(i, 3 * 1024, 1024))));
  await rejectsWithCode(() => large.fieldOverlays(), "CATEGORIES_TOO_LARGE", "per bundle");
  // Multi-byte text counts in UTF-8 bytes: 1,400 × ~1,000 'é' (2 bytes each) is 2.8 MB, 2,200 of them 4.4 MB.
  const accents = (n: number) => overlays([{ id: "f", kind: "category", categories: Array.from({ length: n }, (_, k) => `${k}`.padEnd(1000, "é")) }]);
  assert.equal((await (await CellucidSessionBundle.fromBytes(accents(1400))).fieldOverlays())!.userDefinedFields[0]!.categories!.length, 1400);
  await rejectsWithCode(async () => (await CellucidSessionBundle.fromBytes(accents(2200))).fieldOverlays(), "CATEGORIES_TOO_LARGE", "per field");
  // The writer refuses to write what a reader refuses.
  // canonical: false where the writer has that option (the web app's layout also wants a cellOrder).
  const options = { datasetFingerprint: { cellCount: 2 }, canonical: false };
  const w = createSessionWriter(options);
  w.addUserDefinedField({ id: "f", key: "f", categories: Array.from({ length: 70_000 }, (_, k) => `${k}`), codes: [0, 1] });
  await rejectsWithCode(() => w.toBytes(), "TOO_MANY_CATEGORIES");
});

test("a JSON chunk declaring more than the JSON limit is refused before inflating", async () => {
  // Not gzip at all: inflating would say CORRUPT_GZIP.
  const stored = enc.encode("definitely not gzip");
  const b = await CellucidSessionBundle.fromBytes(rawBundle([{ meta: { id: "core/state", kind: "json", codec: "gzip", uncompressedBytes: 16 * 1024 * 1024 + 1 }, stored }]));
  await rejectsWithCode(() => b.decodeChunk("core/state"), "JSON_TOO_LARGE", "declares uncompressedBytes 16777217");
  // Stored bytes that alone are over the limit are not even read (they are not gzip either).
  const big = await CellucidSessionBundle.fromBytes(rawBundle([{ meta: { id: "core/state", kind: "json", codec: "gzip" }, stored: new Uint8Array(17 * 1024 * 1024) }]));
  await rejectsWithCode(() => big.decodeChunk("core/state"), "JSON_TOO_LARGE", "stored in 17825792 bytes");
  // Within the limit the bytes are inflated, and found corrupt.
  const c = await CellucidSessionBundle.fromBytes(rawBundle([{ meta: { id: "core/state", kind: "json", codec: "gzip", uncompressedBytes: 1000 }, stored }]));
  await rejectsWithCode(() => c.decodeChunk("core/state"), "CORRUPT_GZIP");
});

/**
 * A bundle of `sizes.length` chunks of zeros that exists only as a layout:
 * reads are served from it, counted, and never materialise the file.
 */
function virtualBundle(sizes: number[], declared: boolean, trailing = 0): { source: ByteSource; reads: { calls: number; bytes: number } } {
  const chunks = sizes.map((n, i) => ({ id: `plugins/c${i}`, kind: "binary", codec: "none", ...(declared ? { storedBytes: n } : {}) }));
  const manifest = enc.encode(JSON.stringify({ datasetFingerprint: { cellCount: 1 }, chunks }));
  const head = rawBundle([], { manifestBytes: manifest });
  const starts: number[] = [];
  let size = head.length;
  for (const n of sizes) {
    starts.push(size);
    size += 4 + n;
  }
  size += trailing;
  const reads = { calls: 0, bytes: 0 };
  const read = (offset: number, length: number): Uint8Array => {
    reads.calls++;
    reads.bytes += length;
    const out = new Uint8Array(length);
    if (offset < head.length) out.set(head.subarray(offset, Math.min(head.length, offset + length)));
    // Frame prefixes overlapping [offset, offset + length).
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! + 4 <= offset) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < starts.length && starts[k]! < offset + length; k++) {
      const prefix = [sizes[k]! & 0xff, (sizes[k]! >>> 8) & 0xff, (sizes[k]! >>> 16) & 0xff, sizes[k]! >>> 24];
      for (let j = 0; j < 4; j++) {
        const at = starts[k]! + j - offset;
        if (at >= 0 && at < length) out[at] = prefix[j]!;
      }
    }
    return out;
  };
  return { source: { name: "virtual", size, read: async (o, l) => read(o, l), readSync: read }, reads };
}

async function indexAndCheck(sizes: number[], declared = true, trailing = 0) {
  const { source, reads } = virtualBundle(sizes, declared, trailing);
  const index = await indexBundle(source);
  assert.equal(index.frames.length, sizes.length);
  assert.equal(index.trailingBytes, trailing);
  let pos = index.frames[0]!.offset - 4;
  for (const [i, f] of index.frames.entries()) {
    assert.equal(f.length, sizes[i]);
    assert.equal(f.offset, pos + 4);
    pos = f.offset + f.length;
  }
  return { reads, index, source, payloadBytes: sizes.reduce((n, s) => n + s, 0), manifestBytes: index.manifestByteLength };
}

test("indexing many chunks reads no payload, and no frame header where the manifest's storedBytes place the frames", async () => {
  // 16,000 chunks of 64 KiB (a 1 GB file) whose storedBytes end at the end of the file: the header and the manifest only.
  const big = await indexAndCheck(Array.from({ length: 16_000 }, () => 64 * 1024));
  assert.equal(big.index.framesVerified, false);
  assert.equal(big.reads.calls, 2);
  assert.equal(big.reads.bytes, 21 + big.manifestBytes);
  // Checking every header later (validate does) costs one 4-byte read each, and finds them right.
  assert.equal((await new CellucidSessionBundle(big.source, big.index).frameHeaderErrors()).size, 0);
  assert.equal(big.reads.calls, 2 + 16_000);
  assert.equal(big.reads.bytes, 21 + big.manifestBytes + 16_000 * 4);
  // Without storedBytes the headers are walked at open: one 4-byte read per big chunk.
  const walked = await indexAndCheck(Array.from({ length: 16_000 }, () => 64 * 1024), false);
  assert.equal(walked.index.framesVerified, true);
  assert.ok(walked.reads.calls <= 2 + 16_000 + 1, `${walked.reads.calls} reads`);
  assert.ok(walked.reads.bytes <= 21 + walked.manifestBytes + 16_000 * 4 + 4096, `read ${walked.reads.bytes} bytes`);
  // Tiny chunks mixed with 16 KiB ones and a trailing byte (the layout is not pinned): reads cover headers and the tiny payloads between them, never a 16 KiB payload.
  const sizes = Array.from({ length: 6000 }, (_, i) => (i % 3 === 0 ? 16 * 1024 : 40 + (i % 7)));
  const mixed = await indexAndCheck(sizes, true, 1);
  assert.equal(mixed.index.framesVerified, true);
  const tiny = sizes.filter((s) => s < 1000).reduce((n, s) => n + s + 4, 0);
  assert.ok(mixed.reads.bytes <= 21 + mixed.manifestBytes + tiny + 2000 * 4, `read ${mixed.reads.bytes} bytes`);
  // The same without storedBytes: sizes guessed from the last one, never most of the payloads.
  const guessed = await indexAndCheck(sizes, false);
  assert.ok(guessed.reads.bytes < guessed.payloadBytes / 2, `read ${guessed.reads.bytes} of ${guessed.payloadBytes} bytes`);
});

test("inspect on a file of 3,000 small chunks lists every one", async () => {
  await withTempDir(async (dir) => {
    const chunks = Array.from({ length: 3000 }, (_, i) => binaryChunk(`plugins/c${i}`, new Uint8Array(i % 2 ? 20_000 : 30).fill(i & 0xff)));
    const file = join(dir, "many.cellucid-session");
    await writeFile(file, rawBundle(chunks, { fingerprint: { cellCount: 10 } }));
    const r = await cli("inspect", file, "--json");
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { chunks: { id: string; storedBytes: number }[]; unknownChunks: string[] };
    assert.equal(s.chunks.length, 3000);
    assert.deepEqual(s.chunks.slice(0, 3).map((c) => [c.id, c.storedBytes]), [["plugins/c0", 30], ["plugins/c1", 20_000], ["plugins/c2", 30]]);
    assert.equal(s.unknownChunks.length, 3000);
    const v = await cli("validate", file, "--json");
    assert.equal(v.code, 0, v.stderr);
  });
});

test("the example still validates and applies (limits are far from real sessions)", async () => {
  const b = await CellucidSessionBundle.open(EXAMPLE);
  try {
    assert.equal((await validateBundle(b)).valid, true);
  } finally {
    await b.close();
  }
  const chunk = await streamedChunk({ id: "core/state", kind: "json" }, [enc.encode("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))], null);
  const ok = await CellucidSessionBundle.fromBytes(rawBundle([chunk]));
  assert.equal((await validateBundle(ok)).valid, true);
});
