/**
 * Builds a CSR matrix's per-gene column index (the layout: index-file.ts) in
 * one pass over X, in bounded memory.
 *
 * This thread reads X in large blocks of whole rows (the source's reads, such
 * as HDF5's, stay on the thread that owns them) into shared slots of two
 * worker threads (csr-scatter.ts), each owning a contiguous share of the rows:
 * while a worker scatters one slot, this thread fills its other. Slots are
 * reused, so the workers allocate nothing per block (handing them the arrays
 * each read returns left hundreds of MB waiting for their collectors). A
 * worker scatters its entries into small per-gene buffers and appends each
 * full buffer to entries.bin as a chunk; chunks need no place known in
 * advance, so X is read once, with no counting pass. The workers' chunk
 * tables, merged by gene with shares in row order, become index.bin, written
 * last.
 */
import { writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { AnnDataError, type XReadOptions } from "../model.js";
import type { ChunkTable, ScatterInit, ScatterReply, ScatterRequest } from "./csr-scatter.js";
import { indexBytes } from "./index-file.js";
import type { XSource } from "./source.js";

/** Entries (and rows) read at a time: large reads, in slots of a few MB. */
const READ_BLOCK = 1024 * 1024;
/** Bytes of one worker's gene buffers (6 an entry): small enough to stay in the CPU caches while scattering. */
const SCATTER_BYTES = 2 * 1024 * 1024;
/** Entries of a gene buffer, at least (so chunks stay large with many genes) and at most. */
const MIN_RUN = 64;
const MAX_RUN = 64 * 1024;
/** A worker's appends to entries.bin: larger than any chunk. */
const STAGING_BYTES = 1024 * 1024;
const MAX_WORKERS = 2;
/** Slots per worker: one being scattered while this thread reads into the other. */
const SLOTS = 2;

export async function buildIndex(src: XSource, dir: string, opts: XReadOptions): Promise<void> {
  const [rows, genes] = src.shape;
  const indptr = offsets(await src.slice("indptr", 0, rows + 1), rows, src.what);
  const nnz = indptr[rows]!;
  const entriesPath = join(dir, "entries.bin");
  await writeFile(entriesPath, new Uint8Array(0));
  const shares = rowShares(indptr, Math.max(1, Math.min(MAX_WORKERS, availableParallelism(), Math.ceil(nnz / READ_BLOCK))));
  // A slot holds a block: up to READ_BLOCK rows and READ_BLOCK entries, or one longer row.
  let longest = 0;
  for (let r = 0; r < rows; r++) longest = Math.max(longest, indptr[r + 1]! - indptr[r]!);
  const entries = Math.max(READ_BLOCK, longest);
  const fileEnd = new SharedArrayBuffer(8);
  const init = (): ScatterInit => ({
    entriesPath,
    fileEnd,
    genes,
    run: Math.min(MAX_RUN, Math.max(MIN_RUN, Math.floor(SCATTER_BYTES / 6 / Math.max(1, genes)))),
    stagingBytes: STAGING_BYTES,
    slots: Array.from({ length: SLOTS }, () => ({
      ptr: new SharedArrayBuffer(4 * (READ_BLOCK + 1)),
      indices: new SharedArrayBuffer(4 * entries),
      data: new SharedArrayBuffer(4 * entries),
    })),
  });
  const workers = shares.map(() => new ScatterWorker(init(), src.what));
  let done = 0;
  let tables: ChunkTable[];
  try {
    await Promise.all(
      shares.map(async ([start, end], i) => {
        const w = workers[i]!;
        for (let r0 = start; r0 < end; ) {
          opts.signal?.throwIfAborted();
          // Rows whose entries fit one slot (at least one row, however long).
          let r1 = r0 + 1;
          while (r1 < end && r1 - r0 < READ_BLOCK && indptr[r1 + 1]! - indptr[r0]! <= READ_BLOCK) r1++;
          await readBlock(src, indptr, r0, r1, await w.freeSlot());
          void w.scatter({ r0, rows: r1 - r0 }).then((n) => opts.onProgress?.((done += n), nnz)).catch(() => {});
          r0 = r1;
        }
      }),
    );
    tables = await Promise.all(workers.map((w) => w.end()));
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  await writeFile(join(dir, "index.bin"), indexBytes(genes, mergeByGene(tables, genes, nnz, src.what)));
}

/** indptr as float64, checked: starts at 0 and never decreases. int64 is read through its 32-bit halves (Number() on a million BigInts is slow). */
function offsets(ptr: ArrayLike<number | bigint>, rows: number, what: string): Float64Array {
  let out: Float64Array;
  if (ptr instanceof BigInt64Array || ptr instanceof BigUint64Array) {
    const half = new Int32Array(ptr.buffer, ptr.byteOffset, 2 * ptr.length);
    out = new Float64Array(ptr.length);
    for (let r = 0; r < ptr.length; r++) out[r] = (half[2 * r]! >>> 0) + half[2 * r + 1]! * 2 ** 32;
  } else {
    out = new Float64Array(ptr as ArrayLike<number>);
  }
  if (out[0] !== 0) throw new AnnDataError("BAD_LENGTH", `${what}: indptr starts at ${out[0]}, not 0`);
  for (let r = 0; r < rows; r++) {
    if (!(out[r + 1]! >= out[r]!)) throw new AnnDataError("BAD_LENGTH", `${what}: indptr decreases at row ${r}`);
  }
  return out;
}

/** `parts` contiguous row ranges holding about the same number of entries each. */
function rowShares(indptr: Float64Array, parts: number): [number, number][] {
  const rows = indptr.length - 1;
  const shares: [number, number][] = [];
  let start = 0;
  for (let p = 1; p <= parts; p++) {
    let end = rows;
    if (p < parts) {
      const target = (indptr[rows]! * p) / parts;
      end = start;
      while (end < rows && indptr[end]! < target) end++;
    }
    shares.push([start, end]);
    start = end;
  }
  return shares;
}

/** Rows r0..r1-1 into the slot: ptr relative to their first entry, gene indices as int32, values as float32. */
async function readBlock(src: XSource, indptr: Float64Array, r0: number, r1: number, slot: SlotArrays): Promise<void> {
  const lo = indptr[r0]!;
  const hi = indptr[r1]!;
  for (let r = r0; r <= r1; r++) slot.ptr[r - r0] = indptr[r]! - lo;
  const indices = await src.slice("indices", lo, hi);
  if (indices instanceof BigInt64Array || indices instanceof BigUint64Array) {
    // Through the 32-bit halves; a high half that is not 0 makes the gene -1, which the range check refuses.
    const half = new Int32Array(indices.buffer, indices.byteOffset, 2 * indices.length);
    for (let k = 0; k < indices.length; k++) slot.indices[k] = half[2 * k + 1] === 0 ? half[2 * k]! : -1;
  } else if (indices instanceof Float32Array || indices instanceof Float64Array) {
    throw new AnnDataError("UNSUPPORTED_ENCODING", `${src.what}: indices are floating point, not gene numbers`);
  } else {
    // Other integer types convert on the way in; uint32 beyond int32 wraps negative, which the range check refuses.
    slot.indices.set(indices);
  }
  const data = await src.slice("data", lo, hi);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) for (let k = 0; k < data.length; k++) slot.data[k] = Number(data[k]!);
  else slot.data.set(data);
}

/** The workers' chunks grouped by gene; shares come in row order, and so do a worker's chunks of one gene. */
function mergeByGene(tables: ChunkTable[], genes: number, nnz: number, what: string) {
  const first = new Float64Array(genes + 1);
  let total = 0;
  for (const t of tables) {
    for (let i = 0; i < t.gene.length; i++) {
      first[t.gene[i]! + 1]!++;
      total += t.count[i]!;
    }
  }
  if (total !== nnz) throw new AnnDataError("IO", `${what}: the column index holds ${total} entries, X ${nnz}`);
  for (let g = 0; g < genes; g++) first[g + 1]! += first[g]!;
  const chunks = first[genes]!;
  const next = first.slice(0, genes);
  const offset = new Float64Array(chunks);
  const base = new Float64Array(chunks);
  const count = new Uint32Array(chunks);
  const hash = new Uint32Array(chunks);
  for (const t of tables) {
    for (let i = 0; i < t.gene.length; i++) {
      const c = next[t.gene[i]!]!++;
      offset[c] = t.offset[i]!;
      base[c] = t.base[i]!;
      count[c] = t.count[i]!;
      hash[c] = t.hash[i]!;
    }
  }
  return { first, offset, base, count, hash };
}

/** Requests answered in order; the first failure fails every request after it. */
interface Pending {
  promise: Promise<ScatterReply>;
  resolve: (r: ScatterReply) => void;
  reject: (e: Error) => void;
}

interface SlotArrays {
  ptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

/** One scatter worker, fed through its shared slots in turn. */
class ScatterWorker {
  private readonly worker: Worker;
  private readonly slots: SlotArrays[];
  private readonly waiting: Pending[] = [];
  private sent = 0;
  private failure: Error | null = null;

  constructor(init: ScatterInit, private readonly what: string) {
    this.slots = init.slots.map((s) => ({ ptr: new Int32Array(s.ptr), indices: new Int32Array(s.indices), data: new Float32Array(s.data) }));
    this.worker = new Worker(new URL("./csr-scatter.js", import.meta.url), { workerData: init });
    this.worker.on("message", (reply: ScatterReply) => {
      if ("error" in reply) this.fail(new AnnDataError(reply.error.code, `${what}: ${reply.error.message}`));
      else this.waiting.shift()?.resolve(reply);
    });
    this.worker.on("error", (err) => this.fail(new AnnDataError("IO", `${what}: the column index build failed (${err.message})`, { cause: err })));
    this.worker.on("exit", () => this.fail(new AnnDataError("IO", `${what}: the column index build stopped`)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.waiting.splice(0)) p.reject(this.failure);
  }

  private request(req: ScatterRequest): Promise<ScatterReply> {
    if (this.failure) return Promise.reject(this.failure);
    const p = {} as Pending;
    p.promise = new Promise((resolve, reject) => Object.assign(p, { resolve, reject }));
    // Failures surface through freeSlot() and end(), which every build awaits.
    p.promise.catch(() => {});
    this.waiting.push(p);
    this.worker.postMessage(req);
    return p.promise;
  }

  /** The slot the next block goes to, once the worker is done with the block it held. */
  async freeSlot(): Promise<SlotArrays> {
    while (this.waiting.length >= this.slots.length) await this.waiting[0]!.promise;
    if (this.failure) throw this.failure;
    return this.slots[this.sent % this.slots.length]!;
  }

  /** Scatters the block just read into the slot freeSlot() gave; resolves with its entries once done. */
  async scatter(block: { r0: number; rows: number }): Promise<number> {
    const reply = await this.request({ block: { ...block, slot: this.sent++ % this.slots.length } });
    return "done" in reply ? reply.done : 0;
  }

  async end(): Promise<ChunkTable> {
    const reply = await this.request({ end: true });
    if (!("chunks" in reply)) throw new AnnDataError("IO", `${this.what}: the column index build answered out of order`);
    return reply.chunks;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
