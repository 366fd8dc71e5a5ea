/**
 * Continuous colouring: a viridis-like scale (perceptually uniform, readable
 * by colour-blind people, dark to light), and the value range a colouring is
 * stretched over, clipped at percentiles so a few outliers do not wash the
 * scale out.
 */
import { hexToRgba32 } from "./palette.js";

// Nine evenly spaced stops of matplotlib's viridis; 256 steps interpolated between them.
const STOPS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];

/** 256 RGBA words, low to high. */
export const SCALE: Uint32Array = (() => {
  const words = STOPS.map(hexToRgba32);
  const out = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (words.length - 1);
    const k = Math.min(words.length - 2, Math.floor(t));
    const f = t - k;
    const a = words[k]!, b = words[k + 1]!;
    const ch = (s: number) => Math.round(((a >>> s) & 0xff) * (1 - f) + ((b >>> s) & 0xff) * f);
    out[i] = ((0xff << 24) | (ch(16) << 16) | (ch(8) << 8) | ch(0)) >>> 0;
  }
  return out;
})();

/** The CSS gradient of the scale, for the legend bar. */
export const SCALE_CSS = `linear-gradient(to right, ${STOPS.join(", ")})`;

export interface ValueRange {
  /** Smallest and largest finite value. */
  min: number;
  max: number;
  /** Where the scale starts and ends (the clip percentiles of the finite values). */
  lo: number;
  hi: number;
  /** Cells without a value (NaN). */
  missing: number;
}

/**
 * Past this many cells, percentiles come from an even sample: every k-th
 * cell's value. 262,144 values put a percentile within ~0.05 percentage
 * points of the whole column's (its standard error at the 99th), which a
 * colour scale's clip cannot show, at a fraction of the time a larger
 * sample takes (sampling 5M cells to 1M and selecting in them took ~50 ms).
 */
const SAMPLE = 262_144;

/** Min, max and the [clipLow, clipHigh] percentiles (0–100) of the finite values. */
export function valueRange(values: Float32Array, clipLow: number, clipHigh: number): ValueRange {
  let min = Infinity, max = -Infinity, finite = 0;
  const step = Math.max(1, Math.floor(values.length / SAMPLE));
  const sample = new Float32Array(Math.ceil(values.length / step));
  // One pass: min, max, the count, and the finite values of every step-th cell (a countdown, not a division per value).
  let n = 0, wait = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const keep = wait-- === 0;
    if (keep) wait = step - 1;
    if (v === v && v !== Infinity && v !== -Infinity) {
      finite++;
      if (v < min) min = v;
      if (v > max) max = v;
      if (keep) sample[n++] = v;
    }
  }
  const missing = values.length - finite;
  if (finite === 0) return { min: NaN, max: NaN, lo: NaN, hi: NaN, missing };
  // No sampled cell has a value (others do): the scale spans min to max.
  if (n === 0) return { min, max, lo: min, hi: max, missing };
  // The two order statistics a sort would put there, selected in linear time (sorting a million floats takes ~0.1 s).
  const sorted = sample.subarray(0, n);
  const rank = (p: number) => Math.min(n - 1, Math.max(0, Math.round((p / 100) * (n - 1))));
  const kLo = rank(clipLow), kHi = rank(clipHigh);
  const lo = clipLow <= 0 ? min : select(sorted, kLo, 0, n - 1);
  // Selecting kLo left every larger value to its right: kHi ≥ kLo is found there.
  const hi = clipHigh >= 100 ? max : select(sorted, kHi, clipLow <= 0 || kHi < kLo ? 0 : kLo, n - 1);
  return { min, max, lo, hi, missing };
}

/**
 * The k-th smallest of a[left..right], in place (quickselect with Hoare's
 * scans, which stop at values equal to the pivot: columns of mostly zeros
 * stay linear); leaves no larger value after k and no smaller before it.
 */
export function select(a: Float32Array, k: number, left: number, right: number): number {
  while (right > left) {
    const t = a[k]!;
    let i = left, j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else swap(a, ++j, right);
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
  return a[k]!;
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * One colour word per cell: values at or below `lo` get the darkest colour,
 * at or above `hi` the lightest, NaN `missing`. And each cell's draw rank,
 * so that high values land on top (a marker gene's few expressing cells
 * would otherwise hide under the many at zero): 0 for no value, then
 * 1..256 by scale step; cells of one rank are drawn in index order.
 */
export function colorValues(values: Float32Array, range: ValueRange, missing: number, out: Uint32Array, rank: Uint16Array): void {
  const span = range.hi - range.lo;
  // 256 equal bins over [lo, hi]; hi itself falls in the last (255/span would round it down a step).
  const k = span > 0 ? 256 / span : 0;
  const lo = range.lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v || v === Infinity || v === -Infinity) {
      out[i] = missing;
      rank[i] = 0;
      continue;
    }
    // A constant column (span 0) is drawn in the middle of the scale.
    const t = span > 0 ? (v - lo) * k : 127.5;
    const step = t <= 0 ? 0 : t >= 255 ? 255 : t | 0;
    out[i] = SCALE[step]!;
    rank[i] = step + 1;
  }
}

/**
 * The cells of `list` (all cells when null; in index order either way) in
 * the order to draw them by `rank`: low ranks first, list order within a
 * rank. A counting sort: linear, where sorting 10M cells would take seconds.
 */
export function orderByRank(rank: Uint16Array, list: Uint32Array | null): Uint32Array {
  const count = list ? list.length : rank.length;
  const start = new Uint32Array(258);
  for (let j = 0; j < count; j++) start[rank[list ? list[j]! : j]! + 1]!++;
  for (let b = 0; b < 257; b++) start[b + 1]! += start[b]!;
  const order = new Uint32Array(count);
  for (let j = 0; j < count; j++) {
    const i = list ? list[j]! : j;
    order[start[rank[i]!]!++] = i;
  }
  return order;
}

/** Short human form of a scale value (legend, hover). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
}

/**
 * Gene search over var names: names are lower-cased once, then each query
 * is one pass (prefix matches first, then substring), stopping at `limit`.
 */
export class NameSearch {
  private readonly lower: string[];

  constructor(readonly names: string[]) {
    this.lower = names.map((n) => n.toLowerCase());
  }

  /** Indices of the names matching `query`, prefix matches first. */
  find(query: string, limit = 20): number[] {
    const q = query.trim().toLowerCase();
    if (q === "") return [];
    const prefix: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i < this.lower.length && prefix.length < limit; i++) {
      const at = this.lower[i]!.indexOf(q);
      if (at === 0) prefix.push(i);
      else if (at > 0 && inside.length < limit) inside.push(i);
    }
    return prefix.concat(inside).slice(0, limit);
  }
}
