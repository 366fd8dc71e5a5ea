/**
 * Store conformance beyond the encodings themselves (those are in
 * encodings-conformance.test.ts): hostile .zarr metadata, and applying
 * hostile bundles (a field named like the index, repeated categories,
 * thousands of columns) to .h5ad and .zarr, checked with Python anndata.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { AnnDataError, validateBundle } from "../src/index.js";
import { CellucidSessionBundle, ZarrStore, createSessionWriter, writeSessionFile } from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { withTempDir } from "./helpers.js";
import { python } from "./python.js";

async function expectCode(p: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AnnDataError, `${what}: expected AnnDataError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

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
