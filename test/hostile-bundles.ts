/**
 * Hostile bundle shapes, generated (never checked in): small files that
 * unpack into deep or huge JSON, too many categories, or chunks declaring
 * sizes over the limit. The tests build them at a small scale, the benchmark
 * at the scale of the reports that found them, and both expect the same
 * error codes.
 */
import { createGzip } from "node:zlib";
import { concatBytes } from "../src/format/source.js";
import { type RawChunk, jsonChunk, rawBundle } from "./helpers.js";

const enc = new TextEncoder();

/** gzip (level 9) of the concatenated pieces, streamed: a gigabyte of input never sits in memory. */
export async function gzipPieces(pieces: Iterable<Uint8Array>): Promise<Uint8Array> {
  const gz = createGzip({ level: 9, chunkSize: 1 << 20 });
  const out: Buffer[] = [];
  gz.on("data", (b: Buffer) => out.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    gz.on("end", resolve);
    gz.on("error", reject);
  });
  for (const p of pieces) if (!gz.write(p)) await new Promise((resolve) => gz.once("drain", resolve));
  gz.end();
  await ended;
  return new Uint8Array(Buffer.concat(out));
}

/** `block` repeated until `total` bytes (the last one cut short). */
export function* repeated(block: Uint8Array, total: number): Generator<Uint8Array> {
  for (let left = total; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

/** `depth` opening brackets then as many closing ones: valid JSON, nested `depth` levels. */
export function* nestedArrays(depth: number): Generator<Uint8Array> {
  yield* repeated(new Uint8Array(1 << 16).fill(0x5b), depth);
  yield* repeated(new Uint8Array(1 << 16).fill(0x5d), depth);
}

/** A gzip'd chunk whose payload is given as pieces, declaring `uncompressedBytes` unless it is null. */
export async function streamedChunk(meta: Record<string, unknown>, pieces: Iterable<Uint8Array>, uncompressedBytes: number | null): Promise<RawChunk> {
  const stored = await gzipPieces(pieces);
  return {
    meta: { priority: "eager", ...meta, codec: "gzip", storedBytes: stored.length, ...(uncompressedBytes === null ? {} : { uncompressedBytes }) },
    stored,
  };
}

/** The fingerprint of the example dataset, so that applying to it reads every chunk. */
export const EXAMPLE_FINGERPRINT = { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: 2638, varCount: 1838 };

export interface HostileShape {
  name: string;
  /** The bundle's bytes. */
  make(): Promise<Uint8Array>;
  /** What validate reports (and what apply throws when it reads the chunk). */
  code: string;
  /** The chunk the error names; null for the manifest. */
  chunkId: string | null;
  /** Whether applying reads the offending JSON or chunk (viewer state and unknown chunks are kept, not read). */
  appliedChunk: boolean;
}

/** One highlight group and one field, so a bundle is otherwise applicable. */
function plainChunks(): RawChunk[] {
  return [jsonChunk("highlights/meta", { pages: [{ id: "p", highlightedGroups: [{ id: "g", label: "G" }] }] })];
}

function withChunk(chunk: RawChunk): Uint8Array {
  return rawBundle([...plainChunks().filter((c) => c.meta["id"] !== chunk.meta["id"]), chunk], { fingerprint: EXAMPLE_FINGERPRINT });
}

/** A field-overlays payload of `count` categories of `bytes` bytes each, as pieces. */
function* categoriesJson(count: number, bytes: number): Generator<Uint8Array> {
  yield enc.encode('{"userDefinedFields":[{"id":"f","key":"f","source":"obs","kind":"category","categories":[');
  const item = `"${"x".repeat(bytes)}",`;
  // Items batched into blocks of up to ~1 MB: one stream write per block, not per category.
  const perBlock = Math.max(1, Math.floor((1 << 20) / item.length));
  const block = enc.encode(item.repeat(perBlock));
  for (let left = count - 1; left > 0; left -= perBlock) yield left >= perBlock ? block : block.subarray(0, left * item.length);
  yield enc.encode(`"${"x".repeat(bytes)}"]}]}`);
}

function piecesLength(pieces: Iterable<Uint8Array>): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

/**
 * Every hostile shape. `scale` "test" keeps each under a few MB of work;
 * "bench" uses the sizes of the original reports (a 474 KB bundle of 250M
 * nested brackets, 65,535 categories × 7 KB, a chunk declaring 2 GiB).
 */
export function hostileShapes(scale: "test" | "bench"): HostileShape[] {
  const big = scale === "bench";
  const depth = big ? 8_000_000 : 200_000;
  const bombBrackets = big ? 250_000_000 : 40_000_000;
  const catCount = big ? 65_535 : 2_500;
  const shapes: HostileShape[] = [
    {
      name: `manifest nested ${depth.toLocaleString("en")} levels`,
      code: "JSON_TOO_DEEP",
      chunkId: null,
      appliedChunk: true,
      async make() {
        const manifest = concatBytes([enc.encode('{"chunks":[],"summary":'), ...nestedArrays(depth), enc.encode("}")]);
        return rawBundle([], { manifestBytes: manifest });
      },
    },
  ];
  for (const [id, applied] of [["highlights/meta", true], ["core/field-overlays", true], ["core/state", false], ["plugins/notes", false]] as const) {
    shapes.push({
      name: `${id}: ${depth.toLocaleString("en")} nested arrays (gzip)`,
      code: "JSON_TOO_DEEP",
      chunkId: id,
      appliedChunk: applied,
      async make() {
        return withChunk(await streamedChunk({ id, kind: "json" }, nestedArrays(depth), depth * 2));
      },
    });
  }
  for (const declared of [false, true]) {
    shapes.push({
      name: `highlights/meta: ${bombBrackets.toLocaleString("en")} '[' (gzip, ${declared ? "declared" : "no declared size"})`,
      code: "JSON_TOO_LARGE",
      chunkId: "highlights/meta",
      appliedChunk: true,
      async make() {
        const pieces = () => repeated(new Uint8Array(1 << 20).fill(0x5b), bombBrackets);
        return withChunk(await streamedChunk({ id: "highlights/meta", kind: "json" }, pieces(), declared ? bombBrackets : null));
      },
    });
  }
  shapes.push(
    {
      name: `core/field-overlays: ${catCount.toLocaleString("en")} categories × 7 KB (gzip)`,
      code: "JSON_TOO_LARGE",
      chunkId: "core/field-overlays",
      appliedChunk: true,
      async make() {
        const size = piecesLength(categoriesJson(catCount, 7000));
        return withChunk(await streamedChunk({ id: "core/field-overlays", kind: "json" }, categoriesJson(catCount, 7000), size));
      },
    },
    {
      name: "core/field-overlays: 70,000 categories in one field",
      code: "TOO_MANY_CATEGORIES",
      chunkId: "core/field-overlays",
      appliedChunk: true,
      async make() {
        return withChunk(await streamedChunk({ id: "core/field-overlays", kind: "json" }, categoriesJson(70_000, 1), null));
      },
    },
    {
      name: "core/field-overlays: 700 categories × 7 KB in one field (4.9 MB of text)",
      code: "CATEGORIES_TOO_LARGE",
      chunkId: "core/field-overlays",
      appliedChunk: true,
      async make() {
        return withChunk(await streamedChunk({ id: "core/field-overlays", kind: "json" }, categoriesJson(700, 7000), null));
      },
    },
    {
      name: `highlights/cells/g: declares ${big ? "2 GiB" : "1 GiB"} uncompressed`,
      code: "DECOMPRESSED_TOO_LARGE",
      chunkId: "highlights/cells/g",
      appliedChunk: true,
      async make() {
        const declared = (big ? 2 : 1) * 1024 ** 3;
        // The bench's chunk is a true gzip of that many zeros; the test's is not gzip at all, which
        // shows that nothing was inflated (inflating would have said CORRUPT_GZIP).
        const stored = big ? await gzipPieces(repeated(new Uint8Array(1 << 20), declared)) : enc.encode("not gzip data at all");
        return withChunk({ meta: { id: "highlights/cells/g", kind: "binary", codec: "gzip", priority: "lazy", storedBytes: stored.length, uncompressedBytes: declared }, stored });
      },
    },
  );
  return shapes;
}
