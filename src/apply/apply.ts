/**
 * Applying a bundle to an AnnData (SPEC §6). Works on any AnnDataStore. All
 * reading, checking and naming happens first; only then is anything written,
 * so a corrupt chunk or a conflict under "error" leaves the data untouched.
 * The plan keeps what to write, not the columns: commit decodes each column
 * again as the store writes it, so memory does not grow with their number.
 */
import { CellucidSessionError } from "../format/errors.js";
import type { CellucidSessionBundle } from "../bundle/bundle.js";
import { mismatchReasons } from "../bundle/mismatch.js";
import { userDefinedCodesId } from "../chunks/ids.js";
import type { UserDefinedField } from "../chunks/user-defined.js";
import { type AnnDataStore, type Axis, type Column, type ColumnInput, type LazyColumn, type UnsDict, boolValues, codesArrayFor } from "../anndata/model.js";
import { firstRepeated } from "../anndata/element-rules.js";
import { missingMarkerOf } from "../codecs/codes.js";
import type { CellOrderCheck } from "../chunks/cell-order.js";
import { checkCellOrder } from "./cell-order-check.js";
import { type AxisMatch, matchReference } from "./reference.js";
import { ColumnNamer, type ColumnConflictPolicy, type ColumnPlanOptions, DEFAULT_HIGHLIGHTS_PREFIX, type HighlightNames, candidateFields, fieldColumnBase, fieldSource, planHighlightColumns } from "./naming.js";

export type DatasetMismatchPolicy = "error" | "warn_skip" | "skip";

/** Which columns to add and how to name them (as export plans them), and what apply does besides. */
export interface ApplyOptions extends Omit<ColumnPlanOptions, "existingObsColumns" | "existingVarColumns"> {
  datasetMismatch?: DatasetMismatchPolicy;
  expectedDatasetId?: string | null;
  storeUns?: boolean;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  /**
   * The AnnData the session was made on, when the target is a subset,
   * superset or reordering of it: the bundle is checked against it, and
   * cells and genes are matched by obs_names / var_names.
   */
  reference?: AnnDataStore;
  /** Receives each warning as it happens (default: collected in the summary only). */
  onWarning?: (message: string) => void;
}

export interface HighlightApplied {
  groupId: string;
  label: string;
  pageId: string;
  pageName: string | null;
  column: string;
  /** Cells of the target in the group. */
  cells: number;
  /** With a reference: selected cells of the reference the target does not have. */
  notInData?: number;
}

export interface FieldApplied {
  fieldId: string;
  key: string;
  axis: Axis;
  column: string | null;
  status: "added" | "skipped";
  reason: string | null;
  categories: number;
  /** Codes outside the categories and not the missing marker (they became missing too). */
  codesOutOfRange: number;
  /** Cells (or genes) whose value is missing: the missing marker or a code outside the categories. */
  missing: number;
  /** With a reference: labelled cells (genes) of the reference the target does not have. */
  notInData?: number;
}

export interface ReferenceSummary {
  source: string;
  obs: { matched: number; onlyInData: number; onlyInReference: number };
  var: { matched: number; onlyInData: number; onlyInReference: number };
}

/** What `apply` learned about the cell order (WEBAPP.md): verified, a mismatch, unverified, or not recorded. */
export type CellOrderSummary = Omit<CellOrderCheck, "digests">;

export interface ApplySummary {
  addedObsColumns: string[];
  addedVarColumns: string[];
  skippedDueToMismatch: boolean;
  mismatchReasons: string[];
  cellOrder: CellOrderSummary;
  /** With a reference: how its cells and genes matched the target's. */
  reference: ReferenceSummary | null;
  highlights: HighlightApplied[];
  fields: FieldApplied[];
  warnings: string[];
}

