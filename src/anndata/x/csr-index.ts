/**
 * A CSR matrix's per-gene column index: its entries transposed to column
 * order (CSC) on disk, built once in bounded memory and then read a gene at
 * a time with two positioned reads.
 *
 * The build makes two passes over X in large sequential blocks: the first
 * reads only `indices` and counts each gene's entries, which fixes where each
 * gene's entries go (colptr); the second reads rows in order and scatters
 * each entry into a small buffer of its gene, written straight to its place
 * in `entries.bin` when full: (row uint32, value float32) pairs, gene after
 * gene, so one write places a run and one read returns a gene. Rows stay
 * ascending within a gene because rows are visited in order. Nothing is
 * written twice.
 *
 * The index is derived data, so it is not fsynced (flushing its 8 bytes per
 * entry cost more than the whole build): instead `index.bin` (colptr, a
 * checksum per gene, and a checksum of itself) is written last, every gene
 * read is checked against its checksum, and an index that fails a check (cut
 * short by a crash or a power loss) is removed and built again.
 *
 * With `cacheDir` the index is kept there under a name derived from the
 * matrix's identity (file size, mtime, inode and a hash of its header), so a
 * changed file gets a new index; without it, it lives in a temp folder
 * removed at exit.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerTemp } from "../../platform/node/cleanup.js";
import { AnnDataError, type XReadOptions } from "../model.js";
import type { XSource } from "./source.js";

/** Entries read at a time in each pass: small enough that blocks waiting for the garbage collector stay a few MB each. */
const READ_BLOCK = 1024 * 1024;
/** Bytes of per-gene buffers (8 bytes an entry): each gene gets at least MIN_RUN entries, so writes stay large. */
const BUFFER_BYTES = 64 * 1024 * 1024;
const MIN_RUN = 256;
/** The folder's version: a cache built by an earlier layout is never read as this one. */
const PREFIX = "cellucid-x-v2-";

export interface ColumnEntries {
  rowIds: Uint32Array;
  values: Float32Array;
}

const built = new WeakMap<XSource, Promise<FileIndex>>();

/** Gene `gene`'s stored entries, from the column index of `src` (from the cache when it is there, else built once per source). */
export async function csrColumn(src: XSource, gene: number, opts: XReadOptions): Promise<ColumnEntries> {
  const index = await indexOf(src, opts);
  const entries = await index.column(gene);
  if (entries) return entries;
  // A damaged index (a crash or a power loss cut its writing short): removed, built again, read again.
  built.delete(src);
  await rm(index.dir, { recursive: true, force: true });
  const again = await (await indexOf(src, opts)).column(gene);
  if (!again) throw new AnnDataError("IO", `${src.what}: the column index rebuilt in ${index.dir} fails its checksum`);
  return again;
}

function indexOf(src: XSource, opts: XReadOptions): Promise<FileIndex> {
  let index = built.get(src);
  if (!index) {
    index = openOrBuild(src, opts);
    built.set(src, index);
    // A failed or aborted build is not remembered: the next call tries again.
    index.catch(() => built.delete(src));
  }
  return index;
}

async function openOrBuild(src: XSource, opts: XReadOptions): Promise<FileIndex> {
  const key = createHash("sha256").update(await src.identity()).digest("hex").slice(0, 32);
  let root: string;
  if (opts.cacheDir) {
    await mkdir(opts.cacheDir, { recursive: true });
    root = opts.cacheDir;
  } else {
    root = await mkdtemp(join(tmpdir(), "cellucid-x-"));
    registerTemp(root);
  }
  const dir = join(root, `${PREFIX}${key}`);
  const existing = await FileIndex.open(dir, src.shape[1]);
  if (existing) return existing;
  // A folder that does not open (an interrupted build's remains) is in the way of the new one.
  await rm(dir, { recursive: true, force: true });
  const tmp = join(root, `.${PREFIX}${key}-${randomBytes(4).toString("hex")}`);
  registerTemp(tmp);
  try {
    await build(src, tmp, opts);
    // Another process may have finished the same index meanwhile: either copy is the same.
    await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const done = await FileIndex.open(dir, src.shape[1]);
  if (!done) throw new AnnDataError("IO", `${src.what}: the column index written to ${dir} cannot be read back`);
  return done;
}

/** index.bin: colptr (genes + 1 float64), one checksum per gene (uint32), then a checksum of all that. */
function indexBytes(colptr: Float64Array, checks: Uint32Array): Uint8Array {
  const genes = checks.length;
  const out = new Uint8Array((genes + 1) * 8 + genes * 4 + 4);
  out.set(new Uint8Array(colptr.buffer, colptr.byteOffset, (genes + 1) * 8), 0);
  out.set(new Uint8Array(checks.buffer, checks.byteOffset, genes * 4), (genes + 1) * 8);
  new DataView(out.buffer).setUint32(out.length - 4, wordsChecksum(out, out.length - 4), true);
  return out;
}

function wordsChecksum(bytes: Uint8Array, length: number): number {
  return mix(SEED, new Uint32Array(bytes.buffer, bytes.byteOffset, length / 4), 0, length / 4);
}

const SEED = 0x811c9dc5;

/** Folds words [from, to) into a running checksum. */
function mix(h: number, words: Uint32Array, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ (h >>> 15) ^ words[i]!, 0x9e3779b1);
  return h >>> 0;
}

