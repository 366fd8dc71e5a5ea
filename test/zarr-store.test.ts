/**
 * ZarrStore against Debian's Python anndata + zarr (python3-anndata,
 * python3-zarr): Python writes Zarr v2 AnnData stores, ZarrStore reads every
 * encoding back; ZarrStore writes columns and uns, Python reads them with the
 * right dtypes, finds the same metadata anndata itself would write, and can
 * write the result again as .zarr and .h5ad. Everything we do not write must
 * stay byte-for-byte as it was (checked by hashing every file of the store).
 *
 * Requirements: /usr/bin/python3 (or $CELLUCID_PYTHON) with anndata, zarr,
 * numcodecs, h5py, numpy and pandas importable. Missing prerequisites FAIL
 * the tests with an explanatory message; nothing is skipped.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { AnnDataError, type Column, type UnsValue } from "../src/anndata/model.js";
import { ZarrStore } from "../src/anndata/zarr/store.js";
import { guessChunkLength } from "../src/anndata/zarr/arrays.js";
import { PyFloat, parsePythonJson, pythonJson } from "../src/anndata/zarr/files.js";
import { manifest } from "./helpers.js";

const PYTHON = process.env["CELLUCID_PYTHON"] ?? "/usr/bin/python3";

let pythonChecked = false;
function requirePython(): void {
  if (pythonChecked) return;
  try {
    execFileSync(PYTHON, ["-c", "import anndata, zarr, numcodecs, h5py, numpy, pandas"], { stdio: "pipe" });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    assert.fail(
      `Python anndata with zarr is required for these tests but \`${PYTHON} -c "import anndata, zarr"\` failed ` +
        `(install Debian's python3-anndata and python3-zarr): ${stderr.trim()}`,
    );
  }
  pythonChecked = true;
}

function py(script: string, ...args: string[]): string {
  requirePython();
  try {
    return execFileSync(PYTHON, ["-c", script, ...args], { stdio: "pipe", encoding: "utf8", maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`python failed: ${e.stderr ?? e.message}`);
  }
}

function pyJson<T>(script: string, ...args: string[]): T {
  const out = py(script, ...args).trim().split("\n");
  return JSON.parse(out[out.length - 1]!) as T;
}

/** Python side, shared by the scripts below. */
const PY_COMMON = String.raw`
import sys, json, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, anndata as ad, zarr, numcodecs
from anndata.experimental import write_elem  # not imported by "import anndata" in 0.8
`;

const N_OBS = 6;
const WRITE_STORES = PY_COMMON + String.raw`
out = sys.argv[1]
n = ${N_OBS}
obs = pd.DataFrame({
    "f32": np.array([0.5, 1.5, -2.25, 3, 4, np.nan], dtype=np.float32),
    "f64": np.array([0.1, 1e300, -0.0, 2.5, -7.75, 1e-300]),
    "i64": np.array([10, 20, 30, 40, 50, -2**62], dtype=np.int64),
    "i32": np.array([-1, 0, 7, 2**31 - 1, -2**31, 5], dtype=np.int32),
    "u8": np.array([0, 1, 2, 3, 254, 255], dtype=np.uint8),
    "is_doublet": [True, False, False, True, False, True],
    "leiden": pd.Categorical(["0", "1", "0", "2", None, "1"], categories=["0", "1", "2"]),
    "grade": pd.Categorical(["lo", "hi", "hi", "lo", "mid", "mid"], categories=["lo", "mid", "hi"], ordered=True),
    # all-unique, so anndata keeps it a string column (repeated strings become categoricals on write)
    "sample": ["s1", "s2", "s3", "s4", "sé✓", "s6"],
    "nint": pd.array([1, None, 3, 4, 5, -6], dtype="Int32"),
    "nbool": pd.array([True, None, False, True, False, None], dtype="boolean"),
}, index=[f"cell{i}" for i in range(n)])
var = pd.DataFrame({
    "gene_symbol": ["A", "B", "Ç"],
    "highly_variable": [True, False, True],
}, index=pd.Index(["g0", "g1", "g2"], name="gene_ids"))  # a named index is stored under its name
a = ad.AnnData(X=np.arange(n * 3, dtype=np.float32).reshape(n, 3), obs=obs, var=var)
a.obsm["X_umap"] = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
a.layers["counts"] = np.arange(n * 3, dtype=np.int32).reshape(n, 3)
a.uns["params"] = {"method": "leiden", "resolution": 0.5, "n_iter": 10, "use_raw": False,
                   "nested": {"deep": {"name": "ünï"}}}
a.uns["leiden_colors"] = np.array(["#ff0000", "#00ff00", "#0000ff"], dtype=object)
a.uns["pcs"] = np.array([1.5, 2.5], dtype=np.float32)
a.uns["counts"] = np.array([1, 2, 3], dtype=np.int64)
a.uns["title"] = "PBMC ✓"
a.uns["empty_title"] = ""
a.uns["n"] = 42
a.obsm["X_pca"] = np.arange(n * 4, dtype=np.int16).reshape(n, 4)
a.obsm["meta"] = pd.DataFrame({"q": np.arange(n)}, index=obs.index)  # a group: not a dense obsm entry
a.write_zarr(out + "/full.zarr")
# Fortran order, which anndata never writes but zarr allows: readObsm must still return rows.
zarr.open_group(out + "/full.zarr/obsm", mode="r+").create_dataset(
    "X_f", data=np.arange(n * 3, dtype=np.float32).reshape(n, 3), order="F").attrs.update(
    {"encoding-type": "array", "encoding-version": "0.2.0"})
for name, comp in [
    ("blosc-zstd", numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)),
    ("zstd", numcodecs.Zstd(level=3)),
    ("zlib", numcodecs.Zlib(level=6)),
    ("gzip", numcodecs.GZip(level=5)),
    ("none", None),
]:
    # AnnData.write_zarr takes no dataset options; the function behind it passes them to every array.
    from anndata._io.zarr import write_zarr
    write_zarr(out + "/" + name + ".zarr", a, compressor=comp)

# A var frame without columns: anndata writes column-order as an empty list.
b = ad.AnnData(X=np.zeros((n, 2), dtype=np.float32), obs=pd.DataFrame(index=[f"c{i}" for i in range(n)]),
               var=pd.DataFrame(index=["v0", "v1"]))
b.write_zarr(out + "/nocols.zarr")

# Elements ZarrStore must refuse by name: an uns data frame, a 2-d uns array, an unknown column encoding.
c = ad.AnnData(obs=pd.DataFrame({"x": np.arange(n)}, index=[f"c{i}" for i in range(n)]), var=pd.DataFrame(index=["v"]))
c.uns["table"] = pd.DataFrame({"a": [1, 2]})
c.uns["matrix"] = np.ones((2, 2))
c.uns["ok"] = "fine"
c.write_zarr(out + "/unsupported.zarr")
g = zarr.open_group(out + "/unsupported.zarr/obs", mode="r+")
w = g.create_group("weird")
w.attrs.update({"encoding-type": "awkward-array", "encoding-version": "0.1.0"})
g.attrs["column-order"] = list(g.attrs["column-order"]) + ["weird"]

# Many rows: columns span several chunks, the last one padded.
big_n = 70000
d = ad.AnnData(
    X=np.zeros((big_n, 2), dtype=np.float32),
    obs=pd.DataFrame({
        "val": np.arange(big_n, dtype=np.float64) * 0.5,
        "name": np.array([f"n{i}" for i in range(big_n)], dtype=object),
    }, index=[f"c{i}" for i in range(big_n)]),
    var=pd.DataFrame(index=["v0", "v1"]))
d.write_zarr(out + "/big.zarr")
print(json.dumps({"big_chunks": list(zarr.open(out + "/big.zarr")["obs"]["val"].chunks)}))
`;

