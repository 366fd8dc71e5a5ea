/** The CLI as users run it: a child process, real files, exit codes, output shapes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CellucidSessionBundle, createSessionWriter, encodeIndexSet, writeSessionFile } from "../src/node/index.js";
import { EXAMPLE, binaryChunk, cli, jsonChunk, rawBundle, withTempDir } from "./helpers.js";

test("--help works for the tool and every command", async () => {
  const top = await cli("--help");
  assert.equal(top.code, 0);
  for (const cmd of ["inspect", "validate", "export"]) {
    assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
    const r = await cli(cmd, "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: cellucid-session ${cmd}`));
  }
});

test("usage errors exit 2, I/O errors exit 2", async () => {
  assert.equal((await cli()).code, 2);
  assert.equal((await cli("frobnicate")).code, 2);
  const r = await cli("inspect");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected FILE/);
  assert.equal((await cli("inspect", EXAMPLE, "--bogus")).code, 2);
  assert.equal((await cli("export", EXAMPLE, "--format", "xlsx")).code, 2);
  const missing = await cli("validate", "/nonexistent/x.cellucid-session");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /ENOENT/);
});

test("inspect --json: shape and content", async () => {
  const r = await cli("inspect", EXAMPLE, "--json");
  assert.equal(r.code, 0);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(s), ["file", "fileBytes", "createdAt", "dataSource", "datasetFingerprint", "cellOrder", "trailingBytes", "chunks", "highlights", "userDefinedFields", "unknownChunks"]);
  assert.deepEqual(Object.keys(s.chunks[0]), ["id", "contributorId", "kind", "codec", "priority", "storedBytes", "uncompressedBytes", "datasetDependent", "role"]);
  assert.equal(s.datasetFingerprint.cellCount, 2638);
  assert.equal(s.chunks.length, 14);
  assert.deepEqual(s.cellOrder, { dimension: 2, digest: "70cf7744e6f6b23a" });
  assert.deepEqual(s.highlights.pages.map((p: { name: string }) => p.name), ["T cells", "Myeloid"]);
  assert.deepEqual(Object.keys(s.highlights.pages[0].groups[0]), ["id", "label", "type", "cellCount", "enabled", "hasCells"]);
  assert.deepEqual(s.userDefinedFields.map((f: { key: string; deleted: boolean }) => [f.key, f.deleted]), [["cell type (manual)", false], ["QC flag", false], ["old labels", true]]);
  assert.deepEqual(s.unknownChunks, []);
});

test("inspect (human) prints the chunk, highlight and field tables", async () => {
  const r = await cli("inspect", EXAMPLE);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Fingerprint  local-user · pbmc3k-demo · 2,638 cells × 1,838 genes/);
  assert.match(r.stdout, /ID +ROLE +CONTRIBUTOR +KIND +CODEC +PRIORITY +STORED +UNCOMPRESSED +DATASET-DEP/);
  assert.match(r.stdout, /T cells +highlight_1 +CD4 T \(lasso\) +lasso +441 +yes/);
  assert.match(r.stdout, /obs +cell type \(manual\) +category +6 +no +yes/);
});

test("inspect reads no payload but the two small JSON chunks; validate decodes them all", async () => {
  await withTempDir(async (dir) => {
    const p = join(dir, "s.cellucid-session");
    const meta = jsonChunk("highlights/meta", { pages: [{ id: "p", name: "P", highlightedGroups: [{ id: "g", label: "G", cellCount: 2 }] }] });
    // A cells chunk with a codec nobody supports: only decoding it can notice.
    await writeFile(p, rawBundle([meta, binaryChunk("highlights/cells/g", encodeIndexSet([1, 2]), { codec: "zstd" })]));
    const ins = await cli("inspect", p, "--json");
    assert.equal(ins.code, 0, ins.stderr);
    const val = await cli("validate", p);
    assert.equal(val.code, 1);
    assert.match(val.stdout, /error +\[UNSUPPORTED_CODEC\] s\.cellucid-session, chunk 'highlights\/cells\/g': Unsupported session chunk codec: zstd/);
    assert.match(val.stdout, /^invalid: s\.cellucid-session \(1 error\)$/m);
  });
});

test("validate: exit 0 with the report shape on a valid bundle, 1 with the rule on an invalid one", async () => {
  const ok = await cli("validate", EXAMPLE, "--json");
  assert.equal(ok.code, 0);
  const rep = JSON.parse(ok.stdout);
  assert.deepEqual(Object.keys(rep), ["source", "valid", "fileBytes", "chunkCount", "trailingBytes", "errors", "warnings", "chunks"]);
  assert.equal(rep.valid, true);
  assert.equal(rep.chunks.length, 14);
  assert.deepEqual(Object.keys(rep.chunks[0]), ["id", "ok", "role", "storedBytes", "payloadBytes"]);
  // The canonical example: cells nobody labelled are the missing marker, not codes out of range; no empty group.
  assert.deepEqual(rep.warnings, []);
  await withTempDir(async (dir) => {
    const p = join(dir, "bad.cellucid-session");
    const bytes = await readFile(EXAMPLE);
    await writeFile(p, bytes.subarray(0, bytes.length - 10));
    const bad = await cli("validate", p, "--json");
    assert.equal(bad.code, 1);
    const r = JSON.parse(bad.stdout);
    assert.equal(r.valid, false);
    assert.equal(r.errors[0].code, "TRUNCATED");
    assert.equal(r.errors[0].chunkId, "highlights/cells/highlight_4");
    const notBundle = join(dir, "x.json");
    await writeFile(notBundle, "{}");
    const nb = await cli("validate", notBundle);
    assert.equal(nb.code, 1);
    assert.match(nb.stdout, /Not a \.cellucid-session file \(invalid MAGIC header\)/);
    const q = await cli("validate", EXAMPLE, "--quiet");
    assert.equal(q.stdout, "");
  });
});

test("export: one row per cell, apply's column names, values as the library decodes them", async () => {
  const r = await cli("export", EXAMPLE);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.endsWith("\n"));
  const lines = r.stdout.slice(0, -1).split("\n");
  assert.equal(lines.length, 2639);
  const header = lines[0]!.split("\t");
  assert.deepEqual(header, ["index", "cellucid_highlight__highlight_1", "cellucid_highlight__highlight_2", "cellucid_highlight__highlight_3", "cellucid_highlight__highlight_4", "cell_type_manual", "QC_flag"]);
  const b = await CellucidSessionBundle.open(EXAMPLE);
  const cd8 = new Set(await b.readHighlightCells("highlight_2"));
  const mono = new Set(await b.readHighlightCells("highlight_3"));
  const fields = await b.userDefinedFields();
  const qc = fields.find((f) => f.id === "udf-qc")!;
  const qcCodes = (await b.readUserDefinedCodes(qc)).codes;
  await b.close();
  for (let i = 0; i < 2638; i++) {
    const row = lines[i + 1]!.split("\t");
    assert.equal(row[0], String(i));
    assert.equal(row[2], cd8.has(i) ? "true" : "false");
    assert.equal(row[3], mono.has(i) ? "true" : "false");
    assert.equal(row[6], qcCodes[i]! < 2 ? qc.categories![qcCodes[i]!] : "", `row ${i}`);
  }
});

test("export: csv/json formats, --var, --include-deleted, prefixes, -o writes atomically", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "cells.csv");
    const r = await cli("export", EXAMPLE, "-o", out, "--include-deleted", "--highlights-prefix", "hl_", "--user-defined-prefix", "ud_");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wrote .*cells\.csv: 2,638 rows × 8 columns \(csv\)/);
    const csv = (await readFile(out, "utf8")).split("\n");
    assert.equal(csv[0], "index,hl_highlight_1,hl_highlight_2,hl_highlight_3,hl_highlight_4,ud_cell_type_manual,ud_QC_flag,ud_old_labels");
    assert.deepEqual(await readdir(dir), ["cells.csv"]);

    // Gene fields (one code per gene) exist only outside the web app: a permissive bundle holds one.
    const genes = join(dir, "genes.cellucid-session");
    const w = createSessionWriter({ canonical: false, datasetFingerprint: { cellCount: 2638, varCount: 1838 } });
    w.addUserDefinedField({ id: "udf-markers", key: "marker genes", source: "var", categories: ["marker", "housekeeping"], codes: Array.from({ length: 1838 }, (_, i) => (i % 97 === 0 ? 0 : i % 211 === 0 ? 1 : 2)) });
    await writeSessionFile(w, genes);
    const json = await cli("export", genes, "--var", "--format", "json");
    const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, 1838);
    assert.deepEqual(rows[0], { index: 0, marker_genes: "marker" });
    assert.deepEqual(rows[1], { index: 1, marker_genes: null });
  });
});

test("--json output in batches is exactly JSON.stringify(value, null, 2), whatever the nesting and the batch size", async () => {
  const { jsonBatches } = await import("../src/cli/output.js");
  const values: unknown[] = [
    { chunks: Array.from({ length: 700 }, (_, i) => ({ id: `c${i}`, n: i, ok: i % 2 === 0, none: null, skip: undefined })), empty: [], obj: {} },
    [1, "two", null, undefined, () => 1, [], {}, [[1, [2, [3]]]], { a: { b: { c: [1, { d: 2 }] } } }],
    { pages: [{ id: "p", groups: [{ id: "g", cells: 3 }, { id: "h", tags: ["x", "y"] }] }], date: new Date(0) },
    "plain", 42, null, [],
  ];
  for (const v of values) for (const batch of [1, 7, 64 * 1024]) assert.equal([...jsonBatches(v, batch)].join(""), JSON.stringify(v, null, 2) + "\n");
});
