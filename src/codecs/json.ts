/** UTF-8 JSON payloads. */
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

export function parseJsonBytes(bytes: Uint8Array): unknown {
  return JSON.parse(utf8.decode(bytes));
}

export function jsonBytes(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}
