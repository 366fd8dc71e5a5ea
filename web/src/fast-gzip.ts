/**
 * gzip at tens of megabytes a second for the large chunks of captures and
 * Save State: deflate with a Huffman code of its own per 64 KiB block and
 * repeats of the previous byte as its only matches (what zlib calls the
 * RLE strategy). The platform's CompressionStream searches for matches at
 * zlib's default level and takes ~0.6–0.9 s for the 5 MB of codes of a label
 * field on 5M cells whose labels follow no order (this encoder: well under
 * 0.1 s, ~15% larger there); on codes painted on clustered cells, and on
 * sorted cell indices, the runs and the skewed byte counts are most of what
 * deflate finds anyway. Any gzip reader inflates the result.
 */
import { type GzipCodec, webGzip } from "../../src/codecs/gzip.js";
import { LENGTH_BASE, LENGTH_EXTRA, LENGTH_INDEX, MAX_MATCH } from "../../src/codecs/deflate-lengths.js";
import { gzipTrailer, GZIP_HEADER } from "./stored-gzip.js";

/** Input bytes per block: each gets the code that fits its own bytes, or is stored when that is no smaller. */
const BLOCK = 0xffff;
/** Per literal/length symbol: its extra bits and base length (0 for literals and the end of block). */
const EXTRA_OF = Uint8Array.from({ length: 286 }, (_, s) => (s > 256 ? LENGTH_EXTRA[s - 257]! : 0));
const BASE_OF = Uint16Array.from({ length: 286 }, (_, s) => (s > 256 ? LENGTH_BASE[s - 257]! : 0));
/** The order code-length code lengths are sent in. */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

class BitWriter {
  /** Bits not yet written, `count` of them. */
  bits = 0;
  count = 0;
  pos: number;

  constructor(readonly out: Uint8Array, pos: number) {
    this.pos = pos;
  }

  /** `n` ≤ 24 bits of `value`, least significant first. */
  put(value: number, n: number): void {
    this.bits |= value << this.count;
    this.count += n;
    while (this.count >= 8) {
      this.out[this.pos++] = this.bits & 0xff;
      this.bits >>>= 8;
      this.count -= 8;
    }
  }

  /** Pads to a byte boundary (stored blocks and the trailer start on one). */
  align(): void {
    if (this.count > 0) this.put(0, 8 - this.count);
  }
}

/**
 * Huffman code lengths of at most `maxBits` for `freq`, at least two symbols
 * coded (a code-length code of one symbol is refused by inflaters). Weights
 * are halved until the longest code fits.
 */
export function huffmanLengths(freq: ArrayLike<number>, maxBits: number): Uint8Array {
  const n = freq.length;
  const weights = Array.from(freq, (f) => f);
  for (let s = 0, used = weights.filter((w) => w > 0).length; used < 2 && s < n; s++) if (weights[s] === 0) (weights[s] = 1), used++;
  for (;;) {
    const lengths = new Uint8Array(n);
    // Leaves sorted by weight, then internal nodes in the order made (their weights only grow): the two-queue method.
    const leaves = weights.map((w, s) => ({ w, s })).filter((l) => l.w > 0).sort((a, b) => a.w - b.w || a.s - b.s);
    const m = leaves.length;
    const weight = new Float64Array(2 * m), parent = new Int32Array(2 * m).fill(-1);
    leaves.forEach((l, k) => (weight[k] = l.w));
    let nextLeaf = 0, nextNode = m, made = m;
    const take = (): number => (nextLeaf < m && (nextNode >= made || weight[nextLeaf]! <= weight[nextNode]!) ? nextLeaf++ : nextNode++);
    while (made < 2 * m - 1) {
      const a = take(), b = take();
      weight[made] = weight[a]! + weight[b]!;
      parent[a] = parent[b] = made++;
    }
    const depth = new Uint8Array(2 * m);
    let longest = 0;
    for (let k = 2 * m - 3; k >= 0; k--) depth[k] = depth[parent[k]!]! + 1;
    for (let k = 0; k < m; k++) {
      lengths[leaves[k]!.s] = depth[k]!;
      longest = Math.max(longest, depth[k]!);
    }
    if (longest <= maxBits) return lengths;
    for (let s = 0; s < n; s++) if (weights[s]! > 0) weights[s] = Math.max(1, weights[s]! >>> 1);
  }
}

/** Canonical codes for `lengths`, bit-reversed for deflate's least-significant-first order. */
function codesOf(lengths: Uint8Array): Uint16Array {
  const count = new Uint16Array(16);
  for (const l of lengths) count[l]!++;
  count[0] = 0;
  const next = new Uint16Array(16);
  for (let b = 1, code = 0; b < 16; b++) next[b] = code = (code + count[b - 1]!) << 1;
  const codes = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s]!;
    if (l === 0) continue;
    let c = next[l]!++, r = 0;
    for (let k = 0; k < l; k++, c >>>= 1) r = (r << 1) | (c & 1);
    codes[s] = r;
  }
  return codes;
}

/** Code-length symbols (0..18, with 16/17/18 repeats) of `lengths`, as [symbol, extra] pairs. */
function codeLengthSymbols(lengths: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < lengths.length; ) {
    const l = lengths[i]!;
    let run = 1;
    while (i + run < lengths.length && lengths[i + run] === l) run++;
    i += run;
    if (l === 0) {
      while (run >= 11) out.push(18, Math.min(run, 138) - 11), (run -= Math.min(run, 138));
      if (run >= 3) out.push(17, run - 3), (run = 0);
    } else {
      out.push(l, 0), run--;
      while (run >= 3) out.push(16, Math.min(run, 6) - 3), (run -= Math.min(run, 6));
    }
    while (run-- > 0) out.push(l, 0);
  }
  return out;
}

