/** Framing constants and hard limits of SPEC §2 and §5. */

export const MAGIC_TEXT = "CELLUCID_SESSION\n";
export const MAGIC = new TextEncoder().encode(MAGIC_TEXT);
export const MAGIC_LENGTH = MAGIC.length; // 17
export const HEADER_LENGTH = MAGIC_LENGTH + 4;

export const MiB = 1024 * 1024;
export const MAX_MANIFEST_BYTES = 16 * MiB;
export const MAX_CHUNK_BYTES = 512 * MiB;
/** Decompression ceiling for chunks that do not declare uncompressedBytes. */
export const MAX_UNCOMPRESSED_BYTES = 512 * MiB;
/** Upper bound on a codes array when nothing else bounds it (1 Gi entries). */
export const MAX_CODES_LENGTH = 2 ** 30;

/*
 * JSON payloads (the manifest and every json chunk) are checked against these
 * before they are parsed, so that no input can exhaust the stack (deep
 * nesting) or the heap (a small gzip that inflates to a huge document, or
 * millions of tiny values that each cost a heap object).
 */
/** Nesting levels of arrays and objects; the viewer's own documents use fewer than 10. */
export const MAX_JSON_DEPTH = 64;
/** Bytes of any JSON payload, the manifest's own limit: metadata, never bulk data. */
export const MAX_JSON_BYTES = MAX_MANIFEST_BYTES;
/** Values (scalars, arrays, objects) in one JSON payload: a manifest of ~90k chunks. */
export const MAX_JSON_VALUES = 1024 * 1024;

/*
 * Categories of user-defined fields become category columns and strings in
 * every store; their count and text are capped per field and per bundle.
 */
/** u16 codes can address no more. */
export const MAX_CATEGORIES_PER_FIELD = 65_536;
export const MAX_CATEGORIES_PER_BUNDLE = 262_144;
/** UTF-8 bytes of a field's category text. */
export const MAX_CATEGORY_BYTES_PER_FIELD = 4 * MiB;
export const MAX_CATEGORY_BYTES_PER_BUNDLE = 8 * MiB;

export function hasMagic(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC_LENGTH) return false;
  for (let i = 0; i < MAGIC_LENGTH; i++) if (bytes[i] !== MAGIC[i]) return false;
  return true;
}

export function readU32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16)) + bytes[offset + 3]! * 0x1000000;
}

export function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}
