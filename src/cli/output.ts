/** Human output helpers: aligned tables, sizes, counts, a TTY-only progress bar, and JSON written in batches. */
import { once } from "node:events";

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export function table(headers: string[], rows: (string | number)[][], rightAlign: number[] = []): string {
  return [...tableLines(headers, rows, rightAlign)].join("").slice(0, -1);
}

type Row = readonly (string | number)[];

/**
 * The lines of `table()`, one at a time, each with its newline. The rows are
 * read twice (widths, then lines) and never copied: with LazyRows, a table of
 * 60,000 chunks is made without holding its cells.
 */
export function* tableLines(headers: string[], rows: readonly Row[] | LazyRows<Row>, rightAlign: number[] = []): Generator<string> {
  const rowAt = (i: number): Row => (rows instanceof LazyRows ? rows.at(i) : rows[i]!);
  const widths = headers.map(width);
  for (let i = 0; i < rows.length; i++) {
    const r = rowAt(i);
    for (let c = 0; c < widths.length && c < r.length; c++) {
      const w = width(String(r[c]));
      if (w > widths[c]!) widths[c] = w;
    }
  }
  const right = headers.map((_, c) => rightAlign.includes(c));
  const line = (r: Row): string => {
    let out = "";
    for (let c = 0; c < r.length; c++) {
      const cell = String(r[c]);
      const pad = " ".repeat(widths[c]! - width(cell));
      out += (c ? "  " : "") + (right[c] ? pad + cell : cell + pad);
    }
    return out.trimEnd() + "\n";
  };
  yield line(headers);
  for (let i = 0; i < rows.length; i++) yield line(rowAt(i));
}

const SURROGATE = /[\uD800-\uDBFF]/;

/** Characters as a terminal counts them: code points, not UTF-16 units. */
function width(s: string): number {
  return SURROGATE.test(s) ? [...s].length : s.length;
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
  await writeBatches(out, jsonBatches(value));
}

/** Writes `pieces` joined in batches of about JSON_WRITE_BATCH characters, waiting for the stream to drain. */
export async function writeBatches(out: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let batch = "";
  for (const piece of pieces) {
    batch += piece;
    if (batch.length >= JSON_WRITE_BATCH) {
      if (!out.write(batch)) await once(out, "drain");
      batch = "";
    }
  }
  if (batch && !out.write(batch)) await once(out, "drain");
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
    if (v instanceof LazyRows) {
      // Its rows are small records: a page of them is one native stringify.
      batch += "[\n";
      let done = 0;
      for (const page of v.pages(LAZY_PAGE)) {
        done += page.length;
        batch += arrayBody(page, indent.length / 2) + (done < v.length ? ",\n" : "\n");
        if (batch.length >= batchChars) {
          yield batch;
          batch = "";
        }
      }
      batch += indent + "]";
      return;
    }
    if (Array.isArray(v)) {
      batch += "[\n";
      for (let i = 0; i < v.length; ) {
        // A run of members that need no walking is one native stringify (a per-member call costs more than the text).
        let j = i;
        while (j < v.length && j - i < LEAF_RUN && !needsWalk(v[j])) j++;
        if (j > i) {
          batch += arrayBody(v.slice(i, j), indent.length / 2);
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

/**
 * The members of `items` as JSON.stringify(…, null, 2) prints them inside an
 * array nested `depth` levels deep ("[\n  a,\n  b\n]" → "  a,\n  b" at depth 0):
 * stringified inside as many wrapping arrays, whose lines are then cut off,
 * so the native stringify does the indenting.
 */
function arrayBody(items: unknown[], depth: number): string {
  let wrapped: unknown = items;
  for (let d = 0; d < depth; d++) wrapped = [wrapped];
  const text = JSON.stringify(wrapped, null, 2);
  // Each wrapping line is "[" or "]" after two spaces per level, and its newline.
  const cut = (depth + 1) * (depth + 2);
  return text.slice(cut, text.length - cut);
}

/** Array members stringified together at most. */
const LEAF_RUN = 256;
/** LazyRows rows made and stringified together (about 250 KB of text for inspect's rows). */
const LAZY_PAGE = 1024;

/**
 * Rows made when they are used: `jsonBatches` writes them as the array they
 * stand for, a page at a time, so that a table of 60,000 rows is never held
 * as 60,000 objects (which the garbage collector would copy while they live).
 * Rows are small records: a page of them is stringified whole (one native
 * call), nothing in it walked.
 */
export class LazyRows<T> {
  constructor(
    readonly length: number,
    readonly at: (i: number) => T,
  ) {}

  map<U>(fn: (row: T, i: number) => U): U[] {
    const out = new Array<U>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = fn(this.at(i), i);
    return out;
  }

  /** The rows in arrays of up to `size`. */
  *pages(size: number): Generator<T[]> {
    for (let start = 0; start < this.length; start += size) {
      const page = new Array<T>(Math.min(size, this.length - start));
      for (let k = 0; k < page.length; k++) page[k] = this.at(start + k);
      yield page;
    }
  }

  toJSON(): T[] {
    return this.map((row) => row);
  }
}

/** Whether `v` is walked member by member (a non-empty array or an expandable object) rather than stringified whole. */
function needsWalk(v: unknown): boolean {
  return ((Array.isArray(v) || v instanceof LazyRows) && v.length > 0) || isExpandable(v);
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
