/**
 * Mutation fuzzing: flip, truncate, splice and overwrite random bytes of valid
 * bundles, then open, validate and decode everything. Every outcome must be
 * success or a CellucidSessionError; any other exception is a bug. A
 * structure-aware mode (at the end) builds bundles that break the limits on
 * purpose and predicts each code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import {
  CellucidSessionBundle,
  CellucidSessionError,
  MAX_CATEGORIES_PER_FIELD,
  MAX_JSON_BYTES,
  MAX_JSON_DEPTH,
  MAX_UNCOMPRESSED_BYTES,
  createSessionWriter,
  encodeIndexSet,
  validateBundle,
  webGzip,
  zlibGzip,
} from "../src/node/index.js";
import { MemoryAnnData } from "../src/anndata/memory.js";
import { applyCellucidSessionToAnnData } from "../src/apply/anndata.js";
import { EXAMPLE, type RawChunk, binaryChunk, jsonChunk, rawBundle, rejectsWithCode } from "./helpers.js";

type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "truncate"; at: number }
  | { op: "splice"; at: number; len: number; bytes: number[] }
  | { op: "set"; at: number; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("splice" as const), at: fc.nat(), len: fc.integer({ min: 0, max: 16 }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.constantFrom(0, 0x7f, 0x80, 0xff) }),
);

function mutate(src: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = Uint8Array.from(src);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.op === "flip") b[at]! ^= 1 << m.bit;
    else if (m.op === "set") b[at] = m.value;
    else if (m.op === "truncate") b = b.slice(0, at);
    else {
      const out = new Uint8Array(b.length - Math.min(m.len, b.length - at) + m.bytes.length);
      out.set(b.subarray(0, at));
      out.set(m.bytes, at);
      out.set(b.subarray(Math.min(b.length, at + m.len)), at + m.bytes.length);
      b = out;
    }
  }
  return b;
}

async function exercise(bytes: Uint8Array, gzip: typeof zlibGzip): Promise<void> {
  const b = await CellucidSessionBundle.fromBytes(bytes, { gzip, name: "fuzz" });
  await validateBundle(b);
  for (const id of b.listChunkIds()) await b.decodeChunk(id).catch(rethrowUnlessTyped);
  await b.highlightPages().catch(rethrowUnlessTyped);
  for (const f of await b.userDefinedFields().catch(rethrowUnlessTyped) ?? []) await b.readUserDefinedCodes(f).catch(rethrowUnlessTyped);
}

function rethrowUnlessTyped(err: unknown): undefined {
  if (err instanceof CellucidSessionError) return undefined;
  throw err;
}

async function smallBundle(): Promise<Uint8Array> {
  // Mostly uncompressed so that mutations reach the varint decoders, not only zlib's checksum.
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "x", datasetId: "f", cellCount: 300, varCount: 10 } });
  w.addHighlightPage({ id: "p", groups: [{ id: "a", cells: [1, 5, 200] }, { id: "b", cells: Array.from({ length: 150 }, (_, i) => i * 2) }] });
  w.addUserDefinedField({ id: "u", key: "u", categories: ["x", "y", "z"], codes: Array.from({ length: 300 }, (_, i) => (i < 120 ? 0 : i % 3)) });
  w.addUserDefinedField({ id: "r", key: "r", categories: ["x"], codes: Array.from({ length: 300 }, (_, i) => (i < 150 ? 0 : 1)) });
  w.addBinaryChunk("analysis/artifacts/raw", new Uint8Array([9, 9, 9]), { codec: "none" });
  return w.toBytes();
}

for (const [name, gzip] of [["zlib", zlibGzip], ["web streams", webGzip]] as const) {
  test(`mutated bundles only ever succeed or fail with a typed error (${name})`, async () => {
    const seeds = [await readFile(EXAMPLE), await smallBundle()];
    let typed = 0;
    let ok = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), async (seed, muts) => {
        const bytes = mutate(seeds[seed]!, muts);
        try {
          await exercise(bytes, gzip);
          ok++;
        } catch (err) {
          if (!(err instanceof CellucidSessionError)) throw err;
          assert.match(err.code, /^[A-Z_]+$/);
          typed++;
        }
      }),
      { numRuns: name === "zlib" ? 1500 : 400, seed: 20261124 },
    );
    assert.ok(typed > 0 && ok > 0, `both outcomes should occur (ok ${ok}, typed errors ${typed})`);
  });
}

/**
 * Structure-aware mode: bundles built from a description (JSON nesting per
 * JSON chunk and in the manifest, category counts around the cap, declared
 * sizes true, absent, too small or over the limit, many extra chunks), each
 * checked against the error the description predicts, in validate and in
 * applying to an in-memory AnnData. Count-bounded, so its time is fixed.
 */
type Declared = "true" | "absent" | "less" | "over";
const declaredArb = fc.constantFrom<Declared>("true", "true", "absent", "less", "over");

