import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteWriter,
  CellucidSessionBundle,
  CellucidSessionError,
  decodeCodes,
  decodeIndexSet,
  encodeCodes,
  encodeIndexSet,
  readUvarint,
  type IndexSetStats,
} from "../src/index.js";
import { binaryChunk, jsonChunk, rawBundle } from "./helpers.js";
import { cursor } from "../src/codecs/uvarint.js";
import { normalizeIndices } from "../src/codecs/index-set.js";

function uvarintBytes(v: number): Uint8Array {
  const w = new ByteWriter();
  w.uvarint(v);
  return w.finish();
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CellucidSessionError) return err.code;
    throw err;
  }
  return "ok";
}

test("uvarint round-trips every safe integer", () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (v) => {
      const b = uvarintBytes(v);
      const c = cursor(b);
      assert.equal(readUvarint(c), v);
      assert.equal(c.pos, b.length);
      assert.ok(b.length <= 8);
    }),
  );
});

test("uvarint known encodings (LEB128)", () => {
  assert.deepEqual([...uvarintBytes(0)], [0]);
  assert.deepEqual([...uvarintBytes(127)], [127]);
  assert.deepEqual([...uvarintBytes(128)], [0x80, 0x01]);
  assert.deepEqual([...uvarintBytes(300)], [0xac, 0x02]);
  assert.deepEqual([...uvarintBytes(2 ** 53 - 1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
});

test("uvarint guards: truncated, longer than 10 bytes, above 2^53-1", () => {
  assert.equal(codeOf(() => readUvarint(cursor(new Uint8Array([0x80, 0x80])))), "VARINT_TRUNCATED");
  assert.equal(codeOf(() => readUvarint(cursor(new Uint8Array(0)))), "VARINT_TRUNCATED");
  // Non-canonical padding is fine up to 10 bytes...
  assert.equal(readUvarint(cursor(new Uint8Array([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]))), 1);
  // ...but an 11th byte is refused.
  assert.equal(codeOf(() => readUvarint(cursor(new Uint8Array([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])))), "VARINT_TOO_LONG");
  // 2^53 = 0x80 x7, 0x10
  assert.equal(codeOf(() => readUvarint(cursor(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10])))), "VARINT_TOO_LARGE");
});

test("index sets round-trip (sorted, de-duplicated) and respect the limit", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 5_000_000 }), { maxLength: 2000 }), (raw) => {
      const expected = [...new Set(raw)].sort((a, b) => a - b);
      const bytes = encodeIndexSet(raw);
      assert.deepEqual([...decodeIndexSet(bytes)], expected);
      if (expected.length) {
        const max = expected[expected.length - 1]!;
        assert.deepEqual([...decodeIndexSet(bytes, { limit: max + 1 })], expected);
        assert.equal(codeOf(() => decodeIndexSet(bytes, { limit: max })), expected.length > max ? "INDEX_COUNT" : "INDEX_OUT_OF_RANGE");
      }
    }),
  );
});

