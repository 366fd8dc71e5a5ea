/**
 * Delta-uvarint index sets (SPEC §4): `count`, then the first index, then the
 * gaps between consecutive indices. Decoding is the hot path of applying a
 * bundle (millions of cells), so the one-byte case is handled inline.
 */
import { formatError } from "../format/errors.js";
import { ByteWriter, type Cursor, cursor, readUvarint, readUvarintSlow } from "./uvarint.js";

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

export function decodeIndexSet(bytes: Uint8Array, opts: IndexSetDecodeOptions = {}, stats?: IndexSetStats): Uint32Array {
  const c = cursor(bytes);
  const indices = decodeIndexSetAt(c, opts, stats);
  if (stats) stats.trailingBytes = bytes.length - c.pos;
  return indices;
}

export function decodeIndexSetAt(c: Cursor, opts: IndexSetDecodeOptions = {}, stats?: IndexSetStats): Uint32Array {
  const limit = opts.limit ?? null;
  const count = readUvarint(c, "index count");
  if (limit !== null && count > limit)
    throw formatError("INDEX_COUNT", `index count ${count} exceeds the ${limit} cells of the dataset`);
  const bytes = c.bytes;
  const end = bytes.length;
  // Every index takes at least one byte: a larger count is a lie, refuse it before allocating.
  if (count > end - c.pos)
    throw formatError("VARINT_TRUNCATED", `truncated index set: count ${count} but only ${end - c.pos} bytes follow`);
  const bound = limit !== null && limit < U32_LIMIT ? limit : U32_LIMIT;
  const out = new Uint32Array(count);
  let pos = c.pos;
  let value = 0;
  let dups = 0;
  for (let i = 0; i < count; i++) {
    let gap = bytes[pos]!;
    if (gap < 0x80 && pos < end) {
      pos++;
    } else {
      c.pos = pos;
      gap = readUvarintSlow(c, `index ${i}`);
      pos = c.pos;
    }
    if (gap === 0 && i > 0) dups++;
    value += gap;
    if (value >= bound) {
      throw formatError(
        "INDEX_OUT_OF_RANGE",
        limit !== null && value >= limit
          ? `index ${value} (entry ${i}) is out of range for ${limit} cells`
          : `index ${value} (entry ${i}) does not fit in 32 bits`,
      );
    }
    out[i] = value;
  }
  c.pos = pos;
  if (stats) stats.duplicates = dups;
  return out;
}

/**
 * Encodes indices; they are sorted and de-duplicated first, because the
 * format stores gaps and the viewer treats a group as a set.
 */
export function encodeIndexSet(indices: ArrayLike<number>): Uint8Array {
  const sorted = normalizeIndices(indices);
  const w = new ByteWriter(sorted.length + 8);
  w.uvarint(sorted.length);
  let prev = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    w.uvarint(v - prev);
    prev = v;
  }
  return w.finish();
}

export function normalizeIndices(indices: ArrayLike<number>): Uint32Array {
  const arr = Uint32Array.from(indices as ArrayLike<number>, (v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= U32_LIMIT) throw new RangeError(`index at position ${i} is not a valid cell index: ${v}`);
    return v;
  });
  let sorted = true;
  for (let i = 1; i < arr.length; i++) if (arr[i]! <= arr[i - 1]!) { sorted = false; break; }
  if (sorted) return arr;
  arr.sort();
  let n = 0;
  for (let i = 0; i < arr.length; i++) if (i === 0 || arr[i] !== arr[n - 1]) arr[n++] = arr[i]!;
  return arr.slice(0, n);
}

export { readUvarint };
