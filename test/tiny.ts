/** A small AnnData written by Python anndata (.zarr plain and consolidated, .h5ad) and a bundle for it: fast to apply, copy and kill. */
import { join } from "node:path";
import { createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { python } from "./python.js";

export const TINY_OBS = 40;
export const TINY_VARS = 8;
/** The obs columns the tiny bundle adds (its var field adds "marker"). */
export const TINY_ADDED_OBS = ["cellucid_highlight__g1", "cellucid_highlight__g2", "cell_type"];

export interface Tiny {
  plain: string;
  consolidated: string;
  h5ad: string;
  bundle: string;
}

export async function tinyFixtures(dir: string): Promise<Tiny> {
  const t: Tiny = { plain: join(dir, "plain.zarr"), consolidated: join(dir, "consolidated.zarr"), h5ad: join(dir, "tiny.h5ad"), bundle: join(dir, "tiny.cellucid-session") };
  await python(`
import sys, numpy as np, pandas as pd, anndata as ad, zarr
n, m = ${TINY_OBS}, ${TINY_VARS}
obs = pd.DataFrame({"leiden": pd.Categorical(list("ab") * (n // 2)), "n_genes": np.arange(n)}, index=[f"c{i}" for i in range(n)])
var = pd.DataFrame({"mean": np.linspace(0, 1, m)}, index=[f"g{i}" for i in range(m)])
a = ad.AnnData(X=np.arange(n * m, dtype=np.float32).reshape(n, m), obs=obs, var=var, obsm={"X_umap": np.zeros((n, 2))}, uns={"note": "kept"})
a.write_zarr(sys.argv[1]); a.write_zarr(sys.argv[2]); zarr.consolidate_metadata(sys.argv[2]); a.write_h5ad(sys.argv[3])
print(1)`, t.plain, t.consolidated, t.h5ad);
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "tiny", cellCount: TINY_OBS, varCount: TINY_VARS } });
  w.addHighlightPage({ id: "p", name: "Page", groups: [{ id: "g1", label: "first", cells: [0, 1, 2, 30] }, { id: "g2", label: "second", cells: [5] }] });
  w.addUserDefinedField({ id: "f1", key: "cell type", categories: ["T", "B"], codes: Array.from({ length: TINY_OBS }, (_, i) => i % 3) });
  w.addUserDefinedField({ id: "f2", key: "marker", source: "var", categories: ["yes"], codes: Array.from({ length: TINY_VARS }, (_, i) => i % 2) });
  await writeSessionFile(w, t.bundle);
  return t;
}