class FileIndex {
  private constructor(readonly dir: string, private readonly colptr: Float64Array, private readonly checks: Uint32Array) {}

  /** The index in `dir` when it is complete and intact, else null. */
  static async open(dir: string, genes: number): Promise<FileIndex | null> {
    let bytes: Buffer;
    let entriesBytes: number;
    try {
      bytes = await readFile(join(dir, "index.bin"));
      entriesBytes = (await stat(join(dir, "entries.bin"))).size;
    } catch {
      return null;
    }
    if (bytes.length !== (genes + 1) * 8 + genes * 4 + 4) return null;
    // readFile's buffer may sit at any offset of a pool: copy to an aligned one for the typed views.
    const own = new Uint8Array(bytes);
    if (wordsChecksum(own, own.length - 4) !== new DataView(own.buffer).getUint32(own.length - 4, true)) return null;
    const colptr = new Float64Array(own.buffer, 0, genes + 1);
    for (let g = 0; g < genes; g++) if (!(colptr[g + 1]! >= colptr[g]!)) return null;
    if (colptr[0] !== 0 || entriesBytes !== colptr[genes]! * 8) return null;
    return new FileIndex(dir, colptr, new Uint32Array(own.buffer, (genes + 1) * 8, genes));
  }

  /** The gene's entries, or null when they do not match their checksum. */
  async column(gene: number): Promise<ColumnEntries | null> {
    const lo = this.colptr[gene]!;
    const n = this.colptr[gene + 1]! - lo;
    const pairs = new Uint32Array(await readAt(join(this.dir, "entries.bin"), lo * 8, n * 8));
    if (mix(SEED, pairs, 0, 2 * n) !== this.checks[gene]) return null;
    const rowIds = new Uint32Array(n);
    const bits = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      rowIds[i] = pairs[2 * i]!;
      bits[i] = pairs[2 * i + 1]!;
    }
    return { rowIds, values: new Float32Array(bits.buffer) };
  }
}

/** Sparse members as plain numbers: 64-bit integer arrays (int64 indices) are converted a block at a time. */
function asNumbers(a: ArrayLike<number | bigint>): ArrayLike<number> {
  return a instanceof BigInt64Array || a instanceof BigUint64Array ? Float64Array.from(a, Number) : (a as ArrayLike<number>);
}

async function readAt(path: string, position: number, length: number): Promise<ArrayBuffer> {
  const out = new ArrayBuffer(length);
  const fh = await open(path, "r");
  try {
    const { bytesRead } = await fh.read(new Uint8Array(out), 0, length, position);
    if (bytesRead !== length) throw new AnnDataError("IO", `${path}: the column index is truncated`);
  } finally {
    await fh.close();
  }
  return out;
}

/** Entries per gene: the first pass, over `indices` only. */
async function countGenes(src: XSource, nnz: number, opts: XReadOptions): Promise<Float64Array> {
  const genes = src.shape[1];
  const counts = new Int32Array(genes);
  for (let lo = 0; lo < nnz; lo += READ_BLOCK) {
    opts.signal?.throwIfAborted();
    const indices = asNumbers(await src.slice("indices", lo, Math.min(nnz, lo + READ_BLOCK)));
    for (let k = 0; k < indices.length; k++) {
      const g = indices[k]!;
      if (!(g >= 0 && g < genes)) throw new AnnDataError("BAD_LENGTH", `${src.what}: indices holds gene ${g} outside 0..${genes}`);
      counts[g]!++;
    }
  }
  const colptr = new Float64Array(genes + 1);
  for (let g = 0; g < genes; g++) colptr[g + 1] = colptr[g]! + counts[g]!;
  return colptr;
}

/** Per-gene buffers of (row, value) pairs in the second pass, each written to its gene's place in entries.bin when full. */
class GeneRuns {
  readonly run: number;
  readonly rowIds: Uint32Array;
  readonly values: Float32Array;
  readonly fill: Int32Array;
  private readonly written: Float64Array;
  readonly checks: Uint32Array;

  constructor(private readonly colptr: Float64Array, private readonly fd: number) {
    const genes = colptr.length - 1;
    this.run = Math.max(MIN_RUN, Math.floor(BUFFER_BYTES / 8 / Math.max(1, genes)));
    // One buffer seen two ways: pair i of gene g is rowIds[2 * (g * run + i)], values[2 * (g * run + i) + 1].
    this.rowIds = new Uint32Array(2 * genes * this.run);
    this.values = new Float32Array(this.rowIds.buffer);
    this.fill = new Int32Array(genes);
    this.written = new Float64Array(genes);
    this.checks = new Uint32Array(genes).fill(SEED);
  }