interface Shape {
  manifestDepth: number;
  metaDepth: number;
  metaDeclared: Declared;
  overlaysDepth: number;
  overlaysDeclared: Declared;
  categories: number;
  stateDepth: number;
  cellsDeclared: Declared;
  extraChunks: number[];
}

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  manifestDepth: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 60, max: 70 })),
  metaDepth: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 60, max: 70 })),
  metaDeclared: declaredArb,
  overlaysDepth: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 60, max: 70 })),
  overlaysDeclared: declaredArb,
  categories: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(MAX_CATEGORIES_PER_FIELD, MAX_CATEGORIES_PER_FIELD + 1)),
  stateDepth: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 60, max: 70 })),
  cellsDeclared: declaredArb,
  extraChunks: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 300 }),
});

function nest(depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

function declare(chunk: RawChunk, mode: Declared, over: number): RawChunk {
  const size = chunk.meta["uncompressedBytes"] as number;
  const meta = { ...chunk.meta };
  if (mode === "absent") delete meta["uncompressedBytes"];
  else if (mode === "less") meta["uncompressedBytes"] = Math.max(0, size - 1);
  else if (mode === "over") meta["uncompressedBytes"] = over;
  return { ...chunk, meta };
}

/** The error a chunk must get, from its description: size rules first, then JSON, then content. */
function expectedCode(declared: Declared, json: boolean, depth: number, content: string | null): string | null {
  if (declared === "over") return json ? "JSON_TOO_LARGE" : "DECOMPRESSED_TOO_LARGE";
  if (declared === "less") return "DECOMPRESSED_LARGER_THAN_EXPECTED";
  if (json && depth + 1 > MAX_JSON_DEPTH) return "JSON_TOO_DEEP";
  return content;
}

function build(s: Shape): { bytes: Uint8Array; expected: Map<string, string | null> } {
  const cells = 50;
  const chunks: RawChunk[] = [
    declare(jsonChunk("highlights/meta", { pages: [{ id: "p", highlightedGroups: [{ id: "g" }] }], x: nest(s.metaDepth) }), s.metaDeclared, MAX_JSON_BYTES + 1),
    declare(jsonChunk("core/field-overlays", { userDefinedFields: [{ id: "f", kind: "category", categories: Array.from({ length: s.categories }, (_, i) => `c${i}`) }], x: nest(s.overlaysDepth) }), s.overlaysDeclared, MAX_JSON_BYTES + 1),
    jsonChunk("core/state", { x: nest(s.stateDepth) }),
    declare(binaryChunk("highlights/cells/g", encodeIndexSet([1, 2, 3]), {}, "gzip"), s.cellsDeclared, MAX_UNCOMPRESSED_BYTES + 1),
    ...s.extraChunks.map((n, i) => binaryChunk(`plugins/x${i}`, new Uint8Array(n).fill(i & 0xff))),
  ];
  const expected = new Map<string, string | null>([
    ["highlights/meta", expectedCode(s.metaDeclared, true, s.metaDepth, null)],
    ["core/field-overlays", expectedCode(s.overlaysDeclared, true, s.overlaysDepth, s.categories > MAX_CATEGORIES_PER_FIELD ? "TOO_MANY_CATEGORIES" : null)],
    ["core/state", expectedCode("true", true, s.stateDepth, null)],
    ["highlights/cells/g", expectedCode(s.cellsDeclared, false, 0, null)],
  ]);
  const bytes = rawBundle(chunks, { fingerprint: { cellCount: cells, varCount: 5 }, manifestExtra: { summary: nest(s.manifestDepth) } });
  return { bytes, expected };
}

test("structure-aware: depth, categories, declared sizes and chunk counts give the predicted codes, in validate and apply", async () => {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(shapeArb, async (s) => {
      const { bytes, expected } = build(s);
      // Manifest: the root object, then `summary`'s arrays.
      if (s.manifestDepth + 1 > MAX_JSON_DEPTH) {
        await rejectsWithCode(() => CellucidSessionBundle.fromBytes(bytes), "JSON_TOO_DEEP", "manifest");
        refused++;
        return;
      }
      const b = await CellucidSessionBundle.fromBytes(bytes);
      assert.equal(b.listChunkIds().length, 4 + s.extraChunks.length);
      const report = await validateBundle(b);
      for (const [id, code] of expected) assert.equal(report.errors.find((e) => e.chunkId === id)?.code ?? null, code, `${id}: ${JSON.stringify(report.errors)}`);
      assert.equal(report.errors.length, [...expected.values()].filter((c) => c !== null).length);
      // Applying reads highlights/meta, the overlays, then the cells, in that order: the first problem stops it.
      const read = ["highlights/meta", "core/field-overlays", "highlights/cells/g"].map((id) => expected.get(id)).filter((c) => c !== null);
      const adata = new MemoryAnnData({ obs: { index: Array.from({ length: 50 }, (_, i) => `c${i}`) }, var: { index: ["a", "b", "c", "d", "e"] } });
      if (read.length) {
        const err = await rejectsWithCode(() => applyCellucidSessionToAnnData(b, adata), read[0]!);
        assert.ok(err.chunkId, err.message);
        refused++;
      } else await applyCellucidSessionToAnnData(b, adata);
    }),
    { numRuns: 120, seed: 20261125 },
  );
  assert.ok(refused > 10, `refusals should be common (${refused})`);
});
