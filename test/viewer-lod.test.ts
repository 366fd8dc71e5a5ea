/**
 * The level-of-detail subset: the share of cells it keeps, in every region
 * alike (densities preserved), in the draw order given, nested across sizes
 * (a bigger subset holds the smaller), and sized from the full frame's time.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FRAME_BUDGET_MS, MIN_SUBSET, subsetOf, subsetSize } from "../web/src/lod.js";

test("the subset keeps the asked share of the cells, and that share of every block of them", () => {
  const n = 1_000_000;
  const cells = subsetOf(n, null, 0.1);
  assert.ok(Math.abs(cells.length - 100_000) <= 10, `${cells.length} cells`);
  // Blocks of 10,000 consecutive cells (e.g. one cluster each, as files often order them) each keep 10 % ± 0.1 %.
  const perBlock = new Array<number>(100).fill(0);
  for (const i of cells) perBlock[Math.floor(i / 10_000)]!++;
  for (const [b, k] of perBlock.entries()) assert.ok(Math.abs(k - 1000) <= 10, `block ${b}: ${k}`);
  // Cells scattered at random (a spatial region of a shuffled file) keep the share too.
  let seed = 3;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const region = Uint32Array.from({ length: 50_000 }, () => Math.floor(random() * n));
  const kept = subsetOf(n, region, 0.1).length;
  assert.ok(Math.abs(kept - 5000) < 300, `${kept} of a random 50,000`);
});

test("the subset follows the given draw order and grows by adding cells", () => {
  const order = Uint32Array.from({ length: 20_000 }, (_, j) => 19_999 - j);
  const small = subsetOf(20_000, order, 0.05), big = subsetOf(20_000, order, 0.2);
  for (let j = 1; j < small.length; j++) assert.ok(small[j]! < small[j - 1]!, "in the order given");
  const inBig = new Set(big);
  assert.ok([...small].every((i) => inBig.has(i)), "the smaller subset is inside the bigger one");
  assert.deepEqual(subsetOf(10, null, 1), Uint32Array.from({ length: 10 }, (_, i) => i));
});

test("the subset size fits the frame budget, in powers of two, never below the minimum nor above all", () => {
  assert.equal(subsetSize(5_000_000, FRAME_BUDGET_MS), 5_000_000, "a frame within budget is never thinned");
  assert.equal(subsetSize(50_000, 500), 50_000, "small datasets are never thinned");
  const size = subsetSize(5_000_000, 100);
  assert.equal(size, 2 ** 19, "5M cells at 100 ms a frame: 600,000 fit in 12 ms, rounded down to 2^19");
  assert.equal(subsetSize(5_000_000, 60_000), MIN_SUBSET);
});
