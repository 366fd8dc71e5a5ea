/** The capture's own gzip (web/src/fast-gzip.ts): what any gzip reader inflates back, never much larger than stored. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { webGzip } from "../src/codecs/gzip.js";
import { captureGzipCodec, fastGzip, huffmanLengths } from "../web/src/fast-gzip.js";

/** Bytes with the shapes payloads have: noise, runs of one byte (longer than a match can be), a few values, across block boundaries. */
const payloadArb = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 70_000 })).map(([v, n]) => new Uint8Array(n).fill(v)),
      fc.array(fc.constantFrom(0, 255), { maxLength: 2_000 }).map((a) => Uint8Array.from(a)),
    ),
    { maxLength: 8 },
  )
  .map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, (at += p.length) - p.length);
    return out;
  });

test("fastGzip output inflates to the input with zlib and with DecompressionStream; no larger than stored gzip", async () => {
  await fc.assert(
    fc.asyncProperty(payloadArb, async (data) => {
      const z = fastGzip(data);
      assert.deepEqual(new Uint8Array(gunzipSync(z)), data);
      assert.deepEqual(await webGzip.inflate(z, data.length, true), data);
      const stored = 18 + data.length + 5 * Math.max(1, Math.ceil(data.length / 0xffff));
      assert.ok(z.length <= stored + 1, `${z.length} > ${stored}`);
    }),
    { numRuns: 150 },
  );
});

test("fastGzip compresses what deflate is for in payloads: runs, and two values in no order (label codes of scattered cells)", () => {
  const runs = new Uint8Array(1_000_000);
  for (let i = 0; i < runs.length; i++) runs[i] = Math.floor(i / 5_000) % 7;
  const z = fastGzip(runs);
  assert.ok(z.length < 10_000, `${z.length}`);
  assert.deepEqual(new Uint8Array(gunzipSync(z)), runs);
  let s = 1;
  const codes = Uint8Array.from({ length: 1_000_000 }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) < 2 ** 31 ? 0 : 255));
  const zc = fastGzip(codes);
  assert.ok(zc.length < 0.2 * codes.length, `${zc.length}`);
  assert.deepEqual(new Uint8Array(gunzipSync(zc)), codes);
});

test("Huffman code lengths stay within the limit for skewed counts and always code at least two symbols", () => {
  // Fibonacci counts make the deepest unlimited Huffman tree.
  const fib = [1, 1];
  while (fib.length < 40) fib.push(fib[fib.length - 1]! + fib[fib.length - 2]!);
  for (const limit of [7, 15]) {
    const lengths = huffmanLengths(fib, limit);
    assert.ok(Math.max(...lengths) <= limit);
    assert.ok(lengths.every((l) => l > 0));
    // A complete prefix code: Kraft sum exactly 1.
    assert.equal(lengths.reduce((sum, l) => sum + 2 ** -l, 0), 1);
  }
  const single = huffmanLengths([0, 0, 9, 0], 7);
  assert.equal(single.filter((l) => l > 0).length, 2);
});

test("captures deflate large binary payloads themselves and JSON text and small payloads through the platform, all readable", async () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 3);
  const json = new TextEncoder().encode(JSON.stringify({ groups: Array.from({ length: 20_000 }, (_, i) => ({ id: `highlight_${i}`, enabled: true })) }));
  for (const data of [big, json, big.subarray(0, 1_000)]) {
    const z = await captureGzipCodec.deflate(data);
    assert.deepEqual(new Uint8Array(gunzipSync(z)), data);
  }
  assert.deepEqual(await captureGzipCodec.deflate(big), fastGzip(big));
  // JSON keeps zlib's matches: a small fraction of the text.
  assert.ok((await captureGzipCodec.deflate(json)).length < json.length / 5);
});
