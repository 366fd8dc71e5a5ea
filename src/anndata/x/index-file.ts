/**
 * The on-disk CSR column index (written by csr-build.ts), read a gene at a time.
 *
 * entries.bin holds chunks, each some consecutive entries of one gene, as the
 * build filled them: their values (float32), then their rows as offsets from
 * the chunk's base row (uint16: the build ends a chunk before a row gets
 * 65,536 past its base), padded to whole 4-byte words. index.bin lists every
 * chunk, grouped by gene in row order:
 *
 *   offset  float64 × chunks     byte offset of the chunk in entries.bin
 *   base    float64 × chunks     the row its offsets count from
 *   first   float64 × (genes+1)  gene g's chunks are first[g] .. first[g+1]-1
 *   count   uint32 × chunks      entries in the chunk
 *   hash    uint32 × chunks      hashWords of the chunk's words
 *   own     uint32               hashWords of everything above
 *
 * Nothing is fsynced (derived data; flushing it cost more than building it):
 * index.bin is written last, and every chunk is checked against its hash when
 * read, so whatever a crash or a power loss cut short is found and rebuilt.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export interface ColumnEntries {
  rowIds: Uint32Array;
  values: Float32Array;
}

/** The chunks of all genes, grouped by gene (`first`), in row order within a gene. */
export interface ChunkIndex {
  first: Float64Array;
  offset: Float64Array;
  base: Float64Array;
  count: Uint32Array;
  hash: Uint32Array;
}

/** 4-byte words of a chunk of n entries: n values, n uint16 row offsets, rounded up. */
export function chunkWords(n: number): number {
  return n + Math.ceil(n / 2);
}

/**
 * A 32-bit check of words [from, to), Fletcher style (a running sum and a sum
 * of running sums, in four lanes): additions only, so it costs about what
 * reading the words does. It is there to catch damage (zeroed, missing or
 * stale pages, a word out of place), not tampering.
 */
export function hashWords(w: Uint32Array, from: number, to: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    a0 = (a0 + w[i]!) | 0;
    a1 = (a1 + w[i + 1]!) | 0;
    a2 = (a2 + w[i + 2]!) | 0;
    a3 = (a3 + w[i + 3]!) | 0;
    b0 = (b0 + a0) | 0;
    b1 = (b1 + a1) | 0;
    b2 = (b2 + a2) | 0;
    b3 = (b3 + a3) | 0;
  }
  for (; i < to; i++) {
    a0 = (a0 + w[i]!) | 0;
    b0 = (b0 + a0) | 0;
  }
  let h = Math.imul(a0 ^ Math.imul(b0, 0x9e3779b1), 0x85ebca77) ^ (to - from);
  h = Math.imul(h ^ (h >>> 15) ^ a1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ a2, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b2, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ a3, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b3, 0x9e3779b1);
  return (h ^ (h >>> 16)) >>> 0;
}

export function indexBytes(genes: number, index: ChunkIndex): Uint8Array {
  const chunks = index.count.length;
  const out = new Uint8Array(indexSize(genes, chunks));
  let at = 0;
  for (const part of [index.offset, index.base, index.first, index.count, index.hash]) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), at);
    at += part.byteLength;
  }
  new DataView(out.buffer).setUint32(at, hashWords(new Uint32Array(out.buffer, 0, at / 4), 0, at / 4), true);
  return out;
}

function indexSize(genes: number, chunks: number): number {
  return 24 * chunks + 8 * (genes + 1) + 4;
}

export class FileIndex {
  private constructor(
    readonly dir: string,
    private readonly index: ChunkIndex,
  ) {}

  /** The index in `dir` when it is complete and consistent, else null. */
  static async open(dir: string, genes: number): Promise<FileIndex | null> {
    let bytes: Buffer;
    let entriesBytes: number;
    try {
      bytes = await readFile(join(dir, "index.bin"));
      entriesBytes = (await stat(join(dir, "entries.bin"))).size;
    } catch {
      return null;
    }
    const chunks = (bytes.length - indexSize(genes, 0)) / 24;
    if (!(Number.isInteger(chunks) && chunks >= 0)) return null;
    // readFile's buffer may sit at any offset of a pool: copy to an aligned one for the typed views.
    const own = new Uint8Array(bytes);
    const words = own.length / 4 - 1;
    if (hashWords(new Uint32Array(own.buffer, 0, words), 0, words) !== new DataView(own.buffer).getUint32(own.length - 4, true)) return null;
    const index: ChunkIndex = {
      offset: new Float64Array(own.buffer, 0, chunks),
      base: new Float64Array(own.buffer, 8 * chunks, chunks),
      first: new Float64Array(own.buffer, 16 * chunks, genes + 1),
      count: new Uint32Array(own.buffer, 16 * chunks + 8 * (genes + 1), chunks),
      hash: new Uint32Array(own.buffer, 20 * chunks + 8 * (genes + 1), chunks),
    };
    const { first, offset, count } = index;
    if (first[0] !== 0 || first[genes] !== chunks) return null;
    for (let g = 0; g < genes; g++) if (!(first[g + 1]! >= first[g]!)) return null;
    let total = 0;
    for (let c = 0; c < chunks; c++) {
      const bytes = 4 * chunkWords(count[c]!);
      if (!(offset[c]! >= 0 && offset[c]! + bytes <= entriesBytes)) return null;
      total += bytes;
    }
    if (total !== entriesBytes) return null;
    return new FileIndex(dir, index);
  }

  /**
   * The gene's entries, or null when a chunk does not match its hash.
   * Synchronous reads: a gene is a few chunks (a few thousand for a gene in
   * every cell), each a short read, where awaiting each costs more than it.
   */
  column(gene: number): ColumnEntries | null {
    const { first, offset, base, count, hash } = this.index;
    let total = 0;
    let largest = 0;
    for (let c = first[gene]!; c < first[gene + 1]!; c++) {
      total += count[c]!;
      largest = Math.max(largest, count[c]!);
    }
    const rowIds = new Uint32Array(total);
    const values = new Float32Array(total);
    const valueBits = new Uint32Array(values.buffer);
    const chunk = new Uint32Array(chunkWords(largest));
    const rows = new Uint16Array(chunk.buffer);
    const fd = openSync(join(this.dir, "entries.bin"), "r");
    try {
      let at = 0;
      for (let c = first[gene]!; c < first[gene + 1]!; c++) {
        const n = count[c]!;
        const words = chunkWords(n);
        if (readSync(fd, chunk, 0, 4 * words, offset[c]!) !== 4 * words || hashWords(chunk, 0, words) !== hash[c]) return null;
        valueBits.set(chunk.subarray(0, n), at);
        const b = base[c]!;
        for (let i = 0; i < n; i++) rowIds[at + i] = b + rows[2 * n + i]!;
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    return { rowIds, values };
  }
}
