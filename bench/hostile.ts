/**
 * Section 7: peak RSS of `validate` and `apply --dry-run` (CLI child
 * processes) on every hostile shape of test/hostile-bundles.ts, at the scale
 * of the reports that found them: deep JSON in the manifest and in each JSON
 * chunk kind, a 474 KB gzip of 250M '[', 65,535 categories × 7 KB, a chunk
 * declaring 2 GiB. Each must be refused with its code (apply only where it
 * reads the chunk), never crash, and stay under the memory target.
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { hostileShapes } from "../test/hostile-bundles.js";
import type { ChildResult } from "./child.js";
import { CLI_PATH, type Section } from "./context.js";
import { mb, ms } from "./report.js";
import { now } from "./timing.js";

const TARGET_RSS_MB = 150;
const TIMEOUT_MS = 120_000;
const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));

function validateCodes(r: ChildResult): string[] {
  try {
    return (JSON.parse(r.stdout) as { errors: { code: string }[] }).errors.map((e) => e.code);
  } catch {
    return [];
  }
}

function crashed(r: ChildResult): boolean {
  return r.signal !== null || /\n\s+at |FATAL ERROR|Maximum call stack/.test(r.stderr);
}

export const hostileSection: Section = {
  title: "7. hostile bundles: validate and apply --dry-run (CLI child processes)",
  async run({ report, dir, children }) {
    report.section(this.title, `one run each; peak RSS: ${children.method}; apply to examples/pbmc-demo.h5ad`);
    const idle = await children.run(["-e", "0"]);
    report.info("node -e 0 peak RSS", mb(idle.peakRssBytes));
    for (const [i, shape] of hostileShapes("bench").entries()) {
      const tag = `(${String.fromCharCode(97 + i)})`;
      const t0 = now();
      const bytes = await shape.make();
      const path = join(dir, "hostile.cellucid-session");
      await writeFile(path, bytes);
      report.info(`${tag} ${shape.name}`, `${mb(bytes.length, 3)} file, made in ${ms(now() - t0, 0)}`);

      const v = await children.run([CLI_PATH, "validate", path, "--json"], { timeoutMs: TIMEOUT_MS });
      const refused = v.exitCode === 1 && validateCodes(v).includes(shape.code) && !crashed(v);
      report.check(`${tag} validate: exit 1 with ${shape.code}`, refused ? `yes, ${ms(v.wallMs, 0)}` : `NO (exit ${v.exitCode ?? v.signal})`, "required", refused);
      if (!refused) report.note(`validate said: ${(v.stdout || v.stderr).trim().slice(0, 300)}`);
      report.check(`${tag} validate peak RSS`, mb(v.peakRssBytes), `≤ ${TARGET_RSS_MB} MB`, v.peakRssBytes <= TARGET_RSS_MB * 1e6);

      const a = await children.run([CLI_PATH, "apply", path, DATASET, "--dry-run"], { timeoutMs: TIMEOUT_MS });
      // Apply reads the manifest, highlights/meta, the overlays and the cells, not viewer state or unknown chunks.
      const agrees = shape.appliedChunk ? a.exitCode === 1 && a.stderr.includes(shape.chunkId ?? "manifest") : a.exitCode === 0;
      const expected = shape.appliedChunk ? `exit 1 on '${shape.chunkId ?? "manifest"}'` : "exit 0 (chunk not read)";
      report.check(`${tag} apply --dry-run: ${expected}`, agrees && !crashed(a) ? `yes, ${ms(a.wallMs, 0)}` : `NO (exit ${a.exitCode ?? a.signal})`, "required", agrees && !crashed(a));
      if (!agrees || crashed(a)) report.note(`apply said: ${a.stderr.trim().slice(0, 300)}`);
      report.check(`${tag} apply peak RSS`, mb(a.peakRssBytes), `≤ ${TARGET_RSS_MB} MB`, a.peakRssBytes <= TARGET_RSS_MB * 1e6);
    }
  },
};
