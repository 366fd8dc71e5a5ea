/**
 * `npm run bench`: performance figures of cellucid-session, each printed next
 * to its target with PASS or MISS.
 *
 *   1. decode throughput of index sets and codes (in-process)
 *   2. `inspect` wall time and peak RSS on a ~1 GB bundle (CLI child)
 *   3. `validate` throughput as a ratio to plain gunzip (in-process)
 *   4. peak RSS while `validate` rejects a zip bomb (CLI child)
 *   5. `apply --inplace` / copy on 1M-cell .h5ad files (CLI child)
 *   6. the viewer page with 5M and 10M cells in headless Chromium, WebGL2 and Canvas2D
 *   7. peak RSS of validate / apply on hostile bundles (CLI children)
 *   8. AnnData stores: apply of 1,000 groups, consolidated .zarr, export of 10M names (CLI child)
 *
 * Pass section numbers to run only those (`node --expose-gc dist/bench/run.js 2 4`).
 * Generated files live in one temp dir, removed at the end, on failure and on
 * Ctrl-C. A missed target is a result; the exit status is non-zero only when a
 * section crashed.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { constants, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { ChildRunner, killRunningChildren } from "./child.js";
import type { Section } from "./context.js";
import { decodeSection } from "./decode.js";
import { inspectSection } from "./inspect.js";
import { Report, mb } from "./report.js";
import { now } from "./timing.js";
import { validateSection } from "./validate.js";
import { zipBombSection } from "./zip-bomb.js";
import { applySection } from "./apply.js";
import { viewerSection } from "./viewer.js";
import { hostileSection } from "./hostile.js";
import { storesSection } from "./stores.js";

const SECTIONS: Section[] = [decodeSection, inspectSection, validateSection, zipBombSection, applySection, viewerSection, hostileSection, storesSection];

const root = mkdtempSync(join(tmpdir(), "cellucid-bench-"));
let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  killRunningChildren();
  rmSync(root, { recursive: true, force: true });
}
// 'exit' covers normal ends and uncaught errors; signals need their own handlers to get there.
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(128 + constants.signals[signal]);
  });
}

function selectedSections(argv: string[]): Section[] {
  if (argv.length === 0) return SECTIONS;
  const wanted = new Set(argv.map(Number));
  return SECTIONS.filter((_, i) => wanted.has(i + 1));
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

async function main(): Promise<void> {
  const t0 = now();
  const report = new Report();
  const cpu = cpus();
  console.log("cellucid-session benchmarks");
  console.log(`  node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${mb(totalmem(), 0)} RAM${globalThis.gc ? "" : " (no --expose-gc: GC noise possible)"}`);
  console.log(`  temp dir ${root} (removed at the end); MB = 10^6 bytes`);
  console.log(`  load average ${loadAverage()} (other jobs on the machine make timings noisy)`);
  const children = ChildRunner.create(root);

  for (const [i, section] of selectedSections(process.argv.slice(2)).entries()) {
    const dir = join(root, `section-${i + 1}`);
    mkdirSync(dir);
    try {
      await section.run({ report, dir, children });
    } catch (err) {
      report.crash(section.title, err);
    } finally {
      // Free disk (up to ~3 GB in the apply section) before the next section writes its own files.
      killRunningChildren();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  report.summary((now() - t0) / 1000);
  console.log(`  load average at the end ${loadAverage()}`);
  process.exitCode = report.hasCrashes ? 1 : 0;
}

try {
  await main();
} finally {
  cleanup();
}
