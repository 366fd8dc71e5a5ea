/**
 * A zlib stream (RFC 1950 around one fixed-Huffman deflate block, RFC 1951)
 * built only from literals and distance-1 matches, i.e. run-length encoding
 * that every inflater reads. Made for what apply writes most: boolean
 * columns, mostly one value with a few cells of the other. A 1M-cell column
 * with 1,000 cells set becomes ~8 KB in well under a millisecond, where zlib
 * at level 1 takes ~2 ms and writing the raw megabyte takes ~1.5 ms; HDF5's
 * deflate filter and Zarr's zlib codec read it like any zlib stream.
 *
 * Output is at most 9/8 of the input plus a few bytes (all literals);
 * callers store raw bytes instead when the stream is not smaller.
 */

import { LENGTH_BASE, LENGTH_EXTRA, LENGTH_INDEX, MAX_MATCH } from "./deflate-lengths.js";

const ADLER_MOD = 65521;
/**
 * Adler-32's `b` is reduced only once it passes this: a run adds less than
 * 2^40 to it (run lengths are taken mod 65521), so it stays an exact integer
 * far below 2^53, and most runs cost no division.
 */
const B_REDUCE = 2 ** 32;

/** Fixed Huffman code of a literal/length symbol, bit-reversed for LSB-first output, and its length. */
function fixedCode(symbol: number): [code: number, bits: number] {
  let code: number, bits: number;
  if (symbol < 144) [code, bits] = [0x30 + symbol, 8];
  else if (symbol < 256) [code, bits] = [0x190 + symbol - 144, 9];
  else if (symbol < 280) [code, bits] = [symbol - 256, 7];
  else [code, bits] = [0xc0 + symbol - 280, 8];
  let reversed = 0;
  for (let i = 0; i < bits; i++) reversed |= ((code >> i) & 1) << (bits - 1 - i);
  return [reversed, bits];
}

const LITERAL_CODES = Array.from({ length: 286 }, (_, s) => fixedCode(s));
/** The same as flat tables, read in the hot loop without destructuring. */
const LIT_CODE = Int32Array.from(LITERAL_CODES, ([c]) => c);
const LIT_BITS = Int32Array.from(LITERAL_CODES, ([, b]) => b);
/** For each match length 3..258: the symbol code with its extra bits above it, and the total bits (distance code 0, five zero bits, appended). */
const MATCH_CODE = new Int32Array(MAX_MATCH + 1);
const MATCH_BITS = new Int32Array(MAX_MATCH + 1);
for (let len = 3; len <= MAX_MATCH; len++) {
  const i = LENGTH_INDEX[len]!;
  const [code, bits] = LITERAL_CODES[257 + i]!;
  const extra = LENGTH_EXTRA[i]!;
  MATCH_CODE[len] = code | ((len - LENGTH_BASE[i]!) << bits);
  MATCH_BITS[len] = bits + extra + 5;
}

class BitWriter {
  private out: Uint8Array;
  private at = 0;
  private acc = 0;
  private count = 0;
  constructor(capacity: number) {
    this.out = new Uint8Array(capacity);
  }
  /** Appends `bits` (≤ 24) bits of `value`, least significant first. */
  put(value: number, bits: number): void {
    this.reserve(4);
    this.putReserved(value, bits);
  }
  /**
   * A run of `run` (≥ 1) bytes of the literal `code` (`bits` long): the
   * literal, distance-1 matches, then at most two more literals. The hot loop
   * of every stream, so the writer's state is held in locals while it runs.
   */
  putRun(code: number, bits: number, run: number): void {
    // At most 3 bytes a symbol: a literal, the matches, two more literals.
    this.reserve(3 * (4 + Math.ceil(run / MAX_MATCH)));
    const out = this.out;
    let acc = this.acc | (code << this.count);
    let count = this.count + bits;
    let at = this.at;
    while (count >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      count -= 8;
    }
    let rest = run - 1;
    while (rest >= 3) {
      let len = rest < MAX_MATCH ? rest : MAX_MATCH;
      // Never leave 1 or 2: those would have to be literals; 3 fit one more match.
      if (rest - len === 1 || rest - len === 2) len = rest - 3;
      acc |= MATCH_CODE[len]! << count;
      count += MATCH_BITS[len]!;
      while (count >= 8) {
        out[at++] = acc & 0xff;
        acc >>>= 8;
        count -= 8;
      }
      rest -= len;
    }
    for (; rest > 0; rest--) {
      acc |= code << count;
      count += bits;
      while (count >= 8) {
        out[at++] = acc & 0xff;
        acc >>>= 8;
        count -= 8;
      }
    }
    this.acc = acc;
    this.count = count;
    this.at = at;
  }
  /** Makes room for `bytes` more bytes, so that puts adding up to that many need no check. */
  reserve(bytes: number): void {
    while (this.at + bytes > this.out.length) this.grow();
  }
  /** put() within room made by reserve(). */
  putReserved(value: number, bits: number): void {
    let acc = this.acc | (value << this.count);
    let count = this.count + bits;
    while (count >= 8) {
      this.out[this.at++] = acc & 0xff;
      acc >>>= 8;
      count -= 8;
    }
    this.acc = acc;
    this.count = count;
  }
  /** Pads the last byte with zero bits. */
  align(): void {
    if (this.count > 0) this.put(0, 8 - this.count);
  }
  /** What was written (a view of the buffer, whole bytes only). */
  bytes(): Uint8Array {
    this.align();
    return this.out.subarray(0, this.at);
  }
  private grow(): void {
    const next = new Uint8Array(this.out.length * 2);
    next.set(this.out);
    this.out = next;
  }
}

