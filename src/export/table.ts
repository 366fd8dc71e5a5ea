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
  const batchRows = opts.batchRows ?? 8192;
  const escape = (s: string) => (format === "json" ? s : escapeCell(s, format, opts.formulaEscape ?? true));
  const first = t.rowNames ? (t.axis === "obs" ? "obs_name" : "var_name") : "index";
  const names = [first, ...t.columns.map((c) => c.name)];
  // Category texts are escaped once per category, not once per row.
  const escaped = t.columns.map((c) => (c.kind === "field" ? (c.field.categories ?? []).map(escape) : []));
  if (format !== "json") yield names.map(escape).join(format === "csv" ? "," : "\t") + "\n";
  else yield "[";
  const sep = format === "csv" ? "," : "\t";
  const keys = names.map((n) => JSON.stringify(n));
  for (let start = 0; start < t.rows; start += batchRows) {
    const end = Math.min(t.rows, start + batchRows);
    const lines: string[] = [];
    // Row names of this batch, indexed from `start`.
    const batchNames = t.rowNames === null ? null : isReader(t.rowNames) ? await t.rowNames.read(start, end) : t.rowNames;
    const offset = t.rowNames !== null && isReader(t.rowNames) ? start : 0;
    for (let r = start; r < end; r++) {
      const id = batchNames ? batchNames[r - offset]! : String(r);
      if (format === "json") {
        let row = `${r === 0 ? "\n" : ",\n"}{${keys[0]}:${t.rowNames ? jsonString(id) : id}`;
        for (let ci = 0; ci < t.columns.length; ci++) {
          const c = t.columns[ci]!;
          row += `,${keys[ci + 1]}:${c.kind === "highlight" ? (c.member[r] ? "true" : "false") : jsonValue(c, r)}`;
        }
        lines.push(row + "}");
        continue;
      }
      let line = t.rowNames ? escape(id) : id;
      for (let ci = 0; ci < t.columns.length; ci++) {
        const c = t.columns[ci]!;
        let v: string | null;
        if (c.kind === "field" && escaped[ci]!.length) {
          const code = c.codes[r]!;
          v = code < escaped[ci]!.length ? escaped[ci]![code]! : "";
        } else v = cellText(c, r);
        line += sep + (v ?? "");
      }
      lines.push(line);
    }
    yield format === "json" ? lines.join("") : lines.join("\n") + "\n";
  }
  if (format === "json") yield "\n]\n";
}

/** JSON.stringify of a string, without its call for the common string that needs no escape (no quote, backslash, control character or lone surrogate). */
function jsonString(s: string): string {
  return JSON_PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}
const JSON_PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function jsonValue(c: ExportColumn & { kind: "field" }, r: number): string {
  const cats = c.field.categories ?? [];
  if (cats.length === 0) return String(c.codes[r]);
  const v = categoryOf(c.field, c.codes[r]!);
  return v === null ? "null" : jsonString(v);
}
