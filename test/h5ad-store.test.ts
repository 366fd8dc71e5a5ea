/** H5adStore reads every SPEC §7 encoding as Python anndata writes it, and writes what Python reads back. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { H5adStore } from "../src/anndata/h5/store.js";
import { openAnnData, detectAnnDataFormat } from "../src/anndata/open.js";
import { AnnDataError } from "../src/anndata/model.js";
import { withTempDir } from "./helpers.js";
import { python } from "./python.js";

const MAKE = `
import sys, json, numpy as np, pandas as pd, anndata as ad
n = 6
obs = pd.DataFrame({
  "cat": pd.Categorical(["a", "b", None, "a", "é", "b"]),
  "ordcat": pd.Categorical(["lo", "hi", "lo", "lo", "hi", "hi"], categories=["lo", "hi"], ordered=True),
  "flag": np.array([True, False, True, False, False, True]),
  "i32": np.arange(n, dtype=np.int32), "f64": np.linspace(0, 1, n), "u8": np.arange(n, dtype=np.uint8),
  "names": [f"s{i}" for i in range(n)],
  "nint": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
  "nbool": pd.array([True, None, False, True, False, None], dtype="boolean"),
}, index=[f"c{i}" for i in range(n)])
var = pd.DataFrame(index=["g0", "g1", "g2"])
a = ad.AnnData(X=np.ones((n, 3), dtype=np.float32), obs=obs, var=var)
a.uns["nested"] = {"s": "text", "i": 3, "f": 2.5, "arr": np.array([1, 2, 3]), "strs": np.array(["x", "y"], dtype=object), "deep": {"b": True}}
a.write_h5ad(sys.argv[1], compression=sys.argv[2] if len(sys.argv) > 2 else None)
print(json.dumps(True))`;

for (const compression of ["none", "gzip"]) {
  test(`reads every column encoding anndata writes (${compression})`, async () => {
    await withTempDir(async (dir) => {
      const p = join(dir, "a.h5ad");
      await python(MAKE, p, ...(compression === "gzip" ? ["gzip"] : []));
      assert.equal(await detectAnnDataFormat(p), "h5ad");
      const s = await openAnnData(p);
      try {
        assert.equal(s.nObs, 6);
        assert.equal(s.nVars, 3);
        assert.deepEqual(s.columnNames("obs"), ["cat", "ordcat", "flag", "i32", "f64", "u8", "names", "nint", "nbool"]);
        assert.deepEqual(await s.readIndex("obs"), ["c0", "c1", "c2", "c3", "c4", "c5"]);
        assert.deepEqual(s.columnNames("var"), []);
        // Kinds from metadata alone agree with what reading the columns gives.
        for (const c of s.columnNames("obs")) assert.equal(await s.columnKind!("obs", c), (await s.readColumn("obs", c)).kind, c);
        assert.equal(await s.columnKind!("obs", "no_such_column"), null);
        const cat = await s.readColumn("obs", "cat");
        assert.ok(cat.kind === "categorical");
        assert.deepEqual([...cat.codes], [0, 1, -1, 0, 2, 1]);
        assert.deepEqual(cat.categories, ["a", "b", "é"]);
        assert.equal(cat.ordered, false);
        const ord = await s.readColumn("obs", "ordcat");
        assert.ok(ord.kind === "categorical" && ord.ordered === true && ord.categories.join() === "lo,hi");
        assert.deepEqual(await s.readColumn("obs", "flag"), { kind: "bool", values: Uint8Array.from([1, 0, 1, 0, 0, 1]) });
        assert.deepEqual(await s.readColumn("obs", "i32"), { kind: "numeric", values: Int32Array.from([0, 1, 2, 3, 4, 5]) });
        assert.deepEqual(await s.readColumn("obs", "u8"), { kind: "numeric", values: Uint8Array.from([0, 1, 2, 3, 4, 5]) });
        const f = await s.readColumn("obs", "f64");
        assert.ok(f.kind === "numeric" && f.values instanceof Float64Array && f.values[5] === 1);
        assert.deepEqual(await s.readColumn("obs", "names"), { kind: "string", values: ["s0", "s1", "s2", "s3", "s4", "s5"] });
        const nint = await s.readColumn("obs", "nint");
        assert.ok(nint.kind === "nullable-integer");
        assert.deepEqual([...nint.mask], [0, 1, 0, 0, 1, 0]);
        assert.equal(Number(nint.values[5]), 6);
        const nb = await s.readColumn("obs", "nbool");
        assert.ok(nb.kind === "nullable-boolean");
        assert.deepEqual([...nb.mask], [0, 1, 0, 0, 0, 1]);
        assert.deepEqual([...nb.values].filter((_, i) => !nb.mask[i]), [1, 0, 1, 0]);
        const uns = await s.readUns(["nested"]);
        assert.deepEqual(uns, { arr: BigInt64Array.from([1n, 2n, 3n]), deep: { b: true }, f: 2.5, i: 3, s: "text", strs: ["x", "y"] });
        await assert.rejects(s.readColumn("obs", "nope"), (e: AnnDataError) => e.code === "NO_SUCH_COLUMN");
        await assert.rejects(s.setColumn("obs", "x", { kind: "bool", values: new Uint8Array(6) }), (e: AnnDataError) => e.code === "READ_ONLY");
      } finally {
        await s.close();
      }
    });
  });
}

test("writes every column kind and uns value so that Python reads them with the right dtypes", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "a.h5ad");
    await python(MAKE, p);
    const s = await H5adStore.open(p, "r+");
    await s.setColumn("obs", "w_bool", { kind: "bool", values: Uint8Array.from([1, 1, 0, 0, 1, 0]) });
    await s.setColumn("obs", "w_cat", { kind: "categorical", codes: Int8Array.from([0, -1, 1, 1, 0, 0]), categories: ["ü", "v"], ordered: false });
    await s.setColumn("obs", "w_f32", { kind: "numeric", values: Float32Array.from([0.5, 1, 2, 3, 4, 5]) });
    await s.setColumn("obs", "w_str", { kind: "string", values: ["a", "b", "c", "d", "e", "f"] });
    await s.setColumn("obs", "w_nint", { kind: "nullable-integer", values: BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]), mask: Uint8Array.from([0, 0, 1, 0, 0, 0]) });
    await s.setColumn("obs", "flag", { kind: "bool", values: new Uint8Array(6) }); // replace in place
    await s.setUns(["cellucid", "session"], { s: "x", n: 2, f: 0.25, b: false, list: ["p", "q"], empty: [], d: { k: "v" } });
    await assert.rejects(s.setColumn("obs", "bad", { kind: "bool", values: new Uint8Array(5) }), (e: AnnDataError) => e.code === "BAD_LENGTH");
    await s.close();
    const py = await python<Record<string, unknown>>(`
import sys, json, anndata as ad
a = ad.read_h5ad(sys.argv[1])
u = a.uns["cellucid"]["session"]
print(json.dumps({"cols": list(a.obs.columns), "dtypes": {k: str(v) for k, v in a.obs.dtypes.items()},
  "cat": [None if x != x else x for x in a.obs["w_cat"].tolist()], "flag": int(a.obs["flag"].sum()),
  "nint": [None if x is a.obs["w_nint"].dtype.na_value else int(x) for x in a.obs["w_nint"]],
  "uns": {"s": u["s"], "n": int(u["n"]), "f": float(u["f"]), "b": bool(u["b"]), "list": list(u["list"]), "empty": len(u["empty"]), "d": dict(u["d"])}}))`, p);
    assert.deepEqual(py["cols"], ["cat", "ordcat", "flag", "i32", "f64", "u8", "names", "nint", "nbool", "w_bool", "w_cat", "w_f32", "w_str", "w_nint"]);
    const dt = py["dtypes"] as Record<string, string>;
    assert.deepEqual([dt["w_bool"], dt["w_cat"], dt["w_f32"], dt["w_nint"], dt["flag"]], ["bool", "category", "float32", "Int64", "bool"]);
    assert.deepEqual(py["cat"], ["ü", null, "v", "v", "ü", "ü"]);
    assert.equal(py["flag"], 0);
    assert.deepEqual(py["nint"], [1, 2, null, 4, 5, 6]);
    assert.deepEqual(py["uns"], { s: "x", n: 2, f: 0.25, b: false, list: ["p", "q"], empty: 0, d: { k: "v" } });
  });
});

test("anything that is not AnnData is refused with NOT_ANNDATA", async () => {
  await withTempDir(async (dir) => {
    const { writeFile, mkdir } = await import("node:fs/promises");
    await writeFile(join(dir, "x.txt"), "hello");
    await mkdir(join(dir, "folder"));
    await python(`import sys, json, h5py; h5py.File(sys.argv[1], "w").create_group("other"); print(json.dumps(1))`, join(dir, "plain.h5"));
    for (const p of ["x.txt", "folder", "plain.h5"]) await assert.rejects(openAnnData(join(dir, p)), (e: AnnDataError) => e.code === "NOT_ANNDATA", p);
    await assert.rejects(openAnnData(join(dir, "missing.h5ad")), (e: AnnDataError) => e.code === "IO");
  });
});

test("boolean columns, masks and small codes of long runs are stored deflated as runs (a few KB for 1M cells); others stay raw; Python reads both exactly", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "big.h5ad");
    const n = 2_500_000; // more than one 1M-element chunk
    await python(`
import sys, json, numpy as np, pandas as pd, anndata as ad
ad.AnnData(obs=pd.DataFrame(index=[str(i) for i in range(int(sys.argv[2]))])).write_h5ad(sys.argv[1])
print(json.dumps(True))`, p, String(n));
    const sparse = new Uint8Array(n);
    for (let i = 0; i < 1000; i++) sparse[(i * 2_654_435_761) % n] = 1;
    sparse[n - 1] = 1;
    let x = 2_463_534_242;
    const random = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
    const dense = Uint8Array.from({ length: n }, () => random() & 1);
    const manyCodes = Int8Array.from({ length: n }, () => random() % 100);
    const codes = Int8Array.from({ length: n }, (_, i) => (i < 10 ? 1 : -1));
    const s = await H5adStore.open(p, "r+");
    await s.setColumn("obs", "sparse", { kind: "bool", values: sparse });
    await s.setColumn("obs", "dense", { kind: "bool", values: dense });
    await s.setColumn("obs", "label", { kind: "categorical", codes, categories: ["x", "y"], ordered: false });
    await s.setColumn("obs", "many", { kind: "categorical", codes: manyCodes, categories: Array.from({ length: 100 }, (_, i) => `c${i}`), ordered: false });
    await s.close();
    const py = await python<Record<string, [string | null, number]>>(`
import sys, json, h5py, numpy as np, anndata as ad
a = ad.read_h5ad(sys.argv[1])
f = h5py.File(sys.argv[1], "r")
out = {}
for k, d in [("sparse", f["obs/sparse"]), ("dense", f["obs/dense"]), ("codes", f["obs/label/codes"]), ("many", f["obs/many/codes"])]:
    out[k] = [d.compression, int(d.id.get_storage_size())]
out["sums"] = [None, int(a.obs["sparse"].sum()) * 10**7 + int(a.obs["dense"].sum())]
out["label"] = [None, int((a.obs["label"] == "y").sum())]
out["manySum"] = [None, int(a.obs["many"].cat.codes.astype(np.int64).sum())]
print(json.dumps(out))`, p);
    assert.equal(py["sparse"]![0], "gzip");
    assert.ok(py["sparse"]![1] < 40_000, `sparse column takes ${py["sparse"]![1]} bytes`);
    assert.equal(py["dense"]![0], "gzip");
    assert.ok(py["dense"]![1] < n, "even random booleans take no more than their raw bytes");
    assert.deepEqual(py["many"], [null, n], "codes that do not shrink as runs are written raw");
    assert.deepEqual(py["manySum"], [null, manyCodes.reduce((a, b) => a + b, 0)]);
    assert.equal(py["codes"]![0], "gzip");
    const ones = sparse.reduce((a, b) => a + b, 0);
    assert.deepEqual(py["sums"], [null, ones * 1e7 + dense.reduce((a, b) => a + b, 0)]);
    assert.deepEqual(py["label"], [null, 10]);
    // Our own reader agrees, including a range read that starts inside the second chunk.
    const r = await H5adStore.open(p, "r");
    const back = await r.readColumn("obs", "sparse");
    assert.deepEqual(back.kind === "bool" && Buffer.compare(back.values, sparse), 0);
    await r.close();
  });
});

test("a bool column by its true rows is written from them (as runs when they are few, else dense), reads back dense, and is refused (BAD_VALUE) when its rows are not ascending, repeat, or pass its length", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "rows.h5ad");
    await python(`
import sys, json, pandas as pd, anndata as ad
ad.AnnData(obs=pd.DataFrame(index=[str(i) for i in range(100)])).write_h5ad(sys.argv[1])
print(json.dumps(True))`, p);
    const s = await H5adStore.open(p, "r+");
    const few = Uint32Array.from([1, 2, 99]);
    const many = Uint32Array.from({ length: 40 }, (_, i) => 2 * i + 1);
    await s.setColumn("obs", "few", { kind: "bool", length: 100, trueRows: few });
    await s.setColumn("obs", "many", async () => ({ kind: "bool", length: 100, trueRows: many }));
    for (const trueRows of [Uint32Array.from([2, 1, 9]), Uint32Array.from([1, 1, 9]), Uint32Array.from([1, 2, 100])]) {
      await assert.rejects(s.setColumn("obs", "bad", { kind: "bool", length: 100, trueRows }), (e: AnnDataError) => e.code === "BAD_VALUE");
      await assert.rejects(s.setColumn("obs", "bad", async () => ({ kind: "bool", length: 100, trueRows })), (e: AnnDataError) => e.code === "BAD_VALUE");
    }
    await assert.rejects(s.setColumn("obs", "bad", { kind: "bool", length: 99, trueRows: few.subarray(0, 2) }), (e: AnnDataError) => e.code === "BAD_LENGTH");
    await s.close();
    const dense = (rows: Uint32Array) => Array.from({ length: 100 }, (_, i) => (rows.includes(i) ? 1 : 0));
    const r = await H5adStore.open(p, "r");
    assert.deepEqual(await r.readColumn("obs", "few"), { kind: "bool", values: Uint8Array.from(dense(few)) });
    assert.deepEqual(await r.readColumn("obs", "many"), { kind: "bool", values: Uint8Array.from(dense(many)) });
    assert.deepEqual(r.columnNames("obs"), ["few", "many"]);
    await r.close();
    const back = await python<{ cols: string[]; few: number[]; many: number[]; filters: string[] }>(`
import sys, json, h5py, anndata as ad
o = ad.read_h5ad(sys.argv[1]).obs
with h5py.File(sys.argv[1]) as f: filters = [str(f["obs/few"].compression), str(f["obs/many"].compression)]
print(json.dumps({"cols": list(o.columns), "few": o["few"].astype(int).tolist(), "many": o["many"].astype(int).tolist(), "filters": filters}))`, p);
    assert.deepEqual(back, { cols: ["few", "many"], few: dense(few), many: dense(many), filters: ["gzip", "None"] });
  });
});
