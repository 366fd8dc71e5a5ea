/** UTF-8 JSON payloads. Reading always goes through the limits of format/json.ts. */
import { parseJsonUnderLimits } from "../format/json.js";

const encoder = new TextEncoder();

/** A JSON chunk's payload parsed under the JSON limits (JSON_TOO_DEEP, JSON_TOO_LARGE, else CHUNK_JSON). */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  return parseJsonUnderLimits(bytes, "JSON chunk", "CHUNK_JSON");
}

export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
