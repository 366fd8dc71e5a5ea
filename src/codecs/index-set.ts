/**
 * Delta-uvarint index sets (SPEC §4): `count`, then the first index, then the
 * gaps between consecutive indices. Decoding is the hot path of applying a
 * bundle (millions of cells), so the one-byte case is handled inline.
 */
import { formatError } from "../format/errors.js";
import { type Cursor, cursor, readUvarint, readUvarintSlow, uvarintLength, writeUvarint } from "./uvarint.js";

export interface IndexSetDecodeOptions {
  /** Exclusive upper bound for indices (n_obs); also bounds `count`. */
  limit?: number | null | undefined;
}

export interface IndexSetStats {
  /** Gaps of 0 after the first index: tolerated, reported by validate. */
  duplicates: number;
  /** Bytes after the last index: ignored like the reference readers do, reported by validate. */
  trailingBytes: number;
}

const U32_LIMIT = 2 ** 32;
/** One-byte gaps in a row after which decoding returns to the one-byte loop. */
const ONE_BYTE_RUN = 8;

export function decodeIndexSet(bytes: Uint8Array, opts: IndexSetDecodeOptions = {}, stats?: IndexSetStats): Uint32Array {
  const c = cursor(bytes);
  const indices = decodeIndexSetAt(c, opts, stats);
  if (stats) stats.trailingBytes = bytes.length - c.pos;
  return indices;
}

/**
 * Checks an index set under every rule without materialising it (validate):
 * the same loop as decoding, minus the output array. Returns the count.
 */
export function scanIndexSet(bytes: Uint8Array, opts: IndexSetDecodeOptions = {}, stats?: IndexSetStats): number {
  const c = cursor(bytes);
  const count = walkIndexSet(c, opts, null, stats);
  if (stats) stats.trailingBytes = bytes.length - c.pos;
  return count;
}

export function decodeIndexSetAt(c: Cursor, opts: IndexSetDecodeOptions = {}, stats?: IndexSetStats): Uint32Array {
  const out = new Uint32Array(readCount(c, opts));
  walkIndexSet(c, opts, out, stats, out.length);
  return out;
}

/**
 * A gap of two or more bytes starting at `pos`; leaves `c.pos` after it. Gaps
 * of 2..4 bytes (< 2^28) are read inline; longer, truncated or malformed ones
 * go through the checked reader, which also builds the error message.
 */
function readLongGap(c: Cursor, pos: number, i: number): number {
  const bytes = c.bytes;
  const end = bytes.length;
  const start = pos;
  let gap = bytes[pos++]! & 0x7f;
  let b = 0x80;
  let shift = 7;
  while (shift < 28 && pos < end) {
    b = bytes[pos++]!;
    gap |= (b & 0x7f) << shift;
    shift += 7;
    if (b < 0x80) break;
  }
  c.pos = start;
  if (b >= 0x80) return readUvarintSlow(c, "index", i);
  c.pos = pos;
  return gap;
}

/** Error path: the first index (and its entry number) at or above `bound`, by a plain re-read. */
function firstAtLeast(bytes: Uint8Array, first: number, bound: number): [number, number] {
  const c = cursor(bytes, first);
  let value = 0;
  for (let i = 0; ; i++) {
    value += readUvarint(c);
    if (value >= bound) return [value, i];
  }
}

function readCount(c: Cursor, opts: IndexSetDecodeOptions): number {
  const limit = opts.limit ?? null;
  const count = readUvarint(c, "index count");
  if (limit !== null && count > limit)
    throw formatError("INDEX_COUNT", `index count ${count} exceeds the ${limit} cells of the dataset`);
  const bytes = c.bytes;
  const end = bytes.length;
  // Every index takes at least one byte: a larger count is a lie, refuse it before allocating.
  if (count > end - c.pos)
    throw formatError("VARINT_TRUNCATED", `truncated index set: count ${count} but only ${end - c.pos} bytes follow`);
  return count;
}

