/** SPEC §6 on the in-memory model: every option, default and edge case. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellucidSessionBundle, createSessionWriter } from "../src/node/index.js";
import { MemoryAnnData } from "../src/anndata/memory.js";
import type { Column } from "../src/anndata/model.js";
import { applyCellucidSessionToAnnData } from "../src/apply/anndata.js";
import { safeKey } from "../src/apply/naming.js";
import { binaryChunk, jsonChunk, rawBundle, rejectsWithCode } from "./helpers.js";

const N = 10;
const G = 4;

function adata(columns: Record<string, Column> = {}): MemoryAnnData {
  return new MemoryAnnData({
    obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`), columns },
    var: { index: Array.from({ length: G }, (_, i) => `gene${i}`) },
  });
}

async function bundle(fp: Record<string, unknown> = { sourceType: "t", datasetId: "ds", cellCount: N, varCount: G }) {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: fp });
  w.addHighlightPage({ id: "p1", name: "Page 1", groups: [{ id: "g-1", label: "A", cells: [0, 2] }, { id: "empty", label: "E", cells: [] }] });
  w.addHighlightPage({ id: "p2", name: "Page 2", groups: [{ id: "g 1", label: "B", cells: [9] }] });
  w.addUserDefinedField({ id: "f1", key: "my labels", categories: ["x", "y"], codes: [0, 1, 1, 0, 5, 0, 0, 1, 1, 0] });
  w.addUserDefinedField({ id: "f2", key: "gone", categories: ["a"], codes: new Array(N).fill(0), isDeleted: true });
  w.addUserDefinedField({ id: "f3", key: "genes!", source: "var", categories: ["m", "n"], codes: [1, 0, 1, 9] });
  w.addUserDefinedField({ id: "f4", key: "", categories: [], codes: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3] });
  w.addUserDefinedField({ id: "f5", key: "wide", categories: Array.from({ length: 300 }, (_, i) => `c${i}`), codes: Array.from({ length: N }, (_, i) => i * 29) });
  w.addUserDefinedField({ id: "f6", key: "short", categories: ["a"], codes: [0, 0, 0] });
  return CellucidSessionBundle.fromBytes(await w.toBytes());
}

test("safeKey follows SPEC §6.4", () => {
  assert.equal(safeKey("  my labels  "), "my_labels");
  assert.equal(safeKey("a--b//c"), "a_b_c");
  assert.equal(safeKey("a__b"), "a_b");
  assert.equal(safeKey("__x__"), "x");
  assert.equal(safeKey("!!!"), "cellucid");
  assert.equal(safeKey(""), "cellucid");
  assert.equal(safeKey("3 groups"), "_3_groups");
  assert.equal(safeKey("CD14+ Mono/é"), "CD14_Mono");
});

test("defaults: bool highlight columns, categorical fields, warnings, uns bookkeeping, input left alone", async () => {
  const src = adata();
  const { adata: out, summary } = await applyCellucidSessionToAnnData(await bundle(), src, { returnSummary: true });
  assert.deepEqual(src.columnNames("obs"), [], "inplace=false works on a copy");
  assert.deepEqual(summary.addedObsColumns, ["cellucid_highlight__g_1", "cellucid_highlight__empty", "cellucid_highlight__g_1__2", "my_labels", "f4", "wide"]);
  assert.deepEqual(summary.addedVarColumns, ["genes"]);
  const a = out.column("obs", "cellucid_highlight__g_1")!;
  assert.deepEqual(a, { kind: "bool", values: Uint8Array.from([1, 0, 1, 0, 0, 0, 0, 0, 0, 0]) });
  assert.deepEqual(out.column("obs", "cellucid_highlight__empty"), { kind: "bool", values: new Uint8Array(N) });
  assert.deepEqual([...(out.column("obs", "cellucid_highlight__g_1__2") as { values: Uint8Array }).values], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const f1 = out.column("obs", "my_labels")!;
  assert.equal(f1.kind, "categorical");
  if (f1.kind === "categorical") {
    assert.deepEqual([...f1.codes], [0, 1, 1, 0, -1, 0, 0, 1, 1, 0]);
    assert.deepEqual(f1.categories, ["x", "y"]);
    assert.equal(f1.ordered, false);
    assert.ok(f1.codes instanceof Int8Array);
  }
  const wide = out.column("obs", "wide")!;
  assert.ok(wide.kind === "categorical" && wide.codes instanceof Int16Array && wide.codes[9] === 261);
  assert.deepEqual(out.column("obs", "f4"), { kind: "numeric", values: Uint8Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3]) }, "no categories: plain integer codes, key '' falls back to the id");
  const g = out.column("var", "genes")!;
  assert.ok(g.kind === "categorical" && [...g.codes].join() === "1,0,1,-1");
  assert.equal(summary.fields.find((f) => f.fieldId === "f1")!.codesOutOfRange, 1);
  const short = summary.fields.find((f) => f.fieldId === "f6")!;
  assert.equal(short.status, "skipped");
  assert.match(short.reason!, /length does not match n_obs 10/);
  assert.ok(summary.warnings.some((w) => w.includes("'short' skipped")));
  assert.equal(summary.fields.some((f) => f.fieldId === "f2"), false, "deleted fields are left out by default");

  const session = (await out.readUns(["cellucid", "session"])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(session).sort(), ["added_obs_columns", "added_var_columns", "cell_order", "dataset_fingerprint", "field_overlays_json", "highlight_groups", "highlights_meta_json", "manifest_json", "mismatch_reasons", "options", "skipped_due_to_mismatch"]);
  assert.deepEqual(session["dataset_fingerprint"], { sourceType: "t", datasetId: "ds", cellCount: N, varCount: G });
  const table = session["highlight_groups"] as Record<string, string[]>;
  assert.deepEqual(Object.keys(table), ["column", "group_id", "label", "page_id", "page_name"]);
  const row = table["column"]!.indexOf("cellucid_highlight__g_1__2");
  assert.deepEqual(Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[row]])), { column: "cellucid_highlight__g_1__2", group_id: "g 1", label: "B", page_id: "p2", page_name: "Page 2" });
  assert.equal((session["options"] as Record<string, unknown>)["column_conflict"], "suffix");
  assert.equal(JSON.parse(session["manifest_json"] as string).chunks.length > 0, true);
});

test("option switches: prefixes, no highlights, no fields, deleted fields, no uns, inplace", async () => {
  const b = await bundle();
  const src = adata();
  const out = await applyCellucidSessionToAnnData(b, src, { inplace: true, highlightsPrefix: "hl_", userDefinedPrefix: "ud_", includeDeletedUserDefinedFields: true, storeUns: false });
  assert.equal(out, src);
  assert.deepEqual(src.columnNames("obs"), ["hl_g_1", "hl_empty", "hl_g_1__2", "ud_my_labels", "ud_gone", "ud_f4", "ud_wide"]);
  assert.equal(await src.readUns(["cellucid"]), undefined);
  const none = await applyCellucidSessionToAnnData(b, adata(), { addHighlights: false, addUserDefinedFields: false, returnSummary: true });
  assert.deepEqual([none.summary.addedObsColumns, none.summary.addedVarColumns], [[], []]);
  assert.ok(await none.adata.readUns(["cellucid", "session"]), "bookkeeping is still stored");
});

test("column conflicts: suffix (default), overwrite, error", async () => {
  const b = await bundle();
  const existing = { my_labels: { kind: "bool", values: new Uint8Array(N) } as Column, my_labels__2: { kind: "bool", values: new Uint8Array(N) } as Column };
  const s = await applyCellucidSessionToAnnData(b, adata(existing), { returnSummary: true });
  assert.ok(s.summary.addedObsColumns.includes("my_labels__3"));
  const o = await applyCellucidSessionToAnnData(b, adata(existing), { columnConflict: "overwrite", returnSummary: true });
  assert.equal(o.adata.column("obs", "my_labels")!.kind, "categorical");
  assert.deepEqual(o.adata.columnNames("obs").slice(0, 2), ["my_labels", "my_labels__2"], "overwrite keeps the column's place");
  // Same-apply clashes count too: two groups whose ids share a safeKey.
  const src = adata(existing);
  await rejectsWithCode(() => applyCellucidSessionToAnnData(b, src, { columnConflict: "error" }), "COLUMN_EXISTS", "Column already exists: cellucid_highlight__g_1");
  assert.deepEqual(src.columnNames("obs"), ["my_labels", "my_labels__2"], "a failed apply writes nothing");
});

test("highlightNames: 'label' names columns by safeKey(label), with the same conflict policy; 'id' is the default", async () => {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "t", datasetId: "ds", cellCount: N, varCount: G } });
  w.addHighlightPage({ id: "p1", name: "Page 1", groups: [{ id: "g1", label: "T cells", cells: [1] }, { id: "g2", label: "T-cells", cells: [2] }, { id: "g3", label: "B cells", cells: [3] }] });
  const b = await CellucidSessionBundle.fromBytes(await w.toBytes());
  const byLabel = await applyCellucidSessionToAnnData(b, adata({ cellucid_highlight__B_cells: { kind: "bool", values: new Uint8Array(N) } }), { returnSummary: true, highlightNames: "label" });
  assert.deepEqual(byLabel.summary.addedObsColumns, ["cellucid_highlight__T_cells", "cellucid_highlight__T_cells__2", "cellucid_highlight__B_cells__2"]);
  assert.deepEqual([...(byLabel.adata.column("obs", "cellucid_highlight__T_cells__2") as { values: Uint8Array }).values].indexOf(1), 2);
  await rejectsWithCode(() => applyCellucidSessionToAnnData(b, adata(), { highlightNames: "label", columnConflict: "error" }), "COLUMN_EXISTS", "cellucid_highlight__T_cells");
  const byId = await applyCellucidSessionToAnnData(b, adata(), { returnSummary: true });
  assert.deepEqual(byId.summary.addedObsColumns, ["cellucid_highlight__g1", "cellucid_highlight__g2", "cellucid_highlight__g3"]);
});

test("dataset mismatch: warn_skip (default), skip, error; expectedDatasetId", async () => {
  const b = await bundle({ sourceType: "t", datasetId: "ds", cellCount: N + 1, varCount: G });
  const w = await applyCellucidSessionToAnnData(b, adata(), { returnSummary: true });
  assert.equal(w.summary.skippedDueToMismatch, true);
  assert.deepEqual(w.summary.mismatchReasons, [`cellCount ${N + 1} != n_obs ${N}`]);
  assert.deepEqual(w.summary.addedObsColumns, []);
  assert.match(w.summary.warnings[0]!, /^Dataset fingerprint mismatch: cellCount 11 != n_obs 10/);
  const s = await applyCellucidSessionToAnnData(b, adata(), { datasetMismatch: "skip", returnSummary: true });
  assert.deepEqual(s.summary.warnings, []);
  assert.equal(s.summary.skippedDueToMismatch, true);
  await rejectsWithCode(() => applyCellucidSessionToAnnData(b, adata(), { datasetMismatch: "error" }), "DATASET_MISMATCH", "Dataset fingerprint mismatch: cellCount 11 != n_obs 10");
  const good = await bundle();
  await rejectsWithCode(() => applyCellucidSessionToAnnData(good, adata(), { datasetMismatch: "error", expectedDatasetId: "other" }), "DATASET_MISMATCH", "datasetId 'ds' != expected 'other'");
  const ok = await applyCellucidSessionToAnnData(good, adata(), { datasetMismatch: "error", expectedDatasetId: "ds", returnSummary: true });
  assert.equal(ok.summary.skippedDueToMismatch, false);
  // Without counts in the fingerprint nothing can mismatch.
  const bare = await bundle({ sourceType: "t", datasetId: null });
  assert.equal((await applyCellucidSessionToAnnData(bare, adata(), { datasetMismatch: "error", expectedDatasetId: "x", returnSummary: true })).summary.skippedDueToMismatch, false);
});

test("missing codes chunks are skipped with a warning; corrupt chunks fail the whole apply", async () => {
  const overlays = jsonChunk("core/field-overlays", { userDefinedFields: [{ id: "a", key: "has none", source: "obs", kind: "category", categories: ["x"] }, { id: "c", key: "cont", kind: "continuous" }] });
  const b1 = await CellucidSessionBundle.fromBytes(rawBundle([overlays], { fingerprint: { cellCount: N } }));
  const r = await applyCellucidSessionToAnnData(b1, adata(), { returnSummary: true });
  assert.deepEqual(r.summary.fields.map((f) => [f.key, f.status, f.reason]), [["has none", "skipped", "its codes chunk is missing"]]);
  const meta = jsonChunk("highlights/meta", { pages: [{ id: "p", highlightedGroups: [{ id: "ok" }] }] });
  const bad = await CellucidSessionBundle.fromBytes(rawBundle([meta, binaryChunk("highlights/cells/ok", Uint8Array.from([1, 3])), overlays, binaryChunk("user-defined/codes/a", Uint8Array.from([2, N, 1, 0, N - 1]))], { fingerprint: { cellCount: N } }));
  const src = adata();
  await rejectsWithCode(() => applyCellucidSessionToAnnData(bad, src, { inplace: true }), "RLE_INVALID");
  assert.deepEqual(src.columnNames("obs"), []);
  assert.equal(await src.readUns(["cellucid"]), undefined);
});

test("bundle.applyToAnnData mirrors the Python method", async () => {
  const b = await bundle();
  const src = adata();
  const out = await b.applyToAnnData(src);
  assert.notEqual(out, src);
  assert.equal(out.columnNames("obs").length, 6);
  const { summary } = await b.applyWithSummary(src, { inplace: true, addUserDefinedFields: false });
  assert.deepEqual(summary.addedObsColumns, ["cellucid_highlight__g_1", "cellucid_highlight__empty", "cellucid_highlight__g_1__2"]);
  assert.equal(src.columnNames("obs").length, 3);
});

test("MemoryAnnData holds X, layers and obsm: a gene column, a row block, an embedding", async () => {
  const X = { shape: [3, 2] as [number, number], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
  const a = new MemoryAnnData({
    obs: { index: ["c0", "c1", "c2"] }, var: { index: ["g0", "g1"] }, X,
    layers: { counts: { shape: [3, 2], data: new Float32Array([10, 20, 30, 40, 50, 60]) } },
    obsm: { X_umap: { shape: [3, 2], data: new Float32Array(6) } },
  });
  assert.deepEqual([...(await a.readXColumn(1))], [2, 4, 6]);
  assert.deepEqual([...(await a.readXColumn(0, { layer: "counts" }))], [10, 30, 50]);
  assert.deepEqual(await a.readXRows(1, 3), { shape: [2, 2], data: new Float32Array([3, 4, 5, 6]) });
  assert.deepEqual(a.obsmShape("X_umap"), [3, 2]);
  assert.deepEqual(a.layerKeys(), ["counts"]);
  await assert.rejects(a.readXColumn(2), { code: "NO_SUCH_COLUMN" });
  await assert.rejects(a.readXColumn(0, { layer: "nope" }), { code: "NO_SUCH_COLUMN" });
  assert.throws(() => new MemoryAnnData({ obs: { index: ["c0"] }, var: { index: ["g0"] }, X }), { code: "BAD_LENGTH" });
});
