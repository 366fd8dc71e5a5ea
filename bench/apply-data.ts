/**
 * Data for the apply benchmark: large sparse `.h5ad` files laid out exactly as
 * Python anndata writes them, a matching session bundle, and the Python
 * reference (read_h5ad + add the columns + write_h5ad) to compare against.
 *
 * The .h5ad files are written by Debian's Python (anndata + h5py) when it is
 * there: anndata writes obs/var/obsm/uns itself, then X (CSR) is appended with
 * h5py slab by slab into contiguous datasets, so memory stays bounded whatever
 * the size. Without Python anndata, the project's own HDF5 binding writes the
 * same layout (minus obsm, as the binding creates 1-D datasets only), holding
 * X in memory.
 */
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { writeFile } from "node:fs/promises";
import { H5File } from "../src/anndata/h5/binding.js";
import { createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { type Random, runCodes, scatteredCodes, seededRandom, selection } from "./data.js";
import { runCommand } from "./child.js";
import { now } from "./timing.js";

export const PYTHON = process.env["CELLUCID_PYTHON"] ?? "/usr/bin/python3";

export interface DatasetSpec {
  nObs: number;
  nVars: number;
  /** Mean stored entries per cell (row) of X. */
  perRow: number;
}

export interface GeneratedDataset {
  bytes: number;
  nnz: number;
  ms: number;
  /** How it was written, for the report. */
  method: string;
}

/** The anndata version of $CELLUCID_PYTHON (default /usr/bin/python3), or null when it cannot import anndata, h5py, numpy and pandas. */
export function pythonAnndataVersion(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import warnings; warnings.filterwarnings('ignore'); import anndata, h5py, numpy, pandas; print(anndata.__version__)"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/* ---- .h5ad generation with Python anndata + h5py ------------------------- */

const GENERATE_PY = String.raw`
import sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, h5py, anndata

path, n_obs, n_vars, per_row = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rng = np.random.default_rng(7)
obs = pd.DataFrame({
    "cell_type": pd.Categorical.from_codes(rng.integers(0, 12, n_obs), [f"type-{i}" for i in range(12)]),
    "n_counts": (rng.random(n_obs, dtype=np.float32) * 5000).astype(np.float32),
}, index=[f"cell-{i}" for i in range(n_obs)])
var = pd.DataFrame({
    "gene_ids": [f"ENSG{i:011d}" for i in range(n_vars)],
    "highly_variable": rng.random(n_vars) < 0.1,
}, index=[f"gene-{i}" for i in range(n_vars)])
adata = anndata.AnnData(obs=obs, var=var, obsm={"X_umap": rng.random((n_obs, 2), dtype=np.float32)},
                        uns={"title": "cellucid-session apply benchmark"})
# Everything but X, written by anndata itself.
adata.write_h5ad(path)
del adata, obs, var

# X as anndata writes a CSR matrix (group with data/indices/indptr, contiguous),
# filled slab by slab. Each row holds distinct sorted columns from geometric gaps.
mean_gap = n_vars / per_row
K = int(per_row * 1.6) + 8
SLAB = 20000

def slab_cols(s, rows):
    r = np.random.default_rng(1000 + s)
    gaps = r.geometric(1.0 / mean_gap, size=(rows, K)).astype(np.int32)
    cols = np.cumsum(gaps, axis=1, dtype=np.int32) - 1
    return cols, cols < n_vars, r

starts = list(range(0, n_obs, SLAB))
indptr = np.zeros(n_obs + 1, dtype=np.int64)
for s, start in enumerate(starts):
    rows = min(SLAB, n_obs - start)
    _, mask, _ = slab_cols(s, rows)
    indptr[start + 1:start + rows + 1] = mask.sum(axis=1)
np.cumsum(indptr, out=indptr)
nnz = int(indptr[-1])
with h5py.File(path, "r+") as f:
    g = f.create_group("X")
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = np.array([n_obs, n_vars], dtype=np.int64)
    data = g.create_dataset("data", shape=(nnz,), dtype="float32")
    indices = g.create_dataset("indices", shape=(nnz,), dtype="int32")
    g.create_dataset("indptr", data=indptr)
    for s, start in enumerate(starts):
        rows = min(SLAB, n_obs - start)
        cols, mask, r = slab_cols(s, rows)
        a, b = int(indptr[start]), int(indptr[start + rows])
        indices[a:b] = cols[mask]
        data[a:b] = r.integers(1, 30, size=b - a).astype(np.float32)
print(nnz)
`;

/** Python's reference: read_h5ad, add 10 bool obs columns, 4 categorical obs and 1 categorical var column, write_h5ad. */
const REFERENCE_PY = String.raw`
import sys, time, json, resource, warnings
t0 = time.perf_counter()
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata
src, out = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
adata = anndata.read_h5ad(src)
t2 = time.perf_counter()
n_obs, n_vars = adata.n_obs, adata.n_vars
rng = np.random.default_rng(11)
for g in range(10):
    adata.obs[f"cellucid_highlight__g{g}"] = rng.random(n_obs) < 0.1
for key, k in [("manual_type", 20), ("donor", 8), ("qc_flag", 3), ("annotation", 12)]:
    adata.obs[key] = pd.Categorical.from_codes(rng.integers(0, k, n_obs), [f"{key}-{i}" for i in range(k)])
adata.var["gene_module"] = pd.Categorical.from_codes(rng.integers(0, 6, n_vars), [f"module-{i}" for i in range(6)])
adata.uns["cellucid"] = {"session": {"manifest_json": "{}", "added_obs_columns": list(adata.obs.columns[-14:])}}
t3 = time.perf_counter()
adata.write_h5ad(out)
t4 = time.perf_counter()
print(json.dumps({"importMs": (t1 - t0) * 1e3, "readMs": (t2 - t1) * 1e3, "applyMs": (t3 - t2) * 1e3, "writeMs": (t4 - t3) * 1e3,
                  "maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

async function writeScript(dir: string, name: string, text: string): Promise<string> {
  const path = `${dir}/${name}`;
  await writeFile(path, text);
  return path;
}

export async function generateH5ad(dir: string, path: string, spec: DatasetSpec, usePython: boolean): Promise<GeneratedDataset> {
  const t0 = now();
  if (!usePython) {
    const nnz = writeH5adWithBinding(path, spec);
    return { bytes: statSync(path).size, nnz, ms: now() - t0, method: "the project's HDF5 binding (no Python anndata; no obsm)" };
  }
  const script = await writeScript(dir, "generate-h5ad.py", GENERATE_PY);
  const r = await runCommand(PYTHON, [script, path, String(spec.nObs), String(spec.nVars), String(spec.perRow)], { timeoutMs: 600_000 });
  if (r.exitCode !== 0) throw new Error(`generating ${path} with ${PYTHON} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
  return { bytes: statSync(path).size, nnz: Number(r.stdout.trim()), ms: now() - t0, method: `${PYTHON} (anndata writes obs/var/obsm/uns, h5py writes X in slabs)` };
}

export interface PythonReference {
  wallMs: number;
  peakRssBytes: number;
  importMs: number;
  readMs: number;
  applyMs: number;
  writeMs: number;
}

export async function runPythonReference(dir: string, src: string, out: string): Promise<PythonReference> {
  const script = await writeScript(dir, "reference-apply.py", REFERENCE_PY);
  const r = await runCommand(PYTHON, [script, src, out], { timeoutMs: 600_000 });
  if (r.exitCode !== 0) throw new Error(`the Python reference failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-2000)}`);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { importMs: number; readMs: number; applyMs: number; writeMs: number; maxRssKiB: number };
  return { wallMs: r.wallMs, peakRssBytes: j.maxRssKiB * 1024, importMs: j.importMs, readMs: j.readMs, applyMs: j.applyMs, writeMs: j.writeMs };
}

/* ---- fallback: the same layout through the project's HDF5 binding --------- */

function encodingAttrs(f: H5File, path: string, type: string, version: string): void {
  f.writeAttr(path, "encoding-type", type, "string");
  f.writeAttr(path, "encoding-version", version, "string");
}

function writeDataFrame(f: H5File, path: string, index: string[], columns: { name: string; write: (p: string) => void }[]): void {
  f.createGroup(path);
  encodingAttrs(f, path, "dataframe", "0.2.0");
  f.writeAttr(path, "_index", "_index", "string");
  f.writeAttr(path, "column-order", columns.map((c) => c.name), "string");
  f.createDataset(`${path}/_index`, "string", index);
  encodingAttrs(f, `${path}/_index`, "string-array", "0.2.0");
  for (const c of columns) c.write(`${path}/${c.name}`);
}

/** X as CSR from geometric gaps, like the Python generator (not the same numbers); returns nnz. */
function writeH5adWithBinding(path: string, spec: DatasetSpec): number {
  const random: Random = seededRandom(7);
  const meanGap = spec.nVars / spec.perRow;
  const logQ = Math.log(1 - 1 / meanGap);
  let capacity = Math.ceil(spec.nObs * spec.perRow * 1.05) + 1024;
  let indices = new Int32Array(capacity);
  const indptr = new BigInt64Array(spec.nObs + 1);
  let nnz = 0;
  for (let row = 0; row < spec.nObs; row++) {
    for (let col = Math.floor(Math.log(1 - random()) / logQ); col < spec.nVars; col += 1 + Math.floor(Math.log(1 - random()) / logQ)) {
      if (nnz === capacity) {
        capacity = Math.ceil(capacity * 1.25);
        const grown = new Int32Array(capacity);
        grown.set(indices);
        indices = grown;
      }
      indices[nnz++] = col;
    }
    indptr[row + 1] = BigInt(nnz);
  }
  const data = new Float32Array(nnz);
  for (let i = 0; i < nnz; i++) data[i] = 1 + Math.floor(random() * 29);

  const f = createEmptyH5(path);
  try {
    encodingAttrs(f, "/", "anndata", "0.1.0");
    f.createGroup("/X");
    encodingAttrs(f, "/X", "csr_matrix", "0.1.0");
    f.writeAttr("/X", "shape", new BigInt64Array([BigInt(spec.nObs), BigInt(spec.nVars)]), "int64");
    f.createDataset("/X/data", "float32", data);
    f.createDataset("/X/indices", "int32", indices.subarray(0, nnz));
    f.createDataset("/X/indptr", "int64", indptr);
    const types = Array.from({ length: 12 }, (_, i) => `type-${i}`);
    const cellType = new Int8Array(spec.nObs).map(() => Math.floor(random() * types.length));
    const nCounts = new Float32Array(spec.nObs).map(() => random() * 5000);
    writeDataFrame(f, "/obs", Array.from({ length: spec.nObs }, (_, i) => `cell-${i}`), [
      {
        name: "cell_type",
        write: (p) => {
          f.createGroup(p);
          encodingAttrs(f, p, "categorical", "0.2.0");
          f.writeAttr(p, "ordered", false, "bool");
          f.createDataset(`${p}/codes`, "int8", cellType);
          encodingAttrs(f, `${p}/codes`, "array", "0.2.0");
          f.createDataset(`${p}/categories`, "string", types);
          encodingAttrs(f, `${p}/categories`, "string-array", "0.2.0");
        },
      },
      { name: "n_counts", write: (p) => (f.createDataset(p, "float32", nCounts), encodingAttrs(f, p, "array", "0.2.0")) },
    ]);
    writeDataFrame(f, "/var", Array.from({ length: spec.nVars }, (_, i) => `gene-${i}`), [
      {
        name: "gene_ids",
        write: (p) => (f.createDataset(p, "string", Array.from({ length: spec.nVars }, (_, i) => `ENSG${String(i).padStart(11, "0")}`)), encodingAttrs(f, p, "string-array", "0.2.0")),
      },
      { name: "highly_variable", write: (p) => (f.createDataset(p, "bool", new Uint8Array(spec.nVars).map(() => (random() < 0.1 ? 1 : 0))), encodingAttrs(f, p, "array", "0.2.0")) },
    ]);
    for (const g of ["/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns"]) {
      f.createGroup(g);
      encodingAttrs(f, g, "dict", "0.1.0");
    }
    f.createDataset("/uns/title", "string", ["cellucid-session apply benchmark"], { scalar: true });
    encodingAttrs(f, "/uns/title", "string", "0.2.0");
  } finally {
    f.close();
  }
  return nnz;
}

/**
 * An empty HDF5 file, as `h5py.File(path, "w")` writes it (800 bytes, gzip +
 * base64): the binding opens existing files only, so the fallback starts from it.
 */
const EMPTY_H5_GZ_BASE64 =
  "H4sICHBYBmsCA2UuaDUA6/RwcePlkuJiAAEODgYWBgEGZPAfChSYUfkw+QQozQilO6D0CiaYOCNYTgIqLgg1H11dSJCrK7L56PaMgpENPFwdA0B0BJTPAaVPMKGqg6XDACoFGQDzEO5TIAMAAA==";

function createEmptyH5(path: string): H5File {
  writeFileSync(path, gunzipSync(Buffer.from(EMPTY_H5_GZ_BASE64, "base64")));
  return H5File.open(path, "r+");
}

/* ---- the session bundle --------------------------------------------------- */

export interface BundleGroup {
  id: string;
  column: string;
  cells: Uint32Array;
}

export interface BundleField {
  column: string;
  source: "obs" | "var";
  categories: string[];
  codes: Uint8Array | Uint16Array;
}

export interface GeneratedBundle {
  bytes: number;
  groups: BundleGroup[];
  fields: BundleField[];
}

const OBS_FIELDS = [
  { key: "manual_type", categories: 20 },
  { key: "donor", categories: 8, meanRun: 5000 },
  { key: "qc_flag", categories: 3, meanRun: 200 },
  { key: "annotation", categories: 12 },
];
const VAR_FIELD = { key: "gene_module", categories: 6 };
export const GROUPS = 10;
export const PAGES = 2;
export const GROUP_FRACTION = 0.1;

/**
 * 10 highlight groups of ~10% of the cells (2 pages of 5), 4 categorical obs
 * fields and 1 var field, with a fingerprint matching the dataset. The cells
 * and codes are the same for every nVars (same seed), only the var field's
 * length differs.
 */
export async function writeApplyBundle(path: string, nObs: number, nVars: number): Promise<GeneratedBundle> {
  const random = seededRandom(42);
  const w = createSessionWriter({ canonical: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    dataSource: { sourceType: "local-user", datasetId: "bench-apply", userPath: null },
    datasetFingerprint: { sourceType: "local-user", datasetId: "bench-apply", cellCount: nObs, varCount: nVars },
  });
  const groups: BundleGroup[] = [];
  const perPage = GROUPS / PAGES;
  for (let p = 0; p < PAGES; p++) {
    const pageGroups = [];
    for (let g = 0; g < perPage; g++) {
      const id = `g${p * perPage + g}`;
      const cells = selection(nObs, GROUP_FRACTION, random);
      groups.push({ id, column: `cellucid_highlight__${id}`, cells });
      pageGroups.push({ id, label: `Lasso ${p * perPage + g + 1}`, type: "lasso", cells });
    }
    w.addHighlightPage({ id: `page-${p}`, name: `Page ${p + 1}`, groups: pageGroups });
  }
  const fields: BundleField[] = [];
  for (const [i, f] of OBS_FIELDS.entries()) {
    const codes = f.meanRun ? runCodes(nObs, f.categories, f.meanRun, random) : scatteredCodes(nObs, f.categories, random);
    const categories = Array.from({ length: f.categories }, (_, c) => `${f.key}-${c}`);
    w.addUserDefinedField({ id: `field-${i}`, key: f.key, source: "obs", categories, codes });
    fields.push({ column: f.key, source: "obs", categories, codes });
  }
  const varCodes = scatteredCodes(nVars, VAR_FIELD.categories, random);
  const varCategories = Array.from({ length: VAR_FIELD.categories }, (_, c) => `module-${c}`);
  w.addUserDefinedField({ id: "field-var", key: VAR_FIELD.key, source: "var", categories: varCategories, codes: varCodes });
  fields.push({ column: VAR_FIELD.key, source: "var", categories: varCategories, codes: varCodes });
  await writeSessionFile(w, path);
  return { bytes: statSync(path).size, groups, fields };
}
