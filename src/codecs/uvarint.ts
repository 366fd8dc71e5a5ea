/**
 * Unsigned LEB128 (SPEC §4): 7 bits per byte, low group first, high bit means
 * "more". At most 10 bytes, values at most 2^53−1 so they stay exact numbers.
 */
import { formatError } from "../format/errors.js";

export const MAX_VARINT_BYTES = 10;
export const MAX_VARINT_VALUE = Number.MAX_SAFE_INTEGER;

/** A cursor over a byte array; decoders share it so positions stay consistent. */
export interface Cursor {
  bytes: Uint8Array;
  pos: number;
}

export function cursor(bytes: Uint8Array, pos = 0): Cursor {
  return { bytes, pos };
}

/**
 * Reads one uvarint; `what` (and `n`, e.g. the pair number) name the field in
 * error messages. `n` is separate so hot loops never build a label string.
 */
export function readUvarint(c: Cursor, what = "varint", n?: number): number {
  const { bytes } = c;
  const pos = c.pos;
  const b0 = bytes[pos];
  if (b0 === undefined) throw formatError("VARINT_TRUNCATED", `truncated ${label(what, n)}: data ends at byte ${pos}`);
  if (b0 < 0x80) {
    c.pos = pos + 1;
    return b0;
  }
  return readUvarintSlow(c, what, n);
}

function label(what: string, n: number | undefined): string {
  return n === undefined ? what : `${what} ${n}`;
}

/** General path, kept apart so the one-byte fast path stays small and inlinable. */
export function readUvarintSlow(c: Cursor, what: string, n?: number): number {
  const { bytes } = c;
  const start = c.pos;
  let pos = start;
  let value = 0;
  let scale = 1;
  for (let n = 0; ; n++) {
    if (n >= MAX_VARINT_BYTES) throw formatError("VARINT_TOO_LONG", `${label(what, n)} at byte ${start} is longer than ${MAX_VARINT_BYTES} bytes`);
    const b = bytes[pos++];
    if (b === undefined) throw formatError("VARINT_TRUNCATED", `truncated ${label(what, n)}: data ends inside the varint at byte ${start}`);
    value += (b & 0x7f) * scale;
    if (value > MAX_VARINT_VALUE) throw formatError("VARINT_TOO_LARGE", `${label(what, n)} at byte ${start} exceeds 2^53-1`);
    if (b < 0x80) break;
    scale *= 128;
  }
  c.pos = pos;
  return value;
}

export function uvarintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `pos`; returns the position after it. Caller sizes the buffer. */
export function writeUvarint(out: Uint8Array, pos: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw formatError("VARINT_TOO_LARGE", `uvarint value must be a safe non-negative integer, got ${value}`);
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/** A growable byte buffer for encoders. */
export class ByteWriter {
  private buf: Uint8Array;
  pos = 0;
  constructor(initial = 64) {
    this.buf = new Uint8Array(Math.max(16, initial));
  }
  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }
  uvarint(v: number): void {
    this.reserve(MAX_VARINT_BYTES);
    this.pos = writeUvarint(this.buf, this.pos, v);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