export const APPLY_DEFAULTS = {
  datasetMismatch: "warn_skip" as DatasetMismatchPolicy,
  expectedDatasetId: null as string | null,
  addHighlights: true,
  highlightsPrefix: DEFAULT_HIGHLIGHTS_PREFIX,
  highlightNames: "id" as HighlightNames,
  addUserDefinedFields: true,
  userDefinedPrefix: "",
  includeDeletedUserDefinedFields: false,
  storeUns: true,
  columnConflict: "suffix" as ColumnConflictPolicy,
};

/** A planned column: what to write, not its values (produced again when written, one at a time). */
interface PendingWrite {
  axis: Axis;
  column: string;
  produce: LazyColumn;
}

export async function applySessionToStore(bundle: CellucidSessionBundle, store: AnnDataStore, options: ApplyOptions = {}): Promise<ApplySummary> {
  const plan = await planApply(bundle, store, options);
  if (!options.dryRun) await plan.commit(store);
  return plan.summary;
}

export interface ApplyPlan {
  /** What applying adds (final once planned: nothing is decided while writing). */
  summary: ApplySummary;
  /**
   * Writes the planned columns and bookkeeping to `store`, which must hold the
   * same obs/var columns as the store planned on (it, or a copy of it).
   */
  commit(store: AnnDataStore): Promise<void>;
}

/**
 * Decodes, checks and names everything without writing: a bundle that fails
 * (mismatch under error, a conflict under error, a corrupt chunk) fails here.
 * Files plan on a read-only handle, then commit to a copy or in place, so
 * every chunk is decoded once.
 */
export async function planApply(bundle: CellucidSessionBundle, store: AnnDataStore, options: ApplyOptions = {}): Promise<ApplyPlan> {
  const o = { ...APPLY_DEFAULTS, ...stripUndefined(options) };
  const summary: ApplySummary = { addedObsColumns: [], addedVarColumns: [], skippedDueToMismatch: false, mismatchReasons: [], cellOrder: { status: "not-recorded", expected: null, obsmKey: null, path: null, reason: null }, reference: null, highlights: [], fields: [], warnings: [] };
  const warn = (m: string) => {
    summary.warnings.push(m);
    options.onWarning?.(m);
  };

  // The bundle describes the data it was made on: the reference when there is one.
  const basis = options.reference ?? store;
  const match = options.reference ? await matchReference(options.reference, store) : null;
  if (match) summary.reference = { source: match.source, obs: counts(match.obs), var: counts(match.var) };
  const reasons = mismatchReasons(bundle, basis, o.expectedDatasetId);
  const { cellCount, varCount } = bundle.counts;
  summary.cellOrder = await cellOrderSummary(bundle, basis, (cellCount !== null && cellCount !== basis.nObs) || (varCount !== null && varCount !== basis.nVars));
  if (summary.cellOrder.status === "mismatch") reasons.push(`cell order: ${summary.cellOrder.reason}`);
  summary.mismatchReasons = reasons;
  if (reasons.length) {
    if (o.datasetMismatch === "error")
      throw new CellucidSessionError("DATASET_MISMATCH", `Dataset fingerprint mismatch: ${reasons.join("; ")}`, { source: bundle.sourceName });
    summary.skippedDueToMismatch = true;
    if (o.datasetMismatch === "warn_skip") warn(`Dataset fingerprint mismatch: ${reasons.join("; ")}; skipping dataset-dependent chunks (highlights, user-defined fields)`);
  }

  const writes: PendingWrite[] = [];
  // The index is taken like any column, and never replaced: a field named like it gets a suffix.
  const namer = (axis: Axis) => new ColumnNamer(store.columnNames(axis), o.columnConflict, [store.indexName(axis)]);
  const namers = { obs: namer("obs"), var: namer("var") };
  const meta = bundle.hasChunk("highlights/meta") ? await bundle.highlightsMeta() : null;
  const overlays = bundle.hasChunk("core/field-overlays") ? await bundle.fieldOverlays() : null;

  if (!summary.skippedDueToMismatch) {
    for (const h of planHighlightColumns(meta, namers.obs, o)) {
      // Decoded here to check the chunk and count its cells, then dropped: commit decodes it again when it writes the column.
      const produce = async (): Promise<{ column: ColumnInput; cells: number }> => {
        const cells = await bundle.readHighlightCells(h.groupId, { nObs: basis.nObs });
        const column = groupColumn(cells, basis.nObs);
        return { column: match ? onTarget(column, match.obs) : column, cells: cells.length };
      };
      writes.push({ axis: "obs", column: h.column, produce: async () => (await produce()).column });
      if (!match) {
        // Planning only checks the chunk and counts its cells: the column is made when it is written.
        summary.highlights.push({ ...h, cells: await bundle.countHighlightCells(h.groupId, { nObs: basis.nObs }) });
      } else {
        const planned = await produce();
        summary.highlights.push({ ...h, cells: countTrue(planned.column), notInData: planned.cells - countTrue(planned.column) });
      }
    }
    for (const field of candidateFields(overlays, o)) {
      const planned = await planField(bundle, basis, field, namers, o.userDefinedPrefix);
      if (planned.write && match) {
        const m = match[planned.write.axis];
        const fromBundle = planned.write.produce;
        const onData = async () => onTarget(await fromBundle(), m);
        const reference = await fromBundle();
        planned.info.notInData = labelledOutside(reference, m);
        planned.info.missing = missingCount(onTarget(reference, m));
        planned.write.produce = onData;
      }
      if (planned.write) writes.push(planned.write);
      if (planned.info.status === "skipped") warn(`user-defined field '${planned.info.key}' skipped: ${planned.info.reason}`);
      summary.fields.push(planned.info);
    }
  }

  for (const w of writes) (w.axis === "obs" ? summary.addedObsColumns : summary.addedVarColumns).push(w.column);
  return {
    summary,
    async commit(target) {
      const writeAll = async () => {
        // Lazy: each column exists in memory only while the store writes it.
        for (const w of writes) await target.setColumn(w.axis, w.column, w.produce);
        if (o.storeUns) await target.setUns(["cellucid", "session"], bookkeeping(bundle, o, meta, overlays, summary));
      };
      // Columns and their bookkeeping go in together: never columns without uns["cellucid"].
      await (target.transaction ? target.transaction(writeAll) : writeAll());
    },
  };
}

