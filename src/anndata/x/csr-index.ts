/**
 * A CSR matrix's per-gene column index: its entries transposed to column
 * order (CSC) on disk, built once in one pass over X in bounded memory and
 * then read a gene at a time with two positioned reads.
 *
 * The pass reads X a block of rows at a time and appends each entry (row,
 * gene, value) to the temp file of its gene block (64 blocks), a block's
 * entries grouped by gene block in one buffer (12 MB); each gene block's
 * file is then counting-sorted by gene, in memory bounded by that block, into
 * `rows.u32` / `values.f32` at the block's offset. Rows stay ascending within
 * a gene because the pass visits rows in order.
 *
 * With `cacheDir` the index is kept there under a name derived from the
 * matrix's identity (file size, mtime, inode and a hash of its header), so a
 * changed file gets a new index; without it, it lives in a temp folder
 * removed at exit.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerTemp } from "../../platform/node/cleanup.js";
import { AnnDataError, type XReadOptions } from "../model.js";
import type { XSource } from "./source.js";

const BUCKETS = 64;
const ENTRY_BYTES = 12;
/** Entries read per block of rows: small enough that blocks waiting for the garbage collector stay a few MB each. */
const INDEX_BLOCK = 1024 * 1024;

export interface ColumnIndex {
  column(gene: number): Promise<{ rowIds: Uint32Array; values: Float32Array }>;
}

const built = new WeakMap<XSource, Promise<ColumnIndex>>();

/** The index of `src`, from the cache when it is there, else built (once per source, however many callers ask). */
export function csrColumnIndex(src: XSource, opts: XReadOptions): Promise<ColumnIndex> {
  let index = built.get(src);
  if (!index) {
    index = openOrBuild(src, opts);
    built.set(src, index);
    // A failed or aborted build is not remembered: the next call tries again.
    index.catch(() => built.delete(src));
  }
  return index;
}

