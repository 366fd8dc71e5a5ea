/**
 * Tests for the HDF5 native binding, checked against Debian's Python
 * anndata/h5py (python3-anndata): Python writes .h5ad files, the binding
 * reads them; the binding appends columns, Python reads them back.
 *
 * Requirements: build/Release/cellucid_hdf5.node (npx node-gyp rebuild) and
 * /usr/bin/python3 with anndata importable. Missing prerequisites FAIL the
 * tests with an explanatory message; nothing is skipped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { H5File, hdf5Version, type DatasetRead, type H5DType } from "../src/anndata/h5/binding.js";

const PYTHON = process.env["CELLUCID_PYTHON"] ?? "/usr/bin/python3";

let pythonChecked = false;
function requirePython(): void {
  if (pythonChecked) return;
  try {
    execFileSync(PYTHON, ["-c", "import anndata, h5py, numpy, pandas"], { stdio: "pipe" });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    assert.fail(
      `Python anndata is required for these tests but \`${PYTHON} -c "import anndata"\` failed ` +
        `(install Debian's python3-anndata): ${stderr.trim()}`,
    );
  }
  pythonChecked = true;
}

function py(script: string, ...args: string[]): string {
  requirePython();
  try {
    return execFileSync(PYTHON, ["-c", script, ...args], { stdio: "pipe", encoding: "utf8" });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`python failed: ${e.stderr ?? e.message}`);
  }
}

function pyJson<T>(script: string, ...args: string[]): T {
  return JSON.parse(py(script, ...args)) as T;
}

const WRITE_H5AD = String.raw`
import sys, numpy as np, pandas as pd, anndata as ad
out = sys.argv[1]
obs = pd.DataFrame({
    "leiden": pd.Categorical(["0", "1", "0", "2", "1"], categories=["0", "1", "2"]),
    "grade": pd.Categorical(["lo", "hi", "hi", "lo", "mid"], categories=["lo", "mid", "hi"], ordered=True),
    "is_doublet": [True, False, False, True, False],
    "n_genes": np.array([10, 20, 30, 40, 50], dtype=np.int64),
    "n_counts": np.array([-1, 0, 7, 2**31 - 1, -2**31], dtype=np.int32),
    "pct_mt": np.array([0.5, 1.5, 2.25, 3.0, 4.75]),
    # all-unique, so anndata keeps it a string column (it turns repeated
    # strings into categoricals on write)
    "sample": ["s1", "s2", "s3", "s4", "sé✓"],
}, index=[f"cell{i}" for i in range(5)])
var = pd.DataFrame({
    "gene_symbol": ["A", "B", "C"],
    "highly_variable": [True, False, True],
    "means": np.array([1.0, 2.0, 3.0], dtype=np.float32),
}, index=["g0", "g1", "g2"])
X = np.arange(15, dtype=np.float32).reshape(5, 3)
a = ad.AnnData(X=X, obs=obs, var=var)
a.write_h5ad(out + "/plain.h5ad")
a.write_h5ad(out + "/gzip.h5ad", compression="gzip")
`;

const OBS_COLUMNS = ["leiden", "grade", "is_doublet", "n_genes", "n_counts", "pct_mt", "sample"];

function withTmp(fn: (dir: string) => void): void {
  requirePython();
  const dir = mkdtempSync(join(tmpdir(), "cellucid-h5-"));
  try {
    py(WRITE_H5AD, dir);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withFile<T>(path: string, mode: "r" | "r+", fn: (f: H5File) => T): T {
  const f = H5File.open(path, mode);
  try {
    return fn(f);
  } finally {
    f.close();
  }
}

function expectDtype<D extends H5DType>(r: DatasetRead, dtype: D): Extract<DatasetRead, { dtype: D }> {
  assert.equal(r.dtype, dtype);
  return r as Extract<DatasetRead, { dtype: D }>;
}

function assertAnnDataContents(f: H5File, compressed: boolean): void {
  // Root and dataframe schema attributes.
  assert.deepEqual(f.readAttrs("/"), { "encoding-type": "anndata", "encoding-version": "0.1.0" });
  assert.deepEqual(f.readAttrs("/obs"), {
    _index: "_index",
    "column-order": OBS_COLUMNS,
    "encoding-type": "dataframe",
    "encoding-version": "0.2.0",
  });
  assert.deepEqual(f.readAttrs("/var")["column-order"], ["gene_symbol", "highly_variable", "means"]);
  assert.equal(f.kind("/obs"), "group");
  assert.equal(f.kind("/obs/leiden"), "group");
  assert.equal(f.kind("/obs/is_doublet"), "dataset");
  assert.equal(f.kind("/obs/missing"), null);
  assert.equal(f.exists("/obs/leiden/codes"), true);
  assert.equal(f.exists("/obs/leiden/codes/deeper"), false);
  assert.equal(f.exists("/nope/nope"), false);
  assert.deepEqual(f.list("/obs"), ["_index", ...OBS_COLUMNS].sort());
  for (const g of ["/", "/obs", "/var", "/uns", "/obsm", "/layers"]) assert.equal(f.kind(g), "group");

  // Index and string columns (including non-ASCII UTF-8).
  assert.deepEqual(f.readAttrs("/obs/_index"), { "encoding-type": "string-array", "encoding-version": "0.2.0" });
  assert.deepEqual(expectDtype(f.readDataset("/obs/_index"), "string").data, ["cell0", "cell1", "cell2", "cell3", "cell4"]);
  assert.deepEqual(expectDtype(f.readDataset("/obs/sample"), "string").data, ["s1", "s2", "s3", "s4", "sé✓"]);
  assert.deepEqual(expectDtype(f.readDataset("/var/_index"), "string").data, ["g0", "g1", "g2"]);
  assert.deepEqual(expectDtype(f.readDataset("/var/gene_symbol"), "string").data, ["A", "B", "C"]);
  assert.deepEqual(f.readAttrs("/obs/sample"), { "encoding-type": "string-array", "encoding-version": "0.2.0" });

  // Categoricals: codes + categories + ordered as a boolean.
  assert.deepEqual(f.readAttrs("/obs/leiden"), {
    "encoding-type": "categorical",
    "encoding-version": "0.2.0",
    ordered: false,
  });
  assert.equal(f.readAttrs("/obs/grade")["ordered"], true);
  const codes = expectDtype(f.readDataset("/obs/leiden/codes"), "int8");
  assert.deepEqual(Array.from(codes.data), [0, 1, 0, 2, 1]);
  assert.deepEqual(expectDtype(f.readDataset("/obs/leiden/categories"), "string").data, ["0", "1", "2"]);
  assert.deepEqual(expectDtype(f.readDataset("/obs/grade/categories"), "string").data, ["lo", "mid", "hi"]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/grade/codes"), "int8").data), [0, 2, 2, 0, 1]);

  // Numeric and bool columns.
  assert.deepEqual(f.readAttrs("/obs/is_doublet"), { "encoding-type": "array", "encoding-version": "0.2.0" });
  assert.equal(f.datasetInfo("/obs/is_doublet").dtype, "bool");
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/is_doublet"), "bool").data), [1, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/var/highly_variable"), "bool").data), [1, 0, 1]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/n_genes"), "int64").data), [10n, 20n, 30n, 40n, 50n]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/n_counts"), "int32").data), [-1, 0, 7, 2 ** 31 - 1, -(2 ** 31)]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/pct_mt"), "float64").data), [0.5, 1.5, 2.25, 3.0, 4.75]);
  assert.deepEqual(Array.from(expectDtype(f.readDataset("/var/means"), "float32").data), [1, 2, 3]);

  // Partial reads.
  const part = expectDtype(f.readDataset("/obs/pct_mt", { start: 1, count: 3 }), "float64");
  assert.deepEqual(part.shape, [3]);
  assert.deepEqual(Array.from(part.data), [1.5, 2.25, 3.0]);
  assert.deepEqual(expectDtype(f.readDataset("/obs/sample", { start: 4 }), "string").data, ["sé✓"]);
  assert.deepEqual(expectDtype(f.readDataset("/obs/sample", { start: 5 }), "string").data, []);

  // X, full and as a row block.
  assert.deepEqual(f.readAttrs("/X"), { "encoding-type": "array", "encoding-version": "0.2.0" });
  const X = expectDtype(f.readDataset("/X"), "float32");
  assert.deepEqual(X.shape, [5, 3]);
  assert.deepEqual(Array.from(X.data), Array.from({ length: 15 }, (_, i) => i));
  const rows = expectDtype(f.readDataset("/X", { start: 2, count: 2 }), "float32");
  assert.deepEqual(rows.shape, [2, 3]);
  assert.deepEqual(Array.from(rows.data), [6, 7, 8, 9, 10, 11]);

  // Storage layout.
  const info = f.datasetInfo("/obs/pct_mt");
  assert.equal(info.dtype, "float64");
  assert.deepEqual(info.shape, [5]);
  if (compressed) {
    assert.deepEqual(info.filters, ["gzip"]);
    assert.deepEqual(info.chunks, [5]);
    assert.deepEqual(f.datasetInfo("/X").filters, ["gzip"]);
    assert.deepEqual(f.datasetInfo("/obs/sample").filters, ["gzip"]);
  } else {
    assert.deepEqual(info.filters, []);
    assert.equal(info.chunks, null);
  }
  assert.deepEqual(f.datasetInfo("/obs/sample"), {
    dtype: "string",
    shape: [5],
    chunks: compressed ? [5] : null,
    filters: compressed ? ["gzip"] : [],
  });
}

test("links against HDF5", () => {
  assert.match(hdf5Version(), /^1\.\d+\.\d+$/);
});

test("python anndata is available (required, never skipped)", () => {
  requirePython();
});

test("reads an anndata-written .h5ad (uncompressed and gzip)", () => {
  withTmp((dir) => {
    withFile(join(dir, "plain.h5ad"), "r", (f) => assertAnnDataContents(f, false));
    withFile(join(dir, "gzip.h5ad"), "r", (f) => assertAnnDataContents(f, true));
  });
});

const READ_BACK = String.raw`
import sys, json, numpy as np, pandas as pd, anndata as ad
a = ad.read_h5ad(sys.argv[1])
def val(v):
    return None if pd.isna(v) else v
print(json.dumps({
    "columns": list(a.obs.columns),
    "dtypes": {c: str(a.obs[c].dtype) for c in a.obs.columns},
    "is_new": [bool(v) for v in a.obs["is_new"]],
    "cluster_categories": list(a.obs["cluster"].cat.categories),
    "cluster_values": [val(v) for v in a.obs["cluster"]],
    "cluster_ordered": bool(a.obs["cluster"].cat.ordered),
    "leiden": [str(v) for v in a.obs["leiden"]],
    "obs_names": list(a.obs_names),
    "X": a.X.tolist(),
    "X_dtype": str(a.X.dtype),
    "var_columns": list(a.var.columns),
}))
`;

interface ReadBack {
  columns: string[];
  dtypes: Record<string, string>;
  is_new: boolean[];
  cluster_categories: string[];
  cluster_values: (string | null)[];
  cluster_ordered: boolean;
  leiden: string[];
  obs_names: string[];
  X: number[][];
  X_dtype: string;
  var_columns: string[];
}

test("appends a bool and a categorical obs column that anndata reads back", () => {
  withTmp((dir) => {
    for (const name of ["plain.h5ad", "gzip.h5ad"]) {
      const file = join(dir, name);
      const gzip = name === "gzip.h5ad" ? { gzip: 4 } : {};
      withFile(file, "r+", (f) => {
        // bool column, as anndata writes it: h5py bool enum + array attrs.
        f.createDataset("/obs/is_new", "bool", [true, false, true, true, false], gzip);
        f.writeAttr("/obs/is_new", "encoding-type", "array");
        f.writeAttr("/obs/is_new", "encoding-version", "0.2.0");

        // categorical column (code -1 = missing, as pandas does).
        f.createGroup("/obs/cluster");
        f.createDataset("/obs/cluster/codes", "int8", Int8Array.from([1, 0, -1, 2, 1]), gzip);
        f.writeAttr("/obs/cluster/codes", "encoding-type", "array");
        f.writeAttr("/obs/cluster/codes", "encoding-version", "0.2.0");
        f.createDataset("/obs/cluster/categories", "string", ["B cell", "T cell", "NK ✓"], gzip);
        f.writeAttr("/obs/cluster/categories", "encoding-type", "string-array");
        f.writeAttr("/obs/cluster/categories", "encoding-version", "0.2.0");
        f.writeAttr("/obs/cluster", "encoding-type", "categorical");
        f.writeAttr("/obs/cluster", "encoding-version", "0.2.0");
        f.writeAttr("/obs/cluster", "ordered", false);

        const order = f.readAttrs("/obs")["column-order"];
        assert.ok(Array.isArray(order));
        f.writeAttr("/obs", "column-order", [...(order as string[]), "is_new", "cluster"]);
      });

      // Binding view of what it wrote.
      withFile(file, "r", (f) => {
        assert.deepEqual(f.readAttrs("/obs/cluster"), {
          "encoding-type": "categorical",
          "encoding-version": "0.2.0",
          ordered: false,
        });
        assert.deepEqual(f.readAttrs("/obs")["column-order"], [...OBS_COLUMNS, "is_new", "cluster"]);
        assert.deepEqual(Array.from(expectDtype(f.readDataset("/obs/is_new"), "bool").data), [1, 0, 1, 1, 0]);
        if (name === "gzip.h5ad") assert.deepEqual(f.datasetInfo("/obs/cluster/codes").filters, ["gzip"]);
      });

      // Python's view.
      const r = pyJson<ReadBack>(READ_BACK, file);
      assert.deepEqual(r.columns, [...OBS_COLUMNS, "is_new", "cluster"]);
      assert.equal(r.dtypes["is_new"], "bool");
      assert.equal(r.dtypes["cluster"], "category");
      assert.deepEqual(r.is_new, [true, false, true, true, false]);
      assert.deepEqual(r.cluster_categories, ["B cell", "T cell", "NK ✓"]);
      assert.deepEqual(r.cluster_values, ["T cell", "B cell", null, "NK ✓", "T cell"]);
      assert.equal(r.cluster_ordered, false);
      assert.deepEqual(r.leiden, ["0", "1", "0", "2", "1"]);
      assert.deepEqual(r.obs_names, ["cell0", "cell1", "cell2", "cell3", "cell4"]);
      assert.equal(r.X_dtype, "float32");
      assert.deepEqual(r.X, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14]]);
      assert.deepEqual(r.var_columns, ["gene_symbol", "highly_variable", "means"]);

      // Low-level: types are exactly what h5py itself would have written.
      const low = pyJson<Record<string, unknown>>(String.raw`
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    o = f["obs/cluster"].attrs.get_id("ordered").get_type()
    co = f["obs"].attrs.get_id("column-order").get_type()
    et = f["obs/cluster"].attrs.get_id("encoding-type")
    cats = f["obs/cluster/categories"]
    print(json.dumps({
        "ordered_enum": o.get_class() == h5py.h5t.ENUM and [o.get_member_name(i).decode() for i in range(2)],
        "ordered_base_size": o.get_super().get_size(),
        "column_order_vlen_utf8": co.is_variable_str() and co.get_cset() == h5py.h5t.CSET_UTF8,
        "encoding_type_scalar": et.shape == () and et.get_type().is_variable_str(),
        "categories_dtype": str(h5py.check_string_dtype(cats.dtype)),
        "is_new_dtype": str(f["obs/is_new"].dtype),
        "codes_dtype": str(f["obs/cluster/codes"].dtype),
    }))
`, file);
      assert.deepEqual(low, {
        ordered_enum: ["FALSE", "TRUE"],
        ordered_base_size: 1,
        column_order_vlen_utf8: true,
        encoding_type_scalar: true,
        categories_dtype: "string_info(encoding='utf-8', length=None)",
        is_new_dtype: "bool",
        codes_dtype: "int8",
      });
    }
  });
});

test("empty column-order is written exactly like anndata (float64, shape (0,))", () => {
  withTmp((dir) => {
    const file = join(dir, "plain.h5ad");
    withFile(file, "r+", (f) => {
      f.createGroup("/uns/empty_df");
      f.writeAttr("/uns/empty_df", "column-order", [], "string");
      f.writeAttr("/uns/empty_df", "no_type", []);
      assert.deepEqual(f.readAttrs("/uns/empty_df"), { "column-order": [], no_type: [] });
    });
    // Compare with what anndata itself wrote for an empty dataframe.
    const r = pyJson<{ ours: string; anndata: string }>(String.raw`
import sys, json, h5py, numpy as np, pandas as pd, anndata as ad
ad.AnnData(X=np.zeros((2, 2), dtype=np.float32)).write_h5ad(sys.argv[1] + ".ref.h5ad")
def desc(a): return f"{a.dtype}{a.shape}"
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[1] + ".ref.h5ad", "r") as g:
    print(json.dumps({"ours": desc(f["uns/empty_df"].attrs["column-order"]),
                      "anndata": desc(g["var"].attrs["column-order"])}))
`, file);
    assert.equal(r.anndata, "float64(0,)");
    assert.equal(r.ours, r.anndata);
  });
});

test("createDataset round-trips every dtype through h5py", () => {
  withTmp((dir) => {
    const file = join(dir, "plain.h5ad");
    const cases: [H5DType, unknown, unknown[]][] = [
      ["bool", [true, false, true], [true, false, true]],
      ["int8", Int8Array.from([-128, 0, 127]), [-128, 0, 127]],
      ["int16", [-32768, 1, 32767], [-32768, 1, 32767]],
      ["int32", Int32Array.from([-(2 ** 31), 5, 2 ** 31 - 1]), [-(2 ** 31), 5, 2 ** 31 - 1]],
      ["int64", [-(2n ** 63n), 0, 2n ** 62n], ["-9223372036854775808", "0", "4611686018427387904"]],
      ["uint8", Uint8Array.from([0, 1, 255]), [0, 1, 255]],
      ["uint16", [0, 65535, 3], [0, 65535, 3]],
      ["uint32", [0, 2 ** 32 - 1, 3], [0, 2 ** 32 - 1, 3]],
      ["uint64", [0n, 2n ** 64n - 1n, 3], ["0", "18446744073709551615", "3"]],
      ["float32", Float32Array.from([0.5, -1.25, 3]), [0.5, -1.25, 3]],
      ["float64", [Math.PI, -0, 1e300], [Math.PI, -0, 1e300]],
      ["string", ["", "plain", "ünïcødé ✓"], ["", "plain", "ünïcødé ✓"]],
    ];
    withFile(file, "r+", (f) => {
      for (const [dtype, data] of cases) {
        f.createDataset(`/uns/dt/${dtype}`, dtype, data as never);
        f.createDataset(`/uns/dtz/${dtype}`, dtype, data as never, { gzip: 6, chunks: 2 });
        f.createDataset(`/uns/empty/${dtype}`, dtype, [] as never, { gzip: 1 });
      }
    });
    withFile(file, "r", (f) => {
      for (const [dtype] of cases) {
        const a = f.readDataset(`/uns/dt/${dtype}`);
        const z = f.readDataset(`/uns/dtz/${dtype}`);
        assert.equal(a.dtype, dtype);
        assert.deepEqual(z, a);
        assert.deepEqual(f.datasetInfo(`/uns/dtz/${dtype}`), { dtype, shape: [3], chunks: [2], filters: ["gzip"] });
        const e = f.readDataset(`/uns/empty/${dtype}`);
        assert.equal(e.dtype, dtype);
        assert.deepEqual(e.shape, [0]);
        assert.equal(e.data.length, 0);
      }
      assert.deepEqual(f.list("/uns/dt"), cases.map(([d]) => d).sort());
    });
    const seen = pyJson<Record<string, { dtype: string; values: unknown[]; z: unknown[] }>>(String.raw`
import sys, json, h5py
out = {}
with h5py.File(sys.argv[1], "r") as f:
    for k, d in f["uns/dt"].items():
        def conv(arr):
            if h5py.check_string_dtype(d.dtype): return [s.decode("utf-8") for s in arr]
            if d.dtype.kind in "iu" and d.dtype.itemsize == 8: return [str(int(v)) for v in arr]
            return arr.tolist()
        out[k] = {"dtype": str(d.dtype), "values": conv(d[()]), "z": conv(f["uns/dtz"][k][()])}
print(json.dumps(out))
`, file);
    for (const [dtype, , expected] of cases) {
      const s = seen[dtype];
      assert.ok(s, dtype);
      assert.equal(s.dtype, dtype === "string" ? "object" : dtype, dtype);
      assert.deepEqual(s.values, expected, dtype);
      assert.deepEqual(s.z, expected, dtype);
    }
  });
});

test("reads fixed-length strings, scalar/array numeric attrs and N-D slices", () => {
  withTmp((dir) => {
    const file = join(dir, "extra.h5");
    py(String.raw`
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["fixed"] = np.array([b"ab", b"c", b""], dtype="S3")
    f["fixed"].attrs["fixed_scalar"] = np.bytes_(b"xyz")
    f["fixed"].attrs["fixed_arr"] = np.array([b"p", b"qq"], dtype="S2")
    f["fixed"].attrs["i"] = np.int64(-7)
    f["fixed"].attrs["big"] = np.int64(2**62)
    f["fixed"].attrs["u"] = np.uint32(7)
    f["fixed"].attrs["f"] = 2.5
    f["fixed"].attrs["farr"] = np.array([1.5, 2.5])
    f["fixed"].attrs["iarr"] = np.array([1, 2, 3], dtype=np.int16)
    f["fixed"].attrs["barr"] = np.array([True, False])
    f["fixed"].attrs["vlen_arr"] = ["α", "β"]
    f["fixed"].attrs["empty"] = h5py.Empty("f")
    f["cube"] = np.arange(24, dtype=np.int16).reshape(4, 3, 2)
    f["scalar"] = np.float64(4.5)
    g = f.create_group("ordered", track_order=True)
    for n in ["zeta", "alpha", "mid"]: g.create_group(n)
`, file);
    withFile(file, "r+", (f) => {
      assert.deepEqual(expectDtype(f.readDataset("/fixed"), "string").data, ["ab", "c", ""]);
      assert.equal(f.datasetInfo("/fixed").dtype, "string");
      assert.deepEqual(f.readAttrs("/fixed"), {
        barr: [true, false],
        big: 2n ** 62n,
        empty: null,
        f: 2.5,
        farr: [1.5, 2.5],
        fixed_arr: ["p", "qq"],
        fixed_scalar: "xyz",
        i: -7,
        iarr: [1, 2, 3],
        u: 7,
        vlen_arr: ["α", "β"],
      });
      const cube = expectDtype(f.readDataset("/cube", { start: 1, count: 2 }), "int16");
      assert.deepEqual(cube.shape, [2, 3, 2]);
      assert.deepEqual(Array.from(cube.data), Array.from({ length: 12 }, (_, i) => i + 6));
      const scalar = expectDtype(f.readDataset("/scalar"), "float64");
      assert.deepEqual(scalar.shape, []);
      assert.deepEqual(Array.from(scalar.data), [4.5]);
      assert.deepEqual(f.list("/ordered"), ["zeta", "alpha", "mid"]); // creation order

      // writeAttr replaces (type and shape may change) and supports all kinds.
      f.writeAttr("/fixed", "i", 42, "int64");
      f.writeAttr("/fixed", "f", [1, 2], "float64");
      f.writeAttr("/fixed", "flags", [true, false, true]);
      f.writeAttr("/fixed", "n", 3n);
      f.writeAttr("/fixed", "s", "hello");
      f.writeAttr("/fixed", "i", 43, "int64");
      const attrs = f.readAttrs("/fixed");
      assert.equal(attrs["i"], 43);
      assert.deepEqual(attrs["f"], [1, 2]);
      assert.deepEqual(attrs["flags"], [true, false, true]);
      assert.equal(attrs["n"], 3);
      assert.equal(attrs["s"], "hello");
      f.deleteAttr("/fixed", "s");
      assert.equal("s" in f.readAttrs("/fixed"), false);
    });
    const r = pyJson<Record<string, unknown>>(String.raw`
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    a = f["fixed"].attrs
    print(json.dumps({"i": [str(a["i"].dtype), int(a["i"])], "f": [str(a["f"].dtype), a["f"].tolist()],
                      "flags": [str(a["flags"].dtype), a["flags"].tolist()], "n": str(a["n"].dtype)}))
`, file);
    assert.deepEqual(r, { i: ["int64", 43], f: ["float64", [1, 2]], flags: ["bool", [true, false, true]], n: "int64" });
  });
});

test("errors are thrown as JS Errors naming the operation and path; never crash", () => {
  withTmp((dir) => {
    const file = join(dir, "plain.h5ad");
    assert.throws(() => H5File.open(join(dir, "missing.h5ad"), "r"), { name: "AnnDataError", code: "IO", message: /missing\.h5ad: cannot open: No such file or directory/ });
    assert.throws(() => H5File.open(file, "w" as "r"), /mode must be "r" or "r\+"/);
    assert.throws(() => H5File.open(join(dir), "r"), /cannot open: Is a directory/);

    const f = H5File.open(file, "r");
    assert.throws(() => f.readDataset("/obs/nope"), /HDF5 readDataset '\/obs\/nope' failed: .*doesn't exist/);
    assert.throws(() => f.readDataset("/obs"), /HDF5 readDataset '\/obs' failed: .*not a dataset/);
    assert.throws(() => f.datasetInfo("/obs/leiden"), /HDF5 datasetInfo '\/obs\/leiden' failed/);
    assert.throws(() => f.list("/obs/is_doublet"), /HDF5 list '\/obs\/is_doublet' failed/);
    assert.throws(() => f.readAttrs("/no/such"), /HDF5 readAttrs '\/no\/such' failed/);
    assert.throws(() => f.readDataset("/obs/pct_mt", { start: 4, count: 2 }), /out of range/);
    assert.throws(() => f.readDataset("/obs/pct_mt", { start: -1 }), /start must be/);
    assert.throws(() => f.createGroup("/new"), /HDF5 createGroup '\/new' failed: .*no write intent/);
    assert.throws(() => f.createDataset("/obs/x", "int8", [1]), /HDF5 createDataset '\/obs\/x' failed/);
    assert.throws(() => f.writeAttr("/obs", "x", "y"), /HDF5 writeAttr '\/obs' failed/);
    assert.throws(() => f.exists(42 as unknown as string), /path must be a string/);
    assert.equal(f.isOpen, true);
    f.close();
    f.close(); // double close is safe
    assert.equal(f.isOpen, false);
    assert.throws(() => f.list("/"), /file is closed/);
    assert.throws(() => f.readDataset("/X"), /file is closed/);
    assert.throws(() => f.exists("/X"), /file is closed/);

    withFile(file, "r+", (w) => {
      assert.throws(() => w.createDataset("/obs/pct_mt", "float64", [1]), /HDF5 createDataset '\/obs\/pct_mt' failed: .*already exists/);
      assert.throws(() => w.createDataset("/obs/bad", "int8", ["a"] as never), /expected numbers/);
      assert.throws(() => w.createDataset("/obs/bad", "int64", [1.5]), /expected an integer/);
      assert.throws(() => w.createDataset("/obs/bad", "float16" as H5DType, [1]), /unknown dtype/);
      assert.throws(() => w.createDataset("/obs/bad", "float64", [1], { gzip: 12 }), /gzip must be/);
      assert.throws(() => w.writeAttr("/obs/nope", "a", "b"), /HDF5 writeAttr '\/obs\/nope' failed/);
      assert.throws(() => w.deleteLink("/obs/nope"), /HDF5 deleteLink '\/obs\/nope' failed/);
      assert.equal(w.exists("/obs/bad"), false);
      // deleteLink + recreate is the overwrite path.
      w.deleteLink("/obs/pct_mt");
      assert.equal(w.exists("/obs/pct_mt"), false);
      w.createDataset("/obs/pct_mt", "float64", [9, 8, 7, 6, 5]);
      assert.deepEqual(Array.from(expectDtype(w.readDataset("/obs/pct_mt"), "float64").data), [9, 8, 7, 6, 5]);
    });
  });
});

test("string reads keep empty strings and counts exactly (they cross from C as one NUL-separated string)", () => {
  withTmp((dir) => {
    const file = join(dir, "strings.h5");
    py(`import sys, h5py; h5py.File(sys.argv[1], "w").close()`, file);
    const cases: string[][] = [["", "x", "", "é✓ 𝔸"], [""], ["", ""], ["only"]];
    withFile(file, "r+", (f) => {
      cases.forEach((c, i) => f.createDataset(`/s${i}`, "string", c));
      f.createDataset("/scalar", "string", [""], { scalar: true });
    });
    withFile(file, "r", (r) => {
      cases.forEach((c, i) => assert.deepEqual(expectDtype(r.readDataset(`/s${i}`), "string").data, c));
      assert.deepEqual(expectDtype(r.readDataset("/s0", { start: 1, count: 2 }), "string").data, ["x", ""]);
      assert.deepEqual(expectDtype(r.readDataset("/s0", { start: 4 }), "string").data, []);
      assert.deepEqual(expectDtype(r.readDataset("/scalar"), "string").data, [""]);
    });
  });
});
