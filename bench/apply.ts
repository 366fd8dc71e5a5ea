/**
 * Section: `cellucid-session apply` on a 1M-cell sparse .h5ad (CLI child
 * process), with a bundle of 10 highlight groups of ~100k cells, 4 obs and 1
 * var user-defined fields.
 *
 *  - `apply --inplace` appends 15 small columns and a uns entry to the file:
 *    its cost must not depend on X. Measured on a 1M × 2,000 file (~390 MB)
 *    and a 1M × 20,000 file (~1.5 GB), each run on a fresh copy of the
 *    generated file (the copy is not timed).
 *  - `apply -o OUT` copies the file, then appends: compared with a plain copy
 *    of the same file by a Node child (fs.copyFileSync, the primitive apply
 *    itself uses; both sides pay Node's start-up), measured interleaved in the
 *    same run; `cp` is shown beside it for context.
 *  - For reference, Python anndata doing the same job (read_h5ad, add the
 *    columns, write_h5ad), once, when $CELLUCID_PYTHON (default
 *    /usr/bin/python3) has anndata.
 *
 * Every run's JSON summary is checked, and the first result of each kind is
 * opened and compared column by column with the bundle, so a fast run cannot
 * be one that did nothing.
 */
import { spawnSync } from "node:child_process";
import { statfsSync, statSync } from "node:fs";
import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { openAnnData } from "../src/node/index.js";
import {
  type DatasetSpec,
  type GeneratedBundle,
  GROUPS,
  PAGES,
  PYTHON,
  generateH5ad,
  pythonAnndataVersion,
  runPythonReference,
  writeApplyBundle,
} from "./apply-data.js";
import { type ChildResult, type ChildRunner, runCommand } from "./child.js";
import { CLI_PATH, type Section } from "./context.js";
import { type Report, int, mb, ms, num } from "./report.js";
import { median } from "./timing.js";

const TARGET_WALL_MS = 500;
const TARGET_RSS_MB = 150;
const TARGET_COPY_RATIO = 1.5;
const RUNS = 3;
/** Copy mode is the noisiest figure (390 MB through the page cache and the disk): more runs. */
const COPY_RUNS = 5;
const CHILD_TIMEOUT_MS = 180_000;

const N_OBS = 1_000_000;
/** ~390 MB: 40M stored entries (float32 data + int32 indices) plus obs/var/obsm. */
const SMALL: DatasetSpec = { nObs: N_OBS, nVars: 2_000, perRow: 40 };
/** ~1.5 GB: 10× the genes and 4.4× the entries (denser per cell would be unrealistic), capped for disk and set-up time. */
const BIG: DatasetSpec = { nObs: N_OBS, nVars: 20_000, perRow: 175 };

interface ApplySummaryJson {
  addedObsColumns: string[];
  addedVarColumns: string[];
  skippedDueToMismatch: boolean;
  highlights: { column: string; cells: number }[];
  fields: { column: string | null; status: string }[];
}

const EXPECTED_OBS_COLUMNS = GROUPS + 4;

/** Exit status 0 and a JSON summary listing every column of the bundle. */
function checkSummary(r: ChildResult, bundle: GeneratedBundle, what: string): void {
  if (r.exitCode !== 0) throw new Error(`${what} exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim().slice(-2000)}`);
  const s = JSON.parse(r.stdout) as ApplySummaryJson;
  const ok =
    !s.skippedDueToMismatch &&
    s.addedObsColumns.length === EXPECTED_OBS_COLUMNS &&
    s.addedVarColumns.length === 1 &&
    s.highlights.length === GROUPS &&
    s.highlights.every((h, i) => h.column === bundle.groups[i]!.column && h.cells === bundle.groups[i]!.cells.length) &&
    s.fields.every((f) => f.status === "added");
  if (!ok) throw new Error(`${what}: the summary does not list the bundle's columns: ${r.stdout.slice(0, 1000)}`);
}

/** Opens the result and compares every added column with what the bundle holds. */
async function verifyApplied(path: string, bundle: GeneratedBundle): Promise<void> {
  const store = await openAnnData(path);
  try {
    for (const g of bundle.groups) {
      const col = await store.readColumn("obs", g.column);
      if (col.kind !== "bool") throw new Error(`${path}: obs/${g.column} is ${col.kind}, not bool`);
      let trues = 0;
      for (let i = 0; i < col.values.length; i++) trues += col.values[i]!;
      if (trues !== g.cells.length || !g.cells.every((c) => col.values[c] === 1))
        throw new Error(`${path}: obs/${g.column} has ${trues} true values, the group has ${g.cells.length} cells`);
    }
    for (const f of bundle.fields) {
      const col = await store.readColumn(f.source, f.column);
      if (col.kind !== "categorical") throw new Error(`${path}: ${f.source}/${f.column} is ${col.kind}, not categorical`);
      if (col.categories.join("\n") !== f.categories.join("\n")) throw new Error(`${path}: ${f.source}/${f.column} has other categories`);
      for (let i = 0; i < f.codes.length; i++) {
        if (Number(col.codes[i]) !== f.codes[i]) throw new Error(`${path}: ${f.source}/${f.column}[${i}] is ${col.codes[i]}, the bundle says ${f.codes[i]}`);
      }
    }
    const added = await store.readUns(["cellucid", "session", "added_obs_columns"]);
    if (!Array.isArray(added) || added.length !== EXPECTED_OBS_COLUMNS) throw new Error(`${path}: uns/cellucid/session/added_obs_columns is missing or wrong`);
  } finally {
    await store.close();
  }
}