/**
 * Reads a store with anndata and describes it as JSON; then checks that every
 * element named in argv[2] has the metadata anndata itself writes for the
 * value it read (write_elem into a scratch group, .zarray/.zattrs compared),
 * and that the AnnData can be written again as .zarr and .h5ad.
 */
const CHECK_STORE = PY_COMMON + String.raw`
import os, tempfile
p = sys.argv[1]
compare = json.loads(sys.argv[2])
a = ad.read_zarr(p)

def col(s):
    isna = s.isna().tolist()
    d = {"dtype": str(s.dtype), "isna": isna,
         "values": [None if m else v for v, m in zip(s.tolist(), isna)]}
    if isinstance(s.dtype, pd.CategoricalDtype):
        d["categories"] = [str(c) for c in s.cat.categories]
        d["ordered"] = bool(s.cat.ordered)
        d["codes"] = s.cat.codes.tolist()
    return d

def conv(v):
    if isinstance(v, dict): return {k: conv(x) for k, x in v.items()}
    if isinstance(v, np.ndarray): return {"array": str(v.dtype), "values": v.tolist()}
    if isinstance(v, str): return {"str": str(v)}
    if isinstance(v, (bool, np.bool_)): return {"bool": bool(v)}
    if isinstance(v, (int, np.integer)): return {"int": int(v), "type": type(v).__name__}
    if isinstance(v, (float, np.floating)): return {"float": float(v), "type": type(v).__name__}
    return {"other": repr(type(v))}

def meta_tree(node, prefix=""):
    out = {prefix + "/.zattrs": dict(node.attrs)}
    if isinstance(node, zarr.Array):
        out[prefix + "/.zarray"] = json.loads(node.store[node._key_prefix + ".zarray"])
    else:
        for k in sorted(node.keys()):
            out.update(meta_tree(node[k], prefix + "/" + k))
    return out

root = zarr.open(p, mode="r")
scratch = tempfile.mkdtemp()
ref = zarr.open_group(scratch + "/ref.zarr", mode="w")
mismatches = []
bool_compressors = []
for path in compare:
    parts = path.split("/")
    value = a.uns if parts[0] == "uns" else getattr(a, parts[0])
    for k in parts[1:]:
        value = value[k]
    if isinstance(value, pd.Series):
        value = value._values  # what anndata's dataframe writer hands to write_elem
    write_elem(ref, path.replace("/", "__"), value)
    mine, theirs = meta_tree(root[path]), meta_tree(ref[path.replace("/", "__")])
    # Boolean arrays are ours to compress: zlib streams of runs, where anndata uses Blosc (either reads both).
    for key, meta in mine.items():
        if key.endswith("/.zarray") and meta.get("dtype") == "|b1" and meta.get("shape") and key in theirs:
            bool_compressors.append(meta["compressor"])
            meta["compressor"] = theirs[key]["compressor"]
    # Compared as JSON text: in Python 0 == False, and a bool fill_value written as 0 must not pass.
    if json.dumps(mine, sort_keys=True, default=repr) != json.dumps(theirs, sort_keys=True, default=repr):
        mismatches.append({"path": path, "ours": mine, "anndata": theirs})

a.write_zarr(scratch + "/again.zarr")
a.write_h5ad(scratch + "/again.h5ad")
back = ad.read_h5ad(scratch + "/again.h5ad")
pd.testing.assert_frame_equal(back.obs, a.obs)
pd.testing.assert_frame_equal(ad.read_zarr(scratch + "/again.zarr").obs, a.obs)

print(json.dumps({
    "obs_names": a.obs_names.tolist(), "var_names": a.var_names.tolist(),
    "obs_columns": a.obs.columns.tolist(), "var_columns": a.var.columns.tolist(),
    "obs": {k: col(a.obs[k]) for k in a.obs.columns},
    "var": {k: col(a.var[k]) for k in a.var.columns},
    "uns": conv(dict(a.uns)),
    "X": np.asarray(a.X).tolist(), "obsm": {k: np.asarray(v).tolist() for k, v in a.obsm.items()},
    "mismatches": mismatches,
    "bool_compressors": bool_compressors,
}, allow_nan=False, default=lambda o: o.item() if hasattr(o, "item") else repr(o)))
`;

interface PyColumn {
  dtype: string;
  isna: boolean[];
  values: unknown[];
  categories?: string[];
  ordered?: boolean;
  codes?: number[];
}
interface PyCheck {
  obs_names: string[];
  var_names: string[];
  obs_columns: string[];
  var_columns: string[];
  obs: Record<string, PyColumn>;
  var: Record<string, PyColumn>;
  uns: Record<string, unknown>;
  X: number[][];
  obsm: Record<string, number[][]>;
  mismatches: unknown[];
  bool_compressors: unknown[];
}

let dir = "";
let bigChunks: number[] = [];
let tmpCount = 0;

