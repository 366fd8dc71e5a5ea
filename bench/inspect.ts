/**
 * Section 2: `cellucid-session inspect FILE --json` on a ~1 GB bundle, run as
 * a child process the way users run it. Inspect should read only the
 * manifest, the frame headers and the two small JSON chunks, so its cost must
 * not grow with the bundle: wall time is reported beyond bare Node start-up
 * (`node -e 0`, measured in the same run, interleaved), and peak RSS.
 */
import { join } from "node:path";
import { CLI_PATH, type Section } from "./context.js";
import type { ChildResult } from "./child.js";
import { uvarint } from "./data.js";
import { type RawChunk, jsonChunk, repeatBlock, writeRawBundle } from "./raw-bundle.js";
import { mb, ms, num } from "./report.js";
import { median } from "./timing.js";

const TARGET_EXTRA_MS = 50;
const TARGET_RSS_MB = 80;
const RUNS = 11;

/** Big enough that a reader touching payloads would show; every chunk stays under the 512 MiB frame limit. */
const CELL_COUNT = 400_000_000;
const GROUP_CELLS = 300_000_000;
const CATEGORIES = ["T cell", "B cell", "NK", "CD14 mono", "FCGR3A mono", "DC", "Platelet", "Erythrocyte", "HSC", "pDC", "Plasma", "Unknown"];
const BLOCK = 1 << 20;

/** A raw-codec binary chunk: `head` then `body` repeated up to `bodyLength` bytes. */
function streamedChunk(meta: RawChunk["meta"], head: Uint8Array, body: Uint8Array, bodyLength: number): RawChunk {
  const length = head.length + bodyLength;
  return {
    meta: { ...meta, kind: "binary", codec: "none", storedBytes: length, uncompressedBytes: length },
    storedLength: length,
    blocks: function* () {
      yield head;
      yield* repeatBlock(body, bodyLength);
    },
  };
}

/**
 * A valid bundle of ~1 GB: highlights/meta and core/field-overlays (small,
 * gzip), one raw u8 codes chunk for 400M cells, two highlight groups of 300M
 * cells each (all gaps 1), every storedBytes/uncompressedBytes right.
 */
async function writeBigBundle(path: string): Promise<number> {
  const groups = ["g1", "g2"];
  const codesBody = new Uint8Array(BLOCK).map((_, i) => (i >> 12) % CATEGORIES.length);
  const chunks: RawChunk[] = [
    jsonChunk(
      { id: "highlights/meta", contributorId: "highlights-meta", priority: "eager", label: "Highlight metadata", datasetDependent: true },
      {
        pages: [{ id: "page-1", name: "Page 1", highlightedGroups: groups.map((id, i) => ({ id, type: "selection", label: `Lasso ${i + 1}`, cellCount: GROUP_CELLS, enabled: true })) }],
        activePageId: "page-1",
        activePageName: "Page 1",
      },
    ),
    jsonChunk(
      { id: "core/field-overlays", contributorId: "field-overlays", priority: "eager", label: "Field overlays", datasetDependent: true },
      {
        renames: {},
        deletedFields: [],
        userDefinedFields: [
          { id: "f1", source: "obs", kind: "category", key: "manual_cell_type", categories: CATEGORIES, codesLength: CELL_COUNT, codesType: "Uint8Array", isDeleted: false, isPurged: false },
        ],
      },
    ),
    streamedChunk(
      { id: "user-defined/codes/f1", contributorId: "user-defined-codes", priority: "eager", label: "User-defined field codes: manual_cell_type", datasetDependent: true, dependsOn: ["core/field-overlays"] },
      new Uint8Array([0, ...uvarint(CELL_COUNT)]),
      codesBody,
      CELL_COUNT,
    ),
    ...groups.map((id) =>
      // Cells 0..GROUP_CELLS-1: count, first index 0, then gaps of 1.
      streamedChunk(
        { id: `highlights/cells/${id}`, contributorId: "highlights-cells", priority: "lazy", label: `Highlight cells: ${id}`, datasetDependent: true, dependsOn: ["highlights/meta"] },
        new Uint8Array([...uvarint(GROUP_CELLS), 0]),
        new Uint8Array(BLOCK).fill(1),
        GROUP_CELLS - 1,
      ),
    ),
  ];
  return writeRawBundle(
    path,
    {
      createdAt: "2026-01-01T00:00:00.000Z",
      dataSource: { sourceType: "local-user", datasetId: "bench-1gb", userPath: null },
      datasetFingerprint: { sourceType: "local-user", datasetId: "bench-1gb", cellCount: CELL_COUNT, varCount: 30_000 },
      summary: null,
    },
    chunks,
  );
}