/** Flushes dirty pages (the file just generated or copied) so their write-back does not land on the next timed run. */
function settle(): void {
  spawnSync("sync", { stdio: "ignore" });
}

interface InplaceFigures {
  wallMs: number;
  peakRss: number;
  growth: number;
  dryRunMs: number;
}

/** `apply --inplace` RUNS times, each on a fresh (untimed) copy of `source`; and `--dry-run` on the source itself. */
async function measureInplace(children: ChildRunner, dir: string, source: string, bundlePath: string, bundle: GeneratedBundle): Promise<InplaceFigures> {
  const work = join(dir, "inplace.h5ad");
  const runs: ChildResult[] = [];
  const dry: number[] = [];
  let growth = 0;
  for (let i = 0; i < RUNS; i++) {
    await copyFile(source, work);
    settle();
    const before = statSync(work).size;
    const r = await children.run([CLI_PATH, "apply", bundlePath, work, "--inplace", "--json"], { timeoutMs: CHILD_TIMEOUT_MS });
    checkSummary(r, bundle, "apply --inplace");
    growth = statSync(work).size - before;
    if (i === 0) await verifyApplied(work, bundle);
    runs.push(r);
    await rm(work, { force: true });
    // Interleaved, so that a change in machine load hits both alike.
    const d = await children.run([CLI_PATH, "apply", bundlePath, source, "--dry-run", "--json"], { timeoutMs: CHILD_TIMEOUT_MS });
    checkSummary(d, bundle, "apply --dry-run");
    dry.push(d.wallMs);
  }
  return { wallMs: median(runs.map((r) => r.wallMs)), peakRss: Math.max(...runs.map((r) => r.peakRssBytes)), growth, dryRunMs: median(dry) };
}

interface StartUp {
  nodeMs: number;
  versionMs: number;
}

function reportInplace(report: Report, label: string, f: InplaceFigures, start: StartUp): void {
  report.check(`apply --inplace wall time, ${label}`, ms(f.wallMs, 0), `≤ ${TARGET_WALL_MS} ms`, f.wallMs <= TARGET_WALL_MS);
  report.check(`apply --inplace peak RSS, ${label}`, mb(f.peakRss), `≤ ${TARGET_RSS_MB} MB`, f.peakRss <= TARGET_RSS_MB * 1e6);
  report.info("  of which Node start-up (node -e 0)", ms(start.nodeMs, 0));
  report.info("  of which loading the CLI modules (--version)", ms(start.versionMs - start.nodeMs, 0));
  report.info("  apply --dry-run (open, decode, plan; no write)", ms(f.dryRunMs, 0));
  report.info("  file growth (the appended columns + uns)", mb(f.growth, 2));
}

async function describeDataset(report: Report, label: string, path: string, spec: DatasetSpec, dir: string, usePython: boolean): Promise<void> {
  const g = await generateH5ad(dir, path, spec, usePython);
  report.info(`dataset ${label}`, `${mb(g.bytes, 0)}, ${int(g.nnz)} nnz`);
  report.info(`  ${num(g.nnz / spec.nObs, 1)} entries per cell; generated in ${num(g.ms / 1000, 1)} s`);
}

