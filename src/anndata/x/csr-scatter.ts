/**
 * Worker thread of the CSR column index build (csr-build.ts). It scatters
 * the entries of its share of the rows, a block at a time, into a small
 * buffer per gene; a full buffer becomes one chunk of entries.bin (its values
 * as float32, then its rows as uint16 offsets from a base row;
 * index-file.ts). Chunks are copied into a staging buffer that is appended
 * to the file in one write, at a place reserved with an atomic add on an
 * offset shared by the workers, so they write one file without waiting for
 * each other. At the end the worker flushes every gene and returns its chunk
 * table: gene, file offset, base row, count and hash of each chunk, in the
 * order written, which is row order within a gene.
 *
 * The gene buffers are small on purpose: the scatter writes to every gene's
 * buffer in turn, and 2 MB of them stay in the CPU caches where 64 MB did
 * not (measured: 8 ns an entry against 12).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { chunkWords, hashWords } from "./index-file.js";

/** Where a block travels from the reading thread: shared arrays, reused block after block. */
export interface SlotBuffers {
  /** Int32: the block's rows' first entries relative to the block's first entry, then its end. */
  ptr: SharedArrayBuffer;
  /** Int32: gene of each entry. */
  indices: SharedArrayBuffer;
  /** Float32: value of each entry (moved as its 32 bits, never converted). */
  data: SharedArrayBuffer;
}

export interface ScatterInit {
  entriesPath: string;
  /** One BigInt64: the end of entries.bin reserved so far, in bytes. */
  fileEnd: SharedArrayBuffer;
  genes: number;
  /** Entries a gene's buffer holds: the largest chunk. */
  run: number;
  stagingBytes: number;
  slots: SlotBuffers[];
}

/** Rows r0 .. r0+rows-1, whose entries are in slot `slot`. */
export interface ScatterBlock {
  r0: number;
  rows: number;
  slot: number;
}

export interface ChunkTable {
  gene: Int32Array;
  offset: Float64Array;
  /** The row its row offsets count from. */
  base: Float64Array;
  count: Int32Array;
  hash: Uint32Array;
}

export type ScatterRequest = { block: ScatterBlock } | { end: true };
/** `done`: the entries of the block just scattered. */
export type ScatterReply = { done: number } | { chunks: ChunkTable } | { error: { code: "BAD_LENGTH" | "IO"; message: string } };

/** indices names a gene the matrix does not have. */
class BadGene extends Error {}

/** Chunks recorded so far, in growable columns. */
class Chunks {
  n = 0;
  private t: ChunkTable = { gene: new Int32Array(1024), offset: new Float64Array(1024), base: new Float64Array(1024), count: new Int32Array(1024), hash: new Uint32Array(1024) };

  add(gene: number, offset: number, base: number, count: number, hash: number): void {
    if (this.n === this.t.gene.length) {
      const grow = <T extends Int32Array | Float64Array | Uint32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.t = { gene: grow(this.t.gene), offset: grow(this.t.offset), base: grow(this.t.base), count: grow(this.t.count), hash: grow(this.t.hash) };
    }
    this.t.gene[this.n] = gene;
    this.t.offset[this.n] = offset;
    this.t.base[this.n] = base;
    this.t.count[this.n] = count;
    this.t.hash[this.n++] = hash;
  }

  /** Chunks from `first` on were placed relative to the staging buffer: now they know where it went. */
  shift(first: number, by: number): void {
    for (let i = first; i < this.n; i++) this.t.offset[i]! += by;
  }

  table(): ChunkTable {
    const n = this.n;
    const { gene, offset, base, count, hash } = this.t;
    return { gene: gene.slice(0, n), offset: offset.slice(0, n), base: base.slice(0, n), count: count.slice(0, n), hash: hash.slice(0, n) };
  }
}

class Scatter {
  private readonly rows: Uint16Array;
  /** The values' bits: a float32 copied through a Float32Array is converted to a double and back. */
  private readonly valueBits: Uint32Array;
  private readonly base: Float64Array;
  private readonly fill: Int32Array;
  private readonly staging: Uint32Array;
  private readonly staging16: Uint16Array;
  private staged = 0;
  private firstStagedChunk = 0;
  private readonly chunks = new Chunks();
  private readonly fileEnd: BigInt64Array;
  private readonly fd: number;
  private readonly slots: { ptr: Int32Array; indices: Int32Array; data: Uint32Array }[];

