/**
 * Encoding conformance: every encoding of the registry (src/anndata/encodings)
 * × {memory, .h5ad, .zarr} × {read what Python anndata wrote, write then read
 * back (and by Python anndata), refuse each invalid input with the same error
 * code}. The memory store holds no encodings: it is held to the same answers
 * (values, errors) for the same data. Python work is batched: one process
 * makes the fixtures, one reads what we wrote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { AnnDataError, type AnnDataStore, type Column, type ColumnInput, type UnsValue, MemoryAnnData } from "../src/index.js";
import { H5adStore, ZarrStore } from "../src/node/index.js";
import { ENCODINGS, encodingAt, writeMatrix } from "../src/anndata/encodings/registry.js";
import type { SparseMatrix } from "../src/anndata/encodings/encoding.js";
import type { ElementIO } from "../src/anndata/encodings/io.js";
import { H5File } from "../src/anndata/h5/binding.js";
import { H5Elements } from "../src/anndata/h5/elements.js";
import { ZarrElements } from "../src/anndata/zarr/elements.js";
import { ZarrFiles } from "../src/anndata/zarr/files.js";
import { manifest, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const N = 6;
const M = 4;
const X = [[0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 4, 0], [5, 6, 0, 7], [0, 0, 0, 0], [8, 0, 9, 0]];
const UMAP = Array.from({ length: N * 2 }, (_, i) => i / 2);

/** Every column encoding, as the model holds it; the Python fixture writes the same values. */
const COLUMNS: Record<string, Column> = {
  flag: { kind: "bool", values: new Uint8Array([1, 0, 0, 1, 1, 0]) },
  score: { kind: "numeric", values: new Float32Array([0.5, 1, 2, 3, 4, 5]) },
  count: { kind: "numeric", values: new BigInt64Array([1n, 2n, 3n, 4n, 5n, -6n]) },
  label: { kind: "categorical", codes: new Int8Array([0, 1, -1, 1, 0, 2]), categories: ["x", "y", "z"], ordered: false },
  rank: { kind: "categorical", codes: new Int8Array([2, 1, 0, 0, 1, 2]), categories: ["lo", "mid", "hi"], ordered: true },
  note: { kind: "string", values: ["a", "b", "", "d", "é", "f"] },
  maybe_n: { kind: "nullable-integer", values: new Int32Array([1, 2, 3, 4, 5, 6]), mask: new Uint8Array([0, 1, 0, 0, 0, 1]) },
  maybe_b: { kind: "nullable-boolean", values: new Uint8Array([1, 0, 1, 0, 1, 0]), mask: new Uint8Array([1, 0, 0, 0, 0, 0]) },
};
const SYMBOL: Column = { kind: "string", values: ["A", "B", "C", "D"] };
/** A bool column written by its true rows (as apply writes a group), after COLUMNS: it reads back as the dense `flag`. */
const FLAG_ROWS: ColumnInput = { kind: "bool", length: N, trueRows: Uint32Array.from([0, 3, 4]) };

/** uns of the Python fixture, as every store reads it back. */
const UNS_PY: UnsValue = {
  title: "PBMC ✓", n: 42, ratio: 0.5, on: true, pcs: new Float32Array([1.5, 2.5]), colors: ["#f00", "#0f0"],
  params: { method: "leiden", nested: { k: 3 } },
};
/** What we write into uns: every uns encoding (dict, string, numeric-scalar int / float / bool, array, string-array). */
const UNS_OURS: UnsValue = { title: "✓ ours", n: 7, ratio: 0.25, on: true, pcs: new Float32Array([1.5, -2]), names: ["a", "b"], nested: { deep: "x" } };

/** Where each registered encoding sits in the Python fixture. */
const WHERE: Record<string, string> = {
  dataframe: "obs", array: "obs/score", "string-array": "obs/note", categorical: "obs/label", "nullable-integer": "obs/maybe_n",
  "nullable-boolean": "obs/maybe_b", dict: "uns/params", string: "uns/title", "numeric-scalar": "uns/n", csr_matrix: "X", csc_matrix: "layers/csc",
};

