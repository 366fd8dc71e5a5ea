/**
 * Level of detail while the view moves: every frame of a pan or zoom draws
 * the same fixed subset of the cells, of the size the renderer can draw in a
 * frame budget, and the full frame comes back once the view is still.
 *
 * The subset keeps cell i when frac(i·φ) is below the kept fraction: a fixed
 * low-discrepancy sample of the cell indices, so every region keeps the same
 * share of its cells (densities are preserved relative to each other), the
 * same cells stay in from one frame to the next (no shimmer), and a larger
 * subset contains the smaller ones.
 */

/** What a moving frame may take. */
export const FRAME_BUDGET_MS = 12;
/** Below this many cells a subset is not worth it. */
export const MIN_SUBSET = 100_000;
/** How long after the last move the view counts as still. */
export const SETTLE_MS = 150;

const PHI = 0.6180339887498949;

export function keeps(i: number, fraction: number): boolean {
  const h = i * PHI;
  return h - Math.floor(h) < fraction;
}

/** The kept cells of `list` (or of 0..n−1), in its order. */
export function subsetOf(n: number, list: Uint32Array | null, fraction: number): Uint32Array {
  const count = list ? list.length : n;
  let m = 0;
  for (let j = 0; j < count; j++) if (keeps(list ? list[j]! : j, fraction)) m++;
  const out = new Uint32Array(m);
  for (let j = 0, o = 0; j < count; j++) {
    const i = list ? list[j]! : j;
    if (keeps(i, fraction)) out[o++] = i;
  }
  return out;
}

/**
 * How many cells a moving frame draws, from what the last full frame took:
 * a power of two (so small swings in frame time do not rebuild the subset),
 * never more than all of them.
 */
export function subsetSize(n: number, fullFrameMs: number): number {
  if (fullFrameMs <= FRAME_BUDGET_MS || n <= MIN_SUBSET) return n;
  const fit = (n * FRAME_BUDGET_MS) / fullFrameMs;
  const size = Math.max(MIN_SUBSET, 2 ** Math.floor(Math.log2(fit)));
  return size >= n ? n : size;
}