function checkInspectOutput(r: ChildResult, fileBytes: number): void {
  if (r.exitCode !== 0) throw new Error(`inspect exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}`);
  const s = JSON.parse(r.stdout) as { fileBytes: number; chunks: unknown[]; highlights: { pages: { groups: unknown[] }[] } | null; userDefinedFields: unknown[] };
  if (s.fileBytes !== fileBytes || s.chunks.length !== 5 || s.highlights?.pages[0]?.groups.length !== 2 || s.userDefinedFields.length !== 1)
    throw new Error(`inspect --json did not describe the bundle that was written: ${r.stdout.slice(0, 500)}`);
}

export const inspectSection: Section = {
  title: "2. inspect on a ~1 GB bundle (CLI child process)",
  async run({ report, dir, children }) {
    report.section(this.title, `median of ${RUNS} runs after a warm-up, interleaved with \`node -e 0\`; peak RSS: ${children.method}`);
    const path = join(dir, "big.cellucid-session");
    const fileBytes = await writeBigBundle(path);
    report.info("bundle", `${mb(fileBytes)}, 5 chunks`);

    const baseline = () => children.run(["-e", "0"]);
    const inspect = () => children.run([CLI_PATH, "inspect", path, "--json"]);
    // `--version` loads the whole CLI and exits: separates module loading from inspect's own work.
    const version = () => children.run([CLI_PATH, "--version"]);
    checkInspectOutput(await inspect(), fileBytes);
    await baseline();
    await version();
    const base: ChildResult[] = [];
    const loadOnly: ChildResult[] = [];
    const runs: ChildResult[] = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(await baseline());
      loadOnly.push(await version());
      const r = await inspect();
      checkInspectOutput(r, fileBytes);
      runs.push(r);
    }
    const baseMs = median(base.map((r) => r.wallMs));
    const loadMs = median(loadOnly.map((r) => r.wallMs));
    const inspectMs = median(runs.map((r) => r.wallMs));
    const extraMs = inspectMs - baseMs;
    const peakRss = Math.max(...runs.map((r) => r.peakRssBytes));
    report.check("inspect wall time beyond Node start-up", ms(extraMs), `≤ ${TARGET_EXTRA_MS} ms`, extraMs <= TARGET_EXTRA_MS);
    report.info("  inspect / node -e 0 wall time (median)", `${ms(inspectMs, 0)} / ${ms(baseMs, 0)}`);
    report.info("  of which loading the CLI modules (--version)", ms(loadMs - baseMs));
    report.info("  of which inspect's own work (inspect − --version)", ms(inspectMs - loadMs));
    report.info("  inspect / node -e 0 wall time (fastest)", `${ms(Math.min(...runs.map((r) => r.wallMs)), 0)} / ${ms(Math.min(...base.map((r) => r.wallMs)), 0)}`);
    report.check("inspect peak RSS (worst run)", mb(peakRss), `≤ ${TARGET_RSS_MB} MB`, peakRss <= TARGET_RSS_MB * 1e6);
    report.info("  node -e 0 peak RSS", mb(Math.max(...base.map((r) => r.peakRssBytes))));
    report.info("  inspect peak RSS / file size", `${num((peakRss / fileBytes) * 100, 2)}%`);
  },
};
