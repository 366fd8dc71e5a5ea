/** `inspect` on a bundle whose layout the manifest pins: frame headers are checked when read, and the streamed --json output. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { encodeIndexSet } from "../src/node/index.js";
import { writeJson } from "../src/cli/output.js";
import { binaryChunk, cli, jsonChunk, rawBundle, withTempDir } from "./helpers.js";

test("inspect works on a bundle whose cells frame header disagrees with storedBytes; reading that chunk and validate report it", async () => {
  const cells = encodeIndexSet([4, 5]);
  const meta = { pages: [{ id: "page_1", name: "P", highlightedGroups: [{ id: "highlight_1", label: "g", type: "lasso", cellCount: 2, enabled: true }] }], activePageId: "page_1" };
  const bytes = rawBundle([
    jsonChunk("highlights/meta", meta),
    { ...binaryChunk("highlights/cells/highlight_1", cells), frameLength: cells.length - 1 },
  ]);
  await withTempDir(async (dir) => {
    const p = join(dir, "lying.cellucid-session");
    await writeFile(p, bytes);
    const inspect = await cli("inspect", p, "--json");
    assert.equal(inspect.code, 0, inspect.stderr);
    const s = JSON.parse(inspect.stdout);
    assert.deepEqual(s.chunks.map((c: { id: string; storedBytes: number }) => [c.id, c.storedBytes]).at(-1), ["highlights/cells/highlight_1", cells.length]);
    assert.equal(s.highlights.pages[0].groups[0].cellCount, 2);
    const exported = await cli("export", p);
    assert.equal(exported.code, 1);
    assert.match(exported.stderr, /STORED_BYTES_MISMATCH.*highlights\/cells\/highlight_1|highlights\/cells\/highlight_1.*STORED_BYTES_MISMATCH/s);
    const validate = await cli("validate", p, "--json");
    assert.equal(validate.code, 1);
    const report = JSON.parse(validate.stdout);
    assert.deepEqual(report.errors.map((e: { code: string; chunkId: string }) => [e.code, e.chunkId]), [["STORED_BYTES_MISMATCH", "highlights/cells/highlight_1"]]);
  });
});

test("writeJson writes what JSON.stringify(value, null, 2) writes, in batches", async () => {
  const big = Array.from({ length: 5000 }, (_, i) => ({ id: `c${i}`, n: i, text: "line\nbreak \"q\"", nested: i % 2 ? null : { a: [1, { b: [] }], e: {} } }));
  const values: unknown[] = [
    { file: "x", empty: [], none: {}, skipped: undefined, list: [1, undefined, "s"], chunks: big, deep: { a: { b: { c: [[], [[]], {}] } } } },
    [],
    {},
    "text",
    null,
    [{ a: 1 }],
  ];
  for (const value of values) {
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on("data", (d: Buffer) => parts.push(d));
    await writeJson(out, value);
    assert.equal(Buffer.concat(parts).toString(), JSON.stringify(value, null, 2) + "\n");
  }
});
