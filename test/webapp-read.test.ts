/** Reading what the current web app writes: cellOrder, missing markers, var fields with cell codes, its chunk families. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CellucidSessionBundle, MemoryAnnData, applyCellucidSessionToAnnData, encodeCodes, validateBundle } from "../src/node/index.js";
import { binaryChunk, cli, jsonChunk, rawBundle, withTempDir } from "./helpers.js";

const CELL_ORDER = { dimension: 2, digest: "70cf7744e6f6b23a" };
const FP = { sourceType: "local-user", datasetId: "t", cellCount: 6, varCount: 4, cellOrder: CELL_ORDER };

const memory = () => new MemoryAnnData({ obs: { index: ["c0", "c1", "c2", "c3", "c4", "c5"] }, var: { index: ["g0", "g1", "g2", "g3"] } });

function u16Codes(codes: number[]): Uint8Array {
  return encodeCodes(codes, { encoding: 1 });
}

function fieldsBundle(): Uint8Array {
  return rawBundle([
    jsonChunk("core/field-overlays", {
      renames: { fields: {}, categories: {} },
      deletedFields: { deleted: [], purged: [] },
      userDefinedFields: [
        { id: "u8", key: "small", source: "obs", kind: "category", categories: ["a", "b"], codesLength: 6, codesType: "Uint8Array" },
        { id: "u16", key: "wide", source: "obs", kind: "category", categories: ["a", "b"], codesLength: 6, codesType: "Uint16Array" },
        { id: "odd", key: "odd", source: "obs", kind: "category", categories: ["a", "b"], codesLength: 6, codesType: "Uint8Array" },
        { id: "genes", key: "genes", source: "var", kind: "category", categories: ["x"], codesLength: 6, codesType: "Uint8Array" },
      ],
    }, { contributorId: "field-overlays" }),
    binaryChunk("user-defined/codes/u8", encodeCodes([0, 255, 1, 255, 0, 0])),
    binaryChunk("user-defined/codes/u16", u16Codes([65535, 1, 1, 0, 65535, 0])),
    binaryChunk("user-defined/codes/odd", encodeCodes([0, 7, 1, 255, 0, 0])),
    binaryChunk("user-defined/codes/genes", encodeCodes([0, 0, 255, 0, 0, 0])),
    jsonChunk("cinematic/camera", { keyframes: [] }, { contributorId: "cinematic-camera" }),
    jsonChunk("analysis/cache-inventory", { artifactIds: [] }, { contributorId: "analysis-artifacts" }),
    jsonChunk("analysis/windows", { windows: [] }, { contributorId: "analysis-windows" }),
    binaryChunk("analysis/artifacts/bulk-gene/k/CD3E/page_1", Uint8Array.from([1, 2, 3]), { contributorId: "analysis-artifacts" }),
    jsonChunk("plugins/x", {}, { contributorId: "x" }),
  ], { fingerprint: FP });
}

test("the fingerprint's cellOrder is on the bundle, in inspect (text and --json) and in the uns bookkeeping", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "b.cellucid-session");
    await writeFile(file, fieldsBundle());
    const b = await CellucidSessionBundle.open(file);
    assert.deepEqual(b.cellOrder, CELL_ORDER);
    const text = await cli("inspect", file);
    assert.match(text.stdout, /Cell order {3}2D embedding, digest 70cf7744e6f6b23a/);
    const json = JSON.parse((await cli("inspect", file, "--json")).stdout);
    assert.deepEqual(json.cellOrder, CELL_ORDER);
    assert.deepEqual(json.datasetFingerprint.cellOrder, CELL_ORDER);

    const adata = memory();
    const { adata: out, summary } = await applyCellucidSessionToAnnData(b, adata, { returnSummary: true });
    // An in-memory AnnData has no embedding: the order is reported as not verifiable, the columns are added.
    assert.equal(summary.cellOrder.status, "unverified");
    assert.equal(summary.skippedDueToMismatch, false);
    const uns = (await out.readUns(["cellucid", "session"])) as Record<string, Record<string, unknown>>;
    assert.equal(uns["cell_order"]!["digest"], "70cf7744e6f6b23a");
    assert.equal(uns["cell_order"]!["dimension"], 2);
    assert.equal(uns["cell_order"]!["status"], "unverified");
    await b.close();
  });
});

test("an old bundle without cellOrder still reads; inspect says it was not recorded", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "old.cellucid-session");
    await writeFile(file, rawBundle([jsonChunk("highlights/meta", { pages: [] })]));
    const b = await CellucidSessionBundle.open(file);
    assert.equal(b.cellOrder, null);
    await b.close();
    assert.match((await cli("inspect", file)).stdout, /Cell order {3}\(not recorded/);
  });
});

test("missing markers (255 in u8, 65535 in u16) are missing values, not warnings; other codes past the categories still warn", async () => {
  const b = await CellucidSessionBundle.fromBytes(fieldsBundle());
  const report = await validateBundle(b);
  assert.ok(report.valid, JSON.stringify(report.errors));
  const outOfRange = report.warnings.filter((w) => w.code === "CODES_OUT_OF_RANGE");
  assert.deepEqual(outOfRange.map((w) => w.chunkId), ["user-defined/codes/odd"]);
  assert.match(outOfRange[0]!.message, /1 codes are outside the 2 categories/);

  const { summary, adata } = await applyCellucidSessionToAnnData(b, memory(), { returnSummary: true });
  const byKey = Object.fromEntries(summary.fields.map((f) => [f.key, f]));
  assert.equal(byKey["small"]!.missing, 2);
  assert.equal(byKey["small"]!.codesOutOfRange, 0);
  assert.equal(byKey["wide"]!.missing, 2);
  assert.equal(byKey["wide"]!.codesOutOfRange, 0);
  assert.equal(byKey["odd"]!.missing, 2);
  assert.equal(byKey["odd"]!.codesOutOfRange, 1);
  const wide = await adata.readColumn("obs", "wide");
  assert.equal(wide.kind, "categorical");
  if (wide.kind === "categorical") assert.deepEqual([...wide.codes], [-1, 1, 1, 0, -1, 0]);
});

test("a var field with one code per cell is a validate warning and apply skips it, saying why", async () => {
  const b = await CellucidSessionBundle.fromBytes(fieldsBundle());
  const report = await validateBundle(b);
  const w = report.warnings.find((x) => x.code === "VAR_FIELD_CELL_CODES");
  assert.ok(w, JSON.stringify(report.warnings));
  assert.match(w.message, /var field 'genes' has one code per cell \(6\).*not one per gene \(4\)/);
  const { summary } = await applyCellucidSessionToAnnData(b, memory(), { returnSummary: true });
  const genes = summary.fields.find((f) => f.key === "genes")!;
  assert.equal(genes.status, "skipped");
  assert.match(genes.reason!, /var field with one code per cell \(n_obs 6\), as the web app writes them, not one per gene \(n_vars 4\)/);
  assert.equal(summary.addedVarColumns.length, 0);
});

test("inspect names the web app's chunk families by role", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "b.cellucid-session");
    await writeFile(file, fieldsBundle());
    const json = JSON.parse((await cli("inspect", file, "--json")).stdout);
    const roles = Object.fromEntries(json.chunks.map((c: { id: string; role: string }) => [c.id, c.role]));
    assert.equal(roles["cinematic/camera"], "cinematic-camera");
    assert.equal(roles["analysis/cache-inventory"], "cache-inventory");
    assert.equal(roles["analysis/windows"], "analysis-windows");
    assert.equal(roles["analysis/artifacts/bulk-gene/k/CD3E/page_1"], "analysis-artifact");
    assert.equal(roles["plugins/x"], "unknown");
    assert.deepEqual(json.unknownChunks, ["plugins/x"]);
    const text = (await cli("inspect", file)).stdout;
    assert.match(text, /cinematic\/camera\s+cinematic-camera/);
  });
});
