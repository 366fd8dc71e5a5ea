/**
 * Section 4: `cellucid-session validate FILE --json` on a zip bomb, as a
 * child process. A ~4 MB gzip chunk inflates to 4 GiB of zeros; the guard
 * must stop inflating at the limit (SPEC §5), so peak RSS stays near that of
 * an idle Node process instead of growing with the bomb.
 */
import { join } from "node:path";
import { gzipPieces, repeated } from "../test/hostile-bundles.js";
import { CLI_PATH, type Section } from "./context.js";
import { type RawChunk, writeRawBundle } from "./raw-bundle.js";
import { mb, ms, num } from "./report.js";
import { median, now } from "./timing.js";

const TARGET_RSS_MB = 100;
const INFLATED_GIB = 4;
const RUNS = 3;
const TIMEOUT_MS = 180_000;

/** gzip of INFLATED_GIB GiB of zeros, streamed from one 1 MiB buffer so generating it stays cheap in memory. */
function gzipOfZeros(): Promise<Uint8Array> {
  return gzipPieces(repeated(new Uint8Array(1 << 20), INFLATED_GIB * 1024 ** 3));
}

interface Variant {
  tag: string;
  description: string;
  /** undefined: the manifest has no uncompressedBytes, so the 512 MiB ceiling applies. */
  uncompressedBytes: number | undefined;
  expectedCode: string;
}

const VARIANTS: Variant[] = [
  { tag: "(a)", description: "uncompressedBytes: 1000 (declared small)", uncompressedBytes: 1000, expectedCode: "DECOMPRESSED_LARGER_THAN_EXPECTED" },
  { tag: "(b)", description: "no uncompressedBytes (512 MiB ceiling)", uncompressedBytes: undefined, expectedCode: "DECOMPRESSED_TOO_LARGE" },
];

function bombChunk(stored: Uint8Array, uncompressedBytes: number | undefined): RawChunk {
  return {
    meta: {
      id: "highlights/cells/bomb",
      contributorId: "highlights-cells",
      priority: "lazy",
      kind: "binary",
      codec: "gzip",
      label: "Highlight cells: bomb",
      datasetDependent: true,
      storedBytes: stored.length,
      ...(uncompressedBytes === undefined ? {} : { uncompressedBytes }),
    },
    storedLength: stored.length,
    blocks: () => [stored],
  };
}

export const zipBombSection: Section = {
  title: "4. validate rejecting a zip bomb (CLI child process)",
  async run({ report, dir, children }) {
    report.section(this.title, `median wall time / worst peak RSS of ${RUNS} runs; peak RSS: ${children.method}`);
    const t0 = now();
    const stored = await gzipOfZeros();
    const inflated = INFLATED_GIB * 1024 ** 3;
    report.info("bomb chunk: stored → inflated", `${mb(stored.length)} → ${mb(inflated, 0)} (${num(inflated / stored.length, 0)}:1)`);
    report.info("  generation time", ms(now() - t0, 0));
    const idle = await children.run(["-e", "0"]);
    report.info("node -e 0 peak RSS", mb(idle.peakRssBytes));

    for (const v of VARIANTS) {
      const path = join(dir, `bomb-${v.uncompressedBytes ?? "undeclared"}.cellucid-session`);
      await writeRawBundle(
        path,
        { createdAt: "2026-01-01T00:00:00.000Z", dataSource: null, datasetFingerprint: { sourceType: "local-user", datasetId: "bomb", cellCount: 1000 }, summary: null },
        [bombChunk(stored, v.uncompressedBytes)],
      );
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await children.run([CLI_PATH, "validate", path, "--json"], { timeoutMs: TIMEOUT_MS }));
      // Every run must be rejected the right way, or its RSS says nothing about the guard.
      const codes = runs.map((r) => {
        try {
          return (JSON.parse(r.stdout) as { errors: { code: string }[] }).errors.map((e) => e.code);
        } catch {
          return [`unparseable output: ${r.stderr.trim().slice(0, 200)}`];
        }
      });
      const rejected = runs.every((r, i) => r.exitCode === 1 && codes[i]!.includes(v.expectedCode));
      const seen = [...new Set(runs.map((r, i) => `exit ${r.exitCode ?? r.signal}, ${codes[i]!.join("+") || "no error"}`))].join("; ");
      report.info(`${v.tag} ${v.description}`);
      report.check(`${v.tag} exit 1 with ${v.expectedCode}`, rejected ? "yes" : "NO", "required", rejected);
      if (!rejected) report.note(`got: ${seen}`);
      const peak = Math.max(...runs.map((r) => r.peakRssBytes));
      report.check(`${v.tag} peak RSS`, mb(peak), `≤ ${TARGET_RSS_MB} MB`, peak <= TARGET_RSS_MB * 1e6);
      report.info(`${v.tag} wall time (incl. Node start-up)`, ms(median(runs.map((r) => r.wallMs)), 0));
    }
  },
};
