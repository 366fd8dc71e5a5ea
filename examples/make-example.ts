/**
 * Builds the example bundle shipped in examples/: a PBMC-sized session
 * (2,638 cells, 1,838 genes) with two highlight pages, an obs label field, a
 * var label field, viewer state and one chunk from a contributor this library
 * does not know. Deterministic, so the committed file can be regenerated.
 *
 *   node dist/examples/make-example.js examples/pbmc-demo.cellucid-session
 */
import { createSessionWriter, writeSessionFile } from "../src/node/index.js";

const N_OBS = 2638;
const N_VARS = 1838;

/** Small deterministic PRNG (mulberry32) so the example never changes. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function makeExample(dest: string): Promise<void> {
  const rand = rng(2638);
  // Cells arrive grouped by cluster in many exports; labels then form long runs.
  const clusterOf = (i: number) => Math.min(7, Math.floor((i / N_OBS) * 8 + (rand() - 0.5) * 0.3));
  const cluster = Array.from({ length: N_OBS }, (_, i) => Math.max(0, clusterOf(i)));
  const pick = (p: (i: number) => boolean) => cluster.map((_, i) => i).filter(p);

  const w = createSessionWriter({
    createdAt: "2026-11-20T14:03:12.000Z",
    dataSource: { sourceType: "local-user", datasetId: "pbmc3k-demo", userPath: null },
    datasetFingerprint: { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: N_OBS, varCount: N_VARS },
  });
  w.addJsonChunk("core/state", { camera: { zoom: 1.4, center: [0.1, -0.2] }, activeField: "leiden" }, { contributorId: "core-state", label: "Core viewer state" });
  w.addHighlightPage(
    {
      id: "page-1",
      name: "T cells",
      color: "#1f77b4",
      groups: [
        { id: "grp-cd4", label: "CD4 T (lasso)", type: "lasso", cells: pick((i) => cluster[i] === 0 || (cluster[i] === 1 && i % 3 === 0)) },
        { id: "grp-cd8", label: "CD8 T", type: "lasso", cells: pick((i) => cluster[i] === 2) },
        { id: "grp-empty", label: "Draft (empty)", type: "lasso", enabled: false, cells: [] },
      ],
    },
    { active: true },
  );
  w.addHighlightPage({
    id: "page-2",
    name: "Myeloid",
    groups: [
      { id: "grp mono/CD14+", label: "CD14+ Mono", type: "rectangle", cells: pick((i) => cluster[i] === 4 && rand() < 0.9) },
      { id: "grp-dc", label: "Dendritic", type: "lasso", cells: pick((i) => cluster[i] === 6 && i % 2 === 0) },
    ],
  });
  const cellTypes = ["T", "B", "NK", "Monocyte", "DC", "Platelet"];
  const toType = [0, 0, 0, 1, 3, 2, 4, 5];
  w.addUserDefinedField({ id: "udf-celltype", key: "cell type (manual)", source: "obs", categories: cellTypes, codes: cluster.map((c) => toType[c]!) });
  w.addUserDefinedField({
    id: "udf-qc",
    key: "QC flag",
    source: "obs",
    categories: ["keep", "doublet?"],
    // 255 marks cells never labelled: outside the categories, so they become missing.
    codes: cluster.map(() => (rand() < 0.03 ? 1 : rand() < 0.2 ? 255 : 0)),
  });
  w.addUserDefinedField({ id: "udf-old", key: "old labels", source: "obs", categories: ["a", "b"], codes: cluster.map((c) => c % 2), isDeleted: true });
  w.addUserDefinedField({ id: "udf-markers", key: "marker genes", source: "var", categories: ["marker", "housekeeping"], codes: Array.from({ length: N_VARS }, (_, i) => (i % 97 === 0 ? 0 : i % 211 === 0 ? 1 : 2)) });
  w.addJsonChunk("ui/dockable-layout", { panels: [{ id: "highlights", docked: "left" }] }, { contributorId: "ui-layout", label: "Panel layout", priority: "lazy" });
  w.addJsonChunk("plugins/figure-notes", { note: "from a contributor this library does not know" }, { contributorId: "figure-notes", label: "Figure notes", priority: "lazy" });
  await writeSessionFile(w, dest);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const dest = process.argv[2] ?? "examples/pbmc-demo.cellucid-session";
  await makeExample(dest);
  console.log(`wrote ${dest}`);
}
