/** The library writer's canonical bundles: what the app's Load State accepts, and refusals that name the rule. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellucidSessionBundle, CellucidSessionError, MemoryAnnData, SessionWriter, applyCellucidSessionToAnnData, createSessionWriter, validateBundle } from "../src/node/index.js";

const N = 300;
const FP = { sourceType: "local-user", datasetId: "d", cellCount: N, varCount: 9, cellOrder: { dimension: 2 as const, digest: "0123456789abcdef" } };

function writer(extra: Record<string, unknown> = {}): SessionWriter {
  return createSessionWriter({ datasetFingerprint: FP, createdAt: "2026-11-20T14:03:12.000Z", ...extra });
}

test("a canonical bundle: exact manifest and chunk keys, the app's order, labels, singletons, ids, colours, types, u16 from 255 categories", async () => {
  const w = writer({ activeFieldId: "many" });
  w.addHighlightPage({ name: "First", groups: [{ label: "box", type: "rectangle", cells: [5, 1, 3] }, { label: "loop", cells: [7] }] });
  w.addHighlightPage({ name: "Second", groups: [{ label: "T", type: "category", fieldKey: "cell type", fieldIndex: 0, fieldSource: "obs", categoryIndex: 0, categoryName: "T", cells: [2] }] }, { active: true });
  w.addUserDefinedField({ id: "few", key: "calls", categories: ["a", true, 3], codes: Array.from({ length: N }, (_, i) => (i < 100 ? i % 3 : -1)) });
  w.addUserDefinedField({ id: "many", key: "clusters", categories: Array.from({ length: 255 }, (_, i) => `c${i}`), codes: Array.from({ length: N }, (_, i) => (i < 255 ? i : -1)) });
  const b = await CellucidSessionBundle.fromBytes(await w.toBytes());
  assert.deepEqual(Object.keys(b.manifest), ["createdAt", "datasetFingerprint", "chunks"]);
  assert.deepEqual(Object.keys(b.datasetFingerprint!), ["sourceType", "datasetId", "cellCount", "varCount", "cellOrder"]);
  for (const c of b.manifest.chunks) assert.deepEqual(Object.keys(c).sort(), ["codec", "contributorId", "datasetDependent", "id", "kind", "label", "priority", "storedBytes", "uncompressedBytes"]);
  assert.deepEqual(b.listChunkIds(), [
    "core/field-overlays", "user-defined/codes/many", "cinematic/camera", "core/state", "ui/dockable-layout", "analysis/windows", "highlights/meta", "analysis/cache-inventory",
    "user-defined/codes/few", "highlights/cells/highlight_1", "highlights/cells/highlight_2", "highlights/cells/highlight_3",
  ]);
  assert.ok(b.manifest.chunks.every((c) => c.codec === "gzip"));
  assert.equal(b.getChunkMeta("highlights/cells/highlight_1").label, "Highlight cells: box");
  assert.equal(b.getChunkMeta("user-defined/codes/few").label, "User-defined codes: calls");
  const meta = (await b.decodeChunk("highlights/meta")) as { pages: { id: string; color: string; highlightedGroups: { id: string; type: string }[] }[]; activePageId: string };
  assert.deepEqual(meta.pages.map((p) => [p.id, p.color, p.highlightedGroups.map((g) => [g.id, g.type])]), [
    ["page_1", "#1f77b4", [["highlight_1", "lasso"], ["highlight_2", "lasso"]]],
    ["page_2", "#ff7f0e", [["highlight_3", "category"]]],
  ]);
  assert.equal(meta.activePageId, "page_2");
  const fields = await b.userDefinedFields();
  assert.deepEqual(fields.map((f) => [f.id, f.codesType]), [["few", "Uint8Array"], ["many", "Uint16Array"]]);
  const state = (await b.decodeChunk("core/state")) as { liveDimensionLevel: number; activeFields: unknown };
  assert.equal(state.liveDimensionLevel, 2);
  assert.deepEqual(state.activeFields, { activeFieldKey: "clusters", activeFieldSource: "obs" });
  const report = await validateBundle(b, { target: "webapp" });
  assert.deepEqual(report.errors, []);
  // Without the app's own record of its controls, core/state cannot list them (README: web app limits).
  assert.deepEqual(report.warnings.map((w) => w.code), ["WEBAPP_UI_CONTROLS_INCOMPLETE"]);

  // Unlabelled cells are the missing marker, and become missing values when applied.
  const { codes } = await b.readUserDefinedCodes(fields[1]!);
  assert.ok(codes instanceof Uint16Array);
  assert.equal(codes[299], 65535);
  const adata = new MemoryAnnData({ obs: { index: Array.from({ length: N }, (_, i) => `c${i}`) }, var: { index: Array.from({ length: 9 }, (_, i) => `g${i}`) } });
  const { summary } = await applyCellucidSessionToAnnData(b, adata, { returnSummary: true });
  assert.deepEqual(summary.fields.map((f) => [f.key, f.missing, f.codesOutOfRange]), [["calls", 200, 0], ["clusters", 45, 0]]);
});

test("a session with nothing in it still carries every singleton and one empty page", async () => {
  const b = await CellucidSessionBundle.fromBytes(await writer().toBytes());
  assert.equal(b.listChunkIds().length, 7);
  assert.deepEqual((await validateBundle(b, { target: "webapp" })).errors, []);
});

function refuses(rule: string, fn: () => unknown): Promise<void> {
  return assert.rejects(async () => fn(), (err: unknown) => err instanceof CellucidSessionError && err.code === "NOT_APP_LOADABLE" && err.message.startsWith(rule + ":") && /pass canonical: false/.test(err.message));
}

test("input the app would refuse is an error naming the rule", async () => {
  await refuses("WEBAPP_EMPTY_GROUP", () => writer().addHighlightPage({ name: "p", groups: [{ label: "draft", cells: [] }] }));
  await refuses("WEBAPP_HIGHLIGHT_IDS", () => writer().addHighlightPage({ id: "page-1", name: "p", groups: [] }));
  await refuses("WEBAPP_HIGHLIGHT_IDS", () => writer().addHighlightPage({ name: "p", groups: [{ id: "grp", cells: [1] }] }));
  await refuses("WEBAPP_PAGE_COLOR", () => writer().addHighlightPage({ name: "p", color: "red", groups: [] }));
  await refuses("WEBAPP_GROUP_TYPE", () => writer().addHighlightPage({ name: "p", groups: [{ type: "polygon", cells: [1] }] }));
  await refuses("WEBAPP_FIELD_CODES", () => writer().addUserDefinedField({ id: "g", key: "genes", source: "var", categories: ["m"], codes: new Uint8Array(9) }));
  await refuses("WEBAPP_CODES", () => writer().addUserDefinedField({ id: "f", key: "f", categories: ["a"], codes: new Uint8Array(N).fill(3) }));
  await refuses("WEBAPP_UNKNOWN_CONTRIBUTOR", () => writer().addJsonChunk("plugins/notes", {}, { contributorId: "notes" }));
  await refuses("WEBAPP_NO_CELL_ORDER", () => createSessionWriter({ datasetFingerprint: { ...FP, cellOrder: undefined } }).toBytes());
  await refuses("WEBAPP_CELL_ORDER", () => createSessionWriter({ datasetFingerprint: { ...FP, cellOrder: { dimension: 2, digest: "xyz" } } }).toBytes());
  await refuses("WEBAPP_OVERLAYS_SHAPE", () => { const w = writer(); w.addUserDefinedField({ id: "f", key: "a:b", categories: ["a"], codes: new Uint8Array(N) }); return w.toBytes(); });
  await refuses("WEBAPP_FIELD_ID", () => { const w = writer(); w.addUserDefinedField({ id: "a b", key: "k", categories: ["a"], codes: new Uint8Array(N) }); return w.toBytes(); });
});

test("canonical: false still writes the permissive layout (an empty group, a var field per gene, dataSource)", async () => {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { cellCount: N, varCount: 9 }, dataSource: { sourceType: "x" } });
  w.addHighlightPage({ id: "p", groups: [{ id: "empty", cells: [] }] });
  w.addUserDefinedField({ id: "g", key: "genes", source: "var", categories: ["m"], codes: new Uint8Array(9) });
  const b = await CellucidSessionBundle.fromBytes(await w.toBytes());
  assert.ok("dataSource" in b.manifest);
  assert.equal((await validateBundle(b)).valid, true);
  assert.equal((await validateBundle(b, { target: "webapp" })).valid, false);
});
