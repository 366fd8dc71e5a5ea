/** Human output helpers: aligned tables, sizes, counts, a TTY-only progress bar, and JSON written in batches. */
import { once } from "node:events";

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export function table(headers: string[], rows: (string | number)[][], rightAlign: number[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? "")].length)));
  return cells
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = " ".repeat(widths[c]! - [...cell].length);
          return rightAlign.includes(c) ? pad + cell : cell + pad;
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export { formatBytes as bytes } from "../anndata/fs-errors.js";

/** 1234567 → "1,234,567". Not toLocaleString: its first call loads ICU data, ~10 ms of inspect's start-up. */
export function count(n: number): string {
  if (!Number.isInteger(n)) return String(n);
  const digits = String(Math.abs(n));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += "," + digits.slice(i, i + 3);
  return n < 0 ? "-" + out : out;
}

/** Progress on stderr, only on a TTY, only once the work has taken more than a second. */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  static for(io: Io, label: string, quiet: boolean): Progress {
    return new Progress(io, label, !quiet && io.err.isTTY === true);
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    this.io.err.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
  }

  finish(): void {
    if (this.shown) this.io.err.write("\r\x1b[K");
  }
}

/** Output is handed to the stream in pieces of about this many characters. */
const JSON_WRITE_BATCH = 64 * 1024;

/**
 * Writes `value` and a newline exactly as `JSON.stringify(value, null, 2)`
 * would, a batch at a time and waiting for the stream to drain: a summary of
 * 60,000 chunks never becomes one 30 MB string, nor a queue of them in front
 * of a slow pipe.
 */
export async function writeJson(out: NodeJS.WritableStream, value: unknown): Promise<void> {
  for (const batch of jsonBatches(value)) if (!out.write(batch)) await once(out, "drain");
}

/**
 * The text of `JSON.stringify(value, null, 2) + "\n"` in batches of about
 * `batchChars`. Arrays, and objects that hold arrays or objects, are walked
 * member by member; everything else is stringified whole.
 */
export function* jsonBatches(value: unknown, batchChars = JSON_WRITE_BATCH): Generator<string> {
  let batch = "";
  const leaf = (v: unknown, indent: string): string => {
    const text = JSON.stringify(v, null, 2) ?? "null";
    return indent && text.includes("\n") ? text.replaceAll("\n", "\n" + indent) : text;
  };
  function* member(v: unknown, indent: string): Generator<string> {
    if (needsWalk(v)) yield* container(v as object, indent);
    else batch += leaf(v, indent);
    if (batch.length >= batchChars) {
      yield batch;
      batch = "";
    }
  }
  function* container(v: object, indent: string): Generator<string> {
    const inner = indent + "  ";
    if (Array.isArray(v)) {
      batch += "[\n";
      for (let i = 0; i < v.length; ) {
        // A run of members that need no walking is one native stringify (a per-member call costs more than the text).
        let j = i;
        while (j < v.length && j - i < LEAF_RUN && !needsWalk(v[j])) j++;
        if (j > i) {
          // "[\n  a,\n  b\n]" → "  a,\n  b", each line moved to this depth.
          const body = JSON.stringify(v.slice(i, j), null, 2).slice(2, -2);
          batch += indent + (indent ? body.replaceAll("\n", "\n" + indent) : body);
          i = j;
        } else {
          batch += inner;
          yield* member(v[i], inner);
          i++;
        }
        batch += i < v.length ? ",\n" : "\n";
        if (batch.length >= batchChars) {
          yield batch;
          batch = "";
        }
      }
      batch += indent + "]";
      return;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== "function");
    batch += "{\n";
    for (let i = 0; i < keys.length; i++) {
      batch += `${inner}${JSON.stringify(keys[i])}: `;
      yield* member(o[keys[i]!], inner);
      batch += i < keys.length - 1 ? ",\n" : "\n";
    }
    batch += indent + "}";
  }
  yield* member(value, "");
  yield batch + "\n";
}

/** Array members stringified together at most. */
const LEAF_RUN = 256;

/** Whether `v` is walked member by member (a non-empty array or an expandable object) rather than stringified whole. */
function needsWalk(v: unknown): boolean {
  return (Array.isArray(v) && v.length > 0) || isExpandable(v);
}

/** A non-empty plain object with at least one array or object member (and no toJSON of its own). */
function isExpandable(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  for (const k in v) {
    const member = (v as Record<string, unknown>)[k];
    if (typeof member === "object" && member !== null) return true;
  }
  return false;
}
