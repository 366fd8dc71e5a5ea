/** A ByteSource over a file handle: positional reads, nothing loaded up front. */
import { readSync as readFdSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { formatError } from "../../format/errors.js";
import type { ByteSource } from "../../format/source.js";

/** Reads up to this size are made synchronously: a chunk of a few KB costs less than a trip through libuv's pool. */
const SMALL_READ = 256 * 1024;
/**
 * Reads up to this size are served from one window of the file read ahead:
 * thousands of small chunks read in order (a frame header, then its payload)
 * cost a system call per window instead of two per chunk.
 */
const WINDOW = 64 * 1024;

export async function fileSource(path: string): Promise<ByteSource> {
  const fh: FileHandle = await open(path, "r");
  try {
    const { size } = await fh.stat();
    let closed = false;
    const shrank = (at: number) => formatError("TRUNCATED", `the file shrank while it was being read (offset ${at})`, { source: path });
    const readFully = (offset: number, length: number): Uint8Array => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const bytesRead = readFdSync(fh.fd, buf, got, length - got, offset + got);
        if (bytesRead === 0) throw shrank(offset + got);
        got += bytesRead;
      }
      return buf;
    };
    let window: Uint8Array = new Uint8Array(0);
    let windowAt = 0;
    const readSync = (offset: number, length: number): Uint8Array => {
      if (length > WINDOW / 2) return readFully(offset, length);
      if (offset < windowAt || offset + length > windowAt + window.length) {
        window = readFully(offset, Math.max(length, Math.min(WINDOW, size - offset)));
        windowAt = offset;
      }
      // A copy: callers may keep what they read, and the window is replaced.
      return window.slice(offset - windowAt, offset - windowAt + length);
    };
    return {
      name: basename(path),
      size,
      async read(offset, length) {
        if (length <= SMALL_READ) return readSync(offset, length);
        const buf = new Uint8Array(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) throw shrank(offset + got);
          got += bytesRead;
        }
        return buf;
      },
      // Frame headers: thousands of dependent 4-byte reads, each far cheaper synchronously.
      readSync,
      async close() {
        if (closed) return;
        closed = true;
        await fh.close();
      },
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