function counts(m: AxisMatch): { matched: number; onlyInData: number; onlyInReference: number } {
  return { matched: m.matched, onlyInData: m.onlyInData, onlyInReference: m.onlyInReference };
}

/**
 * A group's bool column: by its cells when they are ascending without
 * repeats (what index sets decode to), which stores encode as runs without
 * the dense bytes; dense otherwise.
 */
function groupColumn(cells: Uint32Array, nObs: number): ColumnInput {
  for (let i = 1; i < cells.length; i++) {
    if (cells[i]! <= cells[i - 1]!) {
      const values = new Uint8Array(nObs);
      for (let k = 0; k < cells.length; k++) values[cells[k]!] = 1;
      return { kind: "bool", values };
    }
  }
  return { kind: "bool", length: nObs, trueRows: cells };
}

/** A reference-shaped column on the target's rows: rows the reference lacks are False or missing. */
function onTarget(column: ColumnInput, m: AxisMatch): Column {
  const n = m.toReference.length;
  const pick = <T extends { length: number; [i: number]: number }>(src: T, out: T, absent: number): T => {
    for (let i = 0; i < n; i++) {
      const j = m.toReference[i]!;
      out[i] = j >= 0 ? src[j]! : absent;
    }
    return out;
  };
  switch (column.kind) {
    case "bool":
      return { kind: "bool", values: pick("trueRows" in column ? boolValues(column) : column.values, new Uint8Array(n), 0) };
    case "categorical": {
      const codes = column.codes as Int8Array | Int16Array | Int32Array;
      return { ...column, codes: pick(codes, new (codes.constructor as Int8ArrayConstructor)(n), -1) };
    }
    case "numeric": {
      const values = column.values as Uint8Array | Uint16Array;
      return { kind: "numeric", values: pick(values, new (values.constructor as Uint8ArrayConstructor)(n), 0) };
    }
    default:
      throw new TypeError(`a ${column.kind} column cannot be matched to the target`);
  }
}

