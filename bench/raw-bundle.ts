/**
 * Writes a bundle frame by frame, streaming each chunk's stored bytes from a
 * generator. The project's writer keeps every payload in memory, which is
 * right for real sessions but too slow and too big for a 1 GB test file or a
 * multi-gigabyte zip bomb. The framing is SPEC §2 exactly; the caller's
 * manifest is written as given, so it can also lie on purpose (zip bombs).
 */
import { open } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { HEADER_LENGTH, MAGIC, readU32LE, writeU32LE } from "../src/format/limits.js";
import type { ChunkMeta, SessionManifest } from "../src/node/index.js";

export interface RawChunk {
  /** Written to the manifest as is. */
  meta: ChunkMeta;
  /** Frame length; the blocks must add up to exactly this many bytes. */
  storedLength: number;
  blocks: () => Iterable<Uint8Array>;
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

/** Copies the bundle at `src` to `dest` with its manifest edited; the frames are copied byte for byte. */
export async function rewriteManifest(src: string, dest: string, edit: (manifest: SessionManifest) => SessionManifest): Promise<void> {
  const input = await open(src, "r");
  const output = await open(dest, "w");
  try {
    const header = new Uint8Array(HEADER_LENGTH);
    await input.read(header, 0, HEADER_LENGTH, 0);
    const manifestLength = readU32LE(header, HEADER_LENGTH - 4);
    const old = new Uint8Array(manifestLength);
    await input.read(old, 0, manifestLength, HEADER_LENGTH);
    const manifest = new TextEncoder().encode(JSON.stringify(edit(JSON.parse(new TextDecoder().decode(old)) as SessionManifest)));
    writeU32LE(header, HEADER_LENGTH - 4, manifest.length);
    await output.write(header);
    await output.write(manifest);
    const block = new Uint8Array(1 << 20);
    for (let at = HEADER_LENGTH + manifestLength; ; ) {
      const { bytesRead } = await input.read(block, 0, block.length, at);
      if (bytesRead === 0) break;
      await output.write(block, 0, bytesRead);
      at += bytesRead;
    }
  } finally {
    await input.close();
    await output.close();
  }
}
