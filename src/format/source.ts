/**
 * Random-access byte sources. The reader indexes a bundle through small reads,
 * so the same code serves an in-memory buffer, a browser Blob/File, and (in
 * the Node layer) a file handle.
 */
import { SessionAbortError, formatError, throwIfAborted } from "./errors.js";
import { MAGIC_LENGTH, hasMagic } from "./limits.js";

export interface ByteSource {
  /** Human-readable origin used in error messages (file name, "bytes", ...). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; callers never ask past `size`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The same, synchronously, where that is cheap (memory, local files): indexing uses it for frame headers. */
  readSync?(offset: number, length: number): Uint8Array;
  /**
   * True when reads return views of memory the caller also holds (bytes
   * given to `fromBytes`): decoded data that could alias them is copied.
   */
  readonly sharesMemory?: boolean;
  close?(): Promise<void>;
}

export function bytesSource(bytes: Uint8Array, name = "<bytes>"): ByteSource {
  return {
    name,
    size: bytes.length,
    sharesMemory: true,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    readSync: (offset, length) => bytes.subarray(offset, offset + length),
  };
}

export function blobSource(blob: Blob, name?: string): ByteSource {
  const fileName = (blob as { name?: unknown }).name;
  return {
    name: name ?? (typeof fileName === "string" && fileName ? fileName : "<blob>"),
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

export interface StreamReadOptions {
  signal?: AbortSignal | undefined;
  /** Called with bytes received so far and the expected total when known. */
  onProgress?: ((loaded: number, total: number | null) => void) | undefined;
  /** Expected total (e.g. Content-Length), for progress only. */
  totalBytes?: number | null | undefined;
  /** Refuse streams larger than this (default 2 GiB). */
  maxBytes?: number | undefined;
  name?: string | undefined;
}

/**
 * Collects a ReadableStream (a fetch body, an upload) into memory. The magic
 * is checked as soon as 17 bytes have arrived so that a wrong file is refused
 * without downloading it whole.
 */
export async function readStreamFully(
  stream: ReadableStream<Uint8Array>,
  opts: StreamReadOptions = {},
): Promise<Uint8Array> {
  const name = opts.name ?? "<stream>";
  const maxBytes = opts.maxBytes ?? 2 * 1024 * 1024 * 1024;
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let magicChecked = false;
  const onAbort = () => void reader.cancel().catch(() => undefined);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    throwIfAborted(opts.signal, name);
    for (;;) {
      const { done, value } = await reader.read();
      throwIfAborted(opts.signal, name);
      if (done) break;
      parts.push(value);
      loaded += value.length;
      if (loaded > maxBytes) throw formatError("TOO_LARGE", `stream is larger than ${maxBytes} bytes`, { source: name });
      if (!magicChecked && loaded >= MAGIC_LENGTH) {
        if (!hasMagic(concatBytes(parts, MAGIC_LENGTH))) throw badMagic(name);
        magicChecked = true;
      }
      opts.onProgress?.(loaded, opts.totalBytes ?? null);
    }
  } catch (err) {
    void reader.cancel().catch(() => undefined);
    if (opts.signal?.aborted && !(err instanceof SessionAbortError))
      throw new SessionAbortError("ABORTED", "reading was aborted", { source: name });
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  return concatBytes(parts, loaded);
}

export function badMagic(source?: string) {
  return formatError("BAD_MAGIC", "Not a .cellucid-session file (invalid MAGIC header)", { source });
}

/** The first `length` bytes of `parts` joined (all of them by default). */
export function concatBytes(parts: readonly Uint8Array[], length = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === length) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    if (at >= length) break;
    const take = Math.min(p.length, length - at);
    out.set(take === p.length ? p : p.subarray(0, take), at);
    at += take;
  }
  return out;
}