/** Elements of the "broken" fixture given encoding-version 9.9.9 (obs/flag gets an unknown encoding-type instead). */
const BAD_VERSION = [
  "obs/score", "obs/count", "obs/label", "obs/rank", "obs/note", "obs/maybe_n", "obs/maybe_b", "var/symbol",
  "uns/title", "uns/n", "uns/ratio", "uns/on", "uns/pcs", "uns/colors", "uns/params", "X", "layers/dense", "layers/csc", "obsm/X_umap",
];

function plain(c: Column): unknown {
  switch (c.kind) {
    case "categorical":
      return { kind: c.kind, codes: Array.from(c.codes, Number), categories: c.categories, ordered: c.ordered };
    case "nullable-integer":
    case "nullable-boolean":
      return { kind: c.kind, values: Array.from(c.values, Number).map((v, i) => (c.mask[i] ? null : v)) };
    case "string":
      return { kind: c.kind, values: c.values };
    default:
      return { kind: c.kind, values: Array.from(c.values, Number) };
  }
}

/** Python anndata writes the fixture (X csr, layers dense and csc, every column and uns encoding) as .h5ad and .zarr, and hostile copies. */
async function fixtures(dir: string): Promise<void> {
  await python(`
import sys, shutil, numpy as np, pandas as pd, anndata as ad, h5py, zarr, scipy.sparse as sp
d = sys.argv[1]
n, m = ${N}, ${M}
X = np.array(${JSON.stringify(X)}, dtype=np.float32)
obs = pd.DataFrame({
  "flag": np.array([1, 0, 0, 1, 1, 0], dtype=bool),
  "score": np.array([0.5, 1, 2, 3, 4, 5], dtype=np.float32),
  "count": np.array([1, 2, 3, 4, 5, -6], dtype=np.int64),
  "label": pd.Categorical(["x", "y", None, "y", "x", "z"], categories=["x", "y", "z"]),
  "rank": pd.Categorical(["hi", "mid", "lo", "lo", "mid", "hi"], categories=["lo", "mid", "hi"], ordered=True),
  "note": np.array(["a", "b", "", "d", "é", "f"], dtype=object),
  "maybe_n": pd.array([1, None, 3, 4, 5, None], dtype="Int32"),
  "maybe_b": pd.array([None, False, True, False, True, False], dtype="boolean"),
}, index=pd.Index([f"cell{i}" for i in range(n)], name="barcode"))
var = pd.DataFrame({"symbol": np.array(["A", "B", "C", "D"], dtype=object)}, index=[f"g{j}" for j in range(m)])
uns = {"title": "PBMC ✓", "n": 42, "ratio": 0.5, "on": True, "pcs": np.array([1.5, 2.5], dtype=np.float32),
       "colors": np.array(["#f00", "#0f0"], dtype=object), "params": {"method": "leiden", "nested": {"k": 3}}}
a = ad.AnnData(X=sp.csr_matrix(X), obs=obs, var=var, uns=uns, obsm={"X_umap": np.arange(n * 2, dtype=np.float32).reshape(n, 2) / 2},
               layers={"dense": X.copy(), "csc": sp.csc_matrix(X)})
empty = ad.AnnData(X=np.zeros((n, m), dtype=np.float32), obs=pd.DataFrame(index=[f"cell{i}" for i in range(n)]), var=pd.DataFrame(index=[f"g{j}" for j in range(m)]))
for ext in ("h5ad", "zarr"):
  good, broken, frame, escape = (f"{d}/{v}.{ext}" for v in ("good", "broken", "frame", "escape"))
  (a.write_h5ad if ext == "h5ad" else a.write_zarr)(good)
  (empty.write_h5ad if ext == "h5ad" else empty.write_zarr)(f"{d}/ours.{ext}")
  for p in (broken, frame, escape):
    (shutil.copy if ext == "h5ad" else shutil.copytree)(good, p)
  if ext == "h5ad":
    f = h5py.File(broken, "r+")
    f.copy("obs/label", "obs/long"); f.copy("layers/csc", "layers/wrong")
    del f["obs/long/codes"]; f["obs/long/codes"] = np.zeros(n + 5, dtype=np.int8)
  else:
    f = zarr.open_group(broken, mode="r+")
    shutil.copytree(broken + "/obs/label", broken + "/obs/long"); shutil.copytree(broken + "/layers/csc", broken + "/layers/wrong")
    del f["obs/long/codes"]; f.create_dataset("obs/long/codes", data=np.zeros(n + 5, dtype=np.int8))
  f["layers/wrong"].attrs["shape"] = [n + 1, m]
  f.create_dataset("obs/half", data=np.zeros(n, dtype=np.float16)); f["obs/half"].attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
  for el in ${JSON.stringify(BAD_VERSION)}: f[el].attrs["encoding-version"] = "9.9.9"
  f["obs/flag"].attrs["encoding-type"] = "awkward-array"
  for p, k, v in ((frame, "encoding-version", "9.9.9"), (escape, "_index", "../../elsewhere")):
    g = h5py.File(p, "r+") if ext == "h5ad" else zarr.open_group(p, mode="r+")
    g["obs"].attrs[k] = v
    if ext == "h5ad": g.close()
  if ext == "h5ad": f.close()
# An index claiming 3e9 rows (chunked, so nearly nothing on disk).
shutil.copy(f"{d}/good.h5ad", f"{d}/huge.h5ad")
with h5py.File(f"{d}/huge.h5ad", "r+") as f:
  del f["obs/barcode"]; f.create_dataset("obs/barcode", shape=(3_000_000_000,), dtype=h5py.string_dtype(), chunks=(1 << 20,))
print(1)`, dir);
}

