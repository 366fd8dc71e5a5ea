/**
 * Child process of the X-access benchmark: `read PATH` reads X's data and
 * indices once, a block at a time (the baseline); `index PATH CACHE` builds the
 * CSR column index through readXColumn, then reads another gene from it.
 * Prints its timings as JSON.
 */
import { H5adStore } from "../src/node/index.js";
import { H5File } from "../src/anndata/h5/binding.js";
import { now } from "./timing.js";

const [mode, path, cacheDir] = process.argv.slice(2);
if (mode === "read") {
  const f = H5File.open(path!, "r");
  const t0 = now();
  const nnz = f.datasetInfo("/X/indices").shape[0]!;
  let sum = 0;
  for (let k = 0; k < nnz; k += 4 * 1024 * 1024) {
    const count = Math.min(4 * 1024 * 1024, nnz - k);
    sum += (f.readDataset("/X/indices", { start: k, count }).data as Int32Array).length;
    sum += (f.readDataset("/X/data", { start: k, count }).data as Float32Array).length;
  }
  f.close();
  console.log(JSON.stringify({ readMs: now() - t0, entries: sum / 2 }));
} else {
  const store = await H5adStore.open(path!);
  const t0 = now();
  await store.readXColumn(0, { cacheDir });
  const t1 = now();
  const gene = await store.readXColumn(store.nVars - 1, { cacheDir });
  const t2 = now();
  await store.close();
  console.log(JSON.stringify({ buildMs: t1 - t0, geneMs: t2 - t1, cells: gene.length }));
}