export const applySection: Section = {
  title: "5. apply to a 1M-cell .h5ad (CLI child process)",
  async run({ report, dir, children }) {
    report.section(this.title, `median of ${RUNS} runs (copy mode ${COPY_RUNS}), each --inplace run on a fresh copy (not timed), sync before each; peak RSS: ${children.method}`);
    const anndataVersion = pythonAnndataVersion();
    const usePython = anndataVersion !== null;
    report.info(
      "data written by",
      usePython ? `${PYTHON}, anndata ${anndataVersion}` : "the HDF5 binding",
    );
    if (!usePython) report.note(`${PYTHON} has no anndata (set CELLUCID_PYTHON): files come from the HDF5 binding, without obsm, and the Python reference is skipped`);

    const small = join(dir, "1m-x-2k.h5ad");
    await describeDataset(report, "1M × 2,000 (sparse CSR)", small, SMALL, dir, usePython);
    const bundleSmall = join(dir, "2k.cellucid-session");
    const bundle = await writeApplyBundle(bundleSmall, N_OBS, SMALL.nVars);
    const sizes = bundle.groups.map((g) => g.cells.length);
    report.info("bundle", `${mb(bundle.bytes, 2)}, ${GROUPS} groups on ${PAGES} pages`);
    report.info(`  group sizes ${int(Math.min(...sizes))}–${int(Math.max(...sizes))} cells; 4 obs + 1 var categorical fields`);

    const node: number[] = [];
    const version: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      node.push((await children.run(["-e", "0"])).wallMs);
      version.push((await children.run([CLI_PATH, "--version"])).wallMs);
    }
    const start: StartUp = { nodeMs: median(node), versionMs: median(version) };

    settle();
    const smallFigures = await measureInplace(children, dir, small, bundleSmall, bundle);
    reportInplace(report, "1M × 2,000", smallFigures, start);

    // Copy mode against a plain copy of the same file, interleaved run by run.
    const out = join(dir, "applied.h5ad");
    const plain = join(dir, "plain-copy.h5ad");
    const copyScript = `require("node:fs").copyFileSync(${JSON.stringify(small)}, ${JSON.stringify(plain)})`;
    const copyRuns: ChildResult[] = [];
    const applyRuns: ChildResult[] = [];
    const cpRuns: number[] = [];
    for (let i = 0; i < COPY_RUNS; i++) {
      settle();
      const c = await children.run(["-e", copyScript], { timeoutMs: CHILD_TIMEOUT_MS });
      if (c.exitCode !== 0 || statSync(plain).size !== statSync(small).size) throw new Error(`plain copy failed: ${c.stderr}`);
      copyRuns.push(c);
      await rm(plain, { force: true });
      settle();
      const cp = await runCommand("cp", [small, plain], { timeoutMs: CHILD_TIMEOUT_MS });
      if (cp.exitCode === 0) cpRuns.push(cp.wallMs);
      await rm(plain, { force: true });
      settle();
      const a = await children.run([CLI_PATH, "apply", bundleSmall, small, "-o", out, "--json"], { timeoutMs: CHILD_TIMEOUT_MS });
      checkSummary(a, bundle, "apply -o");
      if (i === 0) {
        await verifyApplied(out, bundle);
        const input = await openAnnData(small);
        const untouched = !input.columnNames("obs").some((c) => c.startsWith("cellucid_highlight__"));
        await input.close();
        if (!untouched) throw new Error("apply -o modified its input");
      }
      applyRuns.push(a);
      await rm(out, { force: true });
    }
    const copyMs = median(copyRuns.map((r) => r.wallMs));
    const applyCopyMs = median(applyRuns.map((r) => r.wallMs));
    const ratio = applyCopyMs / copyMs;
    report.check("apply -o / plain copy wall time, 1M × 2,000", num(ratio, 2), `≤ ${TARGET_COPY_RATIO.toFixed(1)}`, ratio <= TARGET_COPY_RATIO);
    report.info(`  apply -o / node copyFileSync child (median of ${COPY_RUNS})`, `${ms(applyCopyMs, 0)} / ${ms(copyMs, 0)}`);
    if (cpRuns.length) {
      const cpMs = median(cpRuns);
      report.info("  cp (coreutils, no Node start-up)", `${ms(cpMs, 0)} (apply -o / cp ${num(applyCopyMs / cpMs, 2)})`);
    }
    report.info("  apply -o peak RSS (worst run)", mb(Math.max(...applyRuns.map((r) => r.peakRssBytes))));

    if (usePython) {
      settle();
      const pyOut = join(dir, "python-applied.h5ad");
      const py = await runPythonReference(dir, small, pyOut);
      await rm(pyOut, { force: true });
      report.info(`Python anndata ${anndataVersion}: read_h5ad + 15 columns + write_h5ad (1 run)`, `${ms(py.wallMs, 0)}, ${mb(py.peakRssBytes, 0)}`);
      report.info(`  import ${ms(py.importMs, 0)}, read ${ms(py.readMs, 0)}, add columns ${ms(py.applyMs, 0)}, write ${ms(py.writeMs, 0)}`);
      report.info("  Python / apply --inplace", `${num(py.wallMs / smallFigures.wallMs, 1)}× time, ${num(py.peakRssBytes / smallFigures.peakRss, 1)}× RSS`);
    }

    // The 20,000-gene file: needs its own ~1.5 GB plus a working copy.
    const bigBytesEstimate = BIG.nObs * BIG.perRow * 8 + 100e6;
    const free = (() => {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    })();
    if (free < bigBytesEstimate * 2.5) {
      report.note(`skipped the 1M × 20,000 file: ${mb(free, 0)} free in ${dir}, it needs about ${mb(bigBytesEstimate * 2.5, 0)}`);
      return;
    }
    await rm(small, { force: true });
    const big = join(dir, "1m-x-20k.h5ad");
    await describeDataset(report, "1M × 20,000 (sparse CSR)", big, BIG, dir, usePython);
    const bundleBig = join(dir, "20k.cellucid-session");
    const bundle20k = await writeApplyBundle(bundleBig, N_OBS, BIG.nVars);
    settle();
    const bigFigures = await measureInplace(children, dir, big, bundleBig, bundle20k);
    reportInplace(report, "1M × 20,000", bigFigures, start);
    report.info("  wall time 20,000 / 2,000 genes", `${num(bigFigures.wallMs / smallFigures.wallMs, 2)}×`);
    await rm(big, { force: true });
  },
};
