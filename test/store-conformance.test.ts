/**
 * Store conformance: every column encoding × {memory, .h5ad, .zarr} written
 * then read back, files Python anndata wrote read the same way by both file
 * stores, and each invalid input refused with the same error code by all
 * three. Python work is batched: one process makes the fixtures, one checks
 * what we wrote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { AnnDataError, type AnnDataStore, type Column, MemoryAnnData, validateBundle } from "../src/index.js";
import { CellucidSessionBundle, H5adStore, ZarrStore, createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { withTempDir } from "./helpers.js";
import { python } from "./python.js";

const N = 6;

/** One column of each kind the model has, as setColumn takes them. */
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

/** Plain JSON of a column as the model holds it, for comparisons. */
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

/** A Python-made AnnData (index named "barcode") as .h5ad and .zarr, plus hostile variants of both. */
async function fixtures(dir: string) {
  const f = {
    h5ad: join(dir, "py.h5ad"), zarr: join(dir, "py.zarr"),
    badVersionH5ad: join(dir, "bad-version.h5ad"), badVersionZarr: join(dir, "bad-version.zarr"),
    longCodesH5ad: join(dir, "long-codes.h5ad"), hugeIndexH5ad: join(dir, "huge-index.h5ad"),
  };
  const py = await python<{ columns: Record<string, unknown> }>(`
import sys, json, shutil, numpy as np, pandas as pd, anndata as ad, h5py, zarr
h5, zp, bvh, bvz, lch, hih = sys.argv[1:7]
n = ${N}
obs = pd.DataFrame({
  "flag": np.array([1, 0, 0, 1, 1, 0], dtype=bool),
  "score": np.array([0.5, 1, 2, 3, 4, 5], dtype=np.float32),
  "count": np.array([1, 2, 3, 4, 5, -6], dtype=np.int64),
  "label": pd.Categorical(["x", "y", None, "y", "x", "z"], categories=["x", "y", "z"]),
  "rank": pd.Categorical(["hi", "mid", "lo", "lo", "mid", "hi"], categories=["lo", "mid", "hi"], ordered=True),
  "maybe_n": pd.array([1, None, 3, 4, 5, None], dtype="Int32"),
  "maybe_b": pd.array([None, False, True, False, True, False], dtype="boolean"),
}, index=pd.Index([f"cell{i}" for i in range(n)], name="barcode"))
a = ad.AnnData(X=np.zeros((n, 2), dtype=np.float32), obs=obs, var=pd.DataFrame(index=["g0", "g1"]))
a.write_h5ad(h5); a.write_zarr(zp)
cols = {}
for k in obs.columns:
  s = obs[k]
  if str(s.dtype) == "category":
    cols[k] = {"kind": "categorical", "codes": s.cat.codes.tolist(), "categories": list(s.cat.categories), "ordered": bool(s.cat.ordered)}
  elif str(s.dtype) in ("Int32", "boolean"):
    cols[k] = {"kind": "nullable-integer" if str(s.dtype) == "Int32" else "nullable-boolean", "values": [None if pd.isna(v) else int(v) for v in s]}
  else:
    cols[k] = {"kind": "bool" if s.dtype == bool else "numeric", "values": s.astype(float).tolist()}
shutil.copy(h5, bvh); shutil.copytree(zp, bvz)
with h5py.File(bvh, "r+") as f: f["obs/label"].attrs["encoding-version"] = "9.9.9"
zarr.open(bvz)["obs/label"].attrs["encoding-version"] = "9.9.9"
shutil.copy(h5, lch)
with h5py.File(lch, "r+") as f:
  del f["obs/label/codes"]; f["obs/label/codes"] = np.zeros(n + 5, dtype=np.int8)
shutil.copy(h5, hih)
with h5py.File(hih, "r+") as f:
  del f["obs/barcode"]; f.create_dataset("obs/barcode", shape=(3_000_000_000,), dtype=h5py.string_dtype(), chunks=(1 << 20,))
print(json.dumps({"columns": cols}))`, f.h5ad, f.zarr, f.badVersionH5ad, f.badVersionZarr, f.longCodesH5ad, f.hugeIndexH5ad);
  return { ...f, columns: py.columns };
}

