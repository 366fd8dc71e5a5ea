/**
 * Builds the example bundle shipped in examples/: a PBMC-sized session
 * (2,638 cells, 1,838 genes) made on examples/pbmc-demo.h5ad, in the
 * canonical form the current Cellucid web app loads: two highlight pages
 * (a lasso and a rectangle selection among them), two obs label fields (one
 * shown, with cells nobody labelled left missing), a field deleted in the
 * viewer, the app's singleton chunks, and a fingerprint whose cellOrder is the
 * dataset's. Deterministic, so the committed file can be regenerated.
 *
 *   node dist/examples/make-example.js examples/pbmc-demo.cellucid-session [examples/pbmc-demo.h5ad]
 */
import { appCellOrder, createSessionWriter, openAnnData, writeSessionFile } from "../src/node/index.js";

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

export async function makeExample(dest: string, dataset = "examples/pbmc-demo.h5ad"): Promise<void> {
  const store = await openAnnData(dataset);
  const order = await appCellOrder(store).finally(() => store.close());
  if (!order) throw new Error(`${dataset} has no embedding the web app can show`);
  const rand = rng(2638);
  // Cells arrive grouped by cluster in many exports; labels then form long runs.
  const clusterOf = (i: number) => Math.min(7, Math.floor((i / N_OBS) * 8 + (rand() - 0.5) * 0.3));
  const cluster = Array.from({ length: N_OBS }, (_, i) => Math.max(0, clusterOf(i)));
  const pick = (p: (i: number) => boolean) => cluster.map((_, i) => i).filter(p);

  const w = createSessionWriter({
    createdAt: "2026-11-20T14:03:12.000Z",
    datasetFingerprint: { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: N_OBS, varCount: N_VARS, cellOrder: { dimension: order.dimension, digest: order.digest } },
    activeFieldId: "udf-celltype",
  });
  w.addHighlightPage(
    {
      name: "T cells",
      color: "#1f77b4",
      groups: [
        { label: "CD4 T (lasso)", type: "lasso", cells: pick((i) => cluster[i] === 0 || (cluster[i] === 1 && i % 3 === 0)) },
        { label: "CD8 T", type: "lasso", cells: pick((i) => cluster[i] === 2) },
      ],
    },
    { active: true },
  );
  w.addHighlightPage({
    name: "Myeloid",
    color: "#ff7f0e",
    groups: [
      { label: "CD14+ Mono", type: "rectangle", cells: pick((i) => cluster[i] === 4 && rand() < 0.9) },
      { label: "Dendritic", type: "lasso", enabled: false, cells: pick((i) => cluster[i] === 6 && i % 2 === 0) },
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
    // -1: cells never labelled; they are stored as the missing marker and become missing values.
    codes: cluster.map(() => (rand() < 0.03 ? 1 : rand() < 0.2 ? -1 : 0)),
  });
  w.addUserDefinedField({ id: "udf-old", key: "old labels", source: "obs", categories: ["a", "b"], codes: cluster.map((c) => c % 2), isDeleted: true });
  await writeSessionFile(w, dest);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const dest = process.argv[2] ?? "examples/pbmc-demo.cellucid-session";
  await makeExample(dest, process.argv[3]);
  console.log(`wrote ${dest}`);
}
