/**
 * Continuous colouring: a viridis-like scale (perceptually uniform, readable
 * by colour-blind people, dark to light), and the value range a colouring is
 * stretched over, clipped at percentiles so a few outliers do not wash the
 * scale out.
 */
import { hexToRgba32, rgba32ToCss } from "./palette.js";

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

export function scaleCss(t: number): string {
  return rgba32ToCss(SCALE[Math.max(0, Math.min(255, Math.round(t * 255)))]!);
}

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

/** Past this many finite values, percentiles come from an even sample (sorting 10M floats costs seconds). */
const SAMPLE = 1_000_000;

/** Min, max and the [clipLow, clipHigh] percentiles (0–100) of the finite values. */
export function valueRange(values: Float32Array, clipLow: number, clipHigh: number): ValueRange {
  let min = Infinity, max = -Infinity, finite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === v && v !== Infinity && v !== -Infinity) {
      finite++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const missing = values.length - finite;
  if (finite === 0) return { min: NaN, max: NaN, lo: NaN, hi: NaN, missing };
  const step = Math.max(1, Math.floor(finite / SAMPLE));
  const sample = new Float32Array(Math.ceil(finite / step));
  let n = 0, seen = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v === v && v !== Infinity && v !== -Infinity)) continue;
    if (seen++ % step === 0 && n < sample.length) sample[n++] = v;
  }
  const sorted = sample.subarray(0, n).sort();
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.round((p / 100) * (n - 1))))]!;
  const lo = clipLow <= 0 ? min : at(clipLow);
  const hi = clipHigh >= 100 ? max : at(clipHigh);
  return { min, max, lo, hi, missing };
}

/** One colour word per cell: values at or below `lo` get the darkest colour, at or above `hi` the lightest, NaN `missing`. */
export function colorValues(values: Float32Array, range: ValueRange, missing: number, out: Uint32Array): void {
  const span = range.hi - range.lo;
  // 256 equal bins over [lo, hi]; hi itself falls in the last (255/span would round it down a step).
  const k = span > 0 ? 256 / span : 0;
  const lo = range.lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v || v === Infinity || v === -Infinity) {
      out[i] = missing;
      continue;
    }
    // A constant column (span 0) is drawn in the middle of the scale.
    const t = span > 0 ? (v - lo) * k : 127.5;
    out[i] = SCALE[t <= 0 ? 0 : t >= 255 ? 255 : t | 0]!;
  }
}

/**
 * The order to draw cells in so high values land on top (a marker gene's few
 * expressing cells would otherwise hide under the many at zero): cells
 * without a value first, then by scale step, by a counting sort (linear,
 * where sorting 10M values would take seconds).
 */
export function drawOrder(values: Float32Array, range: ValueRange): Uint32Array {
  const span = range.hi - range.lo;
  const k = span > 0 ? 256 / span : 0;
  const bin = new Uint16Array(values.length);
  const start = new Uint32Array(258);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = (v - range.lo) * k;
    // Bin 0: no value; 1..256: scale steps.
    const b = v !== v || v === Infinity || v === -Infinity ? 0 : 1 + (t <= 0 ? 0 : t >= 255 ? 255 : t | 0);
    bin[i] = b;
    start[b + 1]!++;
  }
  for (let b = 0; b < 257; b++) start[b + 1]! += start[b]!;
  const order = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) order[start[bin[i]!]!++] = i;
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