function memoryStore(): MemoryAnnData {
  return new MemoryAnnData({ obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`) }, var: { index: ["g0", "g1"] } });
}

async function expectCode(p: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AnnDataError, `${what}: expected AnnDataError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

test("every encoding: Python anndata's files read the same from .h5ad and .zarr; written by memory, .h5ad and .zarr, read back and by Python", async () => {
  await withTempDir(async (dir) => {
    const f = await fixtures(dir);
    for (const path of [f.h5ad, f.zarr]) {
      const store = path.endsWith(".h5ad") ? await H5adStore.open(path) : await ZarrStore.open(path);
      assert.equal(store.indexName("obs"), "barcode");
      assert.deepEqual(await store.readIndexRange("obs", 2, 5), ["cell2", "cell3", "cell4"]);
      for (const [name, expected] of Object.entries(f.columns)) {
        const got = plain(await store.readColumn("obs", name));
        // Python's view has no dtype: numeric values compared as numbers.
        assert.deepEqual(got, expected, `${path}: obs/${name}`);
        assert.equal(await store.columnKind!("obs", name), (expected as { kind: string }).kind, `${path}: kind of obs/${name}`);
      }
      await store.close();
    }

    const written: Record<string, string> = { h5ad: join(dir, "ours.h5ad"), zarr: join(dir, "ours.zarr") };
    await python(`
import sys, numpy as np, pandas as pd, anndata as ad
a = ad.AnnData(X=np.zeros((${N}, 2), dtype=np.float32), obs=pd.DataFrame(index=[f"cell{i}" for i in range(${N})]), var=pd.DataFrame(index=["g0", "g1"]))
a.write_h5ad(sys.argv[1]); a.write_zarr(sys.argv[2]); print(1)`, written.h5ad!, written.zarr!);
    const stores: [string, AnnDataStore][] = [["memory", memoryStore()], ["h5ad", await H5adStore.open(written.h5ad!, "r+")], ["zarr", await ZarrStore.open(written.zarr!, "r+")]];
    for (const [label, store] of stores) {
      await (store.transaction ?? ((fn: () => Promise<void>) => fn())).call(store, async () => {
        for (const [name, c] of Object.entries(COLUMNS)) await store.setColumn("obs", name, name === "flag" ? async () => c : c);
      });
      for (const [name, c] of Object.entries(COLUMNS)) assert.deepEqual(plain(await store.readColumn("obs", name)), plain(c), `${label}: obs/${name}`);
      assert.deepEqual(store.columnNames("obs"), Object.keys(COLUMNS));
      await store.close();
    }
    const py = await python<Record<string, Record<string, unknown>>>(`
import sys, json, pandas as pd, anndata as ad
out = {}
for label, a in (("h5ad", ad.read_h5ad(sys.argv[1])), ("zarr", ad.read_zarr(sys.argv[2]))):
  o = a.obs
  out[label] = {"columns": list(o.columns), "dtypes": {k: str(v) for k, v in o.dtypes.items()},
    "label": [None if pd.isna(v) else v for v in o["label"]], "rank_ordered": bool(o["rank"].cat.ordered),
    "maybe_n": [None if pd.isna(v) else int(v) for v in o["maybe_n"]], "maybe_b": [None if pd.isna(v) else bool(v) for v in o["maybe_b"]],
    "note": list(o["note"]), "count": [int(v) for v in o["count"]]}
print(json.dumps(out))`, written.h5ad!, written.zarr!);
    for (const label of ["h5ad", "zarr"]) {
      const p = py[label]!;
      assert.deepEqual(p["columns"], Object.keys(COLUMNS), label);
      assert.deepEqual(p["dtypes"], { flag: "bool", score: "float32", count: "int64", label: "category", rank: "category", note: "object", maybe_n: "Int32", maybe_b: "boolean" }, label);
      assert.deepEqual(p["label"], ["x", "y", null, "y", "x", "z"], label);
      assert.equal(p["rank_ordered"], true, label);
      assert.deepEqual(p["maybe_n"], [1, null, 3, 4, 5, null], label);
      assert.deepEqual(p["maybe_b"], [null, false, true, false, true, false], label);
      assert.deepEqual(p["note"], COLUMNS["note"]!.kind === "string" ? COLUMNS["note"]!.values : [], label);
      assert.deepEqual(p["count"], [1, 2, 3, 4, 5, -6], label);
    }

    // Each invalid input: the same code from every store, and nothing written.
    const bad: [string, string, Column, string][] = [
      ["repeated categories", "dup", { kind: "categorical", codes: new Int8Array(N), categories: ["a", "a"], ordered: false }, "BAD_VALUE"],
      ["code past the categories", "past", { kind: "categorical", codes: new Int8Array([0, 1, 2, 0, 0, 0]), categories: ["a", "b"], ordered: false }, "BAD_VALUE"],
      ["a name with /", "a/b", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["a name with ..", "..", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["the index's name", "_index", { kind: "bool", values: new Uint8Array(N) }, "BAD_NAME"],
      ["a wrong length", "short", { kind: "bool", values: new Uint8Array(2) }, "BAD_LENGTH"],
      ["a mask of another length", "mask", { kind: "nullable-integer", values: new Int32Array(N), mask: new Uint8Array(2) }, "BAD_LENGTH"],
    ];
    const h5Before = (await stat(written.h5ad!)).size;
    const targets: [string, () => Promise<AnnDataStore>][] = [
      ["memory", async () => memoryStore()],
      ["h5ad", () => H5adStore.open(written.h5ad!, "r+")],
      ["zarr", () => ZarrStore.open(written.zarr!, "r+")],
    ];
    for (const [label, open] of targets) {
      const store = await open();
      for (const [what, name, c, code] of bad) {
        await expectCode(store.setColumn("obs", name, c), code, `${label}: ${what}`);
        await expectCode(store.setColumn("obs", name, async () => c), code, `${label}: ${what} (lazy)`);
      }
      assert.deepEqual(store.columnNames("obs"), label === "memory" ? [] : Object.keys(COLUMNS), label);
      await store.abort?.();
      await store.close();
    }
    assert.equal((await stat(written.h5ad!)).size, h5Before);

    // Unknown encoding versions, members claiming other lengths, an index of 3e9 rows: typed errors, nothing allocated.
    await expectCode((async () => (await H5adStore.open(f.badVersionH5ad)).readColumn("obs", "label"))(), "UNSUPPORTED_ENCODING", "h5ad encoding-version 9.9.9");
    await expectCode((async () => (await ZarrStore.open(f.badVersionZarr)).readColumn("obs", "label"))(), "UNSUPPORTED_ENCODING", "zarr encoding-version 9.9.9");
    await expectCode((async () => (await H5adStore.open(f.longCodesH5ad)).readColumn("obs", "label"))(), "BAD_LENGTH", "h5ad codes longer than obs");
    await expectCode(H5adStore.open(f.hugeIndexH5ad), "BAD_LENGTH", "h5ad index of 3e9 rows");
  });
});

test("hostile .zarr metadata: an _index leaving the store, shapes of -5, 1e300 or 2^40 rows, codes claiming 2^31 entries", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "s.zarr");
    await python(`
import sys, numpy as np, pandas as pd, anndata as ad
a = ad.AnnData(X=np.zeros((4, 1), dtype=np.float32), obs=pd.DataFrame({"c": pd.Categorical(list("abab"))}, index=list("wxyz")), var=pd.DataFrame(index=["g"]))
a.write_zarr(sys.argv[1]); print(1)`, path);
    const edit = async (key: string, change: (j: Record<string, unknown>) => void, run: () => Promise<unknown>, code: string, what: string) => {
      const file = join(path, key);
      const original = await readFile(file, "utf8");
      const j = JSON.parse(original) as Record<string, unknown>;
      change(j);
      await writeFile(file, JSON.stringify(j));
      try {
        await expectCode(run(), code, what);
      } finally {
        await writeFile(file, original);
      }
    };
    const open = () => ZarrStore.open(path);
    await edit("obs/.zattrs", (j) => (j["_index"] = "../../../other.zarr/obs/_index"), open, "NOT_ANNDATA", "_index outside the store");
    for (const shape of [[-5], [1e300], [2 ** 40]]) await edit("obs/_index/.zarray", (j) => (j["shape"] = shape), open, "BAD_LENGTH", `index shape ${shape}`);
    await edit("obs/c/codes/.zarray", (j) => (j["shape"] = [2 ** 31]), async () => (await open()).readColumn("obs", "c"), "BAD_LENGTH", "codes of 2^31 entries");
    await edit("obs/c/categories/.zarray", (j) => (j["shape"] = [1e300]), async () => (await open()).readColumn("obs", "c"), "BAD_LENGTH", "categories of 1e300 entries");
    // Untouched, the store reads.
    const s = await open();
    assert.deepEqual(await s.readIndex("obs"), ["w", "x", "y", "z"]);
    await s.close();
  });
});

/** A bundle for `nObs` cells: `groups` highlight groups, and fields (key, categories) of codes i % categories. */
async function bundleFor(path: string, nObs: number, groups: number, fields: [string, string[]][]): Promise<void> {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "conf", cellCount: nObs, varCount: 1 } });
  if (groups) w.addHighlightPage({ id: "p", name: "P", groups: Array.from({ length: groups }, (_, g) => ({ id: `g${g}`, label: `G${g}`, cells: [g % nObs] })) });
  for (const [i, [key, cats]] of fields.entries()) w.addUserDefinedField({ id: `f${i}`, key, categories: cats, codes: Array.from({ length: nObs }, (_, c) => c % cats.length) });
  await writeSessionFile(w, path);
}