before(() => {
  requirePython();
  dir = mkdtempSync(join(tmpdir(), "cellucid-zarr-"));
  bigChunks = pyJson<{ big_chunks: number[] }>(WRITE_STORES, dir).big_chunks;
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of one of the stores Python wrote, for a test to change. */
function copyOf(name: string): string {
  const dest = join(dir, `work-${++tmpCount}-${name}`);
  cpSync(join(dir, name), dest, { recursive: true });
  return dest;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

async function expectAnnDataError(p: Promise<unknown>, code: AnnDataError["code"], mention?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AnnDataError, `expected AnnDataError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (mention) assert.ok(err.message.includes(mention), `message ${JSON.stringify(err.message)} should mention ${mention}`);
    return true;
  });
}

const OBS_COLUMNS = ["f32", "f64", "i64", "i32", "u8", "is_doublet", "leiden", "grade", "sample", "nint", "nbool"];

async function assertFullContents(path: string): Promise<void> {
  const s = await ZarrStore.open(path, "r");
  try {
    assert.equal(s.name, path);
    assert.equal(s.nObs, N_OBS);
    assert.equal(s.nVars, 3);
    assert.deepEqual(s.columnNames("obs"), OBS_COLUMNS);
    assert.deepEqual(s.columnNames("var"), ["gene_symbol", "highly_variable"]);
    assert.deepEqual(await s.readIndex("obs"), ["cell0", "cell1", "cell2", "cell3", "cell4", "cell5"]);
    assert.deepEqual(await s.readIndex("var"), ["g0", "g1", "g2"]);
    // Kinds from metadata alone agree with what reading the columns gives.
    for (const axis of ["obs", "var"] as const)
      for (const c of s.columnNames(axis)) assert.equal(await s.columnKind(axis, c), (await s.readColumn(axis, c)).kind, `${axis}/${c}`);
    assert.equal(await s.columnKind("obs", "no_such_column"), null);

    const f32 = await s.readColumn("obs", "f32");
    assert.equal(f32.kind, "numeric");
    assert.ok(f32.kind === "numeric" && f32.values instanceof Float32Array);
    assert.deepEqual(Array.from(f32.values).slice(0, 5), [0.5, 1.5, -2.25, 3, 4]);
    assert.ok(Number.isNaN(f32.values[5]));
    assert.deepEqual(await s.readColumn("obs", "f64"), { kind: "numeric", values: new Float64Array([0.1, 1e300, -0, 2.5, -7.75, 1e-300]) });
    assert.deepEqual(await s.readColumn("obs", "i64"), { kind: "numeric", values: new BigInt64Array([10n, 20n, 30n, 40n, 50n, -(2n ** 62n)]) });
    assert.deepEqual(await s.readColumn("obs", "i32"), { kind: "numeric", values: new Int32Array([-1, 0, 7, 2 ** 31 - 1, -(2 ** 31), 5]) });
    assert.deepEqual(await s.readColumn("obs", "u8"), { kind: "numeric", values: new Uint8Array([0, 1, 2, 3, 254, 255]) });
    assert.deepEqual(await s.readColumn("obs", "is_doublet"), { kind: "bool", values: new Uint8Array([1, 0, 0, 1, 0, 1]) });
    assert.deepEqual(await s.readColumn("obs", "leiden"), { kind: "categorical", codes: new Int8Array([0, 1, 0, 2, -1, 1]), categories: ["0", "1", "2"], ordered: false });
    assert.deepEqual(await s.readColumn("obs", "grade"), { kind: "categorical", codes: new Int8Array([0, 2, 2, 0, 1, 1]), categories: ["lo", "mid", "hi"], ordered: true });
    assert.deepEqual(await s.readColumn("obs", "sample"), { kind: "string", values: ["s1", "s2", "s3", "s4", "sé✓", "s6"] });
    const nint = await s.readColumn("obs", "nint");
    assert.ok(nint.kind === "nullable-integer");
    assert.ok(nint.values instanceof Int32Array);
    assert.deepEqual(Array.from(nint.mask), [0, 1, 0, 0, 0, 0]);
    assert.deepEqual([nint.values[0], ...Array.from(nint.values).slice(2)], [1, 3, 4, 5, -6]);
    const nbool = await s.readColumn("obs", "nbool");
    assert.ok(nbool.kind === "nullable-boolean");
    assert.deepEqual(Array.from(nbool.mask), [0, 1, 0, 0, 0, 1]);
    assert.deepEqual([0, 2, 3, 4].map((i) => nbool.values[i]), [1, 0, 1, 0]);
    assert.deepEqual(await s.readColumn("var", "gene_symbol"), { kind: "string", values: ["A", "B", "Ç"] });
    assert.deepEqual(await s.readColumn("var", "highly_variable"), { kind: "bool", values: new Uint8Array([1, 0, 1]) });

    const uns: UnsValue | undefined = await s.readUns();
    assert.deepEqual(uns, {
      counts: new BigInt64Array([1n, 2n, 3n]),
      empty_title: "",
      leiden_colors: ["#ff0000", "#00ff00", "#0000ff"],
      n: 42,
      params: { method: "leiden", n_iter: 10, nested: { deep: { name: "ünï" } }, resolution: 0.5, use_raw: false },
      pcs: new Float32Array([1.5, 2.5]),
      title: "PBMC ✓",
    });
    assert.deepEqual(await s.readUns(["params", "nested"]), { deep: { name: "ünï" } });
    assert.equal(await s.readUns(["params", "nested", "deep", "name"]), "ünï");
    assert.equal(await s.readUns(["params", "absent"]), undefined);
    assert.equal(await s.readUns(["title", "below-a-string"]), undefined);
    await expectAnnDataError(s.readColumn("obs", "absent"), "NO_SUCH_COLUMN", "obs/absent");

    // Dense obsm entries (embeddings), row-major whatever the storage order; data frames and other groups are not listed.
    assert.deepEqual(s.obsmKeys(), path.endsWith("full.zarr") ? ["X_f", "X_pca", "X_umap"] : ["X_pca", "X_umap"]);
    assert.deepEqual(await s.readObsm("X_umap"), { shape: [N_OBS, 2], data: Float64Array.from({ length: N_OBS * 2 }, (_, i) => i) });
    assert.deepEqual(s.obsmShape("X_umap"), [N_OBS, 2]);
    assert.equal(s.obsmShape("no_such_entry"), null);
    assert.deepEqual(await s.readObsm("X_pca"), { shape: [N_OBS, 4], data: Float64Array.from({ length: N_OBS * 4 }, (_, i) => i) });
    if (path.endsWith("full.zarr")) assert.deepEqual(await s.readObsm("X_f"), { shape: [N_OBS, 3], data: Float32Array.from({ length: N_OBS * 3 }, (_, i) => i) });
    await expectAnnDataError(s.readObsm("meta"), "NO_SUCH_COLUMN", "meta");
  } finally {
    await s.close();
  }
}

test("python anndata and zarr are available (required, never skipped)", () => {
  requirePython();
});

test("metadata JSON is written and read the way Python's json module does it", () => {
  // json.dumps(v, indent=4, sort_keys=True, ensure_ascii=True), with 0.0 for a float and bare NaN.
  assert.equal(
    pythonJson({ z: [], b: { y: 1, x: [true, null] }, "é": "ü ✓ 🙂", f: new PyFloat(0), g: new PyFloat(2.5), n: NaN, e: {} }),
    '{\n    "b": {\n        "x": [\n            true,\n            null\n        ],\n        "y": 1\n    },\n    "e": {},\n' +
      '    "f": 0.0,\n    "g": 2.5,\n    "n": NaN,\n    "z": [],\n    "\\u00e9": "\\u00fc \\u2713 \\ud83d\\ude42"\n}',
  );
  const parsed = parsePythonJson('{"a": NaN, "b": [-Infinity, Infinity], "c": "NaN in a string", "d": "\\u00e9"}');
  assert.ok(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && !(parsed instanceof PyFloat));
  assert.ok(Number.isNaN(parsed["a"]));
  assert.deepEqual(parsed["b"], [-Infinity, Infinity]);
  assert.equal(parsed["c"], "NaN in a string");
  assert.equal(parsed["d"], "é");
});

test("reads every obs/var/uns encoding of an anndata-written store", async () => {
  await assertFullContents(join(dir, "full.zarr"));
});

test("reads stores written with every compressor (blosc zstd+bitshuffle, zstd, zlib, gzip, none)", async () => {
  const compressors = new Map<string, unknown>();
  for (const name of ["blosc-zstd", "zstd", "zlib", "gzip", "none"]) {
    const path = join(dir, `${name}.zarr`);
    compressors.set(name, JSON.parse(readFileSync(join(path, "obs", "f64", ".zarray"), "utf8")).compressor);
    await assertFullContents(path);
  }
  // The stores really do use those compressors.
  assert.deepEqual(
    [...compressors.values()].map((c) => (c === null ? null : (c as { id: string; cname?: string }).cname ?? (c as { id: string }).id)),
    ["zstd", "zstd", "zlib", "gzip", null],
  );
  assert.equal(JSON.parse(readFileSync(join(dir, "full.zarr", "obs", "f64", ".zarray"), "utf8")).compressor.cname, "lz4");
});

test("opening reads metadata only: never X, obsm, layers, columns or index data", async () => {
  const path = copyOf("full.zarr");
  // Garbage in every data chunk but the ones a test then reads on purpose.
  for (const chunk of ["X/0.0", "obsm/X_umap/0.0", "layers/counts/0.0", "obs/_index/0", "var/gene_ids/0", "obs/f64/0", "uns/title/0"]) {
    writeFileSync(join(path, chunk), "not a chunk");
  }
  const s = await ZarrStore.open(path, "r");
  assert.equal(s.nObs, N_OBS);
  assert.equal(s.nVars, 3);
  assert.deepEqual(s.columnNames("obs"), OBS_COLUMNS);
  assert.deepEqual((await s.readColumn("obs", "i32")).kind, "numeric");
  // ...and corrupt data is reported as such when it is read.
  await expectAnnDataError(s.readColumn("obs", "f64"), "IO", "obs/f64");
  await expectAnnDataError(s.readIndex("obs"), "IO", "obs/_index");
  await s.close();

  // Truncated chunks are errors too, compressed (blosc checks its header) or not (the chunk size is known).
  const none = copyOf("none.zarr");
  for (const [store, chunk] of [[path, "obs/i32/0"], [none, "obs/i32/0"]] as const) {
    const bytes = readFileSync(join(store, chunk));
    writeFileSync(join(store, chunk), bytes.subarray(0, bytes.length - 4));
    const t = await ZarrStore.open(store, "r");
    await expectAnnDataError(t.readColumn("obs", "i32"), "IO", "obs/i32");
    await t.close();
  }
});

test("writes columns and uns that Python anndata reads with the right dtypes; nothing else changes", async () => {
  const path = copyOf("full.zarr");
  const before = manifest(path);
  const s = await ZarrStore.open(path, "r+");
  const weird = "größe #1?";
  const label: Column = { kind: "categorical", codes: new Int8Array([-1, 0, 1, 0, 2, 2]), categories: ["alpha", "β-cell", "γ δ ✓"], ordered: false };
  await s.setColumn("obs", "is_selected", { kind: "bool", values: new Uint8Array([1, 0, 0, 1, 1, 0]) });
  await s.setColumn("obs", "cellucid_label", label);
  await s.setColumn("obs", "n_hits", { kind: "numeric", values: new Int32Array([0, 5, -3, 2 ** 31 - 1, 7, 1]) });
  await s.setColumn("obs", weird, { kind: "numeric", values: new Float64Array([0.25, 1, 2, 3, 4, 5]) });
  // Replacing existing columns keeps their position in column-order.
  await s.setColumn("obs", "leiden", { kind: "categorical", codes: new Int8Array([1, 1, 0, -1, 0, 1]), categories: ["b", "a"], ordered: true });
  await s.setColumn("obs", "sample", { kind: "string", values: ["x", "ÿ", "", "z z", "🙂", "w"] });
  await s.setColumn("obs", "f32", { kind: "bool", values: new Uint8Array([0, 0, 0, 0, 0, 1]) });
  await s.setColumn("obs", "ord", { kind: "categorical", codes: new Int16Array([0, 1, 0, 1, 0, 1]), categories: ["lo", "hi"], ordered: true });
  await s.setColumn("obs", "nint2", { kind: "nullable-integer", values: new BigInt64Array([1n, 0n, 3n, 4n, 5n, 6n]), mask: new Uint8Array([0, 1, 0, 0, 0, 0]) });
  await s.setColumn("obs", "nbool2", { kind: "nullable-boolean", values: new Uint8Array([1, 0, 0, 1, 0, 0]), mask: new Uint8Array([0, 0, 1, 0, 0, 1]) });
  await s.setColumn("var", "hv2", { kind: "bool", values: new Uint8Array([0, 1, 1]) });
  const session = {
    name: "session ✓",
    count: 3,
    ratio: 1.5,
    flag: true,
    tags: ["a", "β", ""],
    weights: new Float64Array([0.5, 0.25]),
    ids: new Int32Array([7, 8, 9]),
    deep: { k: "v", n: -2, none: [] as string[] },
  };
  await s.setUns(["cellucid", "session"], session);
  await s.setUns(["params", "nested"], "now a string");
  await s.setUns(["params", "n_iter"], 11);
  assert.deepEqual(s.columnNames("obs"), [...OBS_COLUMNS, "is_selected", "cellucid_label", "n_hits", weird, "ord", "nint2", "nbool2"]);
  await s.close();

  // Only the elements written, the obs/var attributes and the touched uns entries changed.
  const touched = changedFiles(before, manifest(path));
  const allowed = [
    "obs/.zattrs", "var/.zattrs", "var/hv2/",
    ...["is_selected", "cellucid_label", "n_hits", weird, "leiden", "sample", "f32", "ord", "nint2", "nbool2"].map((c) => `obs/${c}/`),
    "uns/cellucid/", "uns/params/nested/", "uns/params/n_iter/",
  ];
  for (const f of touched) assert.ok(allowed.some((a) => f === a || f.startsWith(a)), `unexpected change to ${f}`);
  for (const f of ["X/0.0", "obsm/X_umap/0.0", "layers/counts/0.0", "X/.zarray", "obsm/X_umap/.zarray", "obs/_index/0", "obs/i64/0", "uns/title/0"]) {
    assert.ok(before.has(f) && !touched.includes(f), `${f} must be byte-identical`);
  }
  assert.ok(!touched.some((f) => f.includes(".cellucid-tmp-")), "no temporary element is left behind");

  // Read back through ZarrStore.
  const r = await ZarrStore.open(path, "r");
  assert.deepEqual(await r.readColumn("obs", "cellucid_label"), label);
  assert.deepEqual(await r.readColumn("obs", weird), { kind: "numeric", values: new Float64Array([0.25, 1, 2, 3, 4, 5]) });
  assert.deepEqual(await r.readColumn("obs", "ord"), { kind: "categorical", codes: new Int8Array([0, 1, 0, 1, 0, 1]), categories: ["lo", "hi"], ordered: true });
  assert.deepEqual(await r.readUns(["cellucid", "session"]), { ...session, ids: new Int32Array([7, 8, 9]) });
  assert.equal(await r.readUns(["params", "nested"]), "now a string");
  assert.equal(await r.readUns(["params", "n_iter"]), 11);
  await r.close();

  // What an interrupted write leaves behind (a temporary folder whose metadata file was never written)
  // is no Zarr node: neither ZarrStore nor Python sees it.
  for (const g of ["obs", "uns"]) {
    mkdirSync(join(path, g, ".cellucid-tmp-0123456789ab", "deeper"), { recursive: true });
    writeFileSync(join(path, g, ".cellucid-tmp-0123456789ab", ".zattrs"), "{}");
    writeFileSync(join(path, g, ".cellucid-tmp-0123456789ab", "0"), "partial chunk");
  }
  mkdirSync(join(path, "uns", "half-written"));
  writeFileSync(join(path, "uns", "half-written", "0"), "partial chunk");
  const withLeftovers = await ZarrStore.open(path, "r");
  assert.deepEqual(Object.keys((await withLeftovers.readUns()) as object), ["cellucid", "counts", "empty_title", "leiden_colors", "n", "params", "pcs", "title"]);
  await withLeftovers.close();

  // Python: dtypes, categories, missing codes, order; the metadata anndata itself writes; writable again.
  const compare = [
    "obs/is_selected", "obs/cellucid_label", "obs/n_hits", `obs/${weird}`, "obs/leiden", "obs/sample", "obs/f32",
    "obs/ord", "obs/nint2", "obs/nbool2", "var/hv2", "uns/cellucid", "uns/params",
  ];
  const p = pyJson<PyCheck>(CHECK_STORE, path, JSON.stringify(compare));
  assert.deepEqual(p.mismatches, []);
  assert.ok(p.bool_compressors.length > 0 && p.bool_compressors.every((c) => JSON.stringify(c) === '{"id":"zlib","level":1}'), JSON.stringify(p.bool_compressors));
  assert.deepEqual(Object.keys(p.uns).sort(), ["cellucid", "counts", "empty_title", "leiden_colors", "n", "params", "pcs", "title"]);
  assert.deepEqual(p.obs_columns, [...OBS_COLUMNS, "is_selected", "cellucid_label", "n_hits", weird, "ord", "nint2", "nbool2"]);
  assert.deepEqual(p.var_columns, ["gene_symbol", "highly_variable", "hv2"]);
  assert.equal(p.obs["is_selected"]!.dtype, "bool");
  assert.deepEqual(p.obs["is_selected"]!.values, [true, false, false, true, true, false]);
  assert.equal(p.obs["f32"]!.dtype, "bool");
  const lab = p.obs["cellucid_label"]!;
  assert.equal(lab.dtype, "category");
  assert.deepEqual(lab.categories, ["alpha", "β-cell", "γ δ ✓"]);
  assert.equal(lab.ordered, false);
  assert.deepEqual(lab.isna, [true, false, false, false, false, false]);
  assert.deepEqual(lab.values, [null, "alpha", "β-cell", "alpha", "γ δ ✓", "γ δ ✓"]);
  assert.equal(p.obs["n_hits"]!.dtype, "int32");
  assert.deepEqual(p.obs["n_hits"]!.values, [0, 5, -3, 2 ** 31 - 1, 7, 1]);
  assert.equal(p.obs[weird]!.dtype, "float64");
  assert.deepEqual(p.obs["leiden"], { dtype: "category", isna: [false, false, false, true, false, false], values: ["a", "a", "b", null, "b", "a"], categories: ["b", "a"], ordered: true, codes: [1, 1, 0, -1, 0, 1] });
  assert.deepEqual(p.obs["sample"]!.values, ["x", "ÿ", "", "z z", "🙂", "w"]);
  assert.equal(p.obs["sample"]!.dtype, "object");
  assert.equal(p.obs["nint2"]!.dtype, "Int64");
  assert.deepEqual(p.obs["nint2"]!.values, [1, null, 3, 4, 5, 6]);
  assert.equal(p.obs["nbool2"]!.dtype, "boolean");
  assert.deepEqual(p.obs["nbool2"]!.values, [true, false, null, true, false, null]);
  assert.equal(p.var["hv2"]!.dtype, "bool");
  // Untouched columns are still what Python wrote.
  assert.equal(p.obs["grade"]!.dtype, "category");
  assert.equal(p.obs["nint"]!.dtype, "Int32");
  assert.deepEqual(p.obs["i64"]!.values.slice(0, 5), [10, 20, 30, 40, 50]);
  assert.deepEqual(p.uns["cellucid"], {
    session: {
      count: { int: 3, type: "int64" },
      deep: { k: { str: "v" }, n: { int: -2, type: "int64" }, none: { array: "object", values: [] } },
      flag: { bool: true },
      ids: { array: "int32", values: [7, 8, 9] },
      name: { str: "session ✓" },
      ratio: { float: 1.5, type: "float64" },
      tags: { array: "object", values: ["a", "β", ""] },
      weights: { array: "float64", values: [0.5, 0.25] },
    },
  });
  assert.deepEqual(p.uns["params"], {
    method: { str: "leiden" },
    n_iter: { int: 11, type: "int64" },
    nested: { str: "now a string" },
    resolution: { float: 0.5, type: "float64" },
    use_raw: { bool: false },
  });
  assert.deepEqual(p.X, Array.from({ length: N_OBS }, (_, i) => [3 * i, 3 * i + 1, 3 * i + 2]));
  assert.deepEqual(p.obsm["X_umap"], Array.from({ length: N_OBS }, (_, i) => [2 * i, 2 * i + 1]));
});

test("multi-chunk columns: read across chunks, written with the chunking Python zarr picks", async () => {
  const path = copyOf("big.zarr");
  const n = 70000;
  assert.ok(bigChunks[0]! < n, "the Python-written column spans several chunks");
  assert.equal(guessChunkLength(n, 8), bigChunks[0]);
  const s = await ZarrStore.open(path, "r+");
  assert.equal(s.nObs, n);
  const val = await s.readColumn("obs", "val");
  assert.ok(val.kind === "numeric" && val.values instanceof Float64Array);
  assert.equal(val.values.length, n);
  assert.ok(val.values.every((v, i) => v === i * 0.5));
  const names = await s.readColumn("obs", "name");
  assert.ok(names.kind === "string" && names.values.length === n && names.values[n - 1] === `n${n - 1}`);

  const cats = Array.from({ length: 300 }, (_, i) => `cat ${i}`);
  await s.setColumn("obs", "w_f64", { kind: "numeric", values: Float64Array.from({ length: n }, (_, i) => i / 4) });
  await s.setColumn("obs", "w_str", { kind: "string", values: Array.from({ length: n }, (_, i) => `ß${i}`) });
  await s.setColumn("obs", "w_bool", { kind: "bool", values: Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0) });
  // 300 categories need int16 codes; given as int32 they are narrowed as pandas would hold them.
  await s.setColumn("obs", "w_cat", { kind: "categorical", codes: Int32Array.from({ length: n }, (_, i) => (i % 301) - 1), categories: cats, ordered: false });
  await s.close();

  const r = await ZarrStore.open(path, "r");
  const back = await r.readColumn("obs", "w_cat");
  assert.ok(back.kind === "categorical" && back.codes instanceof Int16Array && back.codes[0] === -1 && back.codes[300] === 299);
  assert.deepEqual((await r.readColumn("obs", "w_str")).kind, "string");

  const p = pyJson<{ mismatches: unknown[]; dtypes: Record<string, string>; checks: Record<string, boolean> }>(
    PY_COMMON + String.raw`
import tempfile
p = sys.argv[1]
a = ad.read_zarr(p)
o = a.obs
root = zarr.open(p, mode="r")
ref = zarr.open_group(tempfile.mkdtemp() + "/ref.zarr", mode="w")
mismatches = []
for k in ["w_f64", "w_str", "w_bool", "w_cat"]:
    write_elem(ref, k, o[k]._values)
    for sub in (["codes", "categories"] if k == "w_cat" else [""]):
        mine = root["obs/" + k + ("/" + sub if sub else "")]
        theirs = ref[k + ("/" + sub if sub else "")]
        for attr in ["chunks", "dtype", "fill_value", "compressor", "filters", "shape", "order"]:
            # Boolean arrays are ours to compress (zlib streams of runs; anndata uses Blosc).
            if k == "w_bool" and attr == "compressor" and str(getattr(mine, attr)) == "Zlib(level=1)": continue
            if str(getattr(mine, attr)) != str(getattr(theirs, attr)):
                mismatches.append([k, sub, attr, str(getattr(mine, attr)), str(getattr(theirs, attr))])
n = len(o)
print(json.dumps({
    "mismatches": mismatches,
    "dtypes": {k: str(o[k].dtype) for k in ["w_f64", "w_str", "w_bool", "w_cat"]},
    "checks": {
        "f64": bool((o["w_f64"].to_numpy() == np.arange(n) / 4).all()),
        "str": o["w_str"].tolist() == ["ß%d" % i for i in range(n)],
        "bool": bool((o["w_bool"].to_numpy() == (np.arange(n) % 3 == 0)).all()),
        "cat_codes": bool((o["w_cat"].cat.codes.to_numpy() == (np.arange(n) % 301) - 1).all()),
        "cat_codes_int16": str(o["w_cat"].cat.codes.dtype) == "int16",
    },
}))
`,
    path,
  );
  assert.deepEqual(p.mismatches, []);
  assert.deepEqual(p.dtypes, { w_f64: "float64", w_str: "object", w_bool: "bool", w_cat: "category" });
  assert.deepEqual(p.checks, { f64: true, str: true, bool: true, cat_codes: true, cat_codes_int16: true });
});

test("a data frame with an empty column-order (a list) and one without the attribute", async () => {
  const path = copyOf("nocols.zarr");
  assert.deepEqual(JSON.parse(readFileSync(join(path, "var", ".zattrs"), "utf8"))["column-order"], []);
  const s = await ZarrStore.open(path, "r+");
  assert.deepEqual(s.columnNames("obs"), []);
  assert.deepEqual(s.columnNames("var"), []);
  await s.setColumn("var", "score", { kind: "numeric", values: new Float32Array([1, 2]) });
  assert.deepEqual(s.columnNames("var"), ["score"]);
  // Writes issued together are applied one after the other: none is lost from column-order.
  await Promise.all(["a", "b", "c", "d"].map((c, i) => s.setColumn("obs", c, { kind: "numeric", values: new Int8Array(N_OBS).fill(i) })));
  assert.deepEqual(s.columnNames("obs"), ["a", "b", "c", "d"]);
  await s.close();
  const again = await ZarrStore.open(path, "r");
  assert.deepEqual(again.columnNames("obs"), ["a", "b", "c", "d"]);
  await again.close();
  const p = pyJson<PyCheck>(CHECK_STORE, path, JSON.stringify(["var/score"]));
  assert.deepEqual(p.var_columns, ["score"]);
  assert.equal(p.var["score"]!.dtype, "float32");
  assert.deepEqual(p.mismatches, []);

  // No column-order at all (pre-0.7 style): every member but the index is a column, leftovers of an interrupted write excluded.
  const q = copyOf("full.zarr");
  const attrsPath = join(q, "obs", ".zattrs");
  const attrs = JSON.parse(readFileSync(attrsPath, "utf8")) as Record<string, unknown>;
  delete attrs["column-order"];
  writeFileSync(attrsPath, JSON.stringify(attrs));
  cpSync(join(q, "obs", "f64"), join(q, "obs", ".cellucid-tmp-0123456789ab"), { recursive: true });
  const t = await ZarrStore.open(q, "r");
  assert.deepEqual(t.columnNames("obs"), [...OBS_COLUMNS].sort());
  assert.deepEqual(t.columnNames("var"), ["gene_symbol", "highly_variable"]);
  await t.close();
});

test("a store opened read-only refuses every write and stays unchanged", async () => {
  const path = copyOf("full.zarr");
  const before = manifest(path);
  const s = await ZarrStore.open(path, "r");
  await expectAnnDataError(s.setColumn("obs", "x", { kind: "bool", values: new Uint8Array(N_OBS) }), "READ_ONLY", path);
  await expectAnnDataError(s.setColumn("obs", "leiden", { kind: "bool", values: new Uint8Array(N_OBS) }), "READ_ONLY");
  await expectAnnDataError(s.setUns(["cellucid"], { a: "b" }), "READ_ONLY", path);
  await s.close();
  assert.deepEqual(changedFiles(before, manifest(path)), []);
  // Reads after close are refused rather than silently working on a released store.
  await expectAnnDataError(s.readColumn("obs", "leiden"), "IO", "closed");
});

test("paths that are not AnnData Zarr stores are refused as NOT_ANNDATA, naming the path", async () => {
  const missing = join(dir, "no-such.zarr");
  await expectAnnDataError(ZarrStore.open(missing, "r"), "NOT_ANNDATA", missing);
  const file = join(dir, "a-file.zarr");
  writeFileSync(file, "hello");
  await expectAnnDataError(ZarrStore.open(file, "r"), "NOT_ANNDATA", file);
  const empty = join(dir, "empty.zarr");
  mkdirSync(empty);
  await expectAnnDataError(ZarrStore.open(empty, "r"), "NOT_ANNDATA", empty);
  // A Zarr group, but not an AnnData: no obs / var.
  const plain = join(dir, "plain.zarr");
  py(PY_COMMON + `zarr.open_group(sys.argv[1], mode="w").create_dataset("a", data=np.arange(3))`, plain);
  await expectAnnDataError(ZarrStore.open(plain, "r"), "NOT_ANNDATA", plain);
  // Broken metadata.
  const broken = copyOf("nocols.zarr");
  writeFileSync(join(broken, ".zgroup"), "{not json");
  await expectAnnDataError(ZarrStore.open(broken, "r"), "NOT_ANNDATA", broken);
  // A .h5ad is not a Zarr store either.
  const h5 = join(dir, "x.h5ad");
  py(PY_COMMON + `ad.AnnData(np.zeros((2, 2), dtype=np.float32)).write_h5ad(sys.argv[1])`, h5);
  await expectAnnDataError(ZarrStore.open(h5, "r"), "NOT_ANNDATA", h5);
});

test("unsupported encodings are refused as UNSUPPORTED_ENCODING, naming the element", async () => {
  const path = copyOf("unsupported.zarr");
  const s = await ZarrStore.open(path, "r+");
  assert.deepEqual(s.columnNames("obs"), ["x", "weird"]);
  await expectAnnDataError(s.readColumn("obs", "weird"), "UNSUPPORTED_ENCODING", "obs/weird");
  await expectAnnDataError(s.readUns(["table"]), "UNSUPPORTED_ENCODING", "uns/table");
  await expectAnnDataError(s.readUns(["matrix"]), "UNSUPPORTED_ENCODING", "uns/matrix");
  await expectAnnDataError(s.readUns(), "UNSUPPORTED_ENCODING", path);
  assert.equal(await s.readUns(["ok"]), "fine");
  // Writing next to them is fine, and replaces the data frame in uns when asked.
  await s.setUns(["table"], { now: "a dict" });
  assert.deepEqual(await s.readUns(["table"]), { now: "a dict" });
  await s.close();
});

test("bad names, lengths and categories are refused before anything is written", async () => {
  const path = copyOf("full.zarr");
  const before = manifest(path);
  const s = await ZarrStore.open(path, "r+");
  await expectAnnDataError(s.setColumn("obs", "short", { kind: "numeric", values: new Float32Array(2) }), "BAD_LENGTH", "obs/short");
  await expectAnnDataError(s.setColumn("obs", "a/b", { kind: "bool", values: new Uint8Array(N_OBS) }), "BAD_NAME");
  await expectAnnDataError(s.setColumn("obs", ".zattrs", { kind: "bool", values: new Uint8Array(N_OBS) }), "BAD_NAME");
  await expectAnnDataError(s.setColumn("obs", "_index", { kind: "bool", values: new Uint8Array(N_OBS) }), "BAD_NAME");
  assert.equal(JSON.parse(readFileSync(join(path, "var", ".zattrs"), "utf8"))["_index"], "gene_ids");
  await expectAnnDataError(s.setColumn("var", "gene_ids", { kind: "bool", values: new Uint8Array(3) }), "BAD_NAME");
  await expectAnnDataError(s.setColumn("obs", "c", { kind: "categorical", codes: new Int8Array([0, 1, 2, 0, 0, 0]), categories: ["a", "b"], ordered: false }), "BAD_VALUE");
  await expectAnnDataError(s.setColumn("obs", "c", { kind: "categorical", codes: new Int8Array(N_OBS), categories: ["a", "a"], ordered: false }), "BAD_VALUE");
  await assert.rejects(s.setUns([], "x"), TypeError);
  await expectAnnDataError(s.setUns(["a", "b/c"], "x"), "BAD_NAME");
  await expectAnnDataError(s.setUns(["a"], { "b/c": "x" }), "BAD_NAME");
  await expectAnnDataError(s.readColumn("obs", "a/b"), "NO_SUCH_COLUMN", "obs/a/b");
  assert.equal(await s.readUns(["params/nested"]), undefined);
  // A nested element with a bad key or value deep inside is refused before anything is written,
  // and an element being replaced stays as it was.
  await expectAnnDataError(s.setUns(["a"], { ok: "1", deeper: { fine: 2, "b/c": "x" } }), "BAD_NAME");
  await assert.rejects(s.setUns(["params"], { ok: "1", deeper: { bad: null as unknown as UnsValue } }), TypeError);
  await expectAnnDataError(s.setColumn("obs", "nint", { kind: "nullable-integer", values: new Int32Array(N_OBS), mask: new Uint8Array(2) }), "BAD_LENGTH");
  assert.equal(await s.readUns(["params", "method"]), "leiden");
  await s.close();
  assert.deepEqual(changedFiles(before, manifest(path)), []);
});

test("consolidated metadata (.zmetadata) is kept in step with writes", async () => {
  const path = copyOf("full.zarr");
  py(PY_COMMON + `zarr.consolidate_metadata(sys.argv[1])`, path);
  assert.ok(existsSync(join(path, ".zmetadata")));
  const s = await ZarrStore.open(path, "r+");
  await s.setColumn("obs", "added", { kind: "categorical", codes: new Int8Array([0, -1, 0, 0, 0, 0]), categories: ["only"], ordered: false });
  await s.setUns(["cellucid"], { v: "1" });
  await s.close();
  const p = pyJson<{ order: string[]; codes: number[]; v: string; keys: boolean }>(
    PY_COMMON + String.raw`
g = zarr.open_consolidated(sys.argv[1], mode="r")
meta = json.load(open(sys.argv[1] + "/.zmetadata"))["metadata"]
print(json.dumps({"order": list(g["obs"].attrs["column-order"]), "codes": g["obs/added/codes"][:].tolist(),
                  "v": str(g["uns/cellucid/v"][()]),
                  "keys": not any(".cellucid-tmp" in k for k in meta) and "obs/added/codes/.zarray" in meta}))
`,
    path,
  );
  assert.deepEqual(p, { order: [...OBS_COLUMNS, "added"], codes: [0, -1, 0, 0, 0, 0], v: "1", keys: true });
});

test("transaction(): writes are checked as they come, invisible until published together; a failing one leaves nothing", async () => {
  const path = copyOf("full.zarr");
  const before = manifest(path);
  const s = await ZarrStore.open(path, "r+");
  await assert.rejects(
    s.transaction(async () => {
      await s.setColumn("obs", "t1", { kind: "bool", values: new Uint8Array(N_OBS) });
      assert.equal(s.columnNames("obs").includes("t1"), false, "not visible before the transaction ends");
      throw new Error("changed my mind");
    }),
    /changed my mind/,
  );
  await assert.rejects(
    s.transaction(async () => {
      await s.setUns(["x"], { a: "1" });
      await s.setUns(["x", "b"], "2");
    }),
    /cannot write both uns\/x and uns\/x\/b/,
  );
  await expectAnnDataError(s.transaction(() => s.setColumn("obs", "../up", { kind: "bool", values: new Uint8Array(N_OBS) })), "BAD_NAME");
  await s.close();
  assert.deepEqual(changedFiles(before, manifest(path)), []);
  const w = await ZarrStore.open(path, "r+");
  // Fails while staging (a first column staged, the lazy second one refused): the next transaction on the same handle is unaffected.
  await expectAnnDataError(w.transaction(async () => {
    await w.setColumn("obs", "staged", { kind: "bool", values: new Uint8Array(N_OBS) });
    await w.setColumn("obs", "late", async () => ({ kind: "bool", values: new Uint8Array(2) }));
  }), "BAD_LENGTH");
  await w.transaction(async () => {
    await w.setColumn("obs", "t1", { kind: "bool", values: new Uint8Array(N_OBS).fill(1) });
    await w.setColumn("var", "t2", { kind: "numeric", values: new Float32Array(3) });
    await w.setUns(["cellucid", "v"], "1");
    await w.setUns(["cellucid", "v"], "2");
  });
  assert.deepEqual(w.columnNames("obs").slice(-1), ["t1"]);
  await w.close();
  const r = await ZarrStore.open(path, "r");
  assert.deepEqual(r.columnNames("var").slice(-1), ["t2"]);
  assert.equal(await r.readUns(["cellucid", "v"]), "2");
  await r.close();
  assert.ok(![...manifest(path).keys()].some((k) => k.includes(".cellucid")), "nothing of ours is left");
});

test("a transaction staging hundreds of files (flushed by one syncfs instead of an fsync each) is written whole and read back by Python anndata", async () => {
  const path = copyOf("full.zarr");
  const s = await ZarrStore.open(path, "r+");
  // 100 dicts of 3 string scalars: ~1,300 staged files and folders, past the 256 that get an fsync each.
  const groups: { [key: string]: UnsValue } = {};
  for (let g = 0; g < 100; g++) groups[`col_${g}`] = { group_id: `g${g}`, label: `Group ${g} ✓`, page_id: "p" };
  await s.setUns(["cellucid", "groups"], groups);
  await s.close();
  assert.ok(!existsSync(join(path, ".cellucid-staging")) && !existsSync(join(path, ".cellucid-journal")), "the transaction committed and cleaned up");
  const back = pyJson<Record<string, Record<string, string>>>(`
import sys, json, anndata as ad
print(json.dumps({k: dict(v) for k, v in ad.read_zarr(sys.argv[1]).uns["cellucid"]["groups"].items()}))`, path);
  assert.deepEqual(back, groups);
});