  flush(g: number): void {
    const n = this.fill[g]!;
    if (n === 0) return;
    const from = 2 * g * this.run;
    this.checks[g] = mix(this.checks[g]!, this.rowIds, from, from + 2 * n);
    writeFully(this.fd, new Uint8Array(this.rowIds.buffer, from * 4, n * 8), (this.colptr[g]! + this.written[g]!) * 8);
    this.written[g]! += n;
    this.fill[g] = 0;
  }

  /** Whether every gene got exactly the entries the first pass counted (X did not change in between). */
  complete(): boolean {
    return this.written.every((n, g) => n === this.colptr[g + 1]! - this.colptr[g]!);
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, position + at);
}

/** Scatters rows r0..r1 (their entries from `lo` on) into the gene runs. Synchronous, so the hot loop is plain code. */
function scatterRows(runs: GeneRuns, indptr: Float64Array, r0: number, r1: number, lo: number, indices: ArrayLike<number>, data: ArrayLike<number>): void {
  const { run, rowIds, values, fill } = runs;
  for (let r = r0; r < r1; r++) {
    for (let k = indptr[r]! - lo, end = indptr[r + 1]! - lo; k < end; k++) {
      const g = indices[k]!;
      const f = fill[g]!;
      const at = 2 * (g * run + f);
      rowIds[at] = r;
      values[at + 1] = data[k]!;
      fill[g] = f + 1;
      if (f + 1 === run) runs.flush(g);
    }
  }
}

async function build(src: XSource, dir: string, opts: XReadOptions): Promise<void> {
  const [rows, genes] = src.shape;
  await mkdir(dir);
  const indptr = new Float64Array(rows + 1);
  // A loop, not Float64Array.from(…, Number), which boxes a million numbers on the heap first.
  const ptr = await src.slice("indptr", 0, rows + 1);
  for (let r = 0; r <= rows; r++) indptr[r] = Number(ptr[r]!);
  const nnz = indptr[rows]!;
  const colptr = await countGenes(src, nnz, opts);
  if (colptr[genes] !== nnz) throw new AnnDataError("BAD_LENGTH", `${src.what}: indptr ends at ${nnz}, indices holds ${colptr[genes]} entries`);
  const fd = openSync(join(dir, "entries.bin"), "w");
  let runs: GeneRuns;
  try {
    runs = new GeneRuns(colptr, fd);
    for (let r0 = 0; r0 < rows; ) {
      opts.signal?.throwIfAborted();
      // Rows whose entries fit one read block (at least one row, however long).
      let r1 = r0 + 1;
      while (r1 < rows && indptr[r1 + 1]! - indptr[r0]! <= READ_BLOCK) r1++;
      const lo = indptr[r0]!;
      const hi = indptr[r1]!;
      const indices = asNumbers(await src.slice("indices", lo, hi));
      const data = asNumbers(await src.slice("data", lo, hi));
      scatterRows(runs, indptr, r0, r1, lo, indices, data);
      opts.onProgress?.(hi, nnz);
      r0 = r1;
    }
    for (let g = 0; g < genes; g++) runs.flush(g);
    if (!runs.complete()) throw new AnnDataError("BAD_LENGTH", `${src.what}: indices changed while the column index was built`);
  } finally {
    closeSync(fd);
  }
  // Written last: a folder without a valid index.bin is incomplete and never used.
  await writeFile(join(dir, "index.bin"), indexBytes(colptr, runs.checks));
}

/**
 * What identifies a file's content for the cache: its size, mtime and inode,
 * and a hash of its first 64 KiB (the header, which a rewrite changes even
 * when the size and the mtime's resolution do not tell).
 */
export async function fileIdentity(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const s = await fh.stat({ bigint: true });
    const head = new Uint8Array(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return `${path}\0${s.size}\0${s.mtimeNs}\0${s.ino}\0${createHash("sha256").update(head.subarray(0, bytesRead)).digest("hex")}`;
  } finally {
    await fh.close();
  }
}

/** The same for a Zarr element: every file under its folder, by name, size, mtime and inode, and its metadata files' bytes. */
export async function directoryIdentity(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const visit = async (path: string): Promise<void> => {
    for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(path, e.name);
      if (e.isDirectory()) {
        await visit(p);
        continue;
      }
      const s = await stat(p, { bigint: true });
      hash.update(`${p}\0${s.size}\0${s.mtimeNs}\0${s.ino}\n`);
      if (e.name.startsWith(".z")) hash.update(await readFile(p));
    }
  };
  await visit(dir);
  return `${dir}\0${hash.digest("hex")}`;
}
