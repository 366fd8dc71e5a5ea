/**
 * What `csr_matrix` and `csc_matrix` 0.1.0 share: a group with `data`,
 * `indices` and `indptr` and a `shape` attribute; CSR compresses rows, CSC
 * columns. The reads that differ are in csr-matrix.ts and csc-matrix.ts.
 */
import { AnnDataError, type DenseMatrix } from "../model.js";
import type { SparseMatrix } from "./encoding.js";
import { type AttrsWrite, type ElementIO, dtypeOf, join, what } from "./io.js";

/** The `shape` attribute, as numbers (h5py stores it as an int64 array, Zarr as JSON). */
export function sparseShapeOf(io: ElementIO, path: string): unknown {
  if (io.kind(path) !== "group") return null;
  const shape = io.attrs(path)["shape"];
  return ArrayBuffer.isView(shape) || Array.isArray(shape) ? Array.from(shape as ArrayLike<unknown>, (d) => (typeof d === "bigint" ? Number(d) : d)) : null;
}

export function holdsSparse(format: SparseMatrix["format"]): (m: DenseMatrix | SparseMatrix) => boolean {
  return (m) => "format" in m && m.format === format;
}

/**
 * Refuses (BAD_VALUE) a matrix scipy would not read back: `indptr` of
 * major + 1 non-decreasing entries from 0 to the entry count, `indices` and
 * `data` of that many entries, every index within the minor dimension.
 */
export function checkSparse(m: SparseMatrix, at: string): void {
  const [major, minor] = m.format === "csr" ? m.shape : [m.shape[1], m.shape[0]];
  const ptr = Array.from(m.indptr as ArrayLike<number | bigint>, Number);
  const nnz = ptr[ptr.length - 1];
  const bad = (rule: string) => new AnnDataError("BAD_VALUE", `${at}: ${rule}`);
  if (ptr.length !== major + 1 || ptr[0] !== 0) throw bad(`indptr must have ${major + 1} entries starting at 0`);
  for (let i = 1; i < ptr.length; i++) if (ptr[i]! < ptr[i - 1]!) throw bad(`indptr decreases at entry ${i}`);
  if (m.indices.length !== nnz || m.data.length !== nnz) throw bad(`indices (${m.indices.length}) and data (${m.data.length}) must have indptr's last entry (${nnz}) entries`);
  for (let k = 0; k < m.indices.length; k++) {
    const i = Number(m.indices[k]);
    if (!(i >= 0 && i < minor)) throw bad(`index ${i} at entry ${k} is outside 0..${minor}`);
  }
}

/** Writes a checked sparse matrix as anndata does: the group's attributes, then data, indices, indptr. */
export async function writeSparse(io: ElementIO, path: string, m: SparseMatrix, attrs: AttrsWrite): Promise<void> {
  checkSparse(m, what(io, path));
  if (dtypeOf(m.indices).startsWith("float") || dtypeOf(m.indptr).startsWith("float")) throw new AnnDataError("BAD_VALUE", `${what(io, path)}: indices and indptr must be integer arrays`);
  await io.writeGroup(path, { ...attrs, shape: m.shape }, async () => {
    await io.writeArray(join(path, "data"), { type: "numeric", data: m.data }, {});
    await io.writeArray(join(path, "indices"), { type: "numeric", data: m.indices }, {});
    await io.writeArray(join(path, "indptr"), { type: "numeric", data: m.indptr }, {});
  });
}

/** Writes one column's sparse entries into a dense column, refusing (BAD_LENGTH) an index outside it. */
export function scatter(out: Float32Array, rows: ArrayLike<number | bigint>, values: ArrayLike<number | bigint>): void {
  for (let k = 0; k < rows.length; k++) {
    const r = Number(rows[k]);
    if (r < 0 || r >= out.length) throw new AnnDataError("BAD_LENGTH", `a sparse index ${r} is outside 0..${out.length}`);
    out[r] = Number(values[k]);
  }
}
