/**
 * Container framing (SPEC §2): magic, manifest length, manifest, then one
 * length-prefixed frame per manifest chunk. Indexing reads only headers;
 * payloads are located, never read. When the manifest's storedBytes pin every
 * frame (they add up to the file's end exactly), even the frame headers are
 * left unread at open and each is checked when its chunk is read.
 */
import { type SessionErrorContext, formatError } from "./errors.js";
import { parseJsonUnderLimits } from "./json.js";
import { HEADER_LENGTH, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, hasMagic, readU32LE } from "./limits.js";
import { type ChunkMeta, type SessionManifest, validateManifest } from "./manifest.js";
import { type ByteSource, badMagic } from "./source.js";

export interface ChunkFrame {
  meta: ChunkMeta;
  /** Position in manifest order. */
  index: number;
  /** Offset of the stored payload (after its u32 length). */
  offset: number;
  /** Stored (post-codec) length. */
  length: number;
}

/**
 * Where each chunk is, in manifest order, as columns: a bundle of 60,000
 * chunks is indexed without an object per chunk (`frames` makes them on use).
 */
export class BundleIndex {
  private frameList: ChunkFrame[] | null = null;

  constructor(
    readonly manifest: SessionManifest,
    /** Each chunk's position in the manifest, by id. */
    readonly positions: ReadonlyMap<string, number>,
    readonly manifestByteLength: number,
    /** Offset of each stored payload (after its u32 length). */
    readonly offsets: Float64Array,
    /** Stored (post-codec) length of each chunk. */
    readonly lengths: Float64Array,
    /** Offset just past the last chunk. */
    readonly end: number,
    /** Bytes after the last chunk: ignored by readers, reported by validate. */
    readonly trailingBytes: number,
    /**
     * True when every frame header was read at open. False when the manifest
     * pinned the layout: each header is then checked by `checkFrameHeader`
     * before its chunk is read, with the errors an open would have raised.
     */
    readonly framesVerified: boolean,
  ) {}

  frameAt(i: number): ChunkFrame {
    return this.frameList?.[i] ?? { meta: this.manifest.chunks[i]!, index: i, offset: this.offsets[i]!, length: this.lengths[i]! };
  }

  /** Every frame, in manifest order. */
  get frames(): ChunkFrame[] {
    return (this.frameList ??= this.manifest.chunks.map((_, i) => this.frameAt(i)));
  }
}

/** Most bytes one header read takes in, so that runs of small chunks cost one read. */
const HEADER_WINDOW = 64 * 1024;
/** Payloads smaller than this may be read along with headers; without declared sizes, such a chunk is probably followed by more of its kind. */
const SMALL_CHUNK = 4 * 1024;

/**
 * How many bytes to read at the header of chunk `i`: its header and, while
 * the manifest's storedBytes say the following chunks are small, their
 * payloads and headers too, up to HEADER_WINDOW. A chunk of SMALL_CHUNK or
 * more is thus never read, whatever the mix of sizes. Where storedBytes is
 * missing, the previous chunk's size guesses.
 */
function headerReadLength(chunks: readonly ChunkMeta[], i: number, lastLength: number): number {
  if (typeof chunks[i]!.storedBytes !== "number") return lastLength < SMALL_CHUNK ? SMALL_CHUNK : 4;
  let span = 4;
  for (let k = i; k < chunks.length - 1; k++) {
    const stored = chunks[k]!.storedBytes;
    if (typeof stored !== "number" || stored >= SMALL_CHUNK || span + stored + 4 > HEADER_WINDOW) break;
    span += stored + 4;
  }
  return span;
}