/** Index of the first byte at or after `i` that is not 0, scanning four bytes at a time where aligned. */
function endOfZeros(data: Uint8Array, words: Uint32Array | null, i: number): number {
  const n = data.length;
  while (i < n && data[i] === 0 && (i & 3) !== 0) i++;
  if (words) {
    let w = i >> 2;
    while (w < words.length && words[w] === 0) w++;
    i = Math.max(i, w << 2);
  }
  while (i < n && data[i] === 0) i++;
  return i;
}

/** The stream being built: header, one fixed-Huffman block of runs, Adler-32 of what the runs stand for. */
class RunStream {
  private readonly out: BitWriter;
  private a = 1;
  private b = 0;
  constructor(capacity: number) {
    this.out = new BitWriter(capacity);
    this.out.put(0x78, 8);
    this.out.put(0x01, 8);
    this.out.put(0b011, 3); // BFINAL, fixed Huffman
  }

  /** `run` (≥ 1) bytes of value `v`. */
  run(v: number, run: number): void {
    // Adler-32 over a run of one value, in closed form: b gains t·a + v·t(t+1)/2, a gains v·t (t = run mod 65521).
    const t = run < ADLER_MOD ? run : run % ADLER_MOD;
    let b = this.b + t * this.a;
    if (v !== 0) {
      b += v * ((t * (t + 1)) / 2);
      const a = this.a + v * t;
      this.a = a < ADLER_MOD ? a : a % ADLER_MOD;
    }
    this.b = b < B_REDUCE ? b : b % ADLER_MOD;
    this.out.putRun(LIT_CODE[v]!, LIT_BITS[v]!, run);
  }

  /** The end-of-block code and the Adler-32, big-endian, after the block's last byte: the stream, no copy of it. */
  finish(): Uint8Array {
    const [eob, eobBits] = LITERAL_CODES[256]!;
    this.out.put(eob, eobBits);
    this.out.align();
    const adler = ((this.b % ADLER_MOD) * 65536 + this.a) >>> 0;
    this.out.reserve(4);
    for (const shift of [24, 16, 8, 0]) this.out.putReserved((adler >>> shift) & 0xff, 8);
    return this.out.bytes();
  }
}

/** zlib-wrapped deflate of `data` as literals and runs; `booleans`: every non-zero byte is stored as 1. */
export function zlibRuns(data: Uint8Array, opts: { booleans?: boolean } = {}): Uint8Array {
  const booleans = opts.booleans === true;
  const n = data.length;
  const stream = new RunStream(Math.min(n + (n >> 3) + 64, 64 + (n >> 4)));
  // Whole 32-bit words of zeros are skipped at once when the view is aligned.
  const words = data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, n >> 2) : null;
  let i = 0;
  while (i < n) {
    const raw = data[i]!;
    const v = booleans && raw !== 0 ? 1 : raw;
    let end = v === 0 ? endOfZeros(data, words, i + 1) : i + 1;
    if (v !== 0) {
      if (booleans) while (end < n && data[end] !== 0) end++;
      else while (end < n && data[end] === v) end++;
    }
    stream.run(v, end - i);
    i = end;
  }
  return stream.finish();
}

/**
 * zlibRuns of the booleans [from, from + length) that are 1 exactly at
 * `rows` (ascending, no repeats; those outside the range are ignored):
 * O(rows) instead of a pass over every byte, for a group whose cells are known.
 */
export function zlibRunsOfRows(rows: Uint32Array, from: number, length: number): Uint8Array {
  const to = from + length;
  let lo = 0, hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  // ~4 bytes a row covers its run of ones and the zeros before it, unless runs of zeros are long (length / 64).
  const stream = new RunStream(64 + (length >> 6) + 4 * (hi - lo));
  let at = from;
  for (let k = lo; k < rows.length && rows[k]! < to; ) {
    const first = rows[k]!;
    let last = first;
    while (k + 1 < rows.length && rows[k + 1] === last + 1 && last + 1 < to) last = rows[++k]!;
    k++;
    if (first > at) stream.run(0, first - at);
    stream.run(1, last - first + 1);
    at = last + 1;
  }
  if (to > at) stream.run(0, to - at);
  return stream.finish();
}
