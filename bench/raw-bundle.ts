/**
 * Writes a bundle frame by frame, streaming each chunk's stored bytes from a
 * generator. The project's writer keeps every payload in memory, which is
 * right for real sessions but too slow and too big for a 1 GB test file or a
 * multi-gigabyte zip bomb. The framing is SPEC §2 exactly; the caller's
 * manifest is written as given, so it can also lie on purpose (zip bombs).
 */
import { open } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { HEADER_LENGTH, MAGIC, writeU32LE } from "../src/format/limits.js";
import type { ChunkMeta, SessionManifest } from "../src/node/index.js";

export interface RawChunk {
  /** Written to the manifest as is. */
  meta: ChunkMeta;
  /** Frame length; the blocks must add up to exactly this many bytes. */
  storedLength: number;
  blocks: () => Iterable<Uint8Array>;
}

/** Yields `block` (cut short at the end) until `total` bytes have been produced. */
export function* repeatBlock(block: Uint8Array, total: number): Generator<Uint8Array> {
  for (let left = total; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

/** A gzip JSON chunk as the web app writes one; kind, codec and both sizes in `meta` are set here. */
export function jsonChunk(meta: ChunkMeta, value: unknown): RawChunk {
  const payload = new TextEncoder().encode(JSON.stringify(value));
  const stored = new Uint8Array(gzipSync(payload));
  return {
    meta: { ...meta, kind: "json", codec: "gzip", storedBytes: stored.length, uncompressedBytes: payload.length },
    storedLength: stored.length,
    blocks: () => [stored],
  };
}

/** Writes the bundle to `path` and returns its size in bytes. */
export async function writeRawBundle(path: string, manifest: Omit<SessionManifest, "chunks">, chunks: RawChunk[]): Promise<number> {
  const manifestBytes = new TextEncoder().encode(JSON.stringify({ ...manifest, chunks: chunks.map((c) => c.meta) }));
  const header = new Uint8Array(HEADER_LENGTH);
  header.set(MAGIC, 0);
  writeU32LE(header, HEADER_LENGTH - 4, manifestBytes.length);
  const fh = await open(path, "w");
  let size = 0;
  const write = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length; ) at += (await fh.write(bytes, at, bytes.length - at)).bytesWritten;
    size += bytes.length;
  };
  try {
    await write(header);
    await write(manifestBytes);
    for (const c of chunks) {
      const prefix = new Uint8Array(4);
      writeU32LE(prefix, 0, c.storedLength);
      await write(prefix);
      let written = 0;
      for (const block of c.blocks()) {
        await write(block);
        written += block.length;
      }
      if (written !== c.storedLength) throw new Error(`chunk '${c.meta.id}': produced ${written} bytes, frame says ${c.storedLength}`);
    }
  } finally {
    await fh.close();
  }
  return size;
}