test("applying hostile bundles: a field named like the index, repeated categories, thousands of columns; consolidated .zmetadata as zarr writes it", async () => {
  await withTempDir(async (dir) => {
    const n = 8;
    const h5 = join(dir, "d.h5ad");
    const zp = join(dir, "d.zarr");
    await python(`
import sys, numpy as np, pandas as pd, anndata as ad, zarr
a = ad.AnnData(X=np.zeros((${n}, 1), dtype=np.float32), obs=pd.DataFrame(index=pd.Index([f"bc{i}" for i in range(${n})], name="barcode")), var=pd.DataFrame(index=["g"]))
a.write_h5ad(sys.argv[1]); a.write_zarr(sys.argv[2]); zarr.consolidate_metadata(sys.argv[2]); print(1)`, h5, zp);
    const hostile = join(dir, "hostile.cellucid-session");
    await bundleFor(hostile, n, 2, [["barcode", ["A", "B"]], ["twice", ["same", "same"]], ["fine", ["u", "v", "w"]]]);
    const checked = await CellucidSessionBundle.open(hostile);
    const report = await validateBundle(checked);
    await checked.close();
    assert.equal(report.valid, true);
    assert.deepEqual(report.warnings.map((w) => w.code), ["DUPLICATE_CATEGORIES"]);
    assert.match(report.warnings[0]!.message, /'twice' has repeated category names/);
    for (const target of [h5, zp]) {
      const bundle = await CellucidSessionBundle.open(hostile);
      const summary = await applySessionToFile(bundle, target, { inplace: true });
      await bundle.close();
      const byKey = Object.fromEntries(summary.fields.map((f) => [f.key, f]));
      assert.equal(byKey["barcode"]!.column, "barcode__2", target);
      assert.equal(byKey["twice"]!.status, "skipped");
      assert.match(byKey["twice"]!.reason!, /"same" appears more than once/);
      assert.equal(byKey["fine"]!.status, "added");
    }
    const py = await python<Record<string, { names: string[]; columns: string[]; barcode: string[] }>>(`
import sys, json, zarr, anndata as ad
out = {}
for label, a in (("h5ad", ad.read_h5ad(sys.argv[1])), ("zarr", ad.read_zarr(sys.argv[2]))):
  out[label] = {"names": list(a.obs_names), "columns": list(a.obs.columns), "barcode": [str(v) for v in a.obs["barcode__2"]]}
stored = json.load(open(sys.argv[2] + "/.zmetadata"))["metadata"]
zarr.consolidate_metadata(sys.argv[2])
fresh = json.load(open(sys.argv[2] + "/.zmetadata"))["metadata"]
out["zmetadata"] = {"names": [], "columns": sorted(set(stored) ^ set(fresh)), "barcode": [k for k in fresh if stored.get(k) != fresh[k]]}
print(json.dumps(out))`, h5, zp);
    for (const label of ["h5ad", "zarr"]) {
      assert.deepEqual(py[label]!.names, Array.from({ length: n }, (_, i) => `bc${i}`), `${label}: obs_names kept`);
      assert.deepEqual(py[label]!.columns, ["cellucid_highlight__g0", "cellucid_highlight__g1", "barcode__2", "fine"]);
      assert.deepEqual(py[label]!.barcode, ["A", "B", "A", "B", "A", "B", "A", "B"]);
    }
    assert.deepEqual(py["zmetadata"], { names: [], columns: [], barcode: [] }, ".zmetadata equals zarr.consolidate_metadata's");

    // 500 new columns twice: column-order is written once per apply, so the second apply grows the file no more than the
    // first (rewriting it per column made the growth quadratic); past 4,000 names the apply is refused untouched.
    const many = join(dir, "many.cellucid-session");
    await bundleFor(many, n, 500, []);
    const growth: number[] = [];
    for (let i = 0; i < 2; i++) {
      const before = (await stat(h5)).size;
      const bundle = await CellucidSessionBundle.open(many);
      await applySessionToFile(bundle, h5, { inplace: true });
      await bundle.close();
      growth.push((await stat(h5)).size - before);
    }
    assert.ok(growth[1]! < growth[0]! * 1.3, `the second 500 columns grew the file by ${growth[1]} bytes, the first by ${growth[0]}`);
    const tooMany = join(dir, "too-many.cellucid-session");
    await bundleFor(tooMany, n, 3000, []);
    const size = (await stat(h5)).size;
    const bundle = await CellucidSessionBundle.open(tooMany);
    await expectCode(applySessionToFile(bundle, h5, { inplace: true }), "BAD_VALUE", "4,000+ columns in an .h5ad");
    await bundle.close();
    assert.equal((await stat(h5)).size, size);
    const cols = await python<number>(`import sys, anndata as ad; print(len(ad.read_h5ad(sys.argv[1]).obs.columns))`, h5);
    assert.equal(cols, 1004);
  });
});