async function openOrBuild(src: XSource, opts: XReadOptions): Promise<ColumnIndex> {
  const key = createHash("sha256").update(await src.identity()).digest("hex").slice(0, 32);
  let root: string;
  if (opts.cacheDir) {
    await mkdir(opts.cacheDir, { recursive: true });
    root = opts.cacheDir;
  } else {
    root = await mkdtemp(join(tmpdir(), "cellucid-x-"));
    registerTemp(root);
  }
  const dir = join(root, `cellucid-x-${key}`);
  const colptr = await readColptr(dir, src.shape[1]);
  if (colptr) return new FileIndex(dir, colptr);
  const tmp = join(root, `.cellucid-x-${key}-${randomBytes(4).toString("hex")}`);
  registerTemp(tmp);
  try {
    await build(src, tmp, opts);
    // Another process may have finished the same index meanwhile: either copy is the same.
    await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const done = await readColptr(dir, src.shape[1]);
  if (!done) throw new AnnDataError("IO", `${src.what}: the column index written to ${dir} cannot be read back`);
  return new FileIndex(dir, done);
}

async function readColptr(dir: string, genes: number): Promise<Float64Array | null> {
  try {
    const bytes = await readFile(join(dir, "colptr.f64"));
    if (bytes.length !== (genes + 1) * 8) return null;
    return new Float64Array(bytes.buffer, bytes.byteOffset, genes + 1).slice();
  } catch {
    return null;
  }
}

class FileIndex implements ColumnIndex {
  constructor(private readonly dir: string, private readonly colptr: Float64Array) {}

  async column(gene: number): Promise<{ rowIds: Uint32Array; values: Float32Array }> {
    const lo = this.colptr[gene]!;
    const n = this.colptr[gene + 1]! - lo;
    return { rowIds: new Uint32Array(await readAt(join(this.dir, "rows.u32"), lo * 4, n * 4)), values: new Float32Array(await readAt(join(this.dir, "values.f32"), lo * 4, n * 4)) };
  }
}

interface RowBlock {
  indptr: Float64Array;
  r0: number;
  r1: number;
  /** indptr[r0]: where `indices` and `data` start. */
  lo: number;
  indices: ArrayLike<number>;
  data: ArrayLike<number>;
}

/**
 * Counts each gene's entries and writes the block's entries into `out`
 * grouped by bucket (bucket b at entries bucketStart[b]..bucketStart[b+1]),
 * rows ascending within each. Synchronous, so the hot loop is plain code.
 * Returns a gene outside 0..genes, or null.
 */
function scatterBlock(block: RowBlock, bucketOf: Uint8Array, counts: Int32Array, out: Uint32Array, bucketStart: Float64Array): number | null {
  const { indptr, r0, r1, lo, indices, data } = block;
  const n = indptr[r1]! - lo;
  const genes = bucketOf.length;
  const next = new Int32Array(BUCKETS);
  for (let k = 0; k < n; k++) {
    const g = indices[k]!;
    if (!(g >= 0 && g < genes)) return g;
    counts[g]!++;
    next[bucketOf[g]!]!++;
  }
  bucketStart[0] = 0;
  for (let b = 0; b < BUCKETS; b++) {
    bucketStart[b + 1] = bucketStart[b]! + next[b]!;
    next[b] = bucketStart[b]!;
  }
  const floats = new Float32Array(out.buffer, out.byteOffset, out.length);
  for (let r = r0; r < r1; r++) {
    for (let k = indptr[r]! - lo, end = indptr[r + 1]! - lo; k < end; k++) {
      const g = indices[k]!;
      const at = 3 * next[bucketOf[g]!]!++;
      out[at] = r;
      out[at + 1] = g;
      floats[at + 2] = data[k]!;
    }
  }
  return null;
}

/** Counting sort of one gene block's entries (row, gene, value bits) by gene into rowIds / values. */
function sortBucket(entries: Uint32Array, entryFloats: Float32Array, colptr: Float64Array, g0: number, g1: number, rowIds: Uint32Array, values: Float32Array): void {
  const base = colptr[g0]!;
  const next = new Int32Array(g1 - g0);
  for (let g = g0; g < g1; g++) next[g - g0] = colptr[g]! - base;
  for (let at = 0; at < entries.length; at += 3) {
    const pos = next[entries[at + 1]! - g0]!++;
    rowIds[pos] = entries[at]!;
    values[pos] = entryFloats[at + 2]!;
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

async function build(src: XSource, dir: string, opts: XReadOptions): Promise<void> {
  const [rows, genes] = src.shape;
  await mkdir(dir);
  const perBucket = Math.max(1, Math.ceil(genes / BUCKETS));
  const bucketFiles = await Promise.all(Array.from({ length: BUCKETS }, (_, b) => open(join(dir, `bucket-${b}`), "w")));
  const counts = new Int32Array(genes);
  const bucketOf = Uint8Array.from({ length: genes }, (_, g) => Math.floor(g / perBucket));
  try {
    const indptr = Float64Array.from(await src.slice("indptr", 0, rows + 1) as ArrayLike<number>, Number);
    const nnz = indptr[rows]!;
    // One block's entries as three 32-bit words (row, gene, value bits), grouped by bucket.
    const words = new Uint32Array(3 * Math.min(nnz, INDEX_BLOCK) + 3);
    const bucketStart = new Float64Array(BUCKETS + 1);
    for (let r0 = 0; r0 < rows; ) {
      opts.signal?.throwIfAborted();
      // Rows whose entries fit one read block (at least one row; a longer row gets a bigger buffer).
      let r1 = r0 + 1;
      while (r1 < rows && indptr[r1 + 1]! - indptr[r0]! <= INDEX_BLOCK) r1++;
      const lo = indptr[r0]!;
      const hi = indptr[r1]!;
      const block = { indptr, r0, r1, lo, indices: asNumbers(await src.slice("indices", lo, hi)), data: asNumbers(await src.slice("data", lo, hi)) };
      const out = hi - lo <= INDEX_BLOCK ? words : new Uint32Array(3 * (hi - lo));
      const bad = scatterBlock(block, bucketOf, counts, out, bucketStart);
      if (bad !== null) throw new AnnDataError("BAD_LENGTH", `${src.what}: indices holds gene ${bad} outside 0..${genes}`);
      for (let b = 0; b < BUCKETS; b++) {
        const from = bucketStart[b]! * ENTRY_BYTES;
        const to = bucketStart[b + 1]! * ENTRY_BYTES;
        if (to > from) await bucketFiles[b]!.write(new Uint8Array(out.buffer, from, to - from));
      }
      opts.onProgress?.(hi, nnz);
      r0 = r1;
    }
  } finally {
    await Promise.all(bucketFiles.map((f) => f.close()));
  }
  const colptr = new Float64Array(genes + 1);
  for (let g = 0; g < genes; g++) colptr[g + 1] = colptr[g]! + counts[g]!;
  const rowsOut = await open(join(dir, "rows.u32"), "w");
  const valuesOut = await open(join(dir, "values.f32"), "w");
  try {
    for (let b = 0; b < BUCKETS; b++) {
      const g0 = Math.min(genes, b * perBucket);
      const g1 = Math.min(genes, g0 + perBucket);
      const base = colptr[g0]!;
      const n = colptr[g1]! - base;
      const bytes = await readFile(join(dir, `bucket-${b}`));
      await rm(join(dir, `bucket-${b}`));
      if (n === 0) continue;
      // readFile's buffer may sit at any offset of a pool: copy to an aligned one for the 32-bit views.
      const entries = new Uint32Array(bytes.length / 4);
      new Uint8Array(entries.buffer).set(bytes);
      const entryFloats = new Float32Array(entries.buffer);
      const rowIds = new Uint32Array(n);
      const values = new Float32Array(n);
      sortBucket(entries, entryFloats, colptr, g0, g1, rowIds, values);
      await rowsOut.write(new Uint8Array(rowIds.buffer), 0, n * 4, base * 4);
      await valuesOut.write(new Uint8Array(values.buffer), 0, n * 4, base * 4);
    }
    await rowsOut.sync();
    await valuesOut.sync();
  } finally {
    await rowsOut.close();
    await valuesOut.close();
  }
  // Written last: an index folder without it is incomplete and never used.
  await writeFile(join(dir, "colptr.f64"), new Uint8Array(colptr.buffer));
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
