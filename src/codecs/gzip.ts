/**
 * gzip for the browser-ready core, through the standard Compression Streams
 * API (present in browsers and in Node ≥ 18). Inflation is bounded: output is
 * consumed as it is produced and inflation stops the moment it passes the
 * limit, so a small hostile file can never make us hold gigabytes.
 */

import { CellucidError } from "../format/errors.js";

/** Inflation passed its limit (payload decoding turns it into the chunk's error). */
export class InflateLimitExceeded extends CellucidError<"DECOMPRESSED_TOO_LARGE"> {
  constructor(readonly limit: number) {
    super("DECOMPRESSED_TOO_LARGE", `inflated output exceeds ${limit} bytes`);
  }
}

/** The bytes are not gzip (payload decoding turns it into the chunk's error). */
export class InflateCorrupt extends CellucidError<"CORRUPT_GZIP"> {
  constructor(message: string) {
    super("CORRUPT_GZIP", message);
  }
}

/** Deflate cannot expand more than ~1032:1: a size claiming more is a lie. */
export const MAX_DEFLATE_RATIO = 1032;

export function plausibleInflatedSize(storedLength: number, size: number): boolean {
  return size <= storedLength * MAX_DEFLATE_RATIO + 1024;
}

/**
 * The size a gzip stream's trailer records (ISIZE: the inflated size mod
 * 2^32) when it is plausible and within `limit`, else null. zlib checks it
 * against the real output, so it is right except for multi-member streams
 * and sizes over 4 GiB, where inflation notices (the output passes it).
 */
export function gzipSizeHint(data: Uint8Array, limit: number): number | null {
  if (data.length < 18) return null;
  const n = data.length;
  const isize = (data[n - 4]! | (data[n - 3]! << 8) | (data[n - 2]! << 16)) + data[n - 1]! * 0x1000000;
  return isize <= limit && plausibleInflatedSize(n, isize) ? isize : null;
}

/**
 * Inflation without a declared size, in one pass into a buffer sized by the
 * trailer when it can be believed; when it cannot, or the output passes it,
 * the size is measured by streaming (nothing kept, stopped past `limit`) and
 * the data inflated into a buffer of that size. So a bomb is never held,
 * and a sound stream is inflated once.
 */
export async function inflateUndeclared(
  data: Uint8Array,
  limit: number,
  inflateExact: (data: Uint8Array, size: number) => Promise<Uint8Array>,
  measure: (data: Uint8Array, limit: number) => Promise<number>,
): Promise<Uint8Array> {
  const hint = gzipSizeHint(data, limit);
  if (hint !== null) {
    try {
      return await inflateExact(data, hint);
    } catch (err) {
      if (!(err instanceof InflateLimitExceeded)) throw err;
    }
  }
  return inflateExact(data, await measure(data, limit));
}

export interface GzipCodec {
  /**
   * Inflates `data`. With `sizeKnown`, `limit` is the declared size (output may
   * be shorter, never longer); otherwise it is only a ceiling. Throws
   * InflateLimitExceeded as soon as the output would pass `limit`.
   */
  inflate(data: Uint8Array, limit: number, sizeKnown: boolean): Promise<Uint8Array>;
  deflate(data: Uint8Array): Promise<Uint8Array>;
}

async function* inflateStream(data: Uint8Array): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream("gzip");
  const writer = ds.writable.getWriter();
  // Errors surface on the readable side; the writer's promises are just drained.
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
  writer.close().catch(() => undefined);
  const reader = ds.readable.getReader();
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (err) {
        throw new InflateCorrupt(`invalid gzip data (${(err as Error).message})`);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Streams through the data once, keeping nothing, to learn its inflated size up to `limit`. */
export async function measureInflated(data: Uint8Array, limit: number): Promise<number> {
  let total = 0;
  for await (const part of inflateStream(data)) {
    total += part.length;
    if (total > limit) throw new InflateLimitExceeded(limit);
  }
  return total;
}

async function inflateInto(data: Uint8Array, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let at = 0;
  for await (const part of inflateStream(data)) {
    if (at + part.length > size) throw new InflateLimitExceeded(size);
    out.set(part, at);
    at += part.length;
  }
  return at === size ? out : out.subarray(0, at);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const webGzip: GzipCodec = {
  async inflate(data, limit, sizeKnown) {
    return sizeKnown ? inflateInto(data, limit) : inflateUndeclared(data, limit, inflateInto, measureInflated);
  },
  async deflate(data) {
    const cs = new CompressionStream("gzip");
    const writer = cs.writable.getWriter();
    writer.write(data as Uint8Array<ArrayBuffer>).catch(() => undefined);
    writer.close().catch(() => undefined);
    const parts: Uint8Array[] = [];
    let total = 0;
    const reader = cs.readable.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
      total += r.value.length;
    }
    return concat(parts, total);
  },
};