/** The format read one varint at a time, as the reference readers do: what the fast decoder must agree with. */
function referenceIndexSet(bytes: Uint8Array, limit: number): number[] | string {
  try {
    const c = cursor(bytes);
    const count = readUvarint(c);
    const out: number[] = [];
    let value = 0;
    for (let i = 0; i < count; i++) {
      value += readUvarint(c);
      if (value >= limit) return "INDEX_OUT_OF_RANGE";
      out.push(value);
    }
    return out;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

test("index sets with 1- to 5-byte gaps decode exactly as a one-varint-at-a-time reader, whole and truncated anywhere", () => {
  const gap = fc.oneof(fc.integer({ min: 1, max: 127 }), fc.integer({ min: 128, max: 16_383 }), fc.integer({ min: 16_384, max: 2 ** 21 }), fc.integer({ min: 2 ** 21, max: 2 ** 29 }));
  fc.assert(
    fc.property(fc.array(gap, { maxLength: 300 }), fc.nat(), (gaps, cut) => {
      let v = -1;
      const indices = gaps.map((g) => (v += g)).filter((x) => x < 2 ** 32);
      const bytes = encodeIndexSet(indices);
      const limit = 2 ** 32;
      assert.deepEqual([...decodeIndexSet(bytes, { limit })], referenceIndexSet(bytes, limit));
      const truncated = bytes.subarray(0, cut % (bytes.length + 1));
      const expected = referenceIndexSet(truncated, limit);
      const got = (() => {
        try {
          return [...decodeIndexSet(truncated, { limit })];
        } catch (err) {
          return (err as { code: string }).code;
        }
      })();
      // A cut inside the data can only be a truncation (the reference may meet it a varint later).
      if (typeof expected === "string") assert.equal(got, "VARINT_TRUNCATED");
      else assert.deepEqual(got, expected);
    }),
    { numRuns: 500 },
  );
});

test("index set: wire format is count then first index then gaps", () => {
  assert.deepEqual([...encodeIndexSet([5, 7, 300])], [3, 5, 2, 0xa5, 0x02]);
  assert.deepEqual([...decodeIndexSet(new Uint8Array([3, 5, 2, 0xa5, 0x02]))], [5, 7, 300]);
});

test("index set: duplicates (gap 0) are tolerated and counted; trailing bytes reported", () => {
  const stats: IndexSetStats = { duplicates: 0, trailingBytes: 0 };
  assert.deepEqual([...decodeIndexSet(new Uint8Array([3, 4, 0, 1, 9, 9]), {}, stats)], [4, 4, 5]);
  assert.equal(stats.duplicates, 1);
  assert.equal(stats.trailingBytes, 2);
});

test("index set guards: count > n_obs, index >= n_obs, truncated, lying count", () => {
  assert.equal(codeOf(() => decodeIndexSet(new Uint8Array([11, ...new Array(11).fill(0)]), { limit: 10 })), "INDEX_COUNT");
  assert.equal(codeOf(() => decodeIndexSet(new Uint8Array([2, 3, 7]), { limit: 10 })), "INDEX_OUT_OF_RANGE");
  assert.equal(codeOf(() => decodeIndexSet(new Uint8Array([2, 3, 0x80]))), "VARINT_TRUNCATED");
  // A count of 2^40 in a 6-byte chunk must be refused before anything is allocated.
  assert.equal(codeOf(() => decodeIndexSet(uvarintBytes(2 ** 40))), "VARINT_TRUNCATED");
  // Indices beyond 32 bits cannot be cell indices.
  assert.equal(codeOf(() => decodeIndexSet(new Uint8Array([1, ...uvarintBytes(2 ** 32)]))), "INDEX_OUT_OF_RANGE");
});

const codesArb = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 500 }),
  fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 500 }),
  // Long runs, the common case of labels painted on clustered cells.
  fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 400 })), { maxLength: 30 }).map((runs) => runs.flatMap(([v, n]) => new Array<number>(n).fill(v))),
);

test("codes round-trip through every encoding, and the writer picks the smallest", () => {
  fc.assert(
    fc.property(codesArb, (codes) => {
      const wide = codes.some((c) => c > 255);
      const auto = encodeCodes(codes);
      const decoded = decodeCodes(auto, { expectedLength: codes.length });
      assert.deepEqual([...decoded.codes], codes);
      assert.equal(decoded.codes instanceof Uint16Array, wide);
      const sizes: number[] = [];
      for (const e of wide ? ([1, 3] as const) : ([0, 1, 2, 3] as const)) {
        const bytes = encodeCodes(codes, { encoding: e });
        sizes.push(bytes.length);
        const d = decodeCodes(bytes);
        assert.equal(d.encoding, e);
        assert.deepEqual([...d.codes], codes);
      }
      const natural = wide ? sizes : [sizes[0]!, sizes[2]!];
      assert.ok(auto.length <= Math.min(...natural), `auto ${auto.length} vs ${natural}`);
      // Typed arrays take the same path; `wide` picks the smaller of the two 16-bit encodings.
      const typed = wide ? Uint16Array.from(codes) : Uint8Array.from(codes);
      assert.deepEqual([...encodeCodes(typed)], [...auto]);
      const sixteen = encodeCodes(typed, { wide: true });
      assert.ok([1, 3].includes(sixteen[0]!) && sixteen.length === Math.min(sizes[wide ? 0 : 1]!, sizes[wide ? 1 : 3]!));
      assert.deepEqual([...decodeCodes(sixteen).codes], codes);
    }),
  );
});

test("codes wire formats", () => {
  assert.deepEqual([...encodeCodes([1, 2], { encoding: 0 })], [0, 2, 1, 2]);
  assert.deepEqual([...encodeCodes([1, 258], { encoding: 1 })], [1, 2, 1, 0, 2, 1]);
  assert.deepEqual([...encodeCodes([7, 7, 7, 2], { encoding: 2 })], [2, 4, 2, 7, 3, 2, 1]);
  assert.deepEqual([...encodeCodes([300, 300], { encoding: 3 })], [3, 2, 1, 0xac, 0x02, 2]);
});

