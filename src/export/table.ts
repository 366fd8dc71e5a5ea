/**
 * Per-cell (or per-gene) tables of a bundle's highlights and labels, named
 * exactly as applying the bundle names the AnnData columns. Rows are produced
 * in batches as text, so millions of rows never become millions of strings.
 *
 * Labels come from bundles anyone may have made, so CSV and TSV text cells
 * are escaped (see escapeCell); JSON is exact.
 */
import { CellucidSessionError } from "../format/errors.js";
import type { CellucidSessionBundle } from "../bundle/bundle.js";
import { type UserDefinedField, categoryOf, fieldSource } from "../chunks/user-defined.js";
import { userDefinedCodesId } from "../chunks/ids.js";
import { ColumnNamer, type ColumnPlanOptions, candidateFields, fieldColumnBase, planHighlightColumns } from "../apply/naming.js";

export type ExportFormat = "tsv" | "csv" | "json";

export type ExportColumn =
  | { name: string; kind: "highlight"; member: Uint8Array; groupId: string }
  | { name: string; kind: "field"; codes: Uint8Array | Uint16Array; field: UserDefinedField };

export interface ExportTable {
  axis: "obs" | "var";
  rows: number;
  columns: ExportColumn[];
  /** Row labels (obs or var names); positions when absent. */
  rowNames: RowNames | null;
  warnings: string[];
}

/**
 * Row names in memory, or read a range at a time (e.g. from an AnnData
 * store's readIndexRange), so that millions of names are never all strings
 * at once.
 */
export type RowNames = ArrayLike<string> | RowNameReader;

export interface RowNameReader {
  readonly length: number;
  read(start: number, end: number): Promise<ArrayLike<string>>;
  /**
   * Optional: names [start, end) as valid UTF-8 bytes back to back, name i
   * being bytes[ends[i - 1], ends[i]) (an AnnData store's readIndexUtf8
   * gives them so); null when they cannot be had so, and read() gives them.
   * Names are copied into the output as bytes, never made JS strings,
   * unless they need escaping.
   */
  readUtf8?(start: number, end: number): Promise<{ bytes: Uint8Array; ends: Uint32Array } | null>;
}

function isReader(names: RowNames): names is RowNameReader {
  return typeof (names as Partial<RowNameReader>).read === "function";
}

export interface ExportOptions extends ColumnPlanOptions {
  axis?: "obs" | "var";
  /** Row count when the fingerprint does not give it. */
  rows?: number | null;
  rowNames?: RowNames | null;
}

export async function buildExportTable(bundle: CellucidSessionBundle, opts: ExportOptions = {}): Promise<ExportTable> {
  const axis = opts.axis ?? "obs";
  const warnings: string[] = [];
  const counts = bundle.counts;
  const rows = opts.rowNames?.length ?? opts.rows ?? (axis === "obs" ? counts.cellCount : counts.varCount);
  const namer = new ColumnNamer(axis === "obs" ? (opts.existingObsColumns ?? []) : (opts.existingVarColumns ?? []), opts.columnConflict ?? "suffix");
  const columns: ExportColumn[] = [];
  const nRows = rows ?? (await inferRows(bundle, axis, opts));
  if (rows === null || rows === undefined)
    warnings.push(`the bundle's fingerprint has no ${axis === "obs" ? "cellCount" : "varCount"}; using ${nRows} rows inferred from its contents`);

  if (axis === "obs") {
    for (const h of planHighlightColumns(await bundle.highlightsMeta(), namer, opts)) {
      const member = new Uint8Array(nRows);
      for (const i of await bundle.readHighlightCells(h.groupId, { nObs: nRows })) member[i] = 1;
      columns.push({ name: h.column, kind: "highlight", member, groupId: h.groupId });
    }
  }
  for (const field of candidateFields(await bundle.fieldOverlays(), opts)) {
    if (fieldSource(field) !== axis) continue;
    const label = field.key ?? field.id;
    if (!bundle.hasChunk(userDefinedCodesId(field.id))) {
      warnings.push(`user-defined field '${label}' skipped: no codes chunk`);
      continue;
    }
    try {
      const { codes } = await bundle.readUserDefinedCodes(field, { expectedLength: nRows });
      columns.push({ name: namer.claim(fieldColumnBase(field, opts.userDefinedPrefix ?? "")), kind: "field", codes, field });
    } catch (err) {
      if (!(err instanceof CellucidSessionError) || err.code !== "CODES_LENGTH") throw err;
      warnings.push(`user-defined field '${label}' skipped: ${err.rule}`);
    }
  }
  return { axis, rows: nRows, columns, rowNames: opts.rowNames ?? null, warnings };
}