export async function indexBundle(src: ByteSource): Promise<BundleIndex> {
  const source = src.name;
  if (src.size < HEADER_LENGTH) {
    const head = await src.read(0, src.size);
    if (!hasMagic(head) && !isMagicPrefix(head)) throw badMagic(source);
    throw formatError("TRUNCATED", `file is ${src.size} bytes, shorter than the ${HEADER_LENGTH}-byte header`, { source });
  }
  const header = await src.read(0, HEADER_LENGTH);
  if (!hasMagic(header)) throw badMagic(source);
  const manifestByteLength = readU32LE(header, HEADER_LENGTH - 4);
  if (manifestByteLength < 1 || manifestByteLength > MAX_MANIFEST_BYTES)
    throw formatError("MANIFEST_LENGTH", `manifest length ${manifestByteLength} is outside 1..${MAX_MANIFEST_BYTES} bytes`, { source });
  if (HEADER_LENGTH + manifestByteLength > src.size)
    throw formatError("TRUNCATED", `manifest of ${manifestByteLength} bytes runs past the end of the file (${src.size} bytes)`, { source });

  const manifestBytes = await src.read(HEADER_LENGTH, manifestByteLength);
  const { manifest, positions } = validateManifest(parseJsonUnderLimits(manifestBytes, "manifest", "MANIFEST_JSON", { source }), source);
  const n = manifest.chunks.length;
  const offsets = new Float64Array(n);
  const start = HEADER_LENGTH + manifestByteLength;
  const pinned = lengthsFromManifest(manifest.chunks, offsets, start, src.size);
  if (pinned) return new BundleIndex(manifest, positions, manifestByteLength, offsets, pinned, src.size, 0, false);

  const lengths = new Float64Array(n);
  let pos = start;
  let win: Uint8Array = new Uint8Array(0);
  let winStart = 0;
  let lastLength = 0;
  for (let i = 0; i < n; i++) {
    const meta = manifest.chunks[i]!;
    const ctx = { source, chunkId: meta.id };
    if (pos + 4 > src.size)
      throw formatError("TRUNCATED", `file ends before the length of chunk ${i + 1} of ${n}`, ctx);
    if (pos < winStart || pos + 4 > winStart + win.length) {
      winStart = pos;
      const n = Math.min(headerReadLength(manifest.chunks, i, lastLength), src.size - pos);
      // Synchronous where the source has it: one dependent read per frame then
      // costs a few microseconds instead of a round trip through the thread pool.
      win = src.readSync ? src.readSync(pos, n) : await src.read(pos, n);
    }
    const length = readU32LE(win, pos - winStart);
    const offset = pos + 4;
    checkFrameLength(meta, length, offset, src.size, ctx);
    offsets[i] = offset;
    lengths[i] = length;
    pos = offset + length;
    lastLength = length;
  }
  return new BundleIndex(manifest, positions, manifestByteLength, offsets, lengths, pos, src.size - pos, true);
}

/**
 * The frames' lengths as the manifest places them, with their offsets in
 * `offsets`, when every chunk declares a storedBytes within the chunk limit
 * and they end exactly at the end of the file; null otherwise (the headers
 * must then be walked to find the frames and any trailing bytes).
 */
function lengthsFromManifest(chunks: readonly ChunkMeta[], offsets: Float64Array, start: number, size: number): Float64Array | null {
  const lengths = new Float64Array(chunks.length);
  let pos = start;
  for (let i = 0; i < chunks.length; i++) {
    const stored = chunks[i]!.storedBytes;
    if (typeof stored !== "number" || stored > MAX_CHUNK_BYTES) return null;
    offsets[i] = pos + 4;
    lengths[i] = stored;
    pos += 4 + stored;
    if (pos > size) return null;
  }
  return pos === size ? lengths : null;
}

/** The rules on a frame header that says `length`: the same at open and on a deferred check. */
function checkFrameLength(meta: ChunkMeta, length: number, offset: number, size: number, ctx: SessionErrorContext): void {
  if (length > MAX_CHUNK_BYTES)
    throw formatError("CHUNK_LENGTH", `stored length ${length} exceeds the ${MAX_CHUNK_BYTES}-byte chunk limit`, ctx);
  if (offset + length > size)
    throw formatError("TRUNCATED", `stored length ${length} runs past the end of the file (${size - offset} bytes remain)`, ctx);
  if (typeof meta.storedBytes === "number" && meta.storedBytes !== length)
    throw formatError("STORED_BYTES_MISMATCH", `storedBytes is ${meta.storedBytes} but the frame holds ${length} bytes`, ctx);
}

/**
 * Reads and checks the 4-byte header of chunk `i`, which indexing placed
 * from the manifest (`framesVerified` false); throws CHUNK_LENGTH, TRUNCATED
 * or STORED_BYTES_MISMATCH naming the chunk, as an eager open would have.
 */
export async function checkFrameHeader(src: ByteSource, index: BundleIndex, i: number): Promise<void> {
  const offset = index.offsets[i]!;
  const header = src.readSync ? src.readSync(offset - 4, 4) : await src.read(offset - 4, 4);
  const meta = index.manifest.chunks[i]!;
  checkFrameLength(meta, readU32LE(header, 0), offset, src.size, { source: src.name, chunkId: meta.id });
}

function isMagicPrefix(head: Uint8Array): boolean {
  const magic = "CELLUCID_SESSION\n";
  for (let i = 0; i < head.length && i < magic.length; i++) if (head[i] !== magic.charCodeAt(i)) return false;
  return head.length > 0;
}
