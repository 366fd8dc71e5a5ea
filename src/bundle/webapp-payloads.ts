/**
 * The web app's stricter reading of binary payloads (WEBAPP.md, "Stricter
 * reading rules"): canonical varints, strictly increasing indices, no bytes
 * after the payload, no adjacent equal RLE runs, codes that are a category or
 * the missing marker, and one gzip member whose size is the inflated size.
 * Each check returns the first rule broken, as a sentence, or null.
 */
import { CellucidError, CellucidSessionError } from "../format/errors.js";
import { CODES_RAW_U16, CODES_RAW_U8, missingMarker } from "../codecs/codes.js";
import { cursor, readUvarint, uvarintLength, type Cursor } from "../codecs/uvarint.js";

/** A payload the app's stricter reading refuses (reported by message, as the rule broken). */
class StrictViolation extends CellucidError<"NOT_APP_LOADABLE"> {
  constructor(message: string) {
    super("NOT_APP_LOADABLE", message);
  }
}

/** A uvarint that must use its shortest encoding (the app refuses `0x81 0x00`). */
function canonical(c: Cursor, what: string): number {
  const start = c.pos;
  const value = readUvarint(c, what);
  if (c.pos - start !== uvarintLength(value)) throw new StrictViolation(`non-canonical varint for the ${what} at byte ${start}`);
  return value;
}

function run(check: () => void): string | null {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof StrictViolation || err instanceof CellucidSessionError) return err.message;
    throw err;
  }
}

/** `highlights/cells/*`: count, first index, gaps ≥ 1, indices < `limit`, nothing after. Returns the count via `out`. */
export function strictIndexSetProblem(payload: Uint8Array, limit: number | null, out: { count: number }): string | null {
  return run(() => {
    const c = cursor(payload);
    const count = canonical(c, "index count");
    let index = -1;
    for (let i = 0; i < count; i++) {
      const step = canonical(c, i === 0 ? "first index" : "index gap");
      if (i > 0 && step === 0) throw new StrictViolation(`indices are not strictly increasing (a repeated index at entry ${i})`);
      index = i === 0 ? step : index + step;
      if (limit !== null && index >= limit) throw new StrictViolation(`index ${index} is not below the cell count ${limit}`);
    }
    if (c.pos !== payload.length) throw new StrictViolation(`${payload.length - c.pos} bytes after the last index`);
    out.count = count;
  });
}

/** `user-defined/codes/*`: canonical header, each code a category or the missing marker, RLE without adjacent equal runs, nothing after. */
export function strictCodesProblem(payload: Uint8Array, categories: number, expectedLength: number | null): string | null {
  return run(() => {
    const encoding = payload[0];
    if (encoding === undefined || encoding > 3) throw new StrictViolation(`unknown codes encoding ${encoding ?? "(empty payload)"}`);
    const marker = missingMarker(encoding);
    const c = cursor(payload, 1);
    const length = canonical(c, "codes length");
    if (expectedLength !== null && length !== expectedLength) throw new StrictViolation(`codes length ${length} is not ${expectedLength}`);
    const checkCode = (v: number, at: string) => {
      if (v >= categories && v !== marker) throw new StrictViolation(`code ${v} at ${at} is neither one of the ${categories} categories nor the missing marker ${marker}`);
    };
    if (encoding === CODES_RAW_U8 || encoding === CODES_RAW_U16) {
      const width = encoding === CODES_RAW_U8 ? 1 : 2;
      const end = c.pos + length * width;
      if (end > payload.length) throw new StrictViolation("raw codes are truncated");
      for (let i = 0, p = c.pos; i < length; i++, p += width) checkCode(width === 1 ? payload[p]! : payload[p]! | (payload[p + 1]! << 8), `cell ${i}`);
      if (end !== payload.length) throw new StrictViolation(`${payload.length - end} bytes after the codes`);
      return;
    }
    const pairs = canonical(c, "RLE pair count");
    let total = 0;
    let previous = -1;
    for (let i = 0; i < pairs; i++) {
      const value = canonical(c, "RLE value");
      const runLength = canonical(c, "RLE run");
      if (value === previous) throw new StrictViolation(`RLE pairs ${i - 1} and ${i} repeat the value ${value} (adjacent runs must differ)`);
      if (runLength === 0) throw new StrictViolation(`RLE run of pair ${i} is 0`);
      checkCode(value, `RLE pair ${i}`);
      previous = value;
      total += runLength;
    }
    if (total !== length) throw new StrictViolation(`RLE runs add up to ${total}, not ${length}`);
    if (c.pos !== payload.length) throw new StrictViolation(`${payload.length - c.pos} bytes after the RLE pairs`);
  });
}

/**
 * One gzip member: the gzip magic, and a trailer whose ISIZE is the whole
 * inflated size (a second member, or junk after the first, makes them differ).
 */
export function gzipMemberProblem(stored: Uint8Array, inflatedBytes: number): string | null {
  if (stored.length < 18 || stored[0] !== 0x1f || stored[1] !== 0x8b) return "the stored bytes are not one gzip member";
  const tail = stored.length - 4;
  const isize = (stored[tail]! | (stored[tail + 1]! << 8) | (stored[tail + 2]! << 16) | (stored[tail + 3]! << 24)) >>> 0;
  if (isize !== inflatedBytes % 2 ** 32) return `the gzip trailer's size ${isize} is not the inflated size ${inflatedBytes} (more than one gzip member, or bytes after it)`;
  return null;
}
