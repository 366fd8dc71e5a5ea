/**
 * User-defined field codes (SPEC §4): byte 0 is the encoding, then `length`,
 * then either raw codes (0: u8, 1: u16 LE) or run-length pairs (2: u8 values,
 * 3: u16 values). Writers pick whichever of raw and RLE is smaller.
 */
import { formatError } from "../format/errors.js";
import { MAX_CODES_LENGTH } from "../format/limits.js";
import { ByteWriter, cursor, readUvarint } from "./uvarint.js";

export type CodesArray = Uint8Array | Uint16Array;

export const CODES_RAW_U8 = 0;
export const CODES_RAW_U16 = 1;
export const CODES_RLE_U8 = 2;
export const CODES_RLE_U16 = 3;

export interface DecodedCodes {
  encoding: 0 | 1 | 2 | 3;
  codes: CodesArray;
  /** Bytes after the encoded codes (ignored, reported by validate). */
  trailingBytes: number;
}

export interface CodesDecodeOptions {
  /** Required length (n_obs or n_vars); a different length is an error. */
  expectedLength?: number | null | undefined;
  /** Cap when no expected length is known, so a tiny RLE cannot demand gigabytes. */
  maxLength?: number | undefined;
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface CodesHeader {
  encoding: 0 | 1 | 2 | 3;
  length: number;
  /** Where the raw codes or the RLE pairs start. */
  body: number;
  /** RLE only. */
  pairCount: number;
}

function readCodesHeader(bytes: Uint8Array, opts: CodesDecodeOptions): CodesHeader {
  if (bytes.length === 0) throw formatError("CODES_ENCODING", "codes payload is empty (no encoding byte)");
  const encoding = bytes[0]!;
  if (encoding > 3) throw formatError("CODES_ENCODING", `unknown codes encoding ${encoding} (expected 0, 1, 2 or 3)`);
  const c = cursor(bytes, 1);
  const length = readUvarint(c, "codes length");
  const expected = opts.expectedLength ?? null;
  if (expected !== null && length !== expected)
    throw formatError("CODES_LENGTH", `codes length ${length} does not match the expected ${expected}`);
  const cap = opts.maxLength ?? MAX_CODES_LENGTH;
  if (expected === null && length > cap) throw formatError("CODES_LENGTH", `codes length ${length} exceeds the limit of ${cap}`);

  if (encoding === CODES_RAW_U8 || encoding === CODES_RAW_U16) {
    const need = length * (encoding === CODES_RAW_U8 ? 1 : 2);
    if (bytes.length - c.pos < need)
      throw formatError("VARINT_TRUNCATED", `truncated raw codes: ${length} codes need ${need} bytes, ${bytes.length - c.pos} remain`);
    return { encoding, length, body: c.pos, pairCount: 0 };
  }
  const pairCount = readUvarint(c, "RLE pair count");
  if (pairCount > length) throw formatError("RLE_INVALID", `RLE has ${pairCount} pairs for only ${length} codes`);
  if (pairCount * 2 > bytes.length - c.pos)
    throw formatError("VARINT_TRUNCATED", `truncated RLE: ${pairCount} pairs need at least ${pairCount * 2} bytes, ${bytes.length - c.pos} remain`);
  return { encoding: encoding as 2 | 3, length, body: c.pos, pairCount };
}

/**
 * Checks every RLE pair before anything is allocated for a lying header;
 * returns where the pairs end and how many codes are ≥ `atLeast`.
 */
function checkRlePairs(bytes: Uint8Array, h: CodesHeader, atLeast: number, marker = -1): { end: number; counted: number; markers: number } {
  const maxValue = h.encoding === CODES_RLE_U8 ? 0xff : 0xffff;
  const c = cursor(bytes, h.body);
  let total = 0;
  let counted = 0;
  let markers = 0;
  for (let i = 0; i < h.pairCount; i++) {
    const value = readUvarint(c, "RLE value", i);
    const run = readUvarint(c, "RLE run", i);
    if (value > maxValue) throw formatError("RLE_INVALID", `RLE value ${value} (pair ${i}) does not fit in ${maxValue === 0xff ? 8 : 16} bits`);
    if (run === 0) throw formatError("RLE_INVALID", `RLE run of pair ${i} is 0 (runs must be positive)`);
    total += run;
    if (total > h.length) throw formatError("RLE_INVALID", `RLE runs add up to more than the length ${h.length}`);
    if (value === marker) markers += run;
    else if (value >= atLeast) counted += run;
  }
  if (total !== h.length) throw formatError("RLE_INVALID", `RLE runs add up to ${total}, not the length ${h.length}`);
  return { end: c.pos, counted, markers };
}

/** The declared number of codes, or null when the header cannot be read. */
export function codesLength(bytes: Uint8Array): number | null {
  try {
    return readCodesHeader(bytes, {}).length;
  } catch {
    return null;
  }
}

/**
 * Raw codes come back as views of `bytes` (u16 ones when their offset is
 * even on a little-endian host), not copies: callers that keep or mutate them
 * while someone else owns `bytes` must copy (the bundle does, see
 * readUserDefinedCodes). RLE codes are always a fresh array.
 */
export function decodeCodes(bytes: Uint8Array, opts: CodesDecodeOptions = {}): DecodedCodes {
  const h = readCodesHeader(bytes, opts);
  const { encoding, length } = h;
  if (encoding === CODES_RAW_U8) return { encoding, codes: bytes.subarray(h.body, h.body + length), trailingBytes: bytes.length - h.body - length };
  if (encoding === CODES_RAW_U16) return { encoding, codes: u16View(bytes, h.body, length), trailingBytes: bytes.length - h.body - 2 * length };
  const { end } = checkRlePairs(bytes, h, Infinity);
  const codes = encoding === CODES_RLE_U8 ? new Uint8Array(length) : new Uint16Array(length);
  const c = cursor(bytes, h.body);
  let at = 0;
  for (let i = 0; i < h.pairCount; i++) {
    const value = readUvarint(c);
    const run = readUvarint(c);
    if (value !== 0) codes.fill(value, at, at + run);
    at += run;
  }
  return { encoding, codes, trailingBytes: bytes.length - end };
}

export interface CodesScan {
  encoding: 0 | 1 | 2 | 3;
  length: number;
  trailingBytes: number;
  /** How many codes are ≥ `categories` and not the missing marker (they become missing when applied). */
  outOfRange: number;
  /** How many codes are the missing marker (255 in u8 storage, 65535 in u16): cells nobody labelled. */
  missing: number;
}

/** The web app's reserved "missing" codes: a cell nobody labelled. u8 storage therefore holds at most 255 categories. */
export const MISSING_U8 = 0xff;
export const MISSING_U16 = 0xffff;

/** The missing marker of an encoding: 255 for u8 storage, 65535 for u16. */
export function missingMarker(encoding: number): number {
  return encoding === CODES_RAW_U8 || encoding === CODES_RLE_U8 ? MISSING_U8 : MISSING_U16;
}

/** The missing marker of codes held in memory, by their width. */
export function missingMarkerOf(codes: Uint8Array | Uint16Array): number {
  return codes instanceof Uint8Array ? MISSING_U8 : MISSING_U16;
}

/** Checks codes under every rule of decodeCodes without materialising them (validate). */
export function scanCodes(bytes: Uint8Array, categories: number, opts: CodesDecodeOptions = {}): CodesScan {
  const h = readCodesHeader(bytes, opts);
  const { encoding, length } = h;
  const marker = missingMarker(encoding);
  if (encoding === CODES_RAW_U8) {
    const missing = countAtLeastU8(bytes, h.body, h.body + length, marker);
    return { encoding, length, trailingBytes: bytes.length - h.body - length, outOfRange: countAtLeastU8(bytes, h.body, h.body + length, categories) - (categories <= marker ? missing : 0), missing };
  }
  if (encoding === CODES_RAW_U16) {
    let outOfRange = 0;
    let missing = 0;
    for (let i = h.body; i < h.body + 2 * length; i += 2) {
      const v = bytes[i]! | (bytes[i + 1]! << 8);
      if (v === marker) missing++;
      else if (v >= categories) outOfRange++;
    }
    return { encoding, length, trailingBytes: bytes.length - h.body - 2 * length, outOfRange, missing };
  }
  const { end, counted, markers } = checkRlePairs(bytes, h, categories, marker);
  return { encoding, length, trailingBytes: bytes.length - end, outOfRange: counted, missing: markers };
}

function countAtLeastU8(bytes: Uint8Array, from: number, to: number, n: number): number {
  if (n > 0xff) return 0;
  let k = 0;
  for (let i = from; i < to; i++) k += bytes[i]! >= n ? 1 : 0;
  return k;
}

/** `length` little-endian u16 codes at `at`: a view when alignment and byte order allow, else a copy. */
function u16View(bytes: Uint8Array, at: number, length: number): Uint16Array {
  const offset = bytes.byteOffset + at;
  if (littleEndianHost && offset % 2 === 0) return new Uint16Array(bytes.buffer, offset, length);
  const out = new Uint16Array(length);
  if (littleEndianHost) new Uint8Array(out.buffer).set(bytes.subarray(at, at + 2 * length));
  else for (let i = 0; i < length; i++) out[i] = bytes[at + 2 * i]! | (bytes[at + 2 * i + 1]! << 8);
  return out;
}

export interface CodesEncodeOptions {
  /** Force an encoding instead of the smallest. */
  encoding?: 0 | 1 | 2 | 3;
  /** Without `encoding`: the smaller of raw and RLE in 16 bits even when every code fits 8 (a width declared elsewhere). */
  wide?: boolean;
}

/** Encodes codes the way the web app does: u8 when every code fits, and the smaller of raw and RLE. */
export function encodeCodes(codes: ArrayLike<number>, opts: CodesEncodeOptions = {}): Uint8Array {
  const length = codes.length;
  let max = 0;
  let runs = 0;
  // The RLE pairs' size, counted as the runs end (one pass over the codes, not two).
  let pairBytes = 0;
  // Typed u8 / u16 codes are integers in range by construction: only other arrays are checked value by value.
  const typed = codes instanceof Uint8Array || codes instanceof Uint16Array;
  for (let i = 0, prev = -1, runStart = 0; i <= length; i++) {
    const v = i < length ? codes[i]! : -1;
    if (i < length && !typed && (!Number.isInteger(v) || v < 0 || v > 0xffff)) throw formatError("CODES_ENCODING", `code at position ${i} must be an integer in 0..65535, got ${v}`);
    if (v > max) max = v;
    if (v !== prev) {
      if (i > 0) pairBytes += varLen(prev) + varLen(i - runStart);
      if (i < length) runs++;
      runStart = i;
    }
    prev = v;
  }
  const wide = max > 0xff || (opts.wide === true && opts.encoding === undefined);
  let encoding = opts.encoding;
  if (encoding === undefined) {
    const rawSize = length * (wide ? 2 : 1);
    encoding = varLen(runs) + pairBytes < rawSize ? (wide ? CODES_RLE_U16 : CODES_RLE_U8) : wide ? CODES_RAW_U16 : CODES_RAW_U8;
  }
  if ((encoding === CODES_RAW_U8 || encoding === CODES_RLE_U8) && wide)
    throw formatError("CODES_ENCODING", `codes up to ${max} do not fit the 8-bit encoding ${encoding}`);
  const w = new ByteWriter(16 + length * (encoding === CODES_RAW_U8 ? 1 : 2));
  w.byte(encoding);
  w.uvarint(length);
  if (encoding === CODES_RAW_U8) {
    w.bytes(codes instanceof Uint8Array ? codes : Uint8Array.from(codes));
  } else if (encoding === CODES_RAW_U16) {
    const out = new Uint8Array(length * 2);
    for (let i = 0; i < length; i++) {
      out[2 * i] = codes[i]! & 0xff;
      out[2 * i + 1] = codes[i]! >>> 8;
    }
    w.bytes(out);
  } else {
    w.uvarint(runs);
    let i = 0;
    while (i < length) {
      const v = codes[i]!;
      let j = i + 1;
      while (j < length && codes[j] === v) j++;
      w.uvarint(v);
      w.uvarint(j - i);
      i = j;
    }
  }
  return w.finish();
}

function varLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
