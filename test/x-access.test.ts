/**
 * X access for the viewer: readXColumn / readXRows / layerKeys on dense,
 * csr_matrix and csc_matrix X and layers, in .h5ad (gzip) and .zarr
 * (compressed chunks) written by Python anndata, against the matrix Python
 * reads; the CSR column index cached under cacheDir and rebuilt when the
 * file changes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, readdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type AnnDataStore, AnnDataError } from "../src/index.js";
import { H5adStore, ZarrStore } from "../src/node/index.js";
import { withTempDir } from "./helpers.js";
import { python } from "./python.js";

const N = 53;
const M = 7;

/** X dense, layers "csr" and "csc", written with gzip (.h5ad) and zarr's default compressor; returns the matrix as rows. */
async function write(h5ad: string, zarrPath: string, xLayout: "dense" | "csr" | "csc", seed: number): Promise<number[][]> {
  return python<number[][]>(`
import sys, json, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp
rng = np.random.default_rng(${seed})
m = (rng.random((${N}, ${M})) < 0.3) * rng.integers(1, 50, (${N}, ${M}))
m = m.astype(np.float32); m[:, 3] = 0
x = {"dense": m, "csr": sp.csr_matrix(m), "csc": sp.csc_matrix(m)}["${xLayout}"]
a = ad.AnnData(X=x, obs=pd.DataFrame(index=[f"c{i}" for i in range(${N})]), var=pd.DataFrame(index=[f"g{i}" for i in range(${M})]),
               layers={"dense": m.astype(np.float64), "csr": sp.csr_matrix(m), "csc": sp.csc_matrix(m)})
a.write_h5ad(sys.argv[1], compression="gzip"); a.write_zarr(sys.argv[2], chunks=(16, 3))
print(json.dumps(m.tolist()))`, h5ad, zarrPath);
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof AnnDataError && err.code === code);
}

async function checkAll(store: AnnDataStore, m: number[][], cacheDir: string): Promise<void> {
  assert.deepEqual(store.layerKeys!(), ["csc", "csr", "dense"]);
  for (const layer of [undefined, "dense", "csr", "csc"]) {
    for (let g = 0; g < M; g++) {
      const col = await store.readXColumn!(g, { layer, cacheDir });
      assert.deepEqual(Array.from(col), m.map((row) => row[g]), `${store.name} ${layer ?? "X"} gene ${g}`);
    }
    for (const [s, e] of [[0, N], [5, 6], [17, 40], [N, N]] as const) {
      const rows = await store.readXRows!(s, e, { layer });
      assert.deepEqual(rows.shape, [e - s, M]);
      assert.deepEqual(Array.from(rows.data), m.slice(s, e).flat(), `${store.name} ${layer ?? "X"} rows ${s}..${e}`);
    }
    await expectCode(store.readXColumn!(M, { layer }), "NO_SUCH_COLUMN");
    await expectCode(store.readXRows!(3, N + 1, { layer }), "BAD_LENGTH");
  }
  await expectCode(store.readXColumn!(0, { layer: "nope" }), "NO_SUCH_COLUMN");
  await expectCode(store.readXColumn!(0, { layer: "../X" }), "NO_SUCH_COLUMN");
}

test("readXColumn / readXRows: dense, csr and csc X and layers in .h5ad (gzip) and .zarr (compressed chunks) read as Python writes them", async () => {
  await withTempDir(async (dir) => {
    for (const layout of ["dense", "csr", "csc"] as const) {
      const h5ad = join(dir, `${layout}.h5ad`);
      const zarrPath = join(dir, `${layout}.zarr`);
      const m = await write(h5ad, zarrPath, layout, 1);
      for (const store of [await H5adStore.open(h5ad), await ZarrStore.open(zarrPath)]) {
        await checkAll(store, m, join(dir, "cache"));
        await store.close();
      }
    }
  });
});

test("a CSR matrix's column index: built once with progress, reused from cacheDir by the next open, rebuilt when the file changes", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = join(dir, "cache");
    const h5ad = join(dir, "x.h5ad");
    const zarrPath = join(dir, "x.zarr");
    let m = await write(h5ad, zarrPath, "csr", 2);
    for (const path of [h5ad, zarrPath]) {
      const open = () => (path.endsWith(".h5ad") ? H5adStore.open(path) : ZarrStore.open(path));
      const progress: number[] = [];
      let store = await open();
      assert.deepEqual(Array.from(await store.readXColumn!(2, { cacheDir, onProgress: (done) => progress.push(done) })), m.map((r) => r[2]));
      assert.ok(progress.length > 0, "the build reports progress");
      const built = progress.length;
      assert.deepEqual(Array.from(await store.readXColumn!(4, { cacheDir, onProgress: (done) => progress.push(done) })), m.map((r) => r[4]));
      assert.equal(progress.length, built, "the index is built once per store");
      await store.close();
      store = await open();
      assert.deepEqual(Array.from(await store.readXColumn!(5, { cacheDir, onProgress: (done) => progress.push(done) })), m.map((r) => r[5]));
      assert.equal(progress.length, built, "the next open uses the cached index");
      await store.close();
    }
    assert.equal((await readdir(cacheDir)).filter((f) => f.startsWith("cellucid-x-")).length, 2);
    // The same paths rewritten with other values: the cache must not serve the old ones.
    m = await write(h5ad, zarrPath, "csr", 3);
    for (const store of [await H5adStore.open(h5ad), await ZarrStore.open(zarrPath)]) {
      for (let g = 0; g < M; g++) assert.deepEqual(Array.from(await store.readXColumn!(g, { cacheDir })), m.map((r) => r[g]), `${store.name} gene ${g} after the change`);
      await store.close();
    }
    assert.equal((await readdir(cacheDir)).filter((f) => f.startsWith("cellucid-x-")).length, 4);
  });
});

