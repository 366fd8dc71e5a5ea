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
import type { Utf8Strings } from "../anndata/model.js";

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
   * Optional: names [start, end) as valid UTF-8 bytes (null when they cannot
   * be had so; read() then gives them). Names are copied into the output as
   * bytes, never made JS strings, unless they need escaping.
   */
  readUtf8?(start: number, end: number): Promise<Utf8Strings | null>;
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
  /** What follows each combination of values, by its index; null when there are too many combinations to keep. */
  private readonly tails: (Uint8Array | undefined)[] | null;
  private readonly tailText: (r: number) => string;
  private readonly special: Uint8Array;
  private readonly rowStart: Uint8Array[];
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
    const combinations = this.radix.reduce((a, b) => a * b, 1);
    this.tails = combinations <= 65536 ? [] : null;
    // JSON: the name's closing quote, the cells, the row's closing brace; CSV/TSV: the cells and the newline.
    this.tailText = format === "json"
      ? (r) => `"${t.columns.map((c, ci) => `,${keys[ci + 1]}:${jsonCell(c, r)}`).join("")}}`
      : (r) => `${t.columns.map((c, ci) => sep + textCell(c, escaped[ci]!, r)).join("")}\n`;
    this.special = SPECIAL[format];
    this.rowStart = format === "json" ? [this.encoder.encode(`\n{${keys[0]}:"`), this.encoder.encode(`,\n{${keys[0]}:"`)] : [];
  }

  batch(start: number, end: number, names: Utf8Strings): Uint8Array {
    const { bytes, ends } = names;
    const out = new Sink(bytes.length + (end - start) * this.rowBytes);
    const json = this.format === "json";
    for (let r = start, i = 0; r < end; r++, i++) {
      const from = i === 0 ? 0 : ends[i - 1]!;
      const to = ends[i]!;
      if (json) out.put(this.rowStart[r === 0 ? 0 : 1]!);
      if (this.plain(bytes, from, to)) out.copy(bytes, from, to);
      else {
        const name = this.decoder.decode(bytes.subarray(from, to));
        // JSON: the quotes are the row's (rowStart, the tail); jsonString's own are dropped.
        out.put(this.encoder.encode(json ? jsonString(name).slice(1, -1) : escapeCell(name, this.format as "csv" | "tsv", this.formulaEscape)));
      }
      out.put(this.tail(r));
    }
    const text = out.bytes();
    this.rowBytes = Math.ceil((text.length - bytes.length) / Math.max(1, end - start)) + 8;
    return text;
  }

  private tail(r: number): Uint8Array {
    if (!this.tails) return this.encoder.encode(this.tailText(r));
    let key = 0;
    for (let c = 0; c < this.values.length; c++) key = key * this.radix[c]! + this.values[c]!(r);
    return (this.tails[key] ??= this.encoder.encode(this.tailText(r)));
  }

  /** Whether the name's bytes need no escaping. */
  private plain(bytes: Uint8Array, from: number, to: number): boolean {
    if (this.format !== "json" && this.formulaEscape && from < to && FORMULA_FIRST[bytes[from]!]) return false;
    const special = this.special;
    for (let k = from; k < to; k++) if (special[bytes[k]!]) return false;
    return true;
  }
}

/** A growing byte buffer. */
class Sink {
  private buf: Uint8Array;
  private at = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }
  put(b: Uint8Array): void {
    // Names are copied a byte at a time (copy); longer pieces (JSON's row tails) are cheaper with one set.
    if (b.length <= 16) return this.copy(b, 0, b.length);
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  copy(src: Uint8Array, from: number, to: number): void {
    this.room(to - from);
    const buf = this.buf;
    let at = this.at;
    // Names are short: a loop beats a subarray and a set for each.
    for (let k = from; k < to; k++) buf[at++] = src[k]!;
    this.at = at;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
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
