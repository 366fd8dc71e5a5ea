/**
 * Turns a chunk's stored bytes into its payload under the guards of SPEC §5:
 * known codec and kind, and decompression capped by `uncompressedBytes` and by
 * the kind's ceiling (512 MiB for binary chunks, the JSON limit for json ones).
 * A declared size over the ceiling is refused before anything is inflated.
 */
import { formatError } from "../format/errors.js";
import { parseJsonUnderLimits } from "../format/json.js";
import { MAX_JSON_BYTES, MAX_UNCOMPRESSED_BYTES } from "../format/limits.js";
import { type ChunkMeta, KNOWN_KINDS } from "../format/manifest.js";
import { type GzipCodec, InflateLimitExceeded, plausibleInflatedSize, webGzip } from "./gzip.js";

export function checkKind(meta: ChunkMeta, source?: string): "json" | "binary" {
  const kind = meta.kind ?? "binary";
  if (!KNOWN_KINDS.includes(String(kind)))
    throw formatError("UNSUPPORTED_KIND", `Unsupported session chunk kind: ${String(kind)}`, { source, chunkId: meta.id });
  return kind as "json" | "binary";
}

/**
 * A JSON chunk whose stored bytes alone prove its payload over the JSON
 * limit is refused before they are read: stored deflate blocks add at most
 * 5 bytes per 64 KiB, so a payload is never much shorter than its gzip.
 */
export function checkStoredLength(meta: ChunkMeta, storedLength: number, source?: string): void {
  if (meta.kind === "json" && storedLength > MAX_JSON_BYTES + MAX_JSON_BYTES / 1000 + 1024)
    throw formatError("JSON_TOO_LARGE", `JSON chunk is stored in ${storedLength} bytes, over the ${MAX_JSON_BYTES}-byte limit for JSON`, { source, chunkId: meta.id });
}

export async function decodePayload(
  meta: ChunkMeta,
  stored: Uint8Array,
  gzip: GzipCodec = webGzip,
  source?: string,
): Promise<Uint8Array> {
  const ctx = { source, chunkId: meta.id };
  const codec = meta.codec ?? "none";
  if (codec === "none") return stored;
  if (codec !== "gzip") throw formatError("UNSUPPORTED_CODEC", `Unsupported session chunk codec: ${String(codec)}`, ctx);
  const json = meta.kind === "json";
  const ceiling = json ? MAX_JSON_BYTES : MAX_UNCOMPRESSED_BYTES;
  const tooLarge = (rule: string) =>
    json
      ? formatError("JSON_TOO_LARGE", `JSON chunk ${rule} the ${MAX_JSON_BYTES}-byte limit for JSON`, ctx)
      : formatError("DECOMPRESSED_TOO_LARGE", `Chunk decompressed too large: ${rule} the ${MAX_UNCOMPRESSED_BYTES}-byte limit`, ctx);
  const declared = typeof meta.uncompressedBytes === "number" ? meta.uncompressedBytes : null;
  if (declared !== null && declared > ceiling) throw tooLarge(`declares uncompressedBytes ${declared}, over`);
  const limit = declared ?? ceiling;
  // Deflate cannot expand more than ~1032:1, so a larger declared size is a lie:
  // measure instead of allocating what the file claims.
  const plausible = declared !== null && plausibleInflatedSize(stored.length, declared);
  try {
    return await gzip.inflate(stored, limit, plausible);
  } catch (err) {
    if (err instanceof InflateLimitExceeded) {
      if (declared !== null)
        throw formatError(
          "DECOMPRESSED_LARGER_THAN_EXPECTED",
          `Chunk decompressed larger than expected (uncompressedBytes ${declared}); inflation was stopped at the limit`,
          ctx,
        );
      throw tooLarge("inflates past");
    }
    throw formatError("CORRUPT_GZIP", `gzip data is corrupt (${(err as Error).message})`, ctx);
  }
}

export function decodeJsonPayload(meta: ChunkMeta, payload: Uint8Array, source?: string): unknown {
  return parseJsonUnderLimits(payload, "JSON chunk", "CHUNK_JSON", { source, chunkId: meta.id });
}
