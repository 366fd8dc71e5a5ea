/** Continuous colouring in Node: the clip percentiles, the colours and draw ranks, and the draw order derived from them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SCALE, colorValues, orderByRank, select, valueRange } from "../web/src/continuous.js";

test("quickselect finds what a sort puts at k, on columns of mostly equal values too", () => {
  const value = fc.oneof(fc.constant(0), fc.constant(-0), fc.integer({ min: -5, max: 5 }), fc.float({ noNaN: true, noDefaultInfinity: true }));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.nat(), fc.nat(), (xs, a, b) => {
      const sorted = Float32Array.from(xs).sort();
      const arr = Float32Array.from(xs);
      const k1 = a % xs.length;
      const k2 = k1 + (b % (xs.length - k1));
      // Numerically (a sort puts -0 before 0; they are one value to the scale).
      assert.ok(select(arr, k1, 0, arr.length - 1) === sorted[k1]);
      // After k1 is placed, k2 ≥ k1 is found among the values right of it.
      assert.ok(select(arr, k2, k1, arr.length - 1) === sorted[k2]);
    }),
    { numRuns: 500 },
  );
});

test("the clip percentiles are the sorted sample's (every step-th cell past 262,144), with min, max and cells without a value", () => {
  const values = new Float32Array(2_500_000);
  let s = 3;
  for (let i = 0; i < values.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = i % 1000 === 0 ? NaN : s % 3 === 0 ? 0 : (s >>> 8) / 1e5;
  }
  const r = valueRange(values, 1, 99);
  // The reference: the finite values of every step-th cell, sorted.
  const finite = values.filter((v) => Number.isFinite(v));
  const step = Math.max(1, Math.floor(values.length / 262_144));
  const sample = values.filter((v, i) => i % step === 0 && Number.isFinite(v)).sort();
  assert.ok(step > 1 && sample.length > 200_000, "the column is sampled");
  const at = (p: number) => sample[Math.round((p / 100) * (sample.length - 1))];
  assert.equal(r.lo, at(1));
  assert.equal(r.hi, at(99));
  assert.equal(r.min, finite.reduce((m, v) => Math.min(m, v), Infinity));
  assert.equal(r.max, finite.reduce((m, v) => Math.max(m, v), -Infinity));
  assert.equal(r.missing, 2_500);
  assert.deepEqual(valueRange(values, 0, 100), { ...r, lo: r.min, hi: r.max });
  assert.deepEqual(valueRange(Float32Array.of(NaN, NaN), 1, 99), { min: NaN, max: NaN, lo: NaN, hi: NaN, missing: 2 });
});

test("colours and draw ranks: the scale step of each value, missing values grey and drawn first; the order draws high values last", () => {
  const values = Float32Array.of(5, NaN, 0, 10, 2.5, -1, 10, Infinity);
  const range = { min: -1, max: 10, lo: 0, hi: 10, missing: 2 };
  const colors = new Uint32Array(values.length), rank = new Uint16Array(values.length);
  colorValues(values, range, 7, colors, rank);
  assert.deepEqual([...rank], [129, 0, 1, 256, 65, 1, 256, 0]);
  assert.deepEqual([...colors], [SCALE[128], 7, SCALE[0], SCALE[255], SCALE[64], SCALE[0], SCALE[255], 7]);
  // Low ranks first, index order within a rank; a list keeps its own order within a rank.
  assert.deepEqual([...orderByRank(rank, null)], [1, 7, 2, 5, 4, 0, 3, 6]);
  assert.deepEqual([...orderByRank(rank, Uint32Array.of(6, 0, 1, 3))], [1, 0, 6, 3]);
});
