/**
 * Mutation fuzzing: flip, truncate, splice and overwrite random bytes of valid
 * bundles, then open, validate and decode everything. Every outcome must be
 * success or a CellucidSessionError; any other exception is a bug.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { CellucidSessionBundle, CellucidSessionError, createSessionWriter, validateBundle, webGzip, zlibGzip } from "../src/node/index.js";
import { EXAMPLE } from "./helpers.js";

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