function countTrue(c: ColumnInput): number {
  if ("trueRows" in c) return c.trueRows.length;
  let k = 0;
  if (c.kind === "bool") for (let i = 0; i < c.values.length; i++) k += c.values[i]!;
  return k;
}

function missingCount(c: Column): number {
  let k = 0;
  if (c.kind === "categorical") for (let i = 0; i < c.codes.length; i++) if (Number(c.codes[i]) === -1) k++;
  return k;
}

/** Rows of the reference with a label that the target does not have. */
function labelledOutside(c: ColumnInput, m: AxisMatch): number {
  let k = 0;
  if (c.kind === "categorical") for (let j = 0; j < c.codes.length; j++) if (!m.inData[j] && Number(c.codes[j]) !== -1) k++;
  return k;
}

/** The cell-order check, skipped (unverified) when the counts already differ. */
async function cellOrderSummary(bundle: CellucidSessionBundle, store: AnnDataStore, countsDiffer: boolean): Promise<CellOrderSummary> {
  const expected = bundle.cellOrder;
  if (expected && countsDiffer) return { status: "unverified", expected, obsmKey: null, path: null, reason: "the cell or gene counts differ, so the cell order was not checked" };
  const { digests: _digests, ...check } = await checkCellOrder(store, expected);
  return check;
}

async function planField(
  bundle: CellucidSessionBundle,
  store: AnnDataStore,
  field: UserDefinedField,
  namers: Record<Axis, ColumnNamer>,
  prefix: string,
): Promise<{ write: PendingWrite | null; info: FieldApplied }> {
  const axis = fieldSource(field);
  const categories = field.categories ?? [];
  const info: FieldApplied = { fieldId: field.id, key: field.key ?? field.id, axis, column: null, status: "skipped", reason: null, categories: categories.length, codesOutOfRange: 0, missing: 0 };
  if (!bundle.hasChunk(userDefinedCodesId(field.id))) {
    info.reason = "its codes chunk is missing";
    return { write: null, info };
  }
  const repeated = firstRepeated(categories);
  if (repeated !== null) {
    // anndata cannot read a categorical with repeated categories back: the field is refused, the others still apply.
    info.reason = `its category ${JSON.stringify(repeated)} appears more than once (categories must be unique)`;
    return { write: null, info };
  }
  const n = axis === "obs" ? store.nObs : store.nVars;
  const decode = async () => (await bundle.readUserDefinedCodes(field, { expectedLength: n })).codes;
  let codes: Uint8Array | Uint16Array;
  try {
    codes = await decode();
  } catch (err) {
    if (!(err instanceof CellucidSessionError) || err.code !== "CODES_LENGTH") throw err;
    info.reason = axis === "var" && (await isCellLength(bundle, field, store.nObs))
      ? `it is a var field with one code per cell (n_obs ${store.nObs}), as the web app writes them, not one per gene (n_vars ${n})`
      : `its codes length does not match n_${axis === "obs" ? "obs" : "vars"} ${n}`;
    return { write: null, info };
  }
  const column = namers[axis].claim(fieldColumnBase(field, prefix));
  info.column = column;
  info.status = "added";
  if (categories.length === 0) return { write: { axis, column, produce: async () => ({ kind: "numeric", values: await decode() }) }, info };
  const counted = categoricalFromCodes(codes, categories);
  info.codesOutOfRange = counted.outside;
  info.missing = counted.missing;
  return { write: { axis, column, produce: async () => categoricalFromCodes(await decode(), categories).column }, info };
}

