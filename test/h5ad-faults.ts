/**
 * Shared by the .h5ad transaction tests: a real dataset written by Python
 * anndata, a bundle with many groups and fields for it, a child process that
 * applies it in place (and can be killed or have a write fail), and one
 * Python run that checks many result files at once.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { type CliRun, spawnCli } from "./helpers.js";
import { python } from "./python.js";

export const N_VARS = 30;

export async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/** An AnnData with sparse X, an embedding, obs/var columns and uns, written by Python's write_h5ad. */
export async function writeDataset(path: string, nObs: number): Promise<void> {
  await python(`
import sys, json, numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
n = int(sys.argv[2]); rng = np.random.default_rng(7)
X = sp.random(n, ${N_VARS}, density=0.2, format="csr", dtype=np.float32, random_state=7)
obs = pd.DataFrame({"cluster": pd.Categorical(rng.integers(0, 5, n).astype(str)), "n_genes": rng.integers(0, 900, n)}, index=[f"c{i}" for i in range(n)])
var = pd.DataFrame({"mean": rng.random(${N_VARS})}, index=[f"g{i}" for i in range(${N_VARS})])
a = ad.AnnData(X=X, obs=obs, var=var, obsm={"X_umap": rng.random((n, 2)).astype(np.float32)}, uns={"dataset_id": "txn-test"})
a.write_h5ad(sys.argv[1])
print(json.dumps(True))`, path, String(nObs));
}

/** A bundle of `groups` highlight groups (over 2 pages) and `fields` categorical obs fields plus one var field. */
export async function writeBundle(path: string, nObs: number, groups: number, fields: number): Promise<string[]> {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  // Group ids name the columns the tests expect, and a var field is one code per gene: the permissive layout.
  const w = createSessionWriter({
    canonical: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    dataSource: { sourceType: "local-user", datasetId: "txn-test", userPath: null },
    datasetFingerprint: { sourceType: "local-user", datasetId: "txn-test", cellCount: nObs, varCount: N_VARS },
  });
  const columns: string[] = [];
  for (let p = 0; p < 2; p++) {
    const ids = Array.from({ length: Math.ceil(groups / 2) }, (_, g) => `g${p}_${g}`).slice(0, groups - p * Math.ceil(groups / 2));
    const page = ids.map((id) => ({ id, label: id, cells: Array.from({ length: nObs }, (_, i) => i).filter(() => random() < 0.2) }));
    w.addHighlightPage({ id: `page${p}`, name: `Page ${p}`, groups: page });
    columns.push(...ids.map((id) => `cellucid_highlight__${id}`));
  }
  for (let f = 0; f < fields; f++) {
    const categories = Array.from({ length: 3 + f }, (_, c) => `f${f}-${c}`);
    w.addUserDefinedField({ id: `field${f}`, key: `field_${f}`, source: "obs", categories, codes: Array.from({ length: nObs }, () => Math.floor(random() * categories.length)) });
    columns.push(`field_${f}`);
  }
  w.addUserDefinedField({ id: "module", key: "module", source: "var", categories: ["a", "b"], codes: Array.from({ length: N_VARS }, (_, i) => i % 2) });
  await writeSessionFile(w, path);
  return columns;
}

export interface Fixture {
  /** The .h5ad written by Python. */
  file: string;
  bundle: string;
  /** The obs columns applying the bundle adds, in order. */
  columns: string[];
  /** sha256 of `file` as written. */
  sha: string;
}

/** `dir/name.h5ad` of `nObs` cells and a bundle for it with `groups` groups and `fields` obs fields. */
export async function fixture(dir: string, name: string, nObs: number, groups: number, fields: number): Promise<Fixture> {
  const file = join(dir, `${name}.h5ad`);
  const bundle = join(dir, `${name}.cellucid-session`);
  await writeDataset(file, nObs);
  const columns = await writeBundle(bundle, nObs, groups, fields);
  return { file, bundle, columns, sha: await sha256(file) };
}

export type ChildResult = CliRun;

/** Starts `cellucid-session apply BUNDLE FILE --inplace` in a child process. */
export function startApply(bundle: string, file: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<ChildResult> } {
  return spawnCli(["apply", bundle, file, "--inplace", "--quiet"], env);
}

export function applyInPlace(bundle: string, file: string, env: Record<string, string> = {}): Promise<ChildResult> {
  return startApply(bundle, file, env).done;
}

/** The number of writes an unharmed in-place apply performs (CELLUCID_TEST_COUNT_WRITES). */
export function countedWrites(r: ChildResult): number {
  const m = /cellucid-writes (\d+)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`apply failed (${r.code}): ${r.stderr}`);
  return Number(m[1]);
}

export interface PyCheck {
  /** sha256 of X's data, indices and indptr, and of obsm X_umap. */
  x: string;
  umap: string;
  obsColumns: string[];
  varColumns: string[];
  hasSession: boolean;
  oldObsSame: boolean;
}

/** Reads every file with Python anndata in one run; old obs columns are compared with `original`'s. */
export async function checkWithPython(original: string, files: string[]): Promise<PyCheck[]> {
  return python<PyCheck[]>(`
import sys, json, hashlib, numpy as np, anndata as ad
def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays: h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()
src = ad.read_h5ad(sys.argv[1])
out = []
for p in sys.argv[2:]:
    a = ad.read_h5ad(p)
    out.append({"x": digest(a.X.data, a.X.indices, a.X.indptr), "umap": digest(a.obsm["X_umap"]),
                "obsColumns": list(a.obs.columns), "varColumns": list(a.var.columns),
                "hasSession": "session" in a.uns.get("cellucid", {}),
                "oldObsSame": all(a.obs[c].equals(src.obs[c]) for c in src.obs.columns) and bool((a.obs_names == src.obs_names).all())})
print(json.dumps(out))`, original, ...files);
}
