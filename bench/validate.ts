/**
 * Section 3: validateBundle (in-process) against plain zlib.gunzipSync of the
 * same stored bytes. Inflating is work validation cannot skip, so gunzip
 * throughput is the natural yardstick: the ratio says how much validation
 * adds on top (reading the file, guards, decoding every index and code).
 * Then the same frames without `uncompressedBytes` in the manifest: each
 * chunk must still be inflated only once.
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  CellucidSessionBundle,
  createSessionWriter,
  validateBundle,
  writeSessionFile,
  type CodesArray,
} from "../src/node/index.js";
import type { Section } from "./context.js";
import { runCodes, scatteredCodes, seededRandom, selection } from "./data.js";
import { rewriteManifest } from "./raw-bundle.js";
import { int, mb, ms, num } from "./report.js";
import { best, now, timeInterleaved } from "./timing.js";

const TARGET_RATIO = 0.7;
/** Without declared sizes each chunk must still be inflated once: at most 10% slower. */
const TARGET_UNDECLARED_RATIO = 1.1;
const REPEAT = { warmup: 1, runs: 3 };
const CELLS = 10_000_000;
const GENES = 30_000;
/** Group sizes as fractions of the cells, per page: a few big selections, many small ones. */
const GROUP_FRACTIONS = [0.9, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01, 0.005];
const PAGES = 4;

interface FieldSpec {
  key: string;
  source: "obs" | "var";
  categories: number;
  /** Mean run length for painted labels; absent for per-cell (scattered) codes. */
  meanRun?: number;
}

/** Fields of a realistic session: per-cell clusterings (raw codes) and painted labels (RLE), one per gene. */
const FIELDS: FieldSpec[] = [
  { key: "leiden_manual", source: "obs", categories: 20 },
  { key: "donor", source: "obs", categories: 8 },
  { key: "qc_flag", source: "obs", categories: 2 },
  { key: "cluster_fine", source: "obs", categories: 40 },
  { key: "barcode_group", source: "obs", categories: 1000 },
  { key: "annotation_v1", source: "obs", categories: 30, meanRun: 12 },
  { key: "annotation_v2", source: "obs", categories: 30, meanRun: 200 },
  { key: "sample", source: "obs", categories: 16, meanRun: 5000 },
  { key: "gene_module", source: "var", categories: 12 },
];

interface Generated {
  indexCount: number;
}

/** Writes the bundle with the project's writer. Exported for ad-hoc profiling. */
export async function writeBundle(path: string): Promise<Generated> {
  const random = seededRandom(3);
  const w = createSessionWriter({ canonical: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    dataSource: { sourceType: "local-user", datasetId: "bench-10m", userPath: null },
    datasetFingerprint: { sourceType: "local-user", datasetId: "bench-10m", cellCount: CELLS, varCount: GENES },
  });
  let indexCount = 0;
  for (let p = 0; p < PAGES; p++) {
    const groups = GROUP_FRACTIONS.map((fraction, g) => {
      const cells = selection(CELLS, fraction, random);
      indexCount += cells.length;
      return { id: `p${p}-g${g}`, type: "selection", label: `Selection ${g + 1}`, enabled: true, cells };
    });
    w.addHighlightPage({ id: `page-${p}`, name: `Page ${p + 1}`, groups }, { active: p === 0 });
  }
  for (const [i, f] of FIELDS.entries()) {
    const n = f.source === "var" ? GENES : CELLS;
    const codes: CodesArray = f.meanRun ? runCodes(n, f.categories, f.meanRun, random) : scatteredCodes(n, f.categories, random);
    w.addUserDefinedField({ id: `field-${i}`, key: f.key, source: f.source, categories: Array.from({ length: f.categories }, (_, c) => `${f.key}-${c}`), codes });
  }
  await writeSessionFile(w, path);
  return { indexCount };
}

