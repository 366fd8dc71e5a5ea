/**
 * `inspect` on bundles of many chunks takes shortcuts: the index keeps
 * offsets and lengths as columns, rows are made as they are written
 * (LazyRows), the table and the batched JSON have their own fast paths.
 * These tests hold its output (text and --json) to what the full bundle
 * reader's objects (`bundle.index.frames`, `bundle.manifest`) give, written
 * with plain JSON.stringify, and its errors to validate's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { CellucidSessionBundle, chunkRole, encodeCodes, encodeIndexSet } from "../src/node/index.js";
import { main } from "../src/cli/main.js";
import { LazyRows, jsonBatches, table } from "../src/cli/output.js";
import { type InspectSummary, inspectSummary, inspectText } from "../src/cli/commands/inspect.js";
import { type RawChunk, binaryChunk, jsonChunk, rawBundle, withTempDir } from "./helpers.js";

/** Runs the CLI in this process: exit status and both streams. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (d: Buffer) => (stdout += d));
  err.on("data", (d: Buffer) => (stderr += d));
  const code = await main(argv, { out, err });
  return { code, stdout, stderr };
}

/**
 * inspect's summary with its chunk and group rows made from the full
 * reader's objects, as inspect made them before its shortcuts.
 */
async function reference(path: string) {
  const b = await CellucidSessionBundle.open(path);
  try {
    const summary = await inspectSummary(b, path);
    const meta = await b.highlightsMeta();
    const ids = b.listChunkIds();
    return {
      ...summary,
      chunks: b.index.frames.map((f) => ({
        id: f.meta.id,
        contributorId: f.meta.contributorId ?? null,
        kind: f.meta.kind ?? null,
        codec: f.meta.codec ?? null,
        priority: f.meta.priority ?? null,
        storedBytes: f.length,
        uncompressedBytes: typeof f.meta.uncompressedBytes === "number" ? f.meta.uncompressedBytes : null,
        datasetDependent: f.meta.datasetDependent === true,
        role: chunkRole(f.meta.id),
      })),
      highlights: meta
        ? {
            ...summary.highlights,
            pages: meta.pages.map((p) => ({
              id: p.id,
              name: p.name ?? null,
              groups: p.highlightedGroups.map((g) => ({
                id: g.id,
                label: typeof g.label === "string" ? g.label : g.id,
                type: g.type ?? null,
                cellCount: typeof g.cellCount === "number" ? g.cellCount : null,
                enabled: g.enabled !== false,
                hasCells: ids.includes(`highlights/cells/${g.id}`),
              })),
            })),
          }
        : null,
      userDefinedFields: summary.userDefinedFields.map((f) => ({ ...f, hasCodes: ids.includes(`user-defined/codes/${f.id}`) })),
    };
  } finally {
    await b.close();
  }
}

async function assertInspectMatchesReference(path: string): Promise<void> {
  const ref = await reference(path);
  const json = await run("inspect", path, "--json");
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout, JSON.stringify(ref, null, 2) + "\n");
  const text = await run("inspect", path);
  assert.equal(text.code, 0, text.stderr);
  // inspectText reads rows by length and at(), which arrays have as LazyRows do.
  assert.equal(text.stdout, [...inspectText(ref as unknown as InspectSummary)].join(""));
}

