/**
 * gzip without compression (deflate "stored" blocks): valid gzip any reader
 * inflates, made at memory speed. Autosaves use it: they are local files
 * rewritten within seconds of every change, where encoding time matters and
 * size hardly does, and real deflate of a 1M-cell session takes the worker
 * half a second. The writer keeps a binary chunk uncompressed when gzip does
 * not save 10%, so with this codec only the small JSON chunks come out as
 * (stored) gzip.
 */
import { type GzipCodec, webGzip } from "../../src/codecs/gzip.js";

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Deflate with no flags, no time stamp, unknown OS. */
export const GZIP_HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);

/** CRC-32 and length of the uncompressed data, the 8 bytes that end a gzip stream. */
export function gzipTrailer(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, crc32(data), true);
  dv.setUint32(4, data.length >>> 0, true);
  return out;
}

const BLOCK = 0xffff;

export function storedGzip(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
  const out = new Uint8Array(GZIP_HEADER.length + data.length + blocks * 5 + 8);
  out.set(GZIP_HEADER, 0);
  let at = GZIP_HEADER.length;
  for (let b = 0; b < blocks; b++) {
    const part = data.subarray(b * BLOCK, Math.min(data.length, (b + 1) * BLOCK));
    const len = part.length;
    out[at++] = b === blocks - 1 ? 1 : 0;
    out[at++] = len & 0xff;
    out[at++] = len >>> 8;
    out[at++] = ~len & 0xff;
    out[at++] = (~len >>> 8) & 0xff;
    out.set(part, at);
    at += len;
  }
  out.set(gzipTrailer(data), at);
  return out;
}

export const storedGzipCodec: GzipCodec = { inflate: webGzip.inflate, deflate: async (data) => storedGzip(data) };
