/**
 * Section: AnnData stores at scale (CLI child processes, one run each).
 *
 *  - `apply --inplace` of 1,000 highlight groups of ~1,000 cells (1 GB of new
 *    bool columns) on a 1M-cell .h5ad: peak RSS must not grow with the group
 *    count; compared with Python anndata doing the same job in the same run
 *    (read_h5ad, add the columns, write_h5ad) and with the physical limit,
 *    writing the same bytes sequentially (dd). 10 groups beside it.
 *  - The same 500 groups applied to a consolidated .zarr: `.zmetadata` is
 *    updated once per apply.
 *  - `export --obs-names` of a 10M-cell .h5ad to TSV and JSON: the names are
 *    read a batch at a time.
 *  - X access: the CSR column index of a 1M × 2,000 .h5ad, built once (time
 *    against reading X once, peak RSS), then the first gene from the cache.
 */
import { statSync } from "node:fs";
import { copyFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { PYTHON, generateH5ad, pythonAnndataVersion } from "./apply-data.js";
import { type ChildResult, type ChildRunner, runCommand } from "./child.js";
import { CLI_PATH, type Section } from "./context.js";
import { seededRandom } from "./data.js";
import { type Report, int, mb, ms, num } from "./report.js";

const N_OBS = 1_000_000;
const N_EXPORT = 10_000_000;
const TIMEOUT_MS = 600_000;
const X_CHILD = fileURLToPath(new URL("./x-child.js", import.meta.url));

/** `groups` highlight groups of `cells` random cells each, for `nObs` cells; returns the bundle's path. */
async function groupsBundle(path: string, nObs: number, groups: number, cells: number): Promise<string> {
  const random = seededRandom(groups);
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "bench-stores", cellCount: nObs } });
  const list = [];
  for (let g = 0; g < groups; g++) {
    const picked = new Set<number>();
    while (picked.size < cells) picked.add(Math.floor(random() * nObs));
    list.push({ id: `g${g}`, label: `Group ${g}`, cells: Uint32Array.from([...picked].sort((a, b) => a - b)) });
  }
  w.addHighlightPage({ id: "p", name: "Page", groups: list });
  await writeSessionFile(w, path);
  return path;
}

function checked(r: ChildResult | { exitCode: number | null; stderr: string }, what: string): void {
  if (r.exitCode !== 0) throw new Error(`${what} exited with ${r.exitCode}: ${r.stderr.trim().slice(-2000)}`);
}