/** Groups over three pages, some without cells, with odd labels; fields with and without codes; app and unknown chunks. */
function manyChunks(groups: number): RawChunk[] {
  const ids = Array.from({ length: groups }, (_, i) => (i % 97 === 5 ? `g🌟${i}` : i % 89 === 3 ? `g "q"\\${i}` : `g${i}`));
  const pages = [0, 1, 2].map((p) => ({
    id: `page_${p}`,
    name: p === 1 ? "Päge ✓ 1" : `Page ${p}`,
    highlightedGroups: ids
      .filter((_, i) => i % 3 === p)
      .map((id, i) => ({ id, type: i % 5 ? "lasso" : "range", label: i % 7 === 0 ? 42 : `L ${id}\n${i}`, cellCount: i % 11 ? i : undefined, enabled: i % 4 === 0 ? false : i % 4 === 1 ? undefined : true })),
  }));
  const fields = Array.from({ length: 40 }, (_, i) => ({
    id: `f${i}`,
    source: i % 2 ? "obs" : "var",
    key: i % 9 ? `field ${i}` : undefined,
    kind: "category",
    categories: ["a", "b", "c"].slice(0, 1 + (i % 3)),
    codesLength: 4,
    isDeleted: i % 6 === 0,
    isPurged: i % 12 === 0,
  }));
  const cells = encodeIndexSet([1, 2, 3]);
  const codes = encodeCodes(new Uint8Array([0, 1, 0, 1]));
  return [
    jsonChunk("highlights/meta", { pages, activePageId: "page_1" }, { contributorId: "highlights-meta", datasetDependent: true }),
    jsonChunk("core/field-overlays", { renames: {}, deletedFields: [], userDefinedFields: fields }, { contributorId: "field-overlays" }),
    jsonChunk("core/state", { v: 1 }, { contributorId: "core-state", datasetDependent: true }),
    ...ids.filter((_, i) => i % 10 !== 9).map((id, i) => binaryChunk(`highlights/cells/${id}`, cells, { contributorId: "highlights-cells", datasetDependent: i % 2 === 0, dependsOn: ["highlights/meta"] }, i % 3 ? "none" : "gzip")),
    ...fields.filter((_, i) => i % 8 !== 7).map((f) => binaryChunk(`user-defined/codes/${f.id}`, codes, { contributorId: "user-defined-codes" })),
    binaryChunk("plugin/something", new Uint8Array(3), { contributorId: "plugin" }),
    binaryChunk("zzz/other ✓", new Uint8Array(0)),
  ];
}

test("inspect on thousands of chunks prints what the full reader's objects give (text and --json), pinned and walked layouts", async () => {
  await withTempDir(async (dir) => {
    const chunks = manyChunks(3000);
    const pinned = join(dir, "pinned.cellucid-session");
    await writeFile(pinned, rawBundle(chunks));
    await assertInspectMatchesReference(pinned);
    const b = await CellucidSessionBundle.open(pinned);
    assert.equal(b.index.framesVerified, false);
    await b.close();

    // Sizes undeclared on some chunks and bytes after the last one: the headers are walked.
    const walked = join(dir, "walked.cellucid-session");
    const undeclared = chunks.map((c, i) => (i % 13 === 4 ? { ...c, meta: { ...c.meta, storedBytes: undefined } } : c));
    await writeFile(walked, rawBundle(undeclared, { trailing: new Uint8Array(7) }));
    await assertInspectMatchesReference(walked);
    const w = await CellucidSessionBundle.open(walked);
    assert.equal(w.index.framesVerified, true);
    assert.equal(w.trailingBytes, 7);
    await w.close();
  });
});

test("inspect on unusual but valid manifests (odd types, nulls, extra keys, no highlights) matches the full reader", async () => {
  await withTempDir(async (dir) => {
    const odd: RawChunk[] = [
      binaryChunk("a", new Uint8Array(5), { kind: 5, codec: null, priority: null, contributorId: { nested: [1, { deep: [] }] }, datasetDependent: "yes", uncompressedBytes: null, extra: [1, 2] }),
      binaryChunk("b", new Uint8Array(0), { kind: undefined, codec: undefined, priority: ["x"], contributorId: 7, storedBytes: null }),
      binaryChunk("é ✓ 🌟", new Uint8Array(2), { label: "x\u2028y", dependsOn: [] }),
      ...Array.from({ length: 600 }, (_, i) => binaryChunk(`n/${i}`, new Uint8Array(i % 4), { contributorId: i % 2 ? null : "c", datasetDependent: i % 3 === 0 })),
    ];
    const p = join(dir, "odd.cellucid-session");
    await writeFile(p, rawBundle(odd, { fingerprint: null, manifestExtra: { createdAt: undefined, dataSource: null, summary: { any: ["thing"] }, extraTop: true } }));
    await assertInspectMatchesReference(p);
    const empty = join(dir, "empty.cellucid-session");
    await writeFile(empty, rawBundle([]));
    await assertInspectMatchesReference(empty);
  });
});