/** The web app's codes as an anndata categorical: its missing marker, and codes past the categories, become missing (−1). */
function categoricalFromCodes(codes: Uint8Array | Uint16Array, categories: string[]): { column: Column; outside: number; missing: number } {
  const n = codes.length;
  const out = codesArrayFor(categories.length, n);
  const marker = missingMarkerOf(codes);
  let outside = 0;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (c < categories.length && c !== marker) out[i] = c;
    else {
      out[i] = -1;
      missing++;
      if (c !== marker) outside++;
    }
  }
  return { column: { kind: "categorical", codes: out, categories: [...categories], ordered: false }, outside, missing };
}

async function isCellLength(bundle: CellucidSessionBundle, field: UserDefinedField, nObs: number): Promise<boolean> {
  try {
    await bundle.readUserDefinedCodes(field, { expectedLength: nObs });
    return true;
  } catch {
    return false;
  }
}

/**
 * uns["cellucid"]["session"]: kept writable by Python anndata to .h5ad and
 * .zarr, so lists of objects are JSON text and dicts hold no nulls.
 */
function bookkeeping(
  bundle: CellucidSessionBundle,
  o: typeof APPLY_DEFAULTS,
  meta: unknown,
  overlays: unknown,
  summary: ApplySummary,
): UnsDict {
  // One string array per property, a row per group (pd.DataFrame(...) reads it as a table): a handful of
  // arrays whatever the group count, where a dict per group made thousands of array nodes (a file each in .zarr).
  const hs = summary.highlights;
  const groups: UnsDict = {
    column: hs.map((h) => h.column),
    group_id: hs.map((h) => h.groupId),
    label: hs.map((h) => h.label),
    page_id: hs.map((h) => h.pageId),
    page_name: hs.map((h) => h.pageName ?? ""),
  };
  const entry: UnsDict = {
    manifest_json: JSON.stringify(bundle.manifest),
    dataset_fingerprint: dropNulls(bundle.datasetFingerprint ?? {}),
    options: dropNulls({
      dataset_mismatch: o.datasetMismatch,
      expected_dataset_id: o.expectedDatasetId,
      add_highlights: o.addHighlights,
      highlights_prefix: o.highlightsPrefix,
      highlight_names: o.highlightNames,
      add_user_defined_fields: o.addUserDefinedFields,
      user_defined_prefix: o.userDefinedPrefix,
      include_deleted_user_defined_fields: o.includeDeletedUserDefinedFields,
      store_uns: o.storeUns,
      column_conflict: o.columnConflict,
    }),
    highlight_groups: groups,
    added_obs_columns: summary.addedObsColumns,
    added_var_columns: summary.addedVarColumns,
    skipped_due_to_mismatch: summary.skippedDueToMismatch,
    mismatch_reasons: summary.mismatchReasons,
    cell_order: dropNulls({
      status: summary.cellOrder.status,
      dimension: summary.cellOrder.expected?.dimension,
      digest: summary.cellOrder.expected?.digest,
      obsm_key: summary.cellOrder.obsmKey,
      loading_path: summary.cellOrder.path,
      reason: summary.cellOrder.reason,
    }),
  };
  if (summary.reference) {
    const { source, obs, var: genes } = summary.reference;
    entry["reference"] = {
      source, obs_matched: obs.matched, obs_only_in_data: obs.onlyInData, obs_only_in_reference: obs.onlyInReference,
      var_matched: genes.matched, var_only_in_data: genes.onlyInData, var_only_in_reference: genes.onlyInReference,
    };
  }
  if (meta) entry["highlights_meta_json"] = JSON.stringify(meta);
  if (overlays) entry["field_overlays_json"] = JSON.stringify(overlays);
  return entry;
}

/** Keeps string, number and boolean values; anndata cannot write None, nested objects become JSON text. */
function dropNulls(obj: Record<string, unknown>): UnsDict {
  const out: UnsDict = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined) continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = v;
    else out[k] = JSON.stringify(v);
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
