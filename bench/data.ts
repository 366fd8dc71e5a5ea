/**
 * Deterministic, realistic-looking benchmark data: highlight index sets and
 * user-defined codes. Seeded so every run measures the same bytes.
 */
import { uvarintLength, writeUvarint } from "../src/codecs/uvarint.js";

export type Random = () => number;

/** mulberry32: tiny, fast, good enough to shape benchmark data. Returns [0, 1). */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Geometric gap ≥ 1 with the given mean: the gap between cells kept independently with probability 1/mean. */
export function geometricGap(random: Random, mean: number): number {
  if (mean <= 1) return 1;
  return 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - 1 / mean));
}

/** `count` ascending indices, the first one being gap()-1, each next one gap() further. */
export function indicesFromGaps(count: number, gap: () => number): Uint32Array {
  const out = new Uint32Array(count);
  let value = -1;
  for (let i = 0; i < count; i++) {
    value += gap();
    if (value >= 2 ** 32) throw new RangeError("generated index does not fit in 32 bits; lower the gaps");
    out[i] = value;
  }
  return out;
}

/**
 * A highlight group selecting about `fraction` of `nCells` cells, as a lasso
 * or a category filter does: independent picks, so gaps are geometric and,
 * above a few percent, nearly all one-byte varints.
 */
export function selection(nCells: number, fraction: number, random: Random): Uint32Array {
  let out = new Uint32Array(Math.ceil(nCells * fraction * 1.05) + 16);
  let n = 0;
  for (let v = geometricGap(random, 1 / fraction) - 1; v < nCells; v += geometricGap(random, 1 / fraction)) {
    if (n === out.length) {
      const grown = new Uint32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[n++] = v;
  }
  return out.slice(0, n);
}

/** Codes drawn independently per cell (a clustering of unsorted cells): raw encoding wins. */
export function scatteredCodes(n: number, categories: number, random: Random): Uint8Array | Uint16Array {
  const out = categories > 256 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * categories);
  return out;
}

/** Codes in runs of geometric length (labels painted on neighbouring cells): RLE wins. */
export function runCodes(n: number, categories: number, meanRun: number, random: Random): Uint8Array | Uint16Array {
  const out = categories > 256 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + geometricGap(random, meanRun));
    out.fill(Math.floor(random() * categories), i, end);
    i = end;
  }
  return out;
}

/** The uvarint encoding of `v` on its own (frame prefixes, counts). */
export function uvarint(v: number): Uint8Array {
  const out = new Uint8Array(uvarintLength(v));
  writeUvarint(out, 0, v);
  return out;
}