test("inspect refuses invalid manifests with validate's error", async () => {
  const chunk = binaryChunk("a", new Uint8Array(2));
  const enc = new TextEncoder();
  const cases: [string, Uint8Array][] = [
    ["JSON_TOO_DEEP", rawBundle([chunk], { manifestBytes: enc.encode(`{"chunks":[],"x":${"[".repeat(100)}${"]".repeat(100)}}`) })],
    ["JSON_TOO_LARGE", rawBundle([chunk], { manifestBytes: enc.encode(`{"chunks":[],"x":[${"0,".repeat(1024 * 1024)}0]}`) })],
    ["MANIFEST_JSON", rawBundle([chunk], { manifestBytes: enc.encode(`{"chunks":[{"id":"a",}]}`) })],
    ["MANIFEST_JSON", rawBundle([chunk], { manifestBytes: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) })],
    ["MANIFEST_SHAPE", rawBundle([chunk], { manifestBytes: enc.encode(`{"chunks":{}}`) })],
    ["MANIFEST_SHAPE", rawBundle([{ ...chunk, meta: { ...chunk.meta, storedBytes: -1 } }])],
    ["MANIFEST_SHAPE", rawBundle([{ ...chunk, meta: { ...chunk.meta, dependsOn: "x" } }])],
    ["MANIFEST_SHAPE", rawBundle([chunk], { fingerprint: { cellCount: 1.5 } })],
    ["DUPLICATE_CHUNK_ID", rawBundle([chunk, chunk])],
    ["STORED_BYTES_MISMATCH", rawBundle([{ ...chunk, meta: { ...chunk.meta, storedBytes: 1 } }], { trailing: new Uint8Array(1) })],
    ["TRUNCATED", rawBundle([{ ...chunk, frameLength: 99, meta: { ...chunk.meta, storedBytes: undefined } }])],
  ];
  await withTempDir(async (dir) => {
    for (const [i, [code, bytes]] of cases.entries()) {
      const p = join(dir, `bad${i}.cellucid-session`);
      await writeFile(p, bytes);
      const inspect = await run("inspect", p, "--json");
      const validate = await run("validate", p);
      assert.equal(inspect.code, 1, `${code}: ${inspect.stderr}`);
      assert.equal(inspect.stdout, "");
      const message = inspect.stderr.replace(/^cellucid-session inspect: error /, "").trim();
      assert.ok(message.startsWith(`[${code}]`), `${code}: ${inspect.stderr}`);
      assert.ok(validate.stderr.includes(message.replace(/^\[[A-Z_]+\]: /, "")) || validate.stdout.includes(message.replace(/^\[[A-Z_]+\]: /, "")), `${code}: inspect said ${message}; validate said ${validate.stdout}${validate.stderr}`);
    }
  });
});

test("table() aligns by code points as before, without copying rows; LazyRows write as the array they stand for", () => {
  /** The previous table(): every cell spread into code points. */
  const naive = (headers: string[], rows: (string | number)[][], right: number[] = []) => {
    const cells = [headers, ...rows.map((r) => r.map(String))];
    const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? "")].length)));
    return cells.map((r) => r.map((cell, c) => (right.includes(c) ? " ".repeat(widths[c]! - [...cell].length) + cell : cell + " ".repeat(widths[c]! - [...cell].length))).join("  ").trimEnd()).join("\n");
  };
  const rows = Array.from({ length: 300 }, (_, i) => [i % 5 ? `r${i}` : `🌟${"é".repeat(i % 4)}\ud800`, i * 1013, i % 3 ? "" : "x y", `\u0301${i}`]);
  assert.equal(table(["A", "BB", "C 🌟", "D"], rows, [1]), naive(["A", "BB", "C 🌟", "D"], rows, [1]));
  assert.equal(table(["A", "B"], []), naive(["A", "B"], []));

  const items = Array.from({ length: 1000 }, (_, i) => ({ id: `c${i}`, o: i % 100 === 0 ? { a: [i] } : null }));
  const values = [
    { rows: new LazyRows(items.length, (i) => items[i]), empty: new LazyRows(0, () => 1), deep: [{ pages: [{ groups: new LazyRows(3, (i) => [i, { i }]) }] }] },
    new LazyRows(600, (i) => i),
  ];
  for (const v of values) for (const batch of [1, 100, 64 * 1024]) assert.equal([...jsonBatches(v, batch)].join(""), JSON.stringify(v, null, 2) + "\n");
});