function memoryStore(layers: string[]): MemoryAnnData {
  const dense = { shape: [N, M] as [number, number], data: Float32Array.from(X.flat()) };
  return new MemoryAnnData({
    obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`), columns: COLUMNS },
    var: { index: Array.from({ length: M }, (_, j) => `g${j}`), columns: { symbol: SYMBOL } },
    uns: structuredClone(UNS_PY) as Record<string, UnsValue>,
    X: dense,
    layers: Object.fromEntries(layers.map((l) => [l, dense])),
    obsm: { X_umap: { shape: [N, 2], data: Float32Array.from(UMAP) } },
  });
}

/** The same matrix reads from X or a layer, whatever its encoding. */
async function checkMatrix(label: string, s: AnnDataStore, layer?: string): Promise<void> {
  const opts = layer === undefined ? {} : { layer };
  for (let g = 0; g < M; g++) assert.deepEqual(await s.readXColumn!(g, opts), Float32Array.from(X.map((row) => row[g]!)), `${label}: ${layer ?? "X"} gene ${g}`);
  assert.deepEqual(await s.readXRows!(1, 4, opts), { shape: [3, M], data: Float32Array.from(X.slice(1, 4).flat()) }, `${label}: ${layer ?? "X"} rows 1..4`);
}

async function expectCode(p: Promise<unknown>, code: string, what: string, mentions: string[] = []): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    if (code === "TypeError") {
      assert.ok(err instanceof TypeError, `${what}: expected a TypeError, got ${String(err)}`);
      return true;
    }
    assert.ok(err instanceof AnnDataError, `${what}: expected AnnDataError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    for (const m of mentions) assert.ok(err.message.includes(m), `${what}: ${JSON.stringify(err.message)} should name ${m}`);
    return true;
  });
}

async function openStore(path: string, mode: "r" | "r+" = "r"): Promise<AnnDataStore> {
  return path.endsWith(".h5ad") ? H5adStore.open(path, mode) : ZarrStore.open(path, mode);
}

/** Runs `fn` on the element I/O of a file; an .h5ad opened "r+" is committed when it returns, aborted when it throws. */
async function withIO<T>(path: string, mode: "r" | "r+", fn: (io: ElementIO) => Promise<T>): Promise<T> {
  if (!path.endsWith(".h5ad")) return fn(new ZarrElements(new ZarrFiles(path)));
  const file = H5File.open(path, mode);
  try {
    const out = await fn(new H5Elements(file, path));
    file.close();
    return out;
  } finally {
    if (file.isOpen) file.abort();
  }
}

