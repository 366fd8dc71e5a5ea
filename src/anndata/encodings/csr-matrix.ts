/**
 * anndata `csr_matrix` 0.1.0. Rows are contiguous: a block of rows is two
 * range reads; a gene's column cuts across every row, so it comes from the
 * matrix's column index (x/csr-index.ts, built once in one bounded pass).
 */
import type { Encoding, SparseMatrix } from "./encoding.js";
import { encodingAttrs } from "./encoding.js";
import { holdsSparse, scatter, sparseShapeOf, writeSparse } from "./sparse.js";

export const csrMatrix: Encoding = {
  type: "csr_matrix",
  version: "0.1.0",
  matrix: {
    layout: "csr",
    shapeOf: sparseShapeOf,
    holds: holdsSparse("csr"),
    async column(src, gene, opts, indexOf) {
      const out = new Float32Array(src.shape[0]);
      const { rowIds, values } = await indexOf(src, gene, opts);
      scatter(out, rowIds, values);
      return out;
    },
    async rows(src, start, end, out) {
      const cols = src.shape[1];
      const n = end - start;
      const ptr = await src.slice("indptr", start, end + 1);
      const lo = Number(ptr[0]);
      const indices = await src.slice("indices", lo, Number(ptr[n]));
      const data = await src.slice("data", lo, Number(ptr[n]));
      for (let r = 0; r < n; r++) {
        for (let k = Number(ptr[r]) - lo; k < Number(ptr[r + 1]) - lo; k++) out[r * cols + Number(indices[k])] = Number(data[k]);
      }
    },
    write: (io, path, m) => writeSparse(io, path, m as SparseMatrix, encodingAttrs(csrMatrix)),
  },
};