async function inferRows(bundle: CellucidSessionBundle, axis: "obs" | "var", opts: ExportOptions): Promise<number> {
  let n = 0;
  for (const f of candidateFields(await bundle.fieldOverlays(), opts))
    if (fieldSource(f) === axis && typeof f.codesLength === "number") n = Math.max(n, f.codesLength);
  if (axis === "obs")
    for (const page of await bundle.highlightPages({ nObs: null }))
      for (const g of page.groups) if (g.cells.length) n = Math.max(n, g.cells[g.cells.length - 1]! + 1);
  return n;
}

/**
 * A cell a spreadsheet would run as a formula, per OWASP's "CSV Injection"
 * page: one that starts with = + - @, a tab or a carriage return.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const CSV_NEEDS_QUOTES = /[",\r\n]/;
const TSV_SPECIAL = /[\t\r\n\\]/g;
const TSV_ESCAPES: Record<string, string> = { "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\" };
/** Whatever any branch of escapeCell reacts to (a superset for CSV and TSV). */
const MAY_NEED_ESCAPING = /^[=+\-@]|[\t\r\n\\",]/;
const TSV_UNESCAPES: Record<string, string> = { t: "\t", r: "\r", n: "\n", "\\": "\\" };

/**
 * One text cell of a CSV or TSV table. With `formulaEscape` (the default) a
 * cell that starts like a formula gets a leading single quote, which
 * spreadsheets show as text (OWASP's advice); this cannot be undone from the
 * file, so pipelines that need the exact text turn it off. Then CSV quotes
 * the cell as RFC 4180 says (fields with `"`, `,`, CR or LF are wrapped in
 * quotes, quotes doubled); TSV, which has no quoting, writes tab, CR, LF and
 * backslash as `\t`, `\r`, `\n`, `\\` (unescapeTsvCell reverses it).
 */
export function escapeCell(s: string, format: "csv" | "tsv", formulaEscape = true): string {
  // Nearly every name and label needs nothing: one test instead of three.
  if (!MAY_NEED_ESCAPING.test(s)) return s;
  const text = formulaEscape && FORMULA_START.test(s) ? `'${s}` : s;
  if (format === "csv") return CSV_NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  return text.replace(TSV_SPECIAL, (c) => TSV_ESCAPES[c]!);
}

/** The text escapeCell wrote into a TSV cell, with tab, CR, LF and backslash restored (a formula-escape quote stays). */
export function unescapeTsvCell(cell: string): string {
  return cell.replace(/\\([trn\\])/g, (_, c: string) => TSV_UNESCAPES[c]!);
}

function cellText(col: ExportColumn, row: number): string | null {
  if (col.kind === "highlight") return col.member[row] ? "true" : "false";
  const cats = col.field.categories ?? [];
  if (cats.length === 0) return String(col.codes[row]);
  return categoryOf(col.field, col.codes[row]!);
}

export interface ExportTextOptions {
  /** Rows per yielded piece of text; default 8192. */
  batchRows?: number;
  /** CSV/TSV: quote cells that start like a formula (escapeCell); default true. */
  formulaEscape?: boolean;
}

/**
 * The table as text, in batches of `batchRows` rows (row names are read a
 * batch at a time). JSON is an array of row objects. The numbers and
 * true/false written here are never escaped; every text (column names, row
 * names, category labels) goes through escapeCell.
 */
export async function* exportText(t: ExportTable, format: ExportFormat, opts: ExportTextOptions = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const piece of exportPieces(t, format, opts)) yield typeof piece === "string" ? piece : decoder.decode(piece);
}

/**
 * exportText's batches as they are made: UTF-8 bytes for batches whose row
 * names came as bytes (RowNameReader.readUtf8), text otherwise. What a file
 * or stream takes as it is: no string is made of a row or a name that needs
 * no escaping.
 */
