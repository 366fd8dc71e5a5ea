/** The viewer's Save/Load State in Node (no DOM needed): canonical saves, and old bundles made loadable. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellucidSessionBundle, createSessionWriter, embeddingCellOrderDigest, validateBundle } from "../src/node/index.js";
import { buildBundle, restoreBundle, type ViewSnapshot } from "../web/src/session-io.js";
import { ViewerState } from "../web/src/state.js";
import type { ViewerConfig } from "../web/src/api.js";

const N = 50;
const umap = Float32Array.from({ length: N * 2 }, (_, i) => Math.sin(i * 1.7) * 5 + (i % 2) * 3);
const pca = Float32Array.from({ length: N * 3 }, (_, i) => Math.cos(i * 0.3) * 2);
const config = (embeddings: { key: string; dims: number }[]): ViewerConfig => ({
  viewerId: "v", viewerToken: "t",
  dataset: { name: "d.h5ad", nObs: N, nVars: 7, fingerprint: { sourceType: "local-user", datasetId: "d" }, embeddings, obsCategoricals: [], obsNumeric: [], x: { readable: false, layers: [] }, hasSession: false },
  autosave: { enabled: false, saved: null },
});
const load = async (key: string) => (key === "X_umap" ? umap : pca);
const view: ViewSnapshot = { embedding: "X_pca", axes: [0, 2], rotation: { yaw: 30, pitch: 0 }, colorBy: null, camera: { cx: 0.5, cy: -0.25, scale: 2 } };

async function legacyBundle(): Promise<Uint8Array> {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "d", cellCount: N, varCount: 7 } });
  w.addJsonChunk("core/state", { viewer: "cellucid-session", ...view }, { contributorId: "core-state" });
  w.addHighlightPage({ id: "page-1", name: "Mine", groups: [{ id: "grp-a", label: "box", type: "rectangle", cells: [1, 2, 3] }, { id: "grp-empty", label: "draft", cells: [] }] });
  w.addUserDefinedField({ id: "udf a", key: "calls", categories: ["x", "y"], codes: Array.from({ length: N }, (_, i) => (i < 10 ? 1 : 255)) });
  w.addUserDefinedField({ id: "genes", key: "markers", source: "var", categories: ["m"], codes: new Uint8Array(7) });
  w.addJsonChunk("plugins/notes", { note: 1 }, { contributorId: "notes" });
  return w.toBytes();
}

test("an old bundle loads with app ids and keeps what the app cannot load; a canonical save leaves that out, a permissive one keeps it", async () => {
  const state = new ViewerState(N);
  const cfg = config([{ key: "X_umap", dims: 2 }, { key: "X_pca", dims: 3 }]);
  const r = await restoreBundle(await legacyBundle(), state, cfg, "old.cellucid-session");
  assert.deepEqual(r.view, view);
  assert.deepEqual(state.pages.map((p) => [p.id, p.groups.map((g) => [g.id, g.type, g.cells.length])]), [["page_1", [["highlight_1", "rectangle", 3], ["highlight_2", "selection", 0]]]]);
  assert.equal(state.fields[0]!.id.startsWith("udf-"), true);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(state.carried.notForApp, ["gene field 'markers'", "chunk 'plugins/notes'"]);

  // Kept: a bundle for this tool and Python holds the gene field and the foreign chunk as they came in.
  const kept = await CellucidSessionBundle.fromBlob(await buildBundle(state, cfg, view, load, false));
  assert.equal(kept.manifest.canonical === true, false);
  const keptFields = await kept.userDefinedFields();
  const genes = keptFields.find((f) => f.key === "markers")!;
  assert.equal(genes.source, "var");
  assert.deepEqual([...(await kept.readUserDefinedCodes(genes)).codes], [0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(await kept.decodeChunk("plugins/notes"), { note: 1 });
  const reloaded = new ViewerState(N);
  await restoreBundle(await buildBundle(state, cfg, view, load, false), reloaded, cfg, "kept");
  assert.deepEqual(reloaded.carried.notForApp, ["gene field 'markers'", "chunk 'plugins/notes'"]);

  const blob = await buildBundle(state, cfg, view, load);
  const saved = await CellucidSessionBundle.fromBlob(blob);
  assert.deepEqual((await validateBundle(saved, { target: "webapp" })).errors, []);
  assert.equal(saved.hasChunk("plugins/notes"), false);
  // X_pca is not an embedding the app shows: the cellOrder is the app's default, 2D X_umap.
  assert.deepEqual(saved.cellOrder, { dimension: 2, digest: embeddingCellOrderDigest(umap, N, 2, "python") });
  const pages = await saved.highlightPages();
  assert.deepEqual(pages.map((p) => p.groups.map((g) => [g.id, g.type, g.cells.length])), [[["highlight_1", "lasso", 3]]]);
  const [field] = await saved.userDefinedFields();
  assert.deepEqual(field!.categories, ["x", "y"]);
  const { codes } = await saved.readUserDefinedCodes(field!);
  assert.equal(codes[0], 1);
  assert.equal(codes[20], 255);

  // The app refuses a control its page does not have, so a canonical save carries no view of ours.
  const again = new ViewerState(N);
  const r2 = await restoreBundle(blob, again, cfg, "saved");
  assert.equal(r2.view, null);
  assert.deepEqual(r2.warnings, []);
});

test("a dataset without an embedding the app shows: the cellOrder is the digest of the two axes on screen", async () => {
  const state = new ViewerState(N);
  state.setSelection(Uint32Array.from([4, 5]));
  state.addGroup(Uint32Array.from([4, 5]), "lasso");
  const saved = await CellucidSessionBundle.fromBlob(await buildBundle(state, config([{ key: "X_pca", dims: 3 }]), view, load));
  const xy = new Float32Array(N * 2);
  for (let i = 0; i < N; i++) [xy[2 * i], xy[2 * i + 1]] = [pca[3 * i]!, pca[3 * i + 2]!];
  assert.deepEqual(saved.cellOrder, { dimension: 2, digest: embeddingCellOrderDigest(xy, N, 2, "python") });
});

test("a field nobody gave a category is not saved (the app has no field without categories)", async () => {
  const state = new ViewerState(N);
  state.addField("empty");
  const saved = await CellucidSessionBundle.fromBlob(await buildBundle(state, config([{ key: "X_umap", dims: 2 }]), { ...view, embedding: "X_umap" }, load));
  assert.deepEqual(await saved.userDefinedFields(), []);
  assert.deepEqual((await validateBundle(saved, { target: "webapp" })).errors, []);
});

test("Load State refuses a bundle whose cell order is not this dataset's, before anything changes", async () => {
  const cfg = config([{ key: "X_umap", dims: 2 }]);
  const state = new ViewerState(N);
  state.addGroup(Uint32Array.from([1, 2]), "lasso");
  const blob = await buildBundle(state, cfg, { ...view, embedding: "X_umap" }, load);
  const fresh = new ViewerState(N);
  await restoreBundle(blob, fresh, cfg, "same", load);
  assert.equal(fresh.pages[0]!.groups.length, 1);

  const reversed = Float32Array.from({ length: N * 2 }, (_, i) => umap[(N - 1 - Math.floor(i / 2)) * 2 + (i % 2)]!);
  const other = new ViewerState(N);
  await assert.rejects(restoreBundle(blob, other, cfg, "reordered", async () => reversed), (err: Error) =>
    err.name === "FingerprintMismatchError" && /^Dataset fingerprint mismatch: cell order: cellOrder digest [0-9a-f]{16} != [0-9a-f]{16} \(obsm 'X_umap', 2D\): the cells are stored in a different order, or the embedding was recomputed$/.test(err.message));
  assert.equal(other.pages[0]!.groups.length, 0);

  // Saved on a 3D view the dataset does not have: another view, refused as the app does.
  const cfg3 = config([{ key: "X_umap_3d", dims: 3 }]);
  await assert.rejects(restoreBundle(blob, new ViewerState(N), cfg3, "other-view", async () => pca), /cell order: the session was saved on the 2D view, and the data's embeddings the web app shows are 3D \(X_umap_3d\): another view/);
});

test("undo/redo walk back and forth through every change; assign can spare labelled cells and counts what it would overwrite", () => {
  const state = new ViewerState(N);
  assert.equal(state.canUndo, false);
  const g = state.addGroup(Uint32Array.from([1, 2, 3]), "lasso");
  const f = state.addField("calls");
  state.addCategory(f.id, "T");
  state.addCategory(f.id, "B");
  assert.equal(state.assign(f.id, 0, [1, 2]), 2);
  assert.equal(state.overwriteCount(f.id, 1, g.cells), 2);
  assert.equal(state.assign(f.id, 1, g.cells, { onlyUnlabelled: true }), 1);
  assert.deepEqual([...state.fields[0]!.codes.slice(0, 5)], [255, 0, 0, 1, 255]);
  state.deleteGroup(g.id);
  assert.equal(state.pages[0]!.groups.length, 0);
  assert.ok(state.undo());
  assert.equal(state.pages[0]!.groups.length, 1);
  assert.ok(state.undo());
  assert.deepEqual([...state.fields[0]!.codes.slice(0, 5)], [255, 0, 0, 255, 255], "the assignment is undone, the earlier one kept");
  assert.ok(state.redo());
  assert.deepEqual([...state.fields[0]!.codes.slice(0, 5)], [255, 0, 0, 1, 255]);
  while (state.undo());
  assert.deepEqual([state.pages[0]!.groups.length, state.fields.length], [0, 0]);
  state.addPage("new");
  assert.equal(state.canRedo, false, "a new change drops the redo steps");
});

test("group set operations make new groups; an empty result makes none", () => {
  const state = new ViewerState(N);
  const a = state.addGroup(Uint32Array.from([1, 2, 3, 7]), "lasso");
  const b = state.addGroup(Uint32Array.from([2, 3, 9]), "lasso");
  assert.deepEqual([...state.combineGroups(a.id, b.id, "union").cells], [1, 2, 3, 7, 9]);
  assert.deepEqual([...state.combineGroups(a.id, b.id, "intersection").cells], [2, 3]);
  assert.deepEqual([...state.combineGroups(a.id, b.id, "difference").cells], [1, 7]);
  const c = state.addGroup(Uint32Array.from([40]), "lasso");
  assert.throws(() => state.combineGroups(a.id, c.id, "intersection"), /has no cells: no group made/);
  assert.equal(state.pages[0]!.groups.length, 6);
});

test("combined groups are saved as the app's 'combined' type, in a bundle the web app loads", async () => {
  const state = new ViewerState(N);
  const a = state.addGroup(Uint32Array.from([1, 2, 3]), "lasso");
  const b = state.addGroup(Uint32Array.from([3, 4]), "rectangle");
  state.combineGroups(a.id, b.id, "union");
  const cfg = config([{ key: "X_umap", dims: 2 }]);
  const saved = await CellucidSessionBundle.fromBlob(await buildBundle(state, cfg, { ...view, embedding: "X_umap" }, load));
  assert.deepEqual((await validateBundle(saved, { target: "webapp" })).errors, []);
  assert.deepEqual((await saved.highlightPages())[0]!.groups.map((g) => [g.type, g.cells.length]), [["lasso", 3], ["lasso", 2], ["combined", 4]]);
});

test("the app's control record from a bundle the app saved goes back out with the next save, canonical or autosave, so the app loads it again", async () => {
  const cfg = config([{ key: "X_umap", dims: 2 }]);
  const cellOrder = { dimension: 2, digest: embeddingCellOrderDigest(umap, N, 2, "python") };
  const controls = {
    "accordion:visualization-section": { type: "details", open: true },
    "accordion:coloring-filtering-section": { type: "details", open: false },
    "accordion:compare-views-section": { type: "details", open: false },
    "point-size": { type: "range", value: "4" },
    "show-axes": { type: "checkbox", checked: true },
  };
  const app = createSessionWriter({ datasetFingerprint: { sourceType: "local-user", datasetId: "d", cellCount: N, varCount: 7, cellOrder }, uiControls: controls });
  app.addHighlightPage({ id: "page_1", name: "P", groups: [{ id: "highlight_1", label: "g", type: "lasso", cells: [1, 2] }] });
  const state = new ViewerState(N);
  await restoreBundle(await app.toBytes(), state, cfg, "from-app.cellucid-session", load);
  assert.deepEqual(state.carried.uiControls, controls);

  const uiControlsOf = async (b: CellucidSessionBundle) => ((await b.decodeChunk("core/state")) as { uiControls: unknown }).uiControls;
  const saved = await CellucidSessionBundle.fromBlob(await buildBundle(state, cfg, { ...view, embedding: "X_umap" }, load));
  assert.deepEqual(await uiControlsOf(saved), controls);
  const report = await validateBundle(saved, { target: "webapp" });
  assert.deepEqual(report.errors, []);
  assert.equal(report.warnings.some((w) => w.code === "WEBAPP_UI_CONTROLS_INCOMPLETE"), false);

  // An autosave (permissive) keeps the record too, so a page restored from it still saves what the app loads.
  const restored = new ViewerState(N);
  await restoreBundle(await buildBundle(state, cfg, { ...view, embedding: "X_umap" }, load, false), restored, cfg, "autosave", load);
  assert.deepEqual(restored.carried.uiControls, controls);

  // A record the app would refuse (this page's old view control among its entries) is not carried.
  const old = createSessionWriter({ datasetFingerprint: { sourceType: "local-user", datasetId: "d", cellCount: N, varCount: 7, cellOrder }, uiControls: { ...controls, "cellucid-session-view": { type: "text", value: "{}" } } });
  const fromOld = new ViewerState(N);
  await restoreBundle(await old.toBytes(), fromOld, cfg, "old-view", load);
  assert.equal(fromOld.carried.uiControls, undefined);
});