/** A block's symbols (literals, run lengths 257..285) and run lengths (0 for a literal); at most one per byte. */
const SYMBOLS = new Uint16Array(BLOCK);
const RUNS = new Uint16Array(BLOCK);

/** Literal and run symbols of data[start, end) into SYMBOLS / RUNS; returns how many. */
function tokenize(data: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; ) {
    const b = data[i]!;
    if (i > 0 && data[i - 1] === b) {
      const limit = Math.min(end, i + MAX_MATCH);
      let j = i + 1;
      while (j < limit && data[j] === b) j++;
      if (j - i >= 3) {
        SYMBOLS[n] = 257 + LENGTH_INDEX[j - i]!;
        RUNS[n++] = j - i;
        i = j;
        continue;
      }
    }
    SYMBOLS[n] = b;
    RUNS[n++] = 0;
    i++;
  }
  return n;
}

function writeBlock(w: BitWriter, data: Uint8Array, start: number, end: number, last: boolean): void {
  const tokens = tokenize(data, start, end);
  const freq = new Uint32Array(286);
  for (let t = 0; t < tokens; t++) freq[SYMBOLS[t]!]!++;
  freq[256] = 1;
  const lit = huffmanLengths(freq, 15);
  let hlit = 286;
  while (hlit > 257 && lit[hlit - 1] === 0) hlit--;
  // One distance code (distance 1, code 0): a single 1-bit code is the one incomplete code inflaters take.
  const all = new Uint8Array(hlit + 1);
  all.set(lit.subarray(0, hlit));
  all[hlit] = 1;
  const cl = codeLengthSymbols(all);
  const clFreq = new Uint32Array(19);
  for (let k = 0; k < cl.length; k += 2) clFreq[cl[k]!]!++;
  const clLengths = huffmanLengths(clFreq, 7);
  let hclen = 19;
  while (hclen > 4 && clLengths[CL_ORDER[hclen - 1]!] === 0) hclen--;

  let bits = 17 + 3 * hclen;
  for (let k = 0; k < cl.length; k += 2) bits += clLengths[cl[k]!]! + (cl[k] === 16 ? 2 : cl[k] === 17 ? 3 : cl[k] === 18 ? 7 : 0);
  for (let s = 0; s < 286; s++) bits += freq[s]! * (lit[s]! + (s > 256 ? EXTRA_OF[s]! + 1 : 0));
  if (bits >= 8 * (end - start + 5)) {
    // Stored: no smaller as a code.
    w.put(last ? 1 : 0, 3);
    w.align();
    const len = end - start;
    w.put(len & 0xffff, 16);
    w.put(~len & 0xffff, 16);
    w.out.set(data.subarray(start, end), w.pos);
    w.pos += len;
    return;
  }
  w.put(last ? 5 : 4, 3);
  w.put(hlit - 257, 5);
  w.put(0, 5);
  w.put(hclen - 4, 4);
  for (let k = 0; k < hclen; k++) w.put(clLengths[CL_ORDER[k]!]!, 3);
  const clCodes = codesOf(clLengths);
  for (let k = 0; k < cl.length; k += 2) {
    const s = cl[k]!;
    w.put(clCodes[s]!, clLengths[s]!);
    if (s >= 16) w.put(cl[k + 1]!, s === 16 ? 2 : s === 17 ? 3 : 7);
  }
  // Each symbol with its length's extra bits and the 1-bit distance code: at most 21 bits, so 28 with what is pending.
  const codes = codesOf(lit);
  const out = w.out;
  let acc = w.bits, count = w.count, pos = w.pos;
  for (let t = 0; t < tokens; t++) {
    const s = SYMBOLS[t]!;
    acc |= codes[s]! << count;
    count += lit[s]!;
    const run = RUNS[t]!;
    if (run > 0) {
      const e = EXTRA_OF[s]!;
      acc |= (run - BASE_OF[s]!) << count;
      // Then distance 1: code 0, one bit.
      count += e + 1;
    }
    while (count >= 8) {
      out[pos++] = acc & 0xff;
      acc >>>= 8;
      count -= 8;
    }
  }
  w.bits = acc;
  w.count = count;
  w.pos = pos;
  w.put(codes[256]!, lit[256]!);
}

export function fastGzip(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
  // A block is at most its stored size (5 bytes of header, the bytes) plus the 3 bits and padding before it.
  const out = new Uint8Array(GZIP_HEADER.length + data.length + blocks * 6 + 8);
  out.set(GZIP_HEADER);
  const w = new BitWriter(out, GZIP_HEADER.length);
  for (let b = 0; b < blocks; b++) writeBlock(w, data, b * BLOCK, Math.min(data.length, (b + 1) * BLOCK), b === blocks - 1);
  w.align();
  out.set(gzipTrailer(data), w.pos);
  return out.slice(0, w.pos + 8);
}

/** From this size on a binary payload is deflated here; below it the platform's deflate is quick anyway. */
const FAST_FROM = 256 * 1024;

/**
 * The gzip of captures and Save State: large binary payloads (cells, codes)
 * through fastGzip; JSON text (its first byte `{` or `[`, which no cells or
 * codes payload of this size starts with) and small payloads through the
 * platform, whose matches are what JSON needs.
 */
export const captureGzipCodec: GzipCodec = {
  inflate: webGzip.inflate,
  deflate: async (data) => (data.length >= FAST_FROM && data[0] !== 0x7b && data[0] !== 0x5b ? fastGzip(data) : webGzip.deflate(data)),
};
