/** Applying to real .h5ad files, checked with real Python anndata; failures leave no trace. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFile, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { CellucidSessionBundle, createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { H5adStore } from "../src/anndata/h5/store.js";
import { CLI, EXAMPLE, ROOT, corruptCodesBundle, rejectsWithCode, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const DATASET = join(ROOT, "examples", "pbmc-demo.h5ad");
const run = promisify(execFile);
const sha = async (p: string) => createHash("sha256").update(await readFile(p)).digest("hex");

test("apply to a copy: Python reads bool highlights, categoricals with missing values, unchanged X/obsm, rewritable uns", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "out.h5ad");
    const before = await sha(DATASET);
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    const summary = await applySessionToFile(bundle, DATASET, { output: out });
    await bundle.close();
    assert.equal(await sha(DATASET), before, "the source is never touched");
    assert.deepEqual(await readdir(dir), ["out.h5ad"]);
    const py = await python<Record<string, unknown>>(`
import sys, json, numpy as np, pandas as pd, anndata as ad
a = ad.read_h5ad(sys.argv[1]); src = ad.read_h5ad(sys.argv[2])
cd8 = a.obs["cellucid_highlight__highlight_2"]
qc = a.obs["QC_flag"]
out = {
  "obs_columns": list(a.obs.columns), "var_columns": list(a.var.columns),
  "dtypes": {k: str(v) for k, v in a.obs.dtypes.items()},
  "cd8_true": int(cd8.sum()), "cd8_first": int(np.flatnonzero(cd8.values)[0]),
  "qc_categories": list(qc.cat.categories), "qc_missing": int(qc.isna().sum()), "qc_ordered": bool(qc.cat.ordered),
  "x_same": bool((a.X != src.X).nnz == 0), "umap_same": bool(np.array_equal(a.obsm["X_umap"], src.obsm["X_umap"])),
  "old_cols_same": all(a.obs[c].equals(src.obs[c]) for c in src.obs.columns),
  "obs_names_same": bool((a.obs_names == src.obs_names).all()),
  "uns_keys": sorted(a.uns["cellucid"]["session"].keys()),
  "page": pd.DataFrame(a.uns["cellucid"]["session"]["highlight_groups"]).set_index("column").loc["cellucid_highlight__highlight_3", "page_name"],
  "cell_order": {k: (v.item() if hasattr(v, "item") else v) for k, v in a.uns["cellucid"]["session"]["cell_order"].items()},
  "manifest_chunks": len(json.loads(a.uns["cellucid"]["session"]["manifest_json"])["chunks"]),
  "other_uns": a.uns["dataset_id"],
}
a.write_h5ad(sys.argv[3]); a.write_zarr(sys.argv[4])
b = ad.read_h5ad(sys.argv[3]); out["rewritten_uns"] = sorted(b.uns["cellucid"]["session"].keys())
print(json.dumps(out))`, out, DATASET, join(dir, "py.h5ad"), join(dir, "py.zarr"));
    assert.deepEqual(py["obs_columns"], ["leiden", "cell_type", "n_genes", "total_counts", "is_doublet", ...summary.addedObsColumns]);
    // The canonical example has no gene field: the web app's codes are one per cell.
    assert.deepEqual(py["var_columns"], ["highly_variable", "mean_counts"]);
    const dtypes = py["dtypes"] as Record<string, string>;
    for (const c of summary.highlights) assert.equal(dtypes[c.column], "bool");
    assert.equal(dtypes["cell_type_manual"], "category");
    assert.equal(py["cd8_true"], 340);
    const b2 = await CellucidSessionBundle.open(EXAMPLE);
    const cd8 = await b2.readHighlightCells("highlight_2");
    await b2.close();
    assert.equal(py["cd8_first"], cd8[0]);
    assert.deepEqual(py["qc_categories"], ["keep", "doublet?"]);
    assert.equal(py["qc_missing"], 507);
    assert.equal(py["qc_ordered"], false);
    for (const k of ["x_same", "umap_same", "old_cols_same", "obs_names_same"]) assert.equal(py[k], true, k);
    assert.equal(py["page"], "Myeloid");
    assert.equal(py["manifest_chunks"], 14);
    assert.deepEqual(py["cell_order"], { status: "verified", dimension: 2, digest: "70cf7744e6f6b23a", obsm_key: "X_umap", loading_path: "python" });
    assert.equal(py["other_uns"], "pbmc3k-demo");
    assert.deepEqual(py["rewritten_uns"], py["uns_keys"]);
  });
});

test("in place: only appends; every pre-existing dataset keeps its bytes; applying twice suffixes", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "d.h5ad");
    await copyFile(DATASET, p);
    const sizeBefore = (await stat(p)).size;
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    await applySessionToFile(bundle, p, { inplace: true });
    const again = await applySessionToFile(bundle, p, { inplace: true });
    await bundle.close();
    assert.ok(again.addedObsColumns.includes("cellucid_highlight__highlight_1__2"));
    assert.ok((await stat(p)).size - sizeBefore < 200_000, "appending does not rewrite X");
    const py = await python<Record<string, boolean>>(`
import sys, json, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
same = {}
def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        same[name] = bool(name in b and obj.dtype == b[name].dtype and obj.shape == b[name].shape and np.array_equal(obj[()], b[name][()]) and dict(obj.attrs) == dict(b[name].attrs) and obj.compression == b[name].compression)
a.visititems(visit)
print(json.dumps(same))`, DATASET, p);
    assert.ok(Object.keys(py).length > 10);
    for (const [name, same] of Object.entries(py)) assert.equal(same, true, `${name} changed`);
  });
});

test("failing applies leave the source untouched and no output: conflict, mismatch, corrupt chunk", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "d.h5ad");
    await copyFile(DATASET, p);
    const before = await sha(p);
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    await applySessionToFile(bundle, p, { output: join(dir, "first.h5ad") });
    const first = await sha(join(dir, "first.h5ad"));
    await rejectsWithCode(() => applySessionToFile(bundle, join(dir, "first.h5ad"), { output: join(dir, "x.h5ad"), columnConflict: "error" }), "COLUMN_EXISTS");
    await rejectsWithCode(() => applySessionToFile(bundle, join(dir, "first.h5ad"), { inplace: true, columnConflict: "error" }), "COLUMN_EXISTS");
    assert.equal(await sha(join(dir, "first.h5ad")), first);
    await rejectsWithCode(() => applySessionToFile(bundle, p, { output: join(dir, "x.h5ad"), expectedDatasetId: "nope", datasetMismatch: "error" }), "DATASET_MISMATCH", "Dataset fingerprint mismatch");
    await bundle.close();
    const corrupt = join(dir, "corrupt.cellucid-session");
    await writeFile(corrupt, corruptCodesBundle());
    const bad = await CellucidSessionBundle.open(corrupt);
    await rejectsWithCode(() => applySessionToFile(bad, p, { output: join(dir, "x.h5ad") }), "RLE_INVALID");
    await rejectsWithCode(() => applySessionToFile(bad, p, { inplace: true }), "RLE_INVALID");
    await bad.close();
    assert.equal(await sha(p), before);
    assert.deepEqual((await readdir(dir)).sort(), ["corrupt.cellucid-session", "d.h5ad", "first.h5ad"], "no output, no temp files");
  });
});

test("CLI apply: table, --json summary, --dry-run writes nothing, exit 1 on mismatch under error", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "o.h5ad");
    const { stdout } = await run(process.execPath, [CLI, "apply", EXAMPLE, DATASET, "-o", out]);
    assert.match(stdout, /^Added 6 obs and 0 var columns to .*o\.h5ad$/m);
    assert.match(stdout, /^Cell order verified: obsm 'X_umap' \(2D\) gives digest 70cf7744e6f6b23a/m);
    assert.match(stdout, /obs +QC_flag +category +field 'QC flag' +2 categories, 507 missing/);
    const dry = await run(process.execPath, [CLI, "apply", EXAMPLE, out, "--dry-run", "--json"]);
    const s = JSON.parse(dry.stdout);
    assert.deepEqual(Object.keys(s), ["addedObsColumns", "addedVarColumns", "skippedDueToMismatch", "mismatchReasons", "cellOrder", "reference", "highlights", "fields", "warnings"]);
    assert.equal(s.addedObsColumns[0], "cellucid_highlight__highlight_1__2");
    const store = await H5adStore.open(out);
    assert.equal(store.columnNames("obs").includes("cellucid_highlight__highlight_1__2"), false, "dry run wrote nothing");
    await store.close();
    const mis = await run(process.execPath, [CLI, "apply", EXAMPLE, DATASET, "-o", join(dir, "m.h5ad"), "--dataset-mismatch", "error", "--expected-dataset-id", "x"]).catch((e) => e);
    assert.equal(mis.code, 1);
    assert.match(mis.stderr, /Dataset fingerprint mismatch: datasetId 'pbmc3k-demo' != expected 'x'/);
    const exists = await run(process.execPath, [CLI, "apply", EXAMPLE, DATASET, "-o", out]).catch((e) => e);
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /already exists/);
    const notData = await run(process.execPath, [CLI, "apply", EXAMPLE, EXAMPLE, "-o", join(dir, "z.h5ad")]).catch((e) => e);
    assert.equal(notData.code, 1);
    assert.match(notData.stderr, /NOT_ANNDATA/);
  });
});

test("export --obs-names keys rows by the dataset's obs names", async () => {
  const { stdout } = await run(process.execPath, [CLI, "export", EXAMPLE, "--obs-names", DATASET], { maxBuffer: 1 << 26 });
  const lines = stdout.split("\n");
  const names = await python<string[]>(`import sys, json, anndata as ad; print(json.dumps(list(ad.read_h5ad(sys.argv[1], backed="r").obs_names)))`, DATASET);
  assert.equal(lines[0]!.split("\t")[0], "obs_name");
  assert.deepEqual(lines.slice(1, -1).map((l) => l.split("\t")[0]), names);
});

test("a bundle written for another dataset is refused by export --obs-names", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "other.cellucid-session");
    const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "x", datasetId: "y", cellCount: 5 } });
    await writeSessionFile(w, p);
    const r = await run(process.execPath, [CLI, "export", p, "--obs-names", DATASET]).catch((e) => e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Dataset fingerprint mismatch: cellCount 5 != n_obs 2638/);
  });
});

test("bundle.applyToAnnData on a path returns the output path", async () => {
  await withTempDir(async (dir) => {
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    const out = await bundle.applyToAnnData(DATASET, { output: join(dir, "r.h5ad") });
    await bundle.close();
    assert.equal(out, join(dir, "r.h5ad"));
    const s = await H5adStore.open(out);
    assert.ok(s.columnNames("obs").includes("cell_type_manual"));
    await s.close();
  });
});
