/** The run-length zlib encoder apply uses for boolean columns: every output is a zlib stream any inflater reads back exactly. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import fc from "fast-check";
import { zlibRuns, zlibRunsOfRows } from "../src/codecs/zlib-runs.js";

const roundTrips = (data: Uint8Array) => assert.deepEqual(new Uint8Array(inflateSync(zlibRuns(data))), data);

test("runs of every length around the 258-byte match limit, empty input, and all 256 byte values", () => {
  roundTrips(new Uint8Array(0));
  for (let len = 1; len < 800; len++) {
    roundTrips(new Uint8Array(len));
    roundTrips(new Uint8Array(len).fill(1));
    roundTrips(new Uint8Array(len).fill(200));
  }
  roundTrips(Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff));
});

test("a sparse 1M-cell boolean column: a few kilobytes, exact after inflate (Adler-32 checked by zlib)", () => {
  const col = new Uint8Array(1_000_000);
  for (let i = 0; i < 1000; i++) col[(i * 7919 * 13) % col.length] = 1;
  const z = zlibRuns(col);
  assert.ok(z.length < 12_000, `${z.length} bytes`);
  roundTrips(col);
  // All set, and a view that does not start on a word boundary.
  roundTrips(new Uint8Array(1_000_003).fill(1));
  roundTrips(col.subarray(3, 999_990));
});

test("arbitrary bytes and long runs (property)", () => {
  const runs = fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 2000 })), { maxLength: 40 });
  fc.assert(fc.property(runs, fc.integer({ min: 0, max: 3 }), (rs, offset) => {
    const bytes = new Uint8Array(offset + rs.reduce((n, [, len]) => n + len, 0));
    let at = offset;
    for (const [v, len] of rs) bytes.fill(v, at, (at += len));
    roundTrips(bytes.subarray(offset));
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => roundTrips(bytes)), { numRuns: 200 });
});

test("booleans: any non-zero byte is stored as 1", () => {
  const bytes = Uint8Array.from([0, 0, 3, 255, 1, 0, 7, 7, 7, 7, 0]);
  assert.deepEqual([...inflateSync(zlibRuns(bytes, { booleans: true }))], [0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0]);
});

test("zlibRunsOfRows: the same stream as zlibRuns of the dense booleans, for any rows and any window (property)", () => {
  const sets = fc.uniqueArray(fc.integer({ min: 0, max: 3000 }), { maxLength: 300 });
  fc.assert(fc.property(sets, fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 1500 }), (set, from, length) => {
    const rows = Uint32Array.from(set.sort((a, b) => a - b));
    const dense = new Uint8Array(from + length);
    for (const r of rows) if (r >= from && r < from + length) dense[r] = 1;
    assert.deepEqual(zlibRunsOfRows(rows, from, length), zlibRuns(dense.subarray(from), { booleans: true }));
  }), { numRuns: 500 });
});
