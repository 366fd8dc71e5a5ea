/**
 * Every SPEC §6 option gives the same result in memory, in a .h5ad and in a
 * .zarr: the same summary and the same columns read back (names, order,
 * values). The memory store is the reference the other two must match.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import {
  type AnnDataStore,
  type ApplyOptions,
  CellucidSessionBundle,
  MemoryAnnData,
  applySessionToStore,
  openAnnData,
} from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { EXAMPLE, ROOT, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const H5AD = join(ROOT, "examples", "pbmc-demo.h5ad");

const CASES: [string, Omit<ApplyOptions, "reference">][] = [
  ["defaults", {}],
  ["no highlights", { addHighlights: false }],
  ["highlights prefix", { highlightsPrefix: "sel_" }],
  ["no user-defined fields", { addUserDefinedFields: false }],
  ["user-defined prefix", { userDefinedPrefix: "ud_" }],
  ["include deleted", { includeDeletedUserDefinedFields: true }],
  ["no uns", { storeUns: false }],
  ["conflict overwrite", { columnConflict: "overwrite", userDefinedPrefix: "", highlightsPrefix: "" }],
  ["mismatch skip", { datasetMismatch: "skip", expectedDatasetId: "another-dataset" }],
  ["mismatch warn_skip", { datasetMismatch: "warn_skip", expectedDatasetId: "another-dataset" }],
];

/** The obs and var frames of a store, every column decoded, plus the session's uns subtree keys. */
async function contents(store: AnnDataStore): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const axis of ["obs", "var"] as const) {
    const cols: Record<string, unknown> = {};
    for (const name of store.columnNames(axis)) cols[name] = normalise(await store.readColumn(axis, name));
    out[axis] = cols;
  }
  const session = await store.readUns(["cellucid", "session"]);
  out["unsKeys"] = session && typeof session === "object" && !ArrayBuffer.isView(session) && !Array.isArray(session) ? Object.keys(session).sort() : null;
  return out;
}

/** Typed arrays differ by store (Int8 vs Int16 codes); values are what must match. */
function normalise(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

/** The example dataset's obs/var as a MemoryAnnData (read through the .h5ad store). */
async function memoryCopy(): Promise<MemoryAnnData> {
  const src = await openAnnData(H5AD);
  try {
    const frame = async (axis: "obs" | "var") => ({
      index: await src.readIndex(axis),
      columns: Object.fromEntries(await Promise.all(src.columnNames(axis).map(async (n) => [n, await src.readColumn(axis, n)] as const))),
    });
    return new MemoryAnnData({ obs: await frame("obs"), var: await frame("var") });
  } finally {
    await src.close();
  }
}

test("every apply option: memory, .h5ad and .zarr give the same summary and the same columns", async () => {
  await withTempDir(async (dir) => {
    const zarr = join(dir, "pbmc.zarr");
    await python(`import sys, anndata as ad; ad.read_h5ad(sys.argv[1]).write_zarr(sys.argv[2]); print(1)`, H5AD, zarr);
    const bundle = await CellucidSessionBundle.open(EXAMPLE);
    try {
      for (const [i, [name, opts]] of CASES.entries()) {
        const memory = await memoryCopy();
        // Overwrite must have something to overwrite: an existing column of the same name as a field.
        if (opts.columnConflict === "overwrite") await memory.setColumn("obs", "cell_type_manual", { kind: "string", values: new Array<string>(memory.nObs).fill("old") });
        const expected = await applySessionToStore(bundle, memory, opts);
        const want = await contents(memory);
        for (const [format, input] of [["h5ad", H5AD], ["zarr", zarr]] as const) {
          let source = input;
          if (opts.columnConflict === "overwrite") {
            source = join(dir, `pre-${i}.${format}`);
            await cp(input, source, { recursive: true });
            const s = await openAnnData(source, { mode: "r+" });
            await s.setColumn("obs", "cell_type_manual", { kind: "string", values: new Array<string>(s.nObs).fill("old") });
            await s.close();
          }
          const out = join(dir, `${i}.${format}`);
          const summary = await applySessionToFile(bundle, source, { ...opts, output: out });
          // The files hold X_umap, so they verify the cell order; the in-memory AnnData has no embedding to check it with.
          assert.equal(summary.cellOrder.status, "verified", `${name}: ${format} cell order`);
          assert.equal(expected.cellOrder.status, "unverified");
          assert.deepEqual({ ...summary, cellOrder: null }, { ...expected, cellOrder: null }, `${name}: ${format} summary`);
          const store = await openAnnData(out);
          try {
            assert.deepEqual(await contents(store), want, `${name}: ${format} contents`);
          } finally {
            await store.close();
          }
        }
      }
    } finally {
      await bundle.close();
    }
  });
});
