/**
 * Deflate's match lengths (RFC 1951 §3.2.5), shared by our two deflate
 * writers: the zlib runs of bool columns (zlib-runs.ts) and the viewer's
 * gzip of large capture chunks (web/src/fast-gzip.ts).
 */

/** The longest match deflate can say. */
export const MAX_MATCH = 258;

/** Length symbols 257..285: each one's base length and extra bits. */
export const LENGTH_BASE: readonly number[] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
export const LENGTH_EXTRA: readonly number[] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

/** For every match length 3..258, its length symbol's index (0..28) in LENGTH_BASE. */
export const LENGTH_INDEX: Uint8Array = (() => {
  const t = new Uint8Array(MAX_MATCH + 1);
  for (let k = 0; k < LENGTH_BASE.length; k++) for (let l = LENGTH_BASE[k]!; l < (LENGTH_BASE[k + 1] ?? MAX_MATCH + 1); l++) t[l] = k;
  // 258 has a symbol of its own (285, no extra bits), not 284 with 31 extra.
  t[MAX_MATCH] = LENGTH_BASE.length - 1;
  return t;
})();