export async function* exportPieces(t: ExportTable, format: ExportFormat, opts: ExportTextOptions = {}): AsyncGenerator<string | Uint8Array> {
  const batchRows = opts.batchRows ?? 8192;
  const formulaEscape = opts.formulaEscape ?? true;
  const escape = (s: string) => (format === "json" ? s : escapeCell(s, format, formulaEscape));
  const first = t.rowNames ? (t.axis === "obs" ? "obs_name" : "var_name") : "index";
  const names = [first, ...t.columns.map((c) => c.name)];
  // Category texts are escaped once per category, not once per row.
  const escaped = t.columns.map((c) => (c.kind === "field" ? (c.field.categories ?? []).map(escape) : []));
  if (format !== "json") yield names.map(escape).join(format === "csv" ? "," : "\t") + "\n";
  else yield "[";
  const sep = format === "csv" ? "," : "\t";
  const keys = names.map((n) => JSON.stringify(n));
  const reader = t.rowNames !== null && isReader(t.rowNames) ? t.rowNames : null;
  let bytes: ByteRows | null = null;
  for (let start = 0; start < t.rows; start += batchRows) {
    const end = Math.min(t.rows, start + batchRows);
    const utf8 = reader?.readUtf8 ? await reader.readUtf8(start, end) : null;
    if (utf8) {
      bytes ??= new ByteRows(t, format, formulaEscape, escaped, keys);
      yield bytes.batch(start, end, utf8);
      continue;
    }
    const lines: string[] = [];
    // Row names of this batch, indexed from `start`.
    const batchNames = t.rowNames === null ? null : reader ? await reader.read(start, end) : (t.rowNames as ArrayLike<string>);
    const offset = reader ? start : 0;
    for (let r = start; r < end; r++) {
      const id = batchNames ? batchNames[r - offset]! : String(r);
      if (format === "json") {
        let row = `${r === 0 ? "\n" : ",\n"}{${keys[0]}:${t.rowNames ? jsonString(id) : id}`;
        for (let ci = 0; ci < t.columns.length; ci++) {
          const c = t.columns[ci]!;
          row += `,${keys[ci + 1]}:${jsonCell(c, r)}`;
        }
        lines.push(row + "}");
        continue;
      }
      let line = t.rowNames ? escape(id) : id;
      for (let ci = 0; ci < t.columns.length; ci++) line += sep + textCell(t.columns[ci]!, escaped[ci]!, r);
      lines.push(line);
    }
    yield format === "json" ? lines.join("") : lines.join("\n") + "\n";
  }
  if (format === "json") yield "\n]\n";
}

/** A JSON value of a column. */
function jsonCell(c: ExportColumn, r: number): string {
  return c.kind === "highlight" ? (c.member[r] ? "true" : "false") : jsonValue(c, c.codes[r]!);
}

/** A CSV/TSV cell of a column; `escaped`: the column's escaped categories. */
function textCell(c: ExportColumn, escaped: readonly string[], r: number): string {
  if (c.kind === "field" && escaped.length) {
    const code = c.codes[r]!;
    return code < escaped.length ? escaped[code]! : "";
  }
  return cellText(c, r) ?? "";
}

/**
 * Bytes that make a name cell need escaping (escapeCell, jsonString): such
 * names go through the text functions; all others are copied as they are.
 * CSV/TSV also look at the first byte for a formula start.
 */
const SPECIAL: Record<ExportFormat, Uint8Array> = {
  tsv: byteSet("\t\r\n\\"),
  csv: byteSet('",\r\n'),
  json: byteSet('"\\' + Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("")),
};
const FORMULA_FIRST = byteSet("=+-@\t\r");

function byteSet(chars: string): Uint8Array {
  const set = new Uint8Array(256);
  for (const ch of chars) set[ch.charCodeAt(0)] = 1;
  return set;
}

/** Rows as UTF-8 bytes, made from names that came as bytes: what follows a name is encoded once per combination of cell values. */
class ByteRows {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  /** Per column: the index of a row's value (0/1, or the code) and how many there can be. */
  private readonly values: ((r: number) => number)[];
  private readonly radix: number[];
  /** What follows a name, by the index of its combination of values (×2, +1 when the next row's start follows); null when there are too many to keep. */
  private readonly tails: (Uint8Array | undefined)[] | null;
  private readonly tailText: (r: number, next: boolean) => string;
  private readonly rowStart: (r: number) => Uint8Array;
  private readonly special: Uint8Array;
  private readonly formulaFirst: Uint8Array | null;
  /** Bytes a row took beside its name in the last batch: the next batch's buffer is sized by it. */
  private rowBytes = 64;

