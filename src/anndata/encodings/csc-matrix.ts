/**
 * anndata `csc_matrix` 0.1.0. Columns are contiguous: a gene is two range
 * reads; a block of rows cuts across every column, so it takes one pass over
 * the entries, a block at a time.
 */
import type { Encoding, SparseMatrix } from "./encoding.js";
import { encodingAttrs } from "./encoding.js";
import { READ_BLOCK } from "./array.js";
import { holdsSparse, scatter, sparseShapeOf, writeSparse } from "./sparse.js";

export const cscMatrix: Encoding = {
  type: "csc_matrix",
  version: "0.1.0",
  matrix: {
    layout: "csc",
    shapeOf: sparseShapeOf,
    holds: holdsSparse("csc"),
    async column(src, gene) {
      const out = new Float32Array(src.shape[0]);
      const ptr = await src.slice("indptr", gene, gene + 2);
      scatter(out, await src.slice("indices", Number(ptr[0]), Number(ptr[1])), await src.slice("data", Number(ptr[0]), Number(ptr[1])));
      return out;
    },
    async rows(src, start, end, out, opts) {
      const cols = src.shape[1];
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
    },
    write: (io, path, m) => writeSparse(io, path, m as SparseMatrix, encodingAttrs(cscMatrix)),
  },
};
