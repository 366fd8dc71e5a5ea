/** apply checks the cell order: the example bundle against pbmc-demo.h5ad, a permuted copy made by Python anndata, and a copy without X_umap. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE, ROOT, cli, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const DATASET = join(ROOT, "examples", "pbmc-demo.h5ad");

async function variants(dir: string): Promise<{ permuted: string; permutedZarr: string; zarr: string; noUmap: string }> {
  const permuted = join(dir, "permuted.h5ad");
  const permutedZarr = join(dir, "permuted.zarr");
  const zarr = join(dir, "same.zarr");
  const noUmap = join(dir, "no-umap.h5ad");
  await python(`
import sys, json, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
rng = np.random.default_rng(7)
p = a[rng.permutation(a.n_obs)].copy()
p.write_h5ad(sys.argv[2]); p.write_zarr(sys.argv[3]); a.write_zarr(sys.argv[4])
b = a.copy(); del b.obsm["X_umap"]; b.write_h5ad(sys.argv[5])
print(json.dumps(True))
`, DATASET, permuted, permutedZarr, zarr, noUmap);
  return { permuted, permutedZarr, zarr, noUmap };
}

test("the same data: the order is verified, in the table, --json and --dry-run", async () => {
  const table = await cli("apply", EXAMPLE, DATASET, "--dry-run");
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^Cell order verified: obsm 'X_umap' \(2D\) gives digest 70cf7744e6f6b23a/m);
  const json = JSON.parse((await cli("apply", EXAMPLE, DATASET, "--dry-run", "--json")).stdout);
  assert.deepEqual(json.cellOrder, { status: "verified", expected: { dimension: 2, digest: "70cf7744e6f6b23a" }, obsmKey: "X_umap", path: "python", reason: null });
  assert.equal(json.skippedDueToMismatch, false);
});

test("a permuted copy: a dataset mismatch in the app's terms, handled by --dataset-mismatch", async () => {
  await withTempDir(async (dir) => {
    const { permuted, permutedZarr, zarr, noUmap } = await variants(dir);
    // The same check on .zarr stores.
    assert.equal(JSON.parse((await cli("apply", EXAMPLE, zarr, "--dry-run", "--json")).stdout).cellOrder.status, "verified");
    assert.equal(JSON.parse((await cli("apply", EXAMPLE, permutedZarr, "--dry-run", "--json")).stdout).cellOrder.status, "mismatch");
    const out = join(dir, "out.h5ad");
    const warned = await cli("apply", EXAMPLE, permuted, "-o", out);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /warning: Dataset fingerprint mismatch: cell order: cellOrder digest 70cf7744e6f6b23a != [0-9a-f]{16} \(obsm 'X_umap', 2D\): the cells are stored in a different order, or the embedding was recomputed; skipping dataset-dependent chunks/);
    assert.match(warned.stdout, /^Cell order NOT verified: /m);
    assert.match(warned.stdout, /^Added 0 obs and 0 var columns/m);
    const cols = await python<string[]>(`
import sys, json, anndata
a = anndata.read_h5ad(sys.argv[1])
print(json.dumps([c for c in a.obs.columns if c.startswith("cellucid") or c in ("cell_type_manual", "QC_flag")] + [a.uns["cellucid"]["session"]["cell_order"]["status"]]))
`, out);
    assert.deepEqual(cols, ["mismatch"]);

    const refused = await cli("apply", EXAMPLE, permuted, "-o", join(dir, "never.h5ad"), "--dataset-mismatch", "error");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Dataset fingerprint mismatch: cell order: .*different order, or the embedding was recomputed/);

    const json = JSON.parse((await cli("apply", EXAMPLE, permuted, "--dry-run", "--json")).stdout);
    assert.equal(json.cellOrder.status, "mismatch");
    assert.equal(json.skippedDueToMismatch, true);

    const unverified = await cli("apply", EXAMPLE, noUmap, "--dry-run");
    assert.equal(unverified.code, 0);
    assert.match(unverified.stdout, /^Cell order could not be verified: the data has no embedding the web app would show/m);
    assert.match(unverified.stdout, /^Would add 6 obs and 0 var columns/m);
  });
});
