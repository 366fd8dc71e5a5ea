/**
 * X (or a layer) for the viewer: one gene's column, or a block of rows, from
 * a dense, csr_matrix or csc_matrix element, in memory bounded by what is
 * returned (plus a fixed read block), never by X. Both file stores describe
 * their matrix as an XSource (shape, layout and range reads of its members);
 * everything else is here, once.
 */
import { AnnDataError, type DenseMatrix, type NumericArray, type XReadOptions } from "../model.js";
import type { XSource } from "./source.js";
import { csrColumn } from "./csr-index.js";

export type { XLayout, XSource } from "./source.js";

/** Entries (or dense values) read at a time when a whole pass over X is needed. */
export const READ_BLOCK = 4 * 1024 * 1024;

export async function readXColumn(src: XSource, gene: number, opts: XReadOptions = {}): Promise<Float32Array> {
  const [rows, cols] = src.shape;
  if (!Number.isInteger(gene) || gene < 0 || gene >= cols) throw new AnnDataError("NO_SUCH_COLUMN", `${src.what}: no gene at index ${gene} (n_vars ${cols})`);
  const out = new Float32Array(rows);
  if (src.layout === "csc") {
    const ptr = await src.slice("indptr", gene, gene + 2);
    scatter(out, await src.slice("indices", Number(ptr[0]), Number(ptr[1])), await src.slice("data", Number(ptr[0]), Number(ptr[1])));
    return out;
  }
  if (src.layout === "csr") {
    const { rowIds, values } = await csrColumn(src, gene, opts);
    scatter(out, rowIds, values);
    return out;
  }
  const step = Math.max(1, Math.floor(READ_BLOCK / Math.max(1, cols)));
  for (let r = 0; r < rows; r += step) {
    opts.signal?.throwIfAborted();
    const end = Math.min(rows, r + step);
    const block = await src.denseRows(r, end);
    for (let i = 0, at = gene; i < end - r; i++, at += cols) out[r + i] = Number(block[at]!);
  }
  return out;
}

export async function readXRows(src: XSource, start: number, end: number, opts: XReadOptions = {}): Promise<DenseMatrix> {
  const [rows, cols] = src.shape;
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
    throw new AnnDataError("BAD_LENGTH", `${src.what}: rows ${start}..${end} are outside 0..${rows}`);
  }
  const n = end - start;
  if (n * cols > 2 ** 31 - 1) throw new AnnDataError("BAD_LENGTH", `${src.what}: rows ${start}..${end} hold ${n * cols} values, more than one array can (read fewer rows)`);
  const out = new Float32Array(n * cols);
  if (src.layout === "dense") {
    out.set(toFloat32(await src.denseRows(start, end)));
  } else if (src.layout === "csr") {
    const ptr = await src.slice("indptr", start, end + 1);
    const lo = Number(ptr[0]);
    const indices = await src.slice("indices", lo, Number(ptr[n]));
    const data = await src.slice("data", lo, Number(ptr[n]));
    for (let r = 0; r < n; r++) {
      for (let k = Number(ptr[r]) - lo; k < Number(ptr[r + 1]) - lo; k++) out[r * cols + Number(indices[k])] = Number(data[k]);
    }
  } else {
    // CSC rows cut across every column: one pass over the entries, a block at a time.
    const ptr = await src.slice("indptr", 0, cols + 1);
    const nnz = Number(ptr[cols]);
    let col = 0;
    for (let k0 = 0; k0 < nnz; k0 += READ_BLOCK) {
      opts.signal?.throwIfAborted();
      const k1 = Math.min(nnz, k0 + READ_BLOCK);
      const indices = await src.slice("indices", k0, k1);
      const data = await src.slice("data", k0, k1);
      for (let k = k0; k < k1; k++) {
        while (Number(ptr[col + 1]) <= k) col++;
        const r = Number(indices[k - k0]);
        if (r >= start && r < end) out[(r - start) * cols + col] = Number(data[k - k0]);
      }
      opts.onProgress?.(k1, nnz);
    }
  }
  return { shape: [n, cols], data: out };
}

function scatter(out: Float32Array, rows: ArrayLike<number | bigint>, values: ArrayLike<number | bigint>): void {
  for (let k = 0; k < rows.length; k++) {
    const r = Number(rows[k]);
    if (r < 0 || r >= out.length) throw new AnnDataError("BAD_LENGTH", `a sparse index ${r} is outside 0..${out.length}`);
    out[r] = Number(values[k]);
  }
}

export function toFloat32(a: NumericArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>, Number);
}