function sparse(format: "csr" | "csc"): SparseMatrix {
  const major = format === "csr" ? N : M;
  const at = (i: number, j: number) => (format === "csr" ? X[i]![j]! : X[j]![i]!);
  const indptr = [0];
  const indices: number[] = [];
  const data: number[] = [];
  for (let i = 0; i < major; i++) {
    for (let j = 0; j < (format === "csr" ? M : N); j++) if (at(i, j) !== 0) indices.push(j), data.push(at(i, j));
    indptr.push(indices.length);
  }
  return { format, shape: [N, M], data: Float32Array.from(data), indices: Int32Array.from(indices), indptr: Int32Array.from(indptr) };
}

test("every encoding in the registry has a place in the conformance fixture", () => {
  assert.deepEqual(Object.keys(WHERE).sort(), [...new Set(ENCODINGS.map((e) => e.type))].sort());
});

test("what Python anndata wrote reads the same from .h5ad, .zarr and the same data in memory; each element through its registered encoding", async () => {
  await withTempDir(async (dir) => {
    await fixtures(dir);
    const stores: [string, AnnDataStore][] = [["memory", memoryStore(["csc", "dense"])], ["h5ad", await openStore(join(dir, "good.h5ad"))], ["zarr", await openStore(join(dir, "good.zarr"))]];
    for (const [label, store] of stores) {
      assert.deepEqual(store.columnNames("obs"), Object.keys(COLUMNS), label);
      assert.deepEqual(await store.readIndexRange("obs", 2, 5), ["cell2", "cell3", "cell4"], label);
      for (const [name, c] of Object.entries(COLUMNS)) {
        assert.deepEqual(plain(await store.readColumn("obs", name)), plain(c), `${label}: obs/${name}`);
        if (store.columnKind) assert.equal(await store.columnKind("obs", name), c.kind, `${label}: kind of obs/${name}`);
      }
      assert.deepEqual(plain(await store.readColumn("var", "symbol")), plain(SYMBOL), label);
      assert.deepEqual(await store.readUns(), UNS_PY, `${label}: uns`);
      assert.deepEqual(await store.readUns(["params", "nested", "k"]), 3, label);
      assert.deepEqual([...store.layerKeys!()].sort(), ["csc", "dense"], label);
      for (const layer of [undefined, "dense", "csc"]) await checkMatrix(label, store, layer);
      assert.deepEqual(store.obsmKeys!(), ["X_umap"], label);
      assert.deepEqual(store.obsmShape!("X_umap"), [N, 2], label);
      assert.deepEqual(await store.readObsm!("X_umap"), { shape: [N, 2], data: Float32Array.from(UMAP) }, label);
      await store.close();
    }
    for (const ext of ["h5ad", "zarr"]) {
      await withIO(join(dir, `good.${ext}`), "r", async (io) => {
        for (const [type, path] of Object.entries(WHERE)) {
          const e = encodingAt(io, path);
          assert.deepEqual([e.type, e.version], [type, ENCODINGS.find((x) => x.type === type)!.version], `${ext}: ${path}`);
        }
      });
    }
  });
});

