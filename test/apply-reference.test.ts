/** apply --reference: the example session, made on pbmc-demo.h5ad, applied to shuffled subsets and a superset, checked cell by cell with Python anndata. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { CellucidSessionBundle, applySessionToFile } from "../src/node/index.js";
import { EXAMPLE, ROOT, cli, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const DATASET = join(ROOT, "examples", "pbmc-demo.h5ad");
const COLUMNS = ["cellucid_highlight__highlight_1", "cellucid_highlight__highlight_2", "cellucid_highlight__highlight_3", "cellucid_highlight__highlight_4", "cell_type_manual", "QC_flag"];

/** Every applied column of `out`, compared by obs name with the same session applied to the original; plus counts. */
const COMPARE = `
import sys, json, anndata, pandas as pd
full = anndata.read_h5ad(sys.argv[1]) if sys.argv[1].endswith(".h5ad") else anndata.read_zarr(sys.argv[1])
out = anndata.read_h5ad(sys.argv[2]) if sys.argv[2].endswith(".h5ad") else anndata.read_zarr(sys.argv[2])
cols = json.loads(sys.argv[3])
shared = [n for n in out.obs_names if n in full.obs_names]
new = [n for n in out.obs_names if n not in full.obs_names]
same = all(out.obs.loc[shared, c].astype(object).fillna("<NA>").tolist() == full.obs.loc[shared, c].astype(object).fillna("<NA>").tolist() for c in cols)
new_ok = all((not out.obs.loc[n, c]) if c.startswith("cellucid") else pd.isna(out.obs.loc[n, c]) for n in new for c in cols)
gone = [n for n in full.obs_names if n not in out.obs_names]
selected_gone = {c: int(full.obs.loc[gone, c].sum()) for c in cols if c.startswith("cellucid")}
labelled_gone = {c: int(full.obs.loc[gone, c].notna().sum()) for c in cols if not c.startswith("cellucid")}
print(json.dumps({"same": bool(same), "new_ok": bool(new_ok), "shared": len(shared), "new": len(new), "selected_gone": selected_gone, "labelled_gone": labelled_gone}))
`;

test("shuffled subset (.h5ad copy and .zarr in place) and a superset: every column matches the original by obs name", async () => {
  await withTempDir(async (dir) => {
    const full = join(dir, "full.h5ad");
    const subset = join(dir, "subset.h5ad");
    const subsetZarr = join(dir, "subset.zarr");
    const superset = join(dir, "superset.h5ad");
    await python(`
import sys, anndata, numpy as np, json
a = anndata.read_h5ad(sys.argv[1])
rng = np.random.default_rng(11)
s = a[rng.permutation(a.n_obs)[:2000]].copy()
s.write_h5ad(sys.argv[2]); s.write_zarr(sys.argv[3])
extra = a[:5].copy(); extra.obs_names = ["new-" + n for n in extra.obs_names]
big = anndata.concat([a[::-1].copy(), extra], merge="first", uns_merge="first")
big.write_h5ad(sys.argv[4])
print(json.dumps(True))
`, DATASET, subset, subsetZarr, superset);
    assert.equal((await cli("apply", EXAMPLE, DATASET, "-o", full)).code, 0);

    const out = join(dir, "out.h5ad");
    const r = await cli("apply", EXAMPLE, subset, "--reference", DATASET, "-o", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.cellOrder.status, "verified");
    assert.deepEqual(summary.reference.obs, { matched: 2000, onlyInData: 0, onlyInReference: 638 });
    assert.deepEqual(summary.reference.var, { matched: 1838, onlyInData: 0, onlyInReference: 0 });
    const got = await python<{ same: boolean; new_ok: boolean; shared: number; selected_gone: Record<string, number>; labelled_gone: Record<string, number> }>(COMPARE, full, out, JSON.stringify(COLUMNS));
    assert.equal(got.same, true);
    assert.equal(got.shared, 2000);
    for (const h of summary.highlights) assert.equal(h.notInData, got.selected_gone[h.column], h.column);
    for (const f of summary.fields) assert.equal(f.notInData, got.labelled_gone[f.column], f.column);

    // The .zarr, in place, through the library.
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    try {
      const s = await applySessionToFile(bundle, subsetZarr, { inplace: true, reference: DATASET, datasetMismatch: "error" });
      assert.equal(s.addedObsColumns.length, 6);
    } finally {
      await bundle.close();
    }
    assert.equal((await python<{ same: boolean }>(COMPARE, full, subsetZarr, JSON.stringify(COLUMNS))).same, true);

    const big = join(dir, "big.h5ad");
    const text = await cli("apply", EXAMPLE, superset, "--reference", DATASET, "-o", big);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Matched to the reference .*pbmc-demo\.h5ad by name: 2,638 cells \(0 only in the reference, 5 only in the data\), 1,838 genes/m);
    const sup = await python<{ same: boolean; new_ok: boolean; new: number }>(COMPARE, full, big, JSON.stringify(COLUMNS));
    assert.deepEqual([sup.same, sup.new_ok, sup.new], [true, true, 5]);
  });
});

test("duplicate obs names are a clear error, and nothing is written", async () => {
  await withTempDir(async (dir) => {
    const dup = join(dir, "dup.h5ad");
    await python(`
import sys, anndata, json
a = anndata.read_h5ad(sys.argv[1])[:100].copy()
names = list(a.obs_names); names[7] = names[3]; a.obs_names = names
a.write_h5ad(sys.argv[2])
print(json.dumps(True))
`, DATASET, dup);
    const out = join(dir, "out.h5ad");
    const r = await cli("apply", EXAMPLE, dup, "--reference", DATASET, "-o", out);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error \[REFERENCE_NAMES\].*dup\.h5ad: obs_names '[^']+' appears 2 times, so cells cannot be matched by name/);
    assert.equal((await cli("inspect", out)).code, 2);
  });
});