  constructor(private readonly init: ScatterInit) {
    this.slots = init.slots.map((s) => ({ ptr: new Int32Array(s.ptr), indices: new Int32Array(s.indices), data: new Uint32Array(s.data) }));
    const { genes, run } = init;
    this.rows = new Uint16Array(genes * run);
    this.valueBits = new Uint32Array(genes * run);
    // -Infinity: the first entry of every gene starts a chunk (its row is "too far" from the base).
    this.base = new Float64Array(genes).fill(-Infinity);
    this.fill = new Int32Array(genes);
    this.staging = new Uint32Array(init.stagingBytes / 4);
    this.staging16 = new Uint16Array(this.staging.buffer);
    this.fileEnd = new BigInt64Array(init.fileEnd);
    this.fd = openSync(init.entriesPath, "r+");
  }

  /**
   * The hot loop: plain code over typed arrays of one kind each. A gene's
   * buffer holds rows as offsets from its chunk's base row (2 bytes, not 4:
   * less to move at every step after this one); a row too far from the base
   * ends the chunk. Returns the block's entries.
   */
  block({ r0, rows: n, slot }: ScatterBlock): number {
    const { rows, valueBits, base, fill } = this;
    const { genes, run } = this.init;
    const { ptr, indices, data } = this.slots[slot]!;
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      for (let k = ptr[i]!, end = ptr[i + 1]!; k < end; k++) {
        const g = indices[k]!;
        if (!(g >= 0 && g < genes)) throw new BadGene(`indices holds gene ${g} outside 0..${genes}`);
        let f = fill[g]!;
        let offset = r - base[g]!;
        if (offset > 0xffff) {
          if (f > 0) this.flush(g, f);
          f = 0;
          base[g] = r;
          offset = 0;
        }
        const at = g * run + f;
        rows[at] = offset;
        valueBits[at] = data[k]!;
        if (f + 1 === run) this.flush(g, run);
        else fill[g] = f + 1;
      }
    }
    return ptr[n]!;
  }

  /** Gene g's buffered entries as one chunk in the staging buffer (chunkWords long). */
  private flush(g: number, n: number): void {
    this.fill[g] = 0;
    const words = chunkWords(n);
    if (this.staged + words > this.staging.length) this.writeStaged();
    const { rows, valueBits, staging, staging16 } = this;
    const from = g * this.init.run;
    const at = this.staged;
    staging.set(valueBits.subarray(from, from + n), at);
    const at16 = 2 * (at + n);
    staging16.set(rows.subarray(from, from + n), at16);
    // An odd count leaves half a word: zero, not what the staging held before.
    if (n % 2) staging16[at16 + n] = 0;
    this.staged += words;
    this.chunks.add(g, at * 4, this.base[g]!, n, hashWords(staging, at, at + words));
  }

  private writeStaged(): void {
    const bytes = this.staged * 4;
    if (bytes === 0) return;
    const position = Number(Atomics.add(this.fileEnd, 0, BigInt(bytes)));
    const out = new Uint8Array(this.staging.buffer, 0, bytes);
    for (let done = 0; done < bytes; ) done += writeSync(this.fd, out, done, bytes - done, position + done);
    this.chunks.shift(this.firstStagedChunk, position);
    this.firstStagedChunk = this.chunks.n;
    this.staged = 0;
  }

  end(): ChunkTable {
    for (let g = 0; g < this.init.genes; g++) if (this.fill[g]! > 0) this.flush(g, this.fill[g]!);
    this.writeStaged();
    closeSync(this.fd);
    return this.chunks.table();
  }
}

const port = parentPort!;
let scatter: Scatter | null = null;
try {
  scatter = new Scatter(workerData as ScatterInit);
} catch (err) {
  port.postMessage({ error: { code: "IO", message: (err as Error).message } } satisfies ScatterReply);
}
port.on("message", (req: ScatterRequest) => {
  // After a failure the build is over: the reading thread stops this worker.
  if (!scatter) return;
  try {
    if ("block" in req) {
      port.postMessage({ done: scatter.block(req.block) } satisfies ScatterReply);
    } else {
      const chunks = scatter.end();
      const { gene, offset, base, count, hash } = chunks;
      port.postMessage({ chunks } satisfies ScatterReply, [gene.buffer, offset.buffer, base.buffer, count.buffer, hash.buffer] as ArrayBuffer[]);
    }
  } catch (err) {
    scatter = null;
    port.postMessage({ error: { code: err instanceof BadGene ? "BAD_LENGTH" : "IO", message: (err as Error).message } } satisfies ScatterReply);
  }
});