const REFERENCE_PY = String.raw`
import sys, time, json, resource
t0 = time.perf_counter()
import numpy as np, anndata as ad
src, out, groups, cells = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = ad.read_h5ad(src)
rng = np.random.default_rng(groups)
for g in range(groups):
    col = np.zeros(a.n_obs, dtype=bool)
    col[rng.choice(a.n_obs, cells, replace=False)] = True
    a.obs[f"cellucid_highlight__g{g}"] = col
a.write_h5ad(out)
print(json.dumps({"maxRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

const NAMES_PY = String.raw`
import sys, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
n = int(sys.argv[2])
names = pd.Index(np.char.add("cell-", np.arange(n).astype(str)).astype(object))
a = ad.AnnData(X=sp.csr_matrix((n, 1), dtype=np.float32), obs=pd.DataFrame(index=names), var=pd.DataFrame(index=["g"]))
a.write_h5ad(sys.argv[1])
`;

const ZARR_PY = String.raw`
import sys, anndata as ad, zarr
ad.read_h5ad(sys.argv[1]).write_zarr(sys.argv[2]); zarr.consolidate_metadata(sys.argv[2])
`;

async function python(dir: string, name: string, script: string, args: string[]): Promise<{ wallMs: number; stdout: string }> {
  const file = join(dir, name);
  await writeFile(file, script);
  const r = await runCommand(PYTHON, [file, ...args], { timeoutMs: TIMEOUT_MS });
  checked(r, name);
  return r;
}

async function applyInplace(children: ChildRunner, source: string, work: string, bundle: string): Promise<ChildResult> {
  await copyFile(source, work);
  await runCommand("sync", []);
  const r = await children.run([CLI_PATH, "apply", bundle, work, "--inplace", "--json"], { timeoutMs: TIMEOUT_MS });
  checked(r, "apply --inplace");
  return r;
}

async function applySection(report: Report, dir: string, children: ChildRunner, h5ad: string): Promise<void> {
  const work = join(dir, "work.h5ad");
  const b1000 = await groupsBundle(join(dir, "1000.cellucid-session"), N_OBS, 1000, 1000);
  const b10 = await groupsBundle(join(dir, "10.cellucid-session"), N_OBS, 10, 100_000);
  const r1000 = await applyInplace(children, h5ad, work, b1000);
  const grown = statSync(work).size - statSync(h5ad).size;
  await rm(work);
  const r10 = await applyInplace(children, h5ad, work, b10);
  await rm(work);
  const pyOut = join(dir, "python.h5ad");
  const py = await python(dir, "reference.py", REFERENCE_PY, [h5ad, pyOut, "1000", "1000"]);
  const pyRss = (JSON.parse(py.stdout.trim().split("\n").pop()!) as { maxRssKiB: number }).maxRssKiB * 1024;
  await rm(pyOut, { force: true });
  // The physical limit of writing the columns as raw bytes (anndata's layout): 1,000 × N_OBS bytes.
  const rawBytes = 1000 * N_OBS;
  const dd = await runCommand("dd", ["if=/dev/zero", `of=${join(dir, "dd.bin")}`, "bs=1M", `count=${Math.round(rawBytes / 2 ** 20)}`, "conv=fsync"], { timeoutMs: TIMEOUT_MS });
  await rm(join(dir, "dd.bin"), { force: true });

  report.check("apply --inplace 1,000 groups: peak RSS", mb(r1000.peakRssBytes), "≤ 150 MB", r1000.peakRssBytes <= 150e6);
  const speedup = py.wallMs / r1000.wallMs;
  report.check("  time, Python anndata / apply --inplace", `${num(speedup, 1)}×`, "≥ 5×", speedup >= 5);
  report.info("  apply --inplace / Python anndata", `${ms(r1000.wallMs, 0)} / ${ms(py.wallMs, 0)}`);
  report.info("  Python anndata peak RSS", mb(pyRss, 0));
  report.info(`  writing the ${mb(rawBytes, 0)} of raw bool columns sequentially (dd, fsync)`, dd.exitCode === 0 ? ms(dd.wallMs, 0) : "dd failed");
  report.info("  file growth (bool columns stored as deflated runs)", mb(grown, 1));
  report.check("apply --inplace 10 groups (~100k cells): peak RSS", mb(r10.peakRssBytes), "≤ 100 MB", r10.peakRssBytes <= 100e6);
  report.info("  wall time", ms(r10.wallMs, 0));

  const zarrPath = join(dir, "consolidated.zarr");
  await python(dir, "to-zarr.py", ZARR_PY, [h5ad, zarrPath]);
  const b500 = await groupsBundle(join(dir, "500.cellucid-session"), N_OBS, 500, 1000);
  await runCommand("sync", []);
  const z = await children.run([CLI_PATH, "apply", b500, zarrPath, "--inplace", "--json"], { timeoutMs: TIMEOUT_MS });
  checked(z, "apply --inplace to .zarr");
  report.check("apply --inplace 500 groups to a consolidated .zarr", ms(z.wallMs, 0), "≤ 3,000 ms", z.wallMs <= 3000);
  report.info("  peak RSS", mb(z.peakRssBytes));
  await rm(zarrPath, { recursive: true, force: true });
}

async function exportSection(report: Report, dir: string, children: ChildRunner): Promise<void> {
  const data = join(dir, "10m.h5ad");
  const made = await python(dir, "names.py", NAMES_PY, [data, String(N_EXPORT)]);
  report.info(`dataset ${int(N_EXPORT)} cells with names (Python anndata)`, `${mb(statSync(data).size, 0)}, made in ${num(made.wallMs / 1000, 1)} s`);
  const bundle = await groupsBundle(join(dir, "10m.cellucid-session"), N_EXPORT, 2, 1000);
  for (const format of ["tsv", "json"]) {
    const out = join(dir, `out.${format}`);
    const r = await children.run([CLI_PATH, "export", bundle, "--obs-names", data, "-o", out, "--quiet"], { timeoutMs: TIMEOUT_MS });
    checked(r, `export ${format}`);
    const nsPerName = (r.wallMs * 1e6) / N_EXPORT;
    report.check(`export --obs-names 10M cells, ${format}: peak RSS`, mb(r.peakRssBytes), "≤ 300 MB", r.peakRssBytes <= 300e6);
    report.check(`  time per row (with start-up)`, `${num(nsPerName, 0)} ns`, "≤ 287 ns (430 / 1.5)", nsPerName <= 430 / 1.5);
    report.info("  wall time, output size", `${ms(r.wallMs, 0)}, ${mb(statSync(out).size, 0)}`);
    await rm(out, { force: true });
  }
}

/** The CSR column index on the 1M × 2,000 file of section 5, against reading X once. */
export async function xIndexSection(report: Report, dir: string, children: ChildRunner): Promise<void> {
  const h5ad = join(dir, "1m-x-2k.h5ad");
  const made = await generateH5ad(dir, h5ad, { nObs: N_OBS, nVars: 2_000, perRow: 40 }, true);
  report.info("dataset 1M × 2,000 (sparse CSR, Python anndata)", `${mb(made.bytes, 0)}, ${int(made.nnz)} nnz`);
  await runCommand("sync", []);
  const read = await children.run([X_CHILD, "read", h5ad], { timeoutMs: TIMEOUT_MS });
  checked(read, "reading X");
  const build = await children.run([X_CHILD, "index", h5ad, join(dir, "x-cache")], { timeoutMs: TIMEOUT_MS });
  checked(build, "building the column index");
  const again = await children.run([X_CHILD, "index", h5ad, join(dir, "x-cache")], { timeoutMs: TIMEOUT_MS });
  checked(again, "reading genes from the cached index");
  const r = JSON.parse(read.stdout) as { readMs: number };
  const b = JSON.parse(build.stdout) as { buildMs: number; geneMs: number };
  const c = JSON.parse(again.stdout) as { buildMs: number; geneMs: number };
  const ratio = b.buildMs / r.readMs;
  report.check("CSR column index build / reading X once", `${num(ratio, 2)} (${ms(b.buildMs, 0)} / ${ms(r.readMs, 0)})`, "≤ 3", ratio <= 3);
  report.check("  peak RSS of the build", mb(build.peakRssBytes), "≤ 300 MB", build.peakRssBytes <= 300e6);
  const first = Math.max(b.geneMs, c.buildMs);
  report.check("first gene after the index (next open, from the cache)", ms(first, 1), "≤ 300 ms", first <= 300);
  await rm(h5ad, { force: true });
}

export const storesSection: Section = {
  title: "8. AnnData stores: apply 1,000 groups, consolidated .zarr, export of 10M names, CSR column index (child processes)",
  async run({ report, dir, children }) {
    report.section(this.title, `one run each; peak RSS: ${children.method}`);
    const version = pythonAnndataVersion();
    if (!version) {
      report.note(`${PYTHON} has no anndata: this section needs it for its data and its reference`);
      return;
    }
    report.info("data and reference", `${PYTHON}, anndata ${version}`);
    const h5ad = join(dir, "1m.h5ad");
    await generateH5ad(dir, h5ad, { nObs: N_OBS, nVars: 100, perRow: 2 }, true);
    report.info("dataset 1M cells × 100 genes", mb(statSync(h5ad).size, 0));
    await applySection(report, dir, children, h5ad);
    await rm(h5ad, { force: true });
    await exportSection(report, dir, children);
    await xIndexSection(report, dir, children);
  },
};