test("a cached column index damaged on disk (as a crash or a power loss can leave it, since it is not fsynced) is detected and rebuilt, never served", async () => {
  await withTempDir(async (dir) => {
    const cacheDir = join(dir, "cache");
    const h5ad = join(dir, "x.h5ad");
    const m = await write(h5ad, join(dir, "x.zarr"), "csr", 4);
    const column = async (g: number, onProgress?: () => void) => {
      const store = await H5adStore.open(h5ad);
      try {
        return Array.from(await store.readXColumn!(g, { cacheDir, onProgress }));
      } finally {
        await store.close();
      }
    };
    await column(0);
    const [index] = (await readdir(cacheDir)).filter((f) => f.startsWith("cellucid-x-"));
    const entries = join(cacheDir, index!, "entries.bin");
    // Zeroed entries (pages never written back): a gene read from them fails its checksum.
    const bytes = await readFile(entries);
    await writeFile(entries, new Uint8Array(bytes.length));
    let rebuilt = 0;
    for (let g = 0; g < M; g++) assert.deepEqual(await column(g, () => rebuilt++), m.map((r) => r[g]), `gene ${g} after zeroing`);
    assert.ok(rebuilt > 0, "the damaged index was built again");
    // A truncated index file: not opened at all, built again.
    await truncate(join(cacheDir, index!, "index.bin"), 10);
    rebuilt = 0;
    assert.deepEqual(await column(6, () => rebuilt++), m.map((r) => r[6]));
    assert.ok(rebuilt > 0, "the truncated index was built again");
  });
});

test("a CSR column index of more than one read block (two workers, many chunks per gene, int64 indices in .h5ad) reads every gene as Python does; a gene number out of range is refused", async () => {
  await withTempDir(async (dir) => {
    const h5ad = join(dir, "big.h5ad");
    const zarrPath = join(dir, "big.zarr");
    // 150,000 × 60 with about 1.5M entries: more than one 1M-entry read block, so the build splits the rows between
    // its workers; gene 7 is empty and gene 11 is in every row (a gene buffer fills many times in each worker).
    const want = await python<string[]>(`
import sys, json, hashlib, numpy as np, pandas as pd, anndata as ad, scipy.sparse as sp, h5py
rng = np.random.default_rng(5)
n, m = 150_000, 60
mask = rng.random((n, m)) < 0.15
mask[:, 7] = False; mask[:, 11] = True
dense = np.where(mask, rng.integers(1, 100, (n, m)), 0).astype(np.float32)
a = ad.AnnData(X=sp.csr_matrix(dense), obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]), var=pd.DataFrame(index=[f"g{j}" for j in range(m)]))
a.write_h5ad(sys.argv[1]); a.write_zarr(sys.argv[2])
with h5py.File(sys.argv[1], "r+") as f:
    idx = f["X/indices"][:].astype(np.int64); del f["X/indices"]; f["X/indices"] = idx
assert (ad.read_h5ad(sys.argv[1]).X.toarray() == dense).all()
print(json.dumps([hashlib.sha256(np.ascontiguousarray(dense[:, j]).tobytes()).hexdigest() for j in range(m)]))`, h5ad, zarrPath);
    const cacheDir = join(dir, "cache");
    for (const store of [await H5adStore.open(h5ad), await ZarrStore.open(zarrPath)]) {
      for (let g = 0; g < want.length; g++) {
        const col = await store.readXColumn!(g, { cacheDir });
        assert.equal(createHash("sha256").update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength)).digest("hex"), want[g], `${store.name} gene ${g}`);
      }
      await store.close();
    }
    await python(`
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f: f["X/indices"][1000] = 60
print(0)`, h5ad);
    const store = await H5adStore.open(h5ad);
    await expectCode(store.readXColumn!(0, { cacheDir }), "BAD_LENGTH");
    await store.close();
    // The failed build left nothing behind: the two good indices only.
    assert.deepEqual((await readdir(cacheDir)).filter((f) => f.includes("cellucid-x-")).length, 2);
  });
});
