/** Human output helpers: aligned tables, sizes, counts, and a TTY-only progress bar. */

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
 * would, in batches: a summary of 60,000 chunks never becomes one 30 MB string
 * and its copy in bytes. Arrays, and objects that hold arrays or objects, are
 * written member by member; everything else is stringified whole. (Writes to
 * pipes and files are synchronous in Node on Linux, as one big write was.)
 */
export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  let batch = "";
  const emit = (text: string) => {
    batch += text;
    if (batch.length >= JSON_WRITE_BATCH) {
      out.write(batch);
      batch = "";
    }
  };
  const write = (v: unknown, indent: string): void => {
    const inner = indent + "  ";
    if (Array.isArray(v) && v.length > 0) {
      emit("[\n");
      for (let i = 0; i < v.length; i++) {
        emit(inner);
        write(v[i] === undefined || typeof v[i] === "function" ? null : v[i], inner);
        emit(i < v.length - 1 ? ",\n" : "\n");
      }
      emit(indent + "]");
    } else if (isExpandable(v)) {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined && typeof v[k] !== "function");
      emit("{\n");
      for (let i = 0; i < keys.length; i++) {
        emit(`${inner}${JSON.stringify(keys[i])}: `);
        write(v[keys[i]!], inner);
        emit(i < keys.length - 1 ? ",\n" : "\n");
      }
      emit(indent + "}");
    } else {
      const text = JSON.stringify(v, null, 2);
      emit(indent && text.includes("\n") ? text.replaceAll("\n", "\n" + indent) : text);
    }
  };
  write(value, "");
  out.write(batch + "\n");
}

/** A plain object with at least one array or object member (and no toJSON of its own). */
function isExpandable(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
  for (const k in v) {
    const member = (v as Record<string, unknown>)[k];
    if (typeof member === "object" && member !== null) return true;
  }
  return false;
}