export const validateSection: Section = {
  title: "3. validate vs plain gunzip (in-process)",
  async run({ report, dir }) {
    report.section(this.title, `best of ${REPEAT.runs} alternating runs after ${REPEAT.warmup} warm-up each; MB/s of uncompressed payload`);
    const path = join(dir, "validate.cellucid-session");
    const t0 = now();
    const { indexCount } = await writeBundle(path);
    const writeMs = now() - t0;

    const bundle = await CellucidSessionBundle.open(path);
    try {
      const frames = bundle.index.frames;
      // The writer keeps gzip only when it saves ≥ 10%; a chunk stored raw needs no inflating,
      // so the baseline skips it while both sides are credited with its bytes.
      const gzipped = frames.filter((f) => f.meta.codec === "gzip");
      const raw = frames.filter((f) => f.meta.codec !== "gzip");
      const payloadBytes = frames.reduce((n, f) => n + (f.meta.uncompressedBytes ?? 0), 0);
      const storedBytes = frames.reduce((n, f) => n + f.length, 0);
      report.info("bundle (written with createSessionWriter)", `${frames.length} chunks, ${mb(bundle.byteLength)}`);
      if (raw.length) report.info("  stored raw (gzip saved < 10%)", `${raw.length} chunk${raw.length === 1 ? "" : "s"}, ${mb(raw.reduce((n, f) => n + f.length, 0), 3)}`);
      report.info("  uncompressed payload", `${mb(payloadBytes)} (${num(payloadBytes / storedBytes)}:1)`);
      report.info("  highlight indices / codes", `${int(indexCount)} / ${FIELDS.length} fields`);
      report.info("  set-up time (data + writer)", ms(writeMs, 0));

      // Validation must accept the bundle, or its speed means nothing.
      const first = await validateBundle(bundle);
      if (!first.valid) throw new Error(`validateBundle rejected the benchmark bundle: ${JSON.stringify(first.errors.slice(0, 3))}`);
      if (first.warnings.length) report.note(`validate warnings: ${first.warnings.map((w) => w.code).join(", ")}`);

      // The baseline inflates bytes already in memory: file reading is charged to validate only.
      const stored = await Promise.all(gzipped.map((f) => bundle.readChunkBytes(f.meta.id)));
      const inflated = stored.reduce((n, s) => n + gunzipSync(s).length, 0) + raw.reduce((n, f) => n + f.length, 0);
      if (inflated !== payloadBytes) throw new Error(`gunzip produced ${inflated} bytes, the manifest declares ${payloadBytes}`);

      const [gunzipTimes, validateTimes] = await timeInterleaved([() => stored.forEach((s) => gunzipSync(s)), () => validateBundle(bundle)], REPEAT);
      const gunzipMs = best(gunzipTimes!);
      const validateMs = best(validateTimes!);
      const gunzipRate = payloadBytes / gunzipMs / 1e3;
      const validateRate = payloadBytes / validateMs / 1e3;
      const ratio = validateRate / gunzipRate;
      report.info("validateBundle", `${num(validateRate)} MB/s (${ms(validateMs, 0)})`);
      report.info("zlib.gunzipSync of every chunk", `${num(gunzipRate)} MB/s (${ms(gunzipMs, 0)})`);
      report.check("validate / gunzip throughput", num(ratio, 2), `≥ ${TARGET_RATIO.toFixed(2)}`, ratio >= TARGET_RATIO);
      report.info("  indices checked per run (scanned, never materialised)", int(indexCount));

      // One inflate per chunk whatever the manifest declares: the same frames, no uncompressedBytes.
      const undeclaredPath = join(dir, "validate-undeclared.cellucid-session");
      await rewriteManifest(path, undeclaredPath, (m) => ({ ...m, chunks: m.chunks.map(({ uncompressedBytes: _, ...c }) => c) }));
      const undeclared = await CellucidSessionBundle.open(undeclaredPath);
      try {
        const report2 = await validateBundle(undeclared);
        if (!report2.valid) throw new Error(`validateBundle rejected the bundle without declared sizes: ${JSON.stringify(report2.errors.slice(0, 3))}`);
        const [withTimes, withoutTimes] = await timeInterleaved([() => validateBundle(bundle), () => validateBundle(undeclared)], REPEAT);
        const ratio2 = best(withoutTimes!) / best(withTimes!);
        report.info("validateBundle with / without uncompressedBytes", `${ms(best(withTimes!), 0)} / ${ms(best(withoutTimes!), 0)}`);
        report.check("validate time without ÷ with declared sizes", num(ratio2, 2), `≤ ${TARGET_UNDECLARED_RATIO.toFixed(2)}`, ratio2 <= TARGET_UNDECLARED_RATIO);
      } finally {
        await undeclared.close();
      }
    } finally {
      await bundle.close();
    }
  },
};
