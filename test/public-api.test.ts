/**
 * The public API, pinned: the names each entry point exports at run time.
 * Adding or removing a name is a decision, made here and in the README
 * ("Public API"), never a side effect of an `export *` of some module.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./helpers.js";
import { main } from "../src/cli/main.js";

const CORE = [
  "AnnDataError", "ByteWriter", "CODES_RAW_U16", "CODES_RAW_U8", "CODES_RLE_U16", "CODES_RLE_U8", "CellucidError",
  "CellucidSessionBundle", "CellucidSessionError", "EXIT_STATUS", "EncodedChunkCache", "FIELD_OVERLAYS_ID", "HIGHLIGHTS_META_ID", "MAGIC",
  "MAX_CATEGORIES_PER_BUNDLE", "MAX_CATEGORIES_PER_FIELD", "MAX_CATEGORY_BYTES_PER_BUNDLE", "MAX_CATEGORY_BYTES_PER_FIELD",
  "MAX_CHUNK_BYTES", "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "MAX_JSON_VALUES", "MAX_MANIFEST_BYTES", "MAX_UNCOMPRESSED_BYTES",
  "MemoryAnnData", "NoSuchChunkError", "checkJsonLimits", "parseJsonUnderLimits",
  "SessionAbortError", "SessionFormatError", "SessionWriter", "appCellOrder", "applyCellucidSessionToAnnData",
  "applySessionToStore", "buildExportTable", "checkCellOrder", "chunkRole", "compareCellOrder", "decodeCodes",
  "decodeIndexSet", "digestCellOrder", "embeddingCellOrderDigest", "encodeCodes", "encodeIndexSet", "escapeCell",
  "exportText", "highlightCellsId", "planApply", "readUvarint", "safeKey", "unescapeTsvCell", "userDefinedCodesId",
  "validateBundle", "webGzip", "writeUvarint",
];

/** What the Node entry point adds to the core's names. */
const NODE_ONLY = [
  "CapturedSessionBundle", "H5adStore", "ViewerError", "ZarrStore", "applySessionToFile", "createSessionWriter",
  "openAnnData", "recoverH5ad", "recoverZarr", "startViewer", "writeSessionFile", "zlibGzip",
];

test("the browser entry point exports exactly the core's public names", async () => {
  const core = await import("../src/index.js");
  assert.deepEqual(Object.keys(core).sort(), [...CORE].sort());
});

test("the Node entry point exports the core's names plus the Node-only ones, with its own CellucidSessionBundle", async () => {
  const core = await import("../src/index.js");
  const node = await import("../src/node/index.js");
  assert.deepEqual(Object.keys(node).sort(), [...CORE, ...NODE_ONLY].sort());
  assert.notEqual(node.CellucidSessionBundle, core.CellucidSessionBundle);
  assert.ok(node.CellucidSessionBundle.prototype instanceof core.CellucidSessionBundle);
  assert.equal(typeof node.CellucidSessionBundle.open, "function");
});

test("every error class is a CellucidError with a code the exit-status table knows", async () => {
  const api = await import("../src/node/index.js");
  const { UsageError } = await import("../src/cli/args.js");
  const errors = [
    new api.SessionFormatError("TRUNCATED", "x"),
    new api.AnnDataError("LOCKED", "x", { cause: new Error("inner") }),
    new api.ViewerError("TIMEOUT", "x"),
    new UsageError("x"),
  ];
  for (const e of errors) {
    assert.ok(e instanceof api.CellucidError, e.name);
    assert.ok(Object.hasOwn(api.EXIT_STATUS, e.code), `${e.name} ${e.code}`);
  }
  assert.deepEqual(errors.map((e) => [e.name, api.EXIT_STATUS[e.code as keyof typeof api.EXIT_STATUS]]), [
    ["SessionFormatError", 1], ["AnnDataError", 2], ["ViewerError", 2], ["UsageError", 2],
  ]);
  assert.equal((errors[1]!.cause as Error).message, "inner");
});

test("--version prints the version of package.json", async () => {
  const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  let out = "";
  const sink = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
  assert.equal(await main(["--version"], { out: sink, err: sink }), 0);
  assert.equal(out, `${version}\n`);
});

/** The type names an entry point's source exports (types leave no trace at run time). */
async function exportedTypes(file: string): Promise<string[]> {
  const src = await readFile(join(ROOT, file), "utf8");
  const names: string[] = [];
  for (const m of src.matchAll(/export (type )?\{([^}]*)\} from/g))
    for (const n of m[2]!.split(",").map((s) => s.trim()).filter(Boolean))
      if (m[1] || n.startsWith("type ")) names.push(n.replace(/^type /, ""));
  return names.sort();
}

test("the Node entry point exports every type the browser entry point does", async () => {
  const core = await exportedTypes("src/index.ts");
  const node = await exportedTypes("src/node/index.ts");
  assert.ok(core.length > 50, `${core.length} types`);
  assert.deepEqual(core.filter((t) => !node.includes(t)), []);
});
