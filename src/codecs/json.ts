/** UTF-8 JSON payloads for the writer (reading goes through format/json.ts, under limits). */
const encoder = new TextEncoder();

export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
