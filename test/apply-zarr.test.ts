/** Applying to real .zarr stores (written by Python anndata), checked with Python anndata; failures leave no trace. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CellucidSessionBundle, ZarrStore, openAnnData } from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { CLI, EXAMPLE, ROOT, corruptCodesBundle, manifest, rejectsWithCode, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const H5AD = join(ROOT, "examples", "pbmc-demo.h5ad");
const run = promisify(execFile);

/** The example dataset as Python anndata writes it to Zarr. */
async function exampleZarr(dir: string): Promise<string> {
  const path = join(dir, "pbmc.zarr");
  await python(`import sys, anndata as ad; ad.read_h5ad(sys.argv[1]).write_zarr(sys.argv[2]); print(1)`, H5AD, path);
  return path;
}

test("apply to a Zarr copy: Python reads bool highlights, categoricals with missing values, unchanged X/obsm, rewritable uns", async () => {
  await withTempDir(async (dir) => {
    const src = await exampleZarr(dir);
    const before = manifest(src);
    const out = join(dir, "out.zarr");
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    const summary = await applySessionToFile(bundle, src, { output: out });
    await bundle.close();
    assert.deepEqual(manifest(src), before, "the source is never touched");
    assert.deepEqual((await readdir(dir)).sort(), ["out.zarr", "pbmc.zarr"], "no temp files left");
    const py = await python<Record<string, unknown>>(`
import sys, json, numpy as np, pandas as pd, anndata as ad
a = ad.read_zarr(sys.argv[1]); src = ad.read_zarr(sys.argv[2])
cd8 = a.obs["cellucid_highlight__highlight_2"]; qc = a.obs["QC_flag"]
out = {
  "obs_columns": list(a.obs.columns),
  "dtypes": {k: str(v) for k, v in a.obs.dtypes.items()},
  "cd8_true": int(cd8.sum()),
  "qc_categories": list(qc.cat.categories), "qc_missing": int(qc.isna().sum()),
  "x_same": bool((a.X != src.X).nnz == 0), "umap_same": bool(np.array_equal(a.obsm["X_umap"], src.obsm["X_umap"])),
  "old_cols_same": all(a.obs[c].equals(src.obs[c]) for c in src.obs.columns),
  "page": pd.DataFrame(a.uns["cellucid"]["session"]["highlight_groups"]).set_index("column").loc["cellucid_highlight__highlight_3", "page_name"],
}
a.write_zarr(sys.argv[3]); a.write_h5ad(sys.argv[4])
out["rewritten_uns"] = sorted(ad.read_zarr(sys.argv[3]).uns["cellucid"]["session"].keys())
out["uns_keys"] = sorted(a.uns["cellucid"]["session"].keys())
print(json.dumps(out))`, out, src, join(dir, "py.zarr"), join(dir, "py.h5ad"));
    assert.deepEqual(py["obs_columns"], ["leiden", "cell_type", "n_genes", "total_counts", "is_doublet", ...summary.addedObsColumns]);
    const dtypes = py["dtypes"] as Record<string, string>;
    for (const c of summary.highlights) assert.equal(dtypes[c.column], "bool");
    assert.equal(dtypes["cell_type_manual"], "category");
    assert.equal(py["cd8_true"], 340);
    assert.deepEqual(py["qc_categories"], ["keep", "doublet?"]);
    assert.equal(py["qc_missing"], 507);
    for (const k of ["x_same", "umap_same", "old_cols_same"]) assert.equal(py[k], true, k);
    assert.equal(py["page"], "Myeloid");
    assert.deepEqual(py["rewritten_uns"], py["uns_keys"]);
  });
});

test("Zarr in place: only adds files (and rewrites obs/var/uns attributes); applying twice suffixes", async () => {
  await withTempDir(async (dir) => {
    const p = await exampleZarr(dir);
    const before = manifest(p);
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    await applySessionToFile(bundle, p, { inplace: true });
    const again = await applySessionToFile(bundle, p, { inplace: true });
    await bundle.close();
    assert.ok(again.addedObsColumns.includes("cellucid_highlight__highlight_1__2"));
    const after = manifest(p);
    const metadataOfChangedGroups = new Set(["obs/.zattrs", "var/.zattrs", "uns/.zgroup", "uns/.zattrs", ".zmetadata"]);
    for (const [file, hash] of before) {
      if (metadataOfChangedGroups.has(file)) continue;
      assert.equal(after.get(file), hash, `${file} changed`);
    }
    assert.ok([...after.keys()].some((f) => f.startsWith("obs/cellucid_highlight__highlight_1__2/")));
    const s = await openAnnData(p);
    assert.ok(s instanceof ZarrStore);
    assert.ok(s.columnNames("obs").includes("cell_type_manual__2"));
    await s.close();
  });
});

test("failing Zarr applies leave the source untouched and no output: conflict, mismatch, corrupt chunk", async () => {
  await withTempDir(async (dir) => {
    const p = await exampleZarr(dir);
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    const first = join(dir, "first.zarr");
    await applySessionToFile(bundle, p, { output: first });
    const before = manifest(first);
    await rejectsWithCode(() => applySessionToFile(bundle, first, { output: join(dir, "x.zarr"), columnConflict: "error" }), "COLUMN_EXISTS");
    await rejectsWithCode(() => applySessionToFile(bundle, first, { inplace: true, columnConflict: "error" }), "COLUMN_EXISTS");
    await rejectsWithCode(() => applySessionToFile(bundle, p, { output: join(dir, "x.zarr"), expectedDatasetId: "nope", datasetMismatch: "error" }), "DATASET_MISMATCH", "Dataset fingerprint mismatch");
    await bundle.close();
    const corrupt = join(dir, "corrupt.cellucid-session");
    await writeFile(corrupt, corruptCodesBundle());
    const bad = await CellucidSessionBundle.open(corrupt);
    await rejectsWithCode(() => applySessionToFile(bad, first, { inplace: true }), "RLE_INVALID");
    await rejectsWithCode(() => applySessionToFile(bad, p, { output: join(dir, "x.zarr") }), "RLE_INVALID");
    await bad.close();
    assert.deepEqual(manifest(first), before);
    assert.deepEqual((await readdir(dir)).sort(), ["corrupt.cellucid-session", "first.zarr", "pbmc.zarr"], "no output, no temp files");
  });
});

test("CLI apply to .zarr (copy and --inplace) and export --obs-names from a .zarr", async () => {
  await withTempDir(async (dir) => {
    const p = await exampleZarr(dir);
    const out = join(dir, "o.zarr");
    const { stdout } = await run(process.execPath, [CLI, "apply", EXAMPLE, p, "-o", out]);
    assert.match(stdout, /^Added 6 obs and 0 var columns to .*o\.zarr$/m);
    const copy = join(dir, "c.zarr");
    await cp(p, copy, { recursive: true });
    const inplace = await run(process.execPath, [CLI, "apply", EXAMPLE, copy, "--inplace", "--json"]);
    assert.equal(JSON.parse(inplace.stdout).addedObsColumns.length, 6);
    const h5 = await run(process.execPath, [CLI, "export", EXAMPLE, "--obs-names", H5AD], { maxBuffer: 1 << 26 });
    const zarr = await run(process.execPath, [CLI, "export", EXAMPLE, "--obs-names", p], { maxBuffer: 1 << 26 });
    assert.equal(zarr.stdout, h5.stdout);
  });
});