test("codes guards: encoding, length, RLE runs, widths, truncation", () => {
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([]))), "CODES_ENCODING");
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([4, 0]))), "CODES_ENCODING");
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([0, 3, 1, 2, 3]), { expectedLength: 4 })), "CODES_LENGTH");
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([0, 3, 1, 2]))), "VARINT_TRUNCATED");
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([1, 2, 1, 0, 2]))), "VARINT_TRUNCATED");
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, 4, 1, 7, 3]))), "RLE_INVALID"); // runs sum 3 ≠ 4
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, 4, 2, 7, 3, 1, 2]))), "RLE_INVALID"); // sum 5 > 4
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, 1, 1, 7, 0]))), "RLE_INVALID"); // run 0
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, 1, 1, 0xac, 0x02, 1]))), "RLE_INVALID"); // 300 > u8
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([3, 1, 1, 0x80, 0x80, 0x04, 1]))), "RLE_INVALID"); // 65536 > u16
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, 2, 3, 7, 1]))), "RLE_INVALID"); // 3 pairs for 2 codes
  // A 2^40 RLE length in a few bytes is refused without allocating.
  assert.equal(codeOf(() => decodeCodes(new Uint8Array([2, ...uvarintBytes(2 ** 40), 1, 0, ...uvarintBytes(2 ** 40)]))), "CODES_LENGTH");
});

test("normalizeIndices sorts, de-duplicates and refuses non-indices", () => {
  assert.deepEqual([...normalizeIndices([3, 1, 3, 2])], [1, 2, 3]);
  assert.throws(() => normalizeIndices([1, -1]), { name: "SessionFormatError", code: "INDEX_OUT_OF_RANGE" });
  assert.throws(() => normalizeIndices([1.5]), { name: "SessionFormatError", code: "INDEX_OUT_OF_RANGE" });
});

test("index sets made of runs of each gap width (0 included) decode like the reference, duplicates counted", () => {
  const widths = [[0, 0], [1, 127], [128, 16_383], [16_384, 2 ** 21]] as const;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 20 })), { maxLength: 40 }), fc.nat(), (runs, seed) => {
      const indices: number[] = [];
      let v = seed % 5;
      for (const [w, n] of runs) for (let k = 0; k < n; k++) indices.push((v += widths[w]![0] + ((seed + k) % (widths[w]![1] - widths[w]![0] + 1))));
      // encodeIndexSet de-duplicates, so gaps of 0 are written by hand: count, first index, gaps.
      const w = new ByteWriter();
      w.uvarint(indices.length);
      let prev = 0;
      for (const x of indices) {
        w.uvarint(x - prev);
        prev = x;
      }
      const bytes = w.finish();
      const stats: IndexSetStats = { duplicates: 0, trailingBytes: 0 };
      assert.deepEqual([...decodeIndexSet(bytes, { limit: 2 ** 32 }, stats)], referenceIndexSet(bytes, 2 ** 32));
      assert.equal(stats.duplicates, indices.filter((x, i) => i > 0 && x === indices[i - 1]).length);
    }),
    { numRuns: 300 },
  );
});

test("raw codes decode as views of the payload where alignment allows; the bundle never aliases the caller's bytes", async () => {
  const u8 = encodeCodes(new Uint8Array([1, 2, 3, 0]), { encoding: 0 });
  const d8 = decodeCodes(u8);
  assert.equal(d8.codes.buffer, u8.buffer, "u8 codes are a view");
  assert.deepEqual([...d8.codes], [1, 2, 3, 0]);
  // u16 codes start after 1 + varint bytes: 2 (even) for 4 codes, so a view; shifted by one byte, a copy.
  const u16 = encodeCodes(Uint16Array.from([700, 1, 65535, 2]), { encoding: 1 });
  assert.equal((decodeCodes(u16).codes as Uint16Array).buffer, u16.buffer);
  const shifted = new Uint8Array(u16.length + 1);
  shifted.set(u16, 1);
  const odd = decodeCodes(shifted.subarray(1));
  assert.notEqual(odd.codes.buffer, shifted.buffer);
  assert.deepEqual([...odd.codes], [700, 1, 65535, 2]);

  // A bundle from the caller's bytes with codes stored raw: editing the codes must not edit the bundle.
  const bytes = rawBundle(
    [
      jsonChunk("core/field-overlays", { userDefinedFields: [{ id: "f", key: "f", source: "obs", kind: "category", categories: ["a", "b", "c", "d"] }] }),
      binaryChunk("user-defined/codes/f", encodeCodes([1, 2, 3, 0], { encoding: 0 })),
    ],
    { fingerprint: { cellCount: 4 } },
  );
  const b = await CellucidSessionBundle.fromBytes(bytes);
  assert.equal(b.getChunkMeta("user-defined/codes/f").codec, "none");
  const [field] = await b.userDefinedFields();
  const first = await b.readUserDefinedCodes(field!);
  first.codes.fill(9);
  assert.deepEqual([...(await b.readUserDefinedCodes(field!)).codes], [1, 2, 3, 0]);
});
