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

export const webGzip: GzipCodec = {
  async inflate(data, limit, sizeKnown) {
    // Without a declared size, measure first: memory then never exceeds the real size.
    const size = sizeKnown ? limit : await measureInflated(data, limit);
    return inflateInto(data, size);
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
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  },
};