  constructor(
    t: ExportTable,
    private readonly format: ExportFormat,
    private readonly formulaEscape: boolean,
    escaped: string[][],
    keys: string[],
  ) {
    const sep = format === "csv" ? "," : "\t";
    this.values = t.columns.map((c) => (c.kind === "highlight" ? (r: number) => (c.member[r] ? 1 : 0) : (r: number) => c.codes[r]!));
    this.radix = t.columns.map((c) => (c.kind === "highlight" ? 2 : c.codes instanceof Uint8Array ? 256 : 65536));
    this.tails = this.radix.reduce((a, b) => a * b, 1) <= 32768 ? [] : null;
    // JSON: the name's closing quote, the cells, the row's closing brace, and (within a batch) the next row's start, so a row is its name and one tail.
    const start = (r: number) => `${r === 0 ? "\n" : ",\n"}{${keys[0]}:"`;
    this.rowStart = format === "json" ? (r) => this.encoder.encode(start(r)) : () => new Uint8Array(0);
    this.tailText = format === "json"
      ? (r, next) => `"${t.columns.map((c, ci) => `,${keys[ci + 1]}:${jsonCell(c, r)}`).join("")}}${next ? start(r + 1) : ""}`
      : (r) => `${t.columns.map((c, ci) => sep + textCell(c, escaped[ci]!, r)).join("")}\n`;
    this.special = SPECIAL[format];
    this.formulaFirst = format !== "json" && formulaEscape ? FORMULA_FIRST : null;
  }

  batch(start: number, end: number, names: { bytes: Uint8Array; ends: Uint32Array }): Uint8Array {
    const { bytes, ends } = names;
    const special = this.special;
    let buf: Uint8Array = new Uint8Array(bytes.length + (end - start) * this.rowBytes + 64);
    let at = 0;
    const first = this.rowStart(start);
    buf.set(first);
    at += first.length;
    for (let r = start, i = 0; r < end; r++, i++) {
      const from = i === 0 ? 0 : ends[i - 1]!;
      const to = ends[i]!;
      if (at + (to - from) > buf.length) buf = grown(buf, at, to - from);
      // The name's bytes are copied until one needs escaping; then the name goes through the text functions instead.
      let k = from;
      if (!(this.formulaFirst && from < to && this.formulaFirst[bytes[from]!])) {
        for (; k < to; k++) {
          const b = bytes[k]!;
          if (special[b]) break;
          buf[at++] = b;
        }
      }
      if (k < to) {
        at -= k - from;
        const name = this.encoder.encode(this.escaped(this.decoder.decode(bytes.subarray(from, to))));
        if (at + name.length > buf.length) buf = grown(buf, at, name.length);
        buf.set(name, at);
        at += name.length;
      }
      const tail = this.tail(r, r + 1 < end);
      if (at + tail.length > buf.length) buf = grown(buf, at, tail.length);
      if (tail.length > 16) buf.set(tail, at);
      else for (let j = 0; j < tail.length; j++) buf[at + j] = tail[j]!;
      at += tail.length;
    }
    this.rowBytes = Math.ceil((at - bytes.length) / Math.max(1, end - start)) + 8;
    return buf.subarray(0, at);
  }

  /** A name that needs escaping, as the text functions write it (JSON: without the quotes, which are the row's). */
  private escaped(name: string): string {
    return this.format === "json" ? jsonString(name).slice(1, -1) : escapeCell(name, this.format, this.formulaEscape);
  }

  private tail(r: number, next: boolean): Uint8Array {
    if (!this.tails) return this.encoder.encode(this.tailText(r, next));
    let key = 0;
    for (let c = 0; c < this.values.length; c++) key = key * this.radix[c]! + this.values[c]!(r);
    key = 2 * key + (next ? 1 : 0);
    return (this.tails[key] ??= this.encoder.encode(this.tailText(r, next)));
  }
}

/** `buf` with room for `n` more bytes after its first `at`. */
function grown(buf: Uint8Array, at: number, n: number): Uint8Array {
  const next = new Uint8Array(Math.max(buf.length * 2, at + n));
  next.set(buf.subarray(0, at));
  return next;
}

/** JSON.stringify of a string, without its call for the common string that needs no escape (no quote, backslash, control character or lone surrogate). */
function jsonString(s: string): string {
  return JSON_PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonValue(c: ExportColumn & { kind: "field" }, code: number): string {
  const cats = c.field.categories ?? [];
  if (cats.length === 0) return String(code);
  const v = categoryOf(c.field, code);
  return v === null ? "null" : jsonString(v);
}
