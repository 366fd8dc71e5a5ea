/**
 * JSON under limits. Every JSON payload (the manifest, every json chunk) is
 * scanned before it is parsed: its size, its nesting depth and its number of
 * values are checked by one loop over the bytes, with no recursion and no
 * allocation, so a hostile document is refused before it can exhaust the
 * stack or the heap. The scan does not check syntax; JSON.parse does, after.
 */
import { type SessionErrorContext, formatError } from "./errors.js";
import { MAX_JSON_BYTES, MAX_JSON_DEPTH, MAX_JSON_VALUES } from "./limits.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Throws JSON_TOO_LARGE or JSON_TOO_DEEP when `bytes` breaks a limit. `what`
 * names the payload in the message ("manifest", "JSON chunk"). UTF-8
 * continuation bytes are never ASCII, so scanning bytes is exact.
 */
export function checkJsonLimits(bytes: Uint8Array, what: string, ctx: SessionErrorContext = {}): void {
  if (bytes.length > MAX_JSON_BYTES)
    throw formatError("JSON_TOO_LARGE", `${what} is ${bytes.length} bytes, over the ${MAX_JSON_BYTES}-byte limit for JSON`, ctx);
  const n = bytes.length;
  let depth = 0;
  // A value is a container or a comma-separated entry; object members count once.
  let values = 1;
  let i = 0;
  // A tight loop, errors raised after it: it runs over every byte of every JSON payload.
  while (i < n) {
    const b = bytes[i++]!;
    if (b === QUOTE) {
      while (i < n) {
        const c = bytes[i++]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) i++;
      }
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > MAX_JSON_DEPTH) break;
      values++;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      // Unbalanced closers are a syntax error for JSON.parse; they must not buy extra depth.
      if (depth > 0) depth--;
    } else if (b === COMMA) {
      values++;
    }
  }
  if (depth > MAX_JSON_DEPTH)
    throw formatError("JSON_TOO_DEEP", `${what} nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels (at byte ${i - 1})`, ctx);
  if (values > MAX_JSON_VALUES) throw formatError("JSON_TOO_LARGE", `${what} holds more than ${MAX_JSON_VALUES} values`, ctx);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks the limits, then decodes and parses. A syntax or encoding error is
 * thrown as `syntaxCode` ("MANIFEST_JSON", "CHUNK_JSON").
 */
export function parseJsonUnderLimits(
  bytes: Uint8Array,
  what: string,
  syntaxCode: "MANIFEST_JSON" | "CHUNK_JSON",
  ctx: SessionErrorContext = {},
): unknown {
  checkJsonLimits(bytes, what, ctx);
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw formatError(syntaxCode, `${what} is not valid UTF-8 JSON (${(err as Error).message})`, ctx);
  }
}