/** Reads the gaps after the count (read here unless `knownCount` is given), into `out` when there is one. */
function walkIndexSet(c: Cursor, opts: IndexSetDecodeOptions, out: Uint32Array | null, stats?: IndexSetStats, knownCount?: number): number {
  const count = knownCount ?? readCount(c, opts);
  const limit = opts.limit ?? null;
  const bytes = c.bytes;
  const end = bytes.length;
  const bound = limit !== null && limit < U32_LIMIT ? limit : U32_LIMIT;
  const first = c.pos;
  let pos = first;
  let value = 0;
  let zeros = 0;
  let i = 0;
  // Invariant: entries left ≤ bytes left (checked by readCount, re-checked
  // after the multi-byte gaps), so the one-byte loop needs no bounds check.
  // Indices only grow, so the range is checked once at the end.
  const lastPair = end - 1;
  while (i < count) {
    while (i < count) {
      const gap = bytes[pos]!;
      if (gap >= 0x80) break;
      pos++;
      zeros += gap === 0 ? 1 : 0;
      value += gap;
      if (out) out[i] = value;
      i++;
    }
    if (i === count) break;
    // Sparse selections mix one- and two-byte gaps at random: one loop takes
    // both without a data-dependent branch, until a run of one-byte gaps sends
    // it back to the loop above, or a gap of three or more bytes comes.
    let ones = 0;
    while (i < count && pos < lastPair && ones < ONE_BYTE_RUN) {
      const b0 = bytes[pos]!;
      const b1 = bytes[pos + 1]!;
      const two = b0 >>> 7;
      if ((two & (b1 >>> 7)) !== 0) break;
      const gap = (b0 & 0x7f) | ((b1 << 7) & -two);
      zeros += gap === 0 ? 1 : 0;
      value += gap;
      pos += 1 + two;
      ones = (ones + 1) & (two - 1);
      if (out) out[i] = value;
      i++;
    }
    if (i === count) break;
    // A gap of three or more bytes, or one cut off by the end: the general reader.
    if (ones < ONE_BYTE_RUN && pos < end && bytes[pos]! >= 0x80) {
      value += readLongGap(c, pos, i);
      pos = c.pos;
      if (out) out[i] = value;
      i++;
    }
    if (count - i > end - pos)
      throw formatError("VARINT_TRUNCATED", `truncated index set: ${count - i} indices left but only ${end - pos} bytes follow`);
  }
  if (value >= bound) {
    const [bad, entry] = firstAtLeast(bytes, first, bound);
    throw formatError(
      "INDEX_OUT_OF_RANGE",
      limit !== null && bad >= limit
        ? `index ${bad} (entry ${entry}) is out of range for ${limit} cells`
        : `index ${bad} (entry ${entry}) does not fit in 32 bits`,
    );
  }
  // A first index of 0 is a value, not a repeated one.
  const dups = count > 0 && readUvarint(cursor(bytes, first)) === 0 ? zeros - 1 : zeros;
  c.pos = pos;
  if (stats) stats.duplicates = dups;
  return count;
}

/**
 * Encodes indices; they are sorted and de-duplicated first, because the
 * format stores gaps and the viewer treats a group as a set.
 */
export function encodeIndexSet(indices: ArrayLike<number>): Uint8Array {
  const sorted = normalizeIndices(indices);
  // Exact size first, so the output is one allocation with no growing.
  let size = uvarintLength(sorted.length);
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    const gap = sorted[i]! - prev;
    size += gap < 0x80 ? 1 : gap < 0x4000 ? 2 : gap < 0x200000 ? 3 : gap < 0x10000000 ? 4 : 5;
    prev = sorted[i]!;
  }
  const out = new Uint8Array(size);
  let pos = writeUvarint(out, 0, sorted.length);
  prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    let gap = sorted[i]! - prev;
    prev = sorted[i]!;
    while (gap >= 0x80) {
      out[pos++] = (gap & 0x7f) | 0x80;
      gap >>>= 7;
    }
    out[pos++] = gap;
  }
  return out;
}

export function normalizeIndices(indices: ArrayLike<number>): Uint32Array {
  const n = indices.length;
  const arr = new Uint32Array(n);
  let sorted = true;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const v = indices[i]!;
    if (!(v >= 0 && v < U32_LIMIT && Number.isInteger(v))) throw formatError("INDEX_OUT_OF_RANGE", `index at position ${i} is not a valid cell index: ${v}`);
    arr[i] = v;
    if (v <= prev) sorted = false;
    prev = v;
  }
  if (sorted) return arr;
  arr.sort();
  let k = 0;
  for (let i = 0; i < n; i++) if (k === 0 || arr[i] !== arr[k - 1]) arr[k++] = arr[i]!;
  return arr.slice(0, k);
}

export { readUvarint };
