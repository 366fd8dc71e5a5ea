/**
 * Section 2: `cellucid-session inspect FILE --json` on ~1 GB bundles (5 big
 * chunks; 16,000 × 64 KiB; 60,000 × 16 KiB), run as a child process the way
 * users run it. Inspect should read only the manifest, the frame headers and
 * the two small JSON chunks, so its cost must not grow with the bundle's
 * bytes: wall time is reported beyond bare Node start-up (`node -e 0`,
 * measured in the same run, interleaved), and peak RSS.
 */
import { join } from "node:path";
import { CLI_PATH, type Section } from "./context.js";
import type { ChildResult } from "./child.js";
import { uvarint } from "./data.js";
import { type RawChunk, jsonChunk, writeRawBundle } from "./raw-bundle.js";
import { repeated } from "../test/hostile-bundles.js";
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
      yield* repeated(body, bodyLength);
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

/** `count` highlight groups of `chunkBytes` each (one page in highlights/meta): a ~1 GB bundle of many chunks. */
async function writeManyChunks(path: string, count: number, chunkBytes: number): Promise<number> {
  const ids = Array.from({ length: count }, (_, i) => `g${i}`);
  const body = new Uint8Array(BLOCK).fill(1);
  const chunks: RawChunk[] = [
    jsonChunk(
      { id: "highlights/meta", contributorId: "highlights-meta", priority: "eager", label: "Highlight metadata", datasetDependent: true },
      { pages: [{ id: "page-1", name: "Page 1", highlightedGroups: ids.map((id) => ({ id, type: "lasso", label: id, cellCount: chunkBytes - 4, enabled: true })) }], activePageId: "page-1", activePageName: "Page 1" },
    ),
    ...ids.map((id) =>
      streamedChunk(
        { id: `highlights/cells/${id}`, contributorId: "highlights-cells", priority: "lazy", label: `Highlight cells: ${id}`, datasetDependent: true, dependsOn: ["highlights/meta"] },
        new Uint8Array([...uvarint(chunkBytes - 4), 0]),
        body,
        chunkBytes - 1 - uvarint(chunkBytes - 4).length,
      ),
    ),
  ];
  return writeRawBundle(path, { createdAt: "2026-01-01T00:00:00.000Z", dataSource: null, datasetFingerprint: { sourceType: "local-user", datasetId: "many", cellCount: CELL_COUNT }, summary: null }, chunks);
}

interface Shape {
  label: string;
  chunks: number;
  groups: number;
  fields: number;
  write(path: string): Promise<number>;
  targetMs: number;
  targetRssMb: number | null;
}

const SHAPES: Shape[] = [
  { label: "5 big chunks", chunks: 5, groups: 2, fields: 1, write: writeBigBundle, targetMs: TARGET_EXTRA_MS, targetRssMb: TARGET_RSS_MB },
  { label: "16,000 × 64 KiB chunks", chunks: 16_001, groups: 16_000, fields: 0, write: (p) => writeManyChunks(p, 16_000, 64 * 1024), targetMs: 100, targetRssMb: 60 },
  { label: "60,000 × 16 KiB chunks", chunks: 60_001, groups: 60_000, fields: 0, write: (p) => writeManyChunks(p, 60_000, 16 * 1024), targetMs: 150, targetRssMb: null },
];

function checkInspectOutput(r: ChildResult, fileBytes: number, shape: Shape): void {
  if (r.exitCode !== 0) throw new Error(`inspect exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim()}`);
  const s = JSON.parse(r.stdout) as { fileBytes: number; chunks: unknown[]; highlights: { pages: { groups: unknown[] }[] } | null; userDefinedFields: unknown[] };
  if (s.fileBytes !== fileBytes || s.chunks.length !== shape.chunks || s.highlights?.pages[0]?.groups.length !== shape.groups || s.userDefinedFields.length !== shape.fields)
    throw new Error(`inspect --json did not describe the bundle that was written: ${r.stdout.slice(0, 500)}`);
}

export const inspectSection: Section = {
  title: "2. inspect on ~1 GB bundles (CLI child process)",
  async run({ report, dir, children }) {
    report.section(this.title, `median of ${RUNS} runs after a warm-up, interleaved with \`node -e 0\`; peak RSS: ${children.method}`);
    const path = join(dir, "big.cellucid-session");
    const baseline = () => children.run(["-e", "0"]);
    // `--version` loads the whole CLI and exits: separates module loading from inspect's own work.
    const version = () => children.run([CLI_PATH, "--version"]);
    for (const shape of SHAPES) {
      const fileBytes = await shape.write(path);
      report.info(`${shape.label}`, `${mb(fileBytes)}, ${num(shape.chunks, 0)} chunks`);
      const inspect = () => children.run([CLI_PATH, "inspect", path, "--json"]);
      checkInspectOutput(await inspect(), fileBytes, shape);
      await baseline();
      await version();
      const base: ChildResult[] = [];
      const loadOnly: ChildResult[] = [];
      const runs: ChildResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        base.push(await baseline());
        loadOnly.push(await version());
        const r = await inspect();
        checkInspectOutput(r, fileBytes, shape);
        runs.push(r);
      }
      const baseMs = median(base.map((r) => r.wallMs));
      const loadMs = median(loadOnly.map((r) => r.wallMs));
      const inspectMs = median(runs.map((r) => r.wallMs));
      const extraMs = inspectMs - baseMs;
      const peakRss = Math.max(...runs.map((r) => r.peakRssBytes));
      report.check(`  wall time beyond Node start-up`, ms(extraMs), `≤ ${shape.targetMs} ms`, extraMs <= shape.targetMs);
      report.info("    inspect / node -e 0 wall time (median)", `${ms(inspectMs, 0)} / ${ms(baseMs, 0)}`);
      report.info("    of which loading the CLI modules (--version)", ms(loadMs - baseMs));
      report.info("    of which inspect's own work (inspect − --version)", ms(inspectMs - loadMs));
      if (shape.targetRssMb !== null) report.check("  peak RSS (worst run)", mb(peakRss), `≤ ${shape.targetRssMb} MB`, peakRss <= shape.targetRssMb * 1e6);
      else report.info("  peak RSS (worst run)", mb(peakRss));
      report.info("    node -e 0 peak RSS", mb(Math.max(...base.map((r) => r.peakRssBytes))));
    }
  },
};