test("every encoding written by memory, .h5ad and .zarr reads back the same, and Python anndata reads what the files got", async () => {
  await withTempDir(async (dir) => {
    await fixtures(dir);
    const files = { h5ad: join(dir, "ours.h5ad"), zarr: join(dir, "ours.zarr") };
    const empty = new MemoryAnnData({ obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`) }, var: { index: Array.from({ length: M }, (_, j) => `g${j}`) } });
    const writers: [string, AnnDataStore][] = [["memory", empty], ["h5ad", await openStore(files.h5ad, "r+")], ["zarr", await openStore(files.zarr, "r+")]];
    for (const [label, store] of writers) {
      await (store.transaction ?? ((fn: () => Promise<void>) => fn())).call(store, async () => {
        for (const [name, c] of Object.entries(COLUMNS)) await store.setColumn("obs", name, name === "flag" ? async () => c : c);
        await store.setColumn("obs", "flag_rows", FLAG_ROWS);
        await store.setUns(["ours"], UNS_OURS);
      });
      for (const [name, c] of Object.entries({ ...COLUMNS, flag_rows: COLUMNS["flag"]! })) {
        assert.deepEqual(plain(await store.readColumn("obs", name)), plain(c), `${label}: obs/${name}`);
        if (store.columnKind) assert.equal(await store.columnKind("obs", name), c.kind, `${label}: kind of obs/${name}`);
      }
      assert.deepEqual(await store.readUns(["ours"]), UNS_OURS, `${label}: uns/ours`);
      await store.close();
    }
    // Sparse matrices are written through the registry on each backend's element I/O (the stores write no matrices).
    for (const path of Object.values(files)) {
      await withIO(path, "r+", async (io) => {
        await writeMatrix(io, "layers/csr_ours", sparse("csr"));
        await writeMatrix(io, "layers/csc_ours", sparse("csc"));
      });
    }
    const readers: [string, AnnDataStore][] = [["memory", memoryStore(["csc_ours", "csr_ours"])], ["h5ad", await openStore(files.h5ad)], ["zarr", await openStore(files.zarr)]];
    for (const [label, store] of readers) {
      assert.deepEqual([...store.layerKeys!()].sort(), ["csc_ours", "csr_ours"], label);
      for (const layer of ["csr_ours", "csc_ours"]) await checkMatrix(label, store, layer);
      await store.close();
    }
    const py = await python<Record<string, Record<string, unknown>>>(`
import sys, json, pandas as pd, anndata as ad
out = {}
for label, a in (("h5ad", ad.read_h5ad(sys.argv[1])), ("zarr", ad.read_zarr(sys.argv[2]))):
  o, u = a.obs, a.uns["ours"]
  out[label] = {"columns": list(o.columns), "dtypes": {k: str(v) for k, v in o.dtypes.items()},
    "label": [None if pd.isna(v) else v for v in o["label"]], "rank_ordered": bool(o["rank"].cat.ordered),
    "maybe_n": [None if pd.isna(v) else int(v) for v in o["maybe_n"]], "maybe_b": [None if pd.isna(v) else bool(v) for v in o["maybe_b"]],
    "note": list(o["note"]), "count": [int(v) for v in o["count"]], "flag": [bool(v) for v in o["flag"]], "flag_rows": [bool(v) for v in o["flag_rows"]],
    "uns_types": {k: type(v).__name__ + ":" + str(getattr(v, "dtype", "")) for k, v in u.items()},
    "uns": {"title": u["title"], "n": int(u["n"]), "ratio": float(u["ratio"]), "on": bool(u["on"]), "pcs": [float(x) for x in u["pcs"]],
            "names": list(u["names"]), "nested": u["nested"]},
    "layers": {k: [type(a.layers[k]).__name__, a.layers[k].toarray().tolist()] for k in ("csr_ours", "csc_ours")}}
print(json.dumps(out))`, files.h5ad, files.zarr);
    for (const label of ["h5ad", "zarr"]) {
      const p = py[label]!;
      assert.deepEqual(p["columns"], [...Object.keys(COLUMNS), "flag_rows"], label);
      assert.deepEqual(p["dtypes"], { flag: "bool", score: "float32", count: "int64", label: "category", rank: "category", note: "object", maybe_n: "Int32", maybe_b: "boolean", flag_rows: "bool" }, label);
      assert.deepEqual(p["label"], ["x", "y", null, "y", "x", "z"], label);
      assert.equal(p["rank_ordered"], true, label);
      assert.deepEqual(p["maybe_n"], [1, null, 3, 4, 5, null], label);
      assert.deepEqual(p["maybe_b"], [null, false, true, false, true, false], label);
      assert.deepEqual(p["note"], ["a", "b", "", "d", "é", "f"], label);
      assert.deepEqual(p["count"], [1, 2, 3, 4, 5, -6], label);
      assert.deepEqual(p["flag"], [true, false, false, true, true, false], label);
      assert.deepEqual(p["flag_rows"], [true, false, false, true, true, false], label);
      assert.deepEqual(p["uns_types"], { title: "str:", n: "int64:int64", ratio: "float64:float64", on: "bool_:bool", pcs: "ndarray:float32", names: "ndarray:object", nested: "dict:" }, label);
      assert.deepEqual(p["uns"], { title: "✓ ours", n: 7, ratio: 0.25, on: true, pcs: [1.5, -2], names: ["a", "b"], nested: { deep: "x" } }, label);
      assert.deepEqual(p["layers"], { csr_ours: ["csr_matrix", X], csc_ours: ["csc_matrix", X] }, label);
    }
  });
});

test("each invalid input is refused with the same error code by memory, .h5ad and .zarr, before anything is written", async () => {
  await withTempDir(async (dir) => {
    await fixtures(dir);
    const badColumns: [string, string | null, ColumnInput, string][] = [
      ["repeated categories", "dup", { kind: "categorical", codes: new Int8Array(N), categories: ["a", "a"], ordered: false }, "BAD_VALUE"],
      ["a code past the categories", "past", { kind: "categorical", codes: new Int8Array([0, 1, 2, 0, 0, 0]), categories: ["a", "b"], ordered: false }, "BAD_VALUE"],
      ["a name with /", "a/b", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["a name ..", "..", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["a name .zattrs", ".zattrs", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["the index's name", null, { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["a wrong length", "short", { kind: "numeric", values: new Float32Array(2) }, "BAD_LENGTH"],
      ["a mask of another length", "mask", { kind: "nullable-integer", values: new Int32Array(N), mask: new Uint8Array(2) }, "BAD_LENGTH"],
      ["true rows out of order", "rows", { kind: "bool", length: N, trueRows: Uint32Array.from([3, 1]) }, "BAD_VALUE"],
      ["a true row twice", "rows", { kind: "bool", length: N, trueRows: Uint32Array.from([1, 1]) }, "BAD_VALUE"],
      ["a true row past the length", "rows", { kind: "bool", length: N, trueRows: Uint32Array.from([1, N]) }, "BAD_VALUE"],
      ["true rows of another length", "rows", { kind: "bool", length: N - 1, trueRows: Uint32Array.from([1]) }, "BAD_LENGTH"],
    ];
    const badUns: [string, string[], unknown, string][] = [
      ["a key with /", ["a/b"], "x", "BAD_NAME"],
      ["a key ..", [".."], "x", "BAD_NAME"],
      ["a nested key with /", ["ok"], { fine: 1, deeper: { "b/c": "x" } }, "BAD_NAME"],
      ["a nested key .zgroup", ["ok"], { ".zgroup": "x" }, "BAD_NAME"],
      ["a list of non-strings", ["ok"], ["a", 1], "TypeError"],
      ["null", ["ok"], { bad: null }, "TypeError"],
      ["an empty path", [], "x", "TypeError"],
    ];
    const h5 = join(dir, "ours.h5ad");
    const zp = join(dir, "ours.zarr");
    const h5Size = statSync(h5).size;
    const zarrFiles = manifest(zp);
    for (const [label, open] of [["memory", async () => memoryStore([])], ["h5ad", () => openStore(h5, "r+")], ["zarr", () => openStore(zp, "r+")]] as const) {
      const store: AnnDataStore = await open();
      for (const [what, name, c, code] of badColumns) {
        const n = name ?? store.indexName("obs");
        await expectCode(store.setColumn("obs", n, c), code, `${label}: ${what}`);
        await expectCode(store.setColumn("obs", n, async () => c), code, `${label}: ${what} (lazy)`);
      }
      for (const [what, path, v, code] of badUns) await expectCode(store.setUns(path, v as UnsValue), code, `${label}: uns ${what}`);
      // Reads out of range or leaving the store: the same answer from every store.
      await expectCode(store.readColumn("obs", "a/b"), "NO_SUCH_COLUMN", `${label}: column a/b`);
      await expectCode(store.readIndexRange("obs", 0, N + 1), "BAD_LENGTH", `${label}: names past the end`);
      await expectCode(store.readXColumn!(M), "NO_SUCH_COLUMN", `${label}: gene past the end`);
      await expectCode(store.readXRows!(0, N + 1), "BAD_LENGTH", `${label}: rows past the end`);
      await expectCode(store.readXColumn!(0, { layer: "../X" }), "NO_SUCH_COLUMN", `${label}: layer ../X`);
      await expectCode(store.readObsm!("../X"), "NO_SUCH_COLUMN", `${label}: obsm ../X`);
      assert.equal(await store.readUns(["..", "X"]), undefined, label);
      await store.abort?.();
      await store.close();
    }
    // Sparse matrices (no memory store holds them): the same checks on both backends, nothing written.
    const badSparse: [string, SparseMatrix][] = [
      ["indptr of the wrong length", { ...sparse("csr"), indptr: Int32Array.from([0, 1]) }],
      ["an index past the columns", { ...sparse("csr"), indices: Int32Array.from(sparse("csr").indices as Int32Array, (i) => i + M) }],
      ["data shorter than indices", { ...sparse("csc"), data: new Float32Array(1) }],
      ["decreasing indptr", { ...sparse("csc"), indptr: Int32Array.from([0, 3, 2, 2, 9]) }],
    ];
    for (const path of [h5, zp]) {
      await withIO(path, "r+", async (io) => {
        for (const [what, m] of badSparse) await expectCode(writeMatrix(io, "layers/bad", m), "BAD_VALUE", `${path}: ${what}`, [path, "layers/bad"]);
      });
    }
    assert.equal(statSync(h5).size, h5Size);
    assert.deepEqual(manifest(zp), zarrFiles);

    // Files Python wrote and then broke: unknown versions and types, a dtype no encoding reads (float16), lengths that do not fit, names leaving the store.
    for (const ext of ["h5ad", "zarr"]) {
      const broken = join(dir, `broken.${ext}`);
      const s = await openStore(broken);
      const reads: [string, () => Promise<unknown>, string][] = [
        ...Object.keys(COLUMNS).map((c): [string, () => Promise<unknown>, string] => [`obs/${c}`, () => s.readColumn("obs", c), "UNSUPPORTED_ENCODING"]),
        ["var/symbol", () => s.readColumn("var", "symbol"), "UNSUPPORTED_ENCODING"],
        ...Object.keys(UNS_PY as object).map((k): [string, () => Promise<unknown>, string] => [`uns/${k}`, () => s.readUns([k]), "UNSUPPORTED_ENCODING"]),
        ["uns/", () => s.readUns(), "UNSUPPORTED_ENCODING"],
        ["X", () => s.readXColumn!(0), "UNSUPPORTED_ENCODING"],
        ["layers/dense", () => s.readXRows!(0, 1, { layer: "dense" }), "UNSUPPORTED_ENCODING"],
        ["layers/csc", () => s.readXColumn!(0, { layer: "csc" }), "UNSUPPORTED_ENCODING"],
        ["obsm/X_umap", () => s.readObsm!("X_umap"), "UNSUPPORTED_ENCODING"],
        ["obs/half", () => s.readColumn("obs", "half"), "UNSUPPORTED_ENCODING"],
        ["obs/long/codes", () => s.readColumn("obs", "long"), "BAD_LENGTH"],
        ["layers/wrong", () => s.readXColumn!(0, { layer: "wrong" }), "BAD_LENGTH"],
      ];
      for (const [element, read, code] of reads) await expectCode(read(), code, `${ext}: ${element}`, [broken, element]);
      // Listings skip what cannot be read instead of failing.
      for (const c of [...Object.keys(COLUMNS), "half"]) assert.equal(await s.columnKind!("obs", c), null, `${ext}: kind of obs/${c}`);
      assert.deepEqual(s.layerKeys!(), ["wrong"], ext);
      assert.deepEqual(s.obsmKeys!(), [], ext);
      await s.close();
      await expectCode(openStore(join(dir, `frame.${ext}`)), "UNSUPPORTED_ENCODING", `${ext}: obs dataframe 9.9.9`, ["obs", "9.9.9"]);
      await expectCode(openStore(join(dir, `escape.${ext}`)), "NOT_ANNDATA", `${ext}: _index leaving the store`, ["../../elsewhere"]);
    }
    // Refused at open, before anything is allocated (the same .zarr shapes are in store-conformance.test.ts).
    await expectCode(openStore(join(dir, "huge.h5ad")), "BAD_LENGTH", "h5ad: an index of 3e9 rows", ["obs/barcode"]);
  });
});
