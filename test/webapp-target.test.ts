/** `validate --target webapp`: a bundle built to the app's rules passes; breaking each rule once names that rule. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CellucidSessionBundle, encodeCodes, validateBundle } from "../src/node/index.js";
import { cli, withTempDir } from "./helpers.js";
import { type AppParts, appParts, assemble, find } from "./webapp-fixture.js";

async function webappErrors(parts: AppParts): Promise<string[]> {
  const b = await CellucidSessionBundle.fromBytes(assemble(parts), { name: "app.cellucid-session" });
  const report = await validateBundle(b, { target: "webapp" });
  return report.errors.map((e) => `${e.code}: ${e.message}`);
}

type Meta = Record<string, unknown>;
const meta = (p: AppParts) => find(p, "highlights/meta").value as { pages: { id: string; color?: string; highlightedGroups: Meta[] }[]; activePageId: string } & Meta;
const state = (p: AppParts) => find(p, "core/state").value as Meta;
const controls = (p: AppParts) => state(p)["uiControls"] as Meta;
const overlays = (p: AppParts) => find(p, "core/field-overlays").value as { userDefinedFields: Meta[] } & Meta;

test("a bundle built to the app's rules passes, plainly and for the webapp", async () => {
  const b = await CellucidSessionBundle.fromBytes(assemble(appParts()));
  const plain = await validateBundle(b);
  assert.deepEqual(plain.errors, []);
  assert.deepEqual(plain.warnings, []);
  assert.deepEqual(await webappErrors(appParts()), []);
});

test("core/state: uiControls without the sections the current app has is a warning that names them, not an error", async () => {
  const parts = appParts();
  delete controls(parts)["accordion:compare-views-section"];
  const b = await CellucidSessionBundle.fromBytes(assemble(parts), { name: "app.cellucid-session" });
  const report = await validateBundle(b, { target: "webapp" });
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.warnings.map((w) => [w.code, w.chunkId]), [["WEBAPP_UI_CONTROLS_INCOMPLETE", "core/state"]]);
  assert.match(report.warnings[0]!.message, /uiControls lacks accordion:compare-views-section: the app compares uiControls with every control of its page/);
  // Plain validate does not look at the app's view state.
  assert.deepEqual((await validateBundle(b)).warnings, []);
});

const breaks: [string, string, (p: AppParts) => void][] = [
  ["manifest with dataSource", "WEBAPP_MANIFEST_KEYS", (p) => { p.manifest["dataSource"] = null; }],
  ["manifest with summary", "WEBAPP_MANIFEST_KEYS", (p) => { p.manifest["summary"] = {}; }],
  ["createdAt not canonical", "WEBAPP_CREATED_AT", (p) => { p.manifest["createdAt"] = "2026-11-20T14:03:12Z"; }],
  ["fingerprint without cellOrder", "WEBAPP_NO_CELL_ORDER", (p) => { delete p.fingerprint["cellOrder"]; }],
  ["fingerprint with an extra key", "WEBAPP_FINGERPRINT", (p) => { p.fingerprint["userPath"] = null; }],
  ["cellOrder digest in upper case", "WEBAPP_CELL_ORDER", (p) => { p.fingerprint["cellOrder"] = { dimension: 2, digest: "0123456789ABCDEF" }; }],
  ["cellOrder dimension 4", "WEBAPP_CELL_ORDER", (p) => { p.fingerprint["cellOrder"] = { dimension: 4, digest: "0123456789abcdef" }; }],
  ["chunk entry with dependsOn", "WEBAPP_CHUNK_KEYS", (p) => { find(p, "highlights/cells/highlight_1").meta["dependsOn"] = ["highlights/meta"]; }],
  ["chunk entry without storedBytes", "WEBAPP_CHUNK_KEYS", (p) => { find(p, "analysis/windows").meta["storedBytes"] = undefined; }],
  ["unknown contributor", "WEBAPP_UNKNOWN_CONTRIBUTOR", (p) => { p.chunks.push({ meta: { id: "plugins/x", contributorId: "x", priority: "lazy", kind: "json", codec: "gzip", label: "x", datasetDependent: false }, value: {} }); }],
  ["singleton relabelled", "WEBAPP_CHUNK_PROFILE", (p) => { find(p, "core/state").meta["label"] = "Viewer state"; }],
  ["singleton stored without gzip", "WEBAPP_CHUNK_PROFILE", (p) => { find(p, "analysis/windows").meta["codec"] = "none"; }],
  ["cells chunk made eager", "WEBAPP_CHUNK_ORDER", (p) => { const c = find(p, "highlights/cells/highlight_1"); c.meta["priority"] = "eager"; }],
  ["codes chunk not gzip", "WEBAPP_CHUNK_PROFILE", (p) => { find(p, "user-defined/codes/qc").meta["codec"] = "none"; }],
  ["contributors out of order", "WEBAPP_CHUNK_ORDER", (p) => { const i = p.chunks.findIndex((c) => c.meta["id"] === "core/state"); const [c] = p.chunks.splice(i, 1); p.chunks.splice(1, 0, c!); }],
  ["codes before field overlays", "WEBAPP_CHUNK_ORDER", (p) => { const [c] = p.chunks.splice(1, 1); p.chunks.unshift(c!); }],
  ["missing cinematic/camera", "WEBAPP_MISSING_SINGLETON", (p) => { p.chunks = p.chunks.filter((c) => c.meta["id"] !== "cinematic/camera"); }],
  ["missing cache inventory", "WEBAPP_MISSING_SINGLETON", (p) => { p.chunks = p.chunks.filter((c) => c.meta["id"] !== "analysis/cache-inventory"); }],
  ["cache inventory listing a chunk that is not there", "WEBAPP_CACHE_INVENTORY", (p) => { find(p, "analysis/cache-inventory").value = { artifactIds: ["analysis/artifacts/bulk-gene/k/g/page_1"] }; }],
  ["core/state with an extra key", "WEBAPP_CORE_STATE", (p) => { state(p)["viewer"] = "cellucid-session"; }],
  ["core/state on a 4D view", "WEBAPP_CORE_STATE", (p) => { state(p)["liveDimensionLevel"] = 4; }],
  ["a control of a type the app does not record (our viewer's old view control)", "WEBAPP_CORE_STATE", (p) => { controls(p)["cellucid-session-view"] = { type: "hidden", value: "{}" }; }],
  ["a control its own contributor saves", "WEBAPP_CORE_STATE", (p) => { controls(p)["dimension-select"] = { type: "select", value: "2" }; }],
  ["a checkbox with a value", "WEBAPP_CORE_STATE", (p) => { controls(p)["hp-lod-enabled"] = { type: "checkbox", checked: false, value: "on" }; }],
  ["a range that is not a number", "WEBAPP_CORE_STATE", (p) => { controls(p)["point-size"] = { type: "range", value: "big" }; }],
  ["an uppercase colour", "WEBAPP_CORE_STATE", (p) => { controls(p)["connectivity-color"] = { type: "color", value: "#4A4A4A" }; }],
  ["an accordion that is not details", "WEBAPP_CORE_STATE", (p) => { controls(p)["accordion:visualization-section"] = { type: "checkbox", checked: true }; }],
  ["an unknown render mode", "WEBAPP_CORE_STATE", (p) => { controls(p)["render-mode"] = { type: "select", value: "voxels" }; }],
  ["smoke with kept snapshots", "WEBAPP_CORE_STATE", (p) => { controls(p)["render-mode"] = { type: "select", value: "smoke" }; (state(p)["multiview"] as { snapshots: unknown[] }).snapshots.push({ id: "s1" }); }],
  ["an active field without a source", "WEBAPP_CORE_STATE", (p) => { state(p)["activeFields"] = { activeFieldKey: "cell type", activeFieldSource: null }; }],
  ["an active var field as the app no longer writes it", "WEBAPP_CORE_STATE", (p) => { state(p)["activeFields"] = { activeFieldKey: null, activeFieldSource: null, activeVarFieldKey: null }; }],
  ["multiview without liveCameraState", "WEBAPP_CORE_STATE", (p) => { delete (state(p)["multiview"] as Meta)["liveCameraState"]; }],
  ["highlights with activePageName", "WEBAPP_HIGHLIGHTS_SHAPE", (p) => { meta(p)["activePageName"] = "Page 1"; }],
  ["page id page-1", "WEBAPP_HIGHLIGHT_IDS", (p) => { meta(p).pages[0]!.id = "page-1"; meta(p).activePageId = "page-1"; }],
  ["group id grp-1", "WEBAPP_HIGHLIGHT_IDS", (p) => { meta(p).pages[0]!.highlightedGroups[0]!["id"] = "grp-1"; }],
  ["page colour missing", "WEBAPP_HIGHLIGHTS_SHAPE", (p) => { delete meta(p).pages[0]!.color; }],
  ["page colour not #rrggbb", "WEBAPP_PAGE_COLOR", (p) => { meta(p).pages[0]!.color = "blue"; }],
  ["group type rectangle", "WEBAPP_GROUP_TYPE", (p) => { meta(p).pages[0]!.highlightedGroups[0]!["type"] = "rectangle"; }],
  ["category group without its field binding", "WEBAPP_HIGHLIGHTS_SHAPE", (p) => { delete meta(p).pages[0]!.highlightedGroups[1]!["categoryName"]; }],
  ["empty group", "WEBAPP_EMPTY_GROUP", (p) => { meta(p).pages[0]!.highlightedGroups[0]!["cellCount"] = 0; }],
  ["cellCount not the cells held", "WEBAPP_GROUP_CELLS", (p) => { meta(p).pages[0]!.highlightedGroups[0]!["cellCount"] = 4; }],
  ["group without a cells chunk", "WEBAPP_GROUP_CELLS", (p) => { p.chunks = p.chunks.filter((c) => c.meta["id"] !== "highlights/cells/highlight_2"); }],
  ["cells chunk label", "WEBAPP_CHUNK_LABEL", (p) => { find(p, "highlights/cells/highlight_1").meta["label"] = "Highlight cells: highlight_1"; }],
  ["cells chunks out of group order", "WEBAPP_CHUNK_ORDER", (p) => { const n = p.chunks.length; [p.chunks[n - 1], p.chunks[n - 2]] = [p.chunks[n - 2]!, p.chunks[n - 1]!]; }],
  ["overlays without renames", "WEBAPP_OVERLAYS_SHAPE", (p) => { delete overlays(p)["renames"]; }],
  ["field record with an extra key", "WEBAPP_OVERLAYS_SHAPE", (p) => { overlays(p).userDefinedFields[0]!["color"] = "#fff"; }],
  ["field id with a slash", "WEBAPP_FIELD_ID", (p) => { overlays(p).userDefinedFields[0]!["id"] = "a/b"; }],
  ["256 categories in u8 codes", "WEBAPP_U8_CATEGORIES", (p) => { overlays(p).userDefinedFields[1]!["categories"] = Array.from({ length: 256 }, (_, i) => `c${i}`); }],
  ["var field with one code per gene", "WEBAPP_FIELD_CODES", (p) => { const f = overlays(p).userDefinedFields[1]!; f["source"] = "var"; f["codesLength"] = 5; }],
  ["codes declared u16, stored u8", "WEBAPP_FIELD_CODES", (p) => { overlays(p).userDefinedFields[1]!["codesType"] = "Uint16Array"; }],
  ["codes chunk label", "WEBAPP_CHUNK_LABEL", (p) => { find(p, "user-defined/codes/qc").meta["label"] = "User-defined field codes: qc"; }],
  ["trailing bytes after the last chunk", "WEBAPP_TRAILING_BYTES", (p) => { p.trailing = Uint8Array.from([0]); }],
  ["uncompressedBytes not the inflated size", "WEBAPP_UNCOMPRESSED_BYTES", (p) => { find(p, "analysis/windows").meta["uncompressedBytes"] = 999; }],
  ["two gzip members", "WEBAPP_GZIP_MEMBER", (p) => { const c = find(p, "ui/dockable-layout"); c.stored = twoMembers(JSON.stringify(c.value)); }],
  ["duplicate index", "WEBAPP_INDICES", (p) => { find(p, "highlights/cells/highlight_1").value = Uint8Array.from([3, 1, 1, 0]); }],
  ["non-canonical varint", "WEBAPP_INDICES", (p) => { find(p, "highlights/cells/highlight_1").value = Uint8Array.from([3, 0x81, 0x00, 1, 5]); }],
  ["bytes after the indices", "WEBAPP_INDICES", (p) => { find(p, "highlights/cells/highlight_1").value = Uint8Array.from([3, 1, 1, 5, 9]); }],
  ["bytes after the codes", "WEBAPP_CODES", (p) => { find(p, "user-defined/codes/qc").value = Uint8Array.from([0, 10, 0, 1, 0, 1, 0, 1, 0, 1, 0, 255, 7]); }],
  ["adjacent equal RLE runs", "WEBAPP_CODES", (p) => { find(p, "user-defined/codes/cell_type").value = Uint8Array.from([2, 10, 4, 0, 2, 0, 2, 1, 3, 0xff, 0x01, 3]); }],
  ["code that is neither a category nor missing", "WEBAPP_CODES", (p) => { find(p, "user-defined/codes/qc").value = encodeCodes([0, 1, 0, 1, 0, 1, 0, 1, 0, 7], { encoding: 0 }); }],
  ["JSON with an empty property name", "WEBAPP_JSON", (p) => { find(p, "analysis/windows").value = { windows: [], "": 1 }; }],
];

for (const [name, code, mutate] of breaks) {
  test(`webapp rule broken: ${name} → ${code}`, async () => {
    const parts = appParts();
    mutate(parts);
    const errors = await webappErrors(parts);
    assert.ok(errors.some((e) => e.startsWith(code + ":")), `expected ${code}, got:\n${errors.join("\n")}`);
  });
}

function twoMembers(text: string): Uint8Array {
  const half = Math.floor(text.length / 2);
  return Uint8Array.from([...gzipSync(text.slice(0, half)), ...gzipSync(text.slice(half))]);
}

test("CLI: --target webapp exits 1 naming the rules; plain validate keeps its verdict", async () => {
  await withTempDir(async (dir) => {
    const good = join(dir, "good.cellucid-session");
    await writeFile(good, assemble(appParts()));
    const ok = await cli("validate", good, "--target", "webapp");
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^valid for the webapp: good\.cellucid-session/m);
    const parts = appParts();
    meta(parts).pages[0]!.highlightedGroups[0]!["cellCount"] = 0;
    const bad = join(dir, "bad.cellucid-session");
    await writeFile(bad, assemble(parts));
    const refused = await cli("validate", bad, "--target", "webapp");
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /error {3}\[WEBAPP_EMPTY_GROUP\] bad\.cellucid-session, chunk 'highlights\/meta': .*the app has no empty groups/);
    assert.match(refused.stdout, /the webapp would refuse it: bad\.cellucid-session/);
    const plain = await cli("validate", bad);
    assert.equal(plain.code, 0);
    const usage = await cli("validate", bad, "--target", "desktop");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--target must be one of webapp/);
  });
});
