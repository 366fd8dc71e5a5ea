/**
 * One matrix (X or a layer) as the matrix encodings (encodings/array.ts,
 * csr-matrix.ts, csc-matrix.ts) and the CSR column index read it: its shape,
 * its layout and range reads of its members. The registry's openMatrix builds
 * it over either backend's element I/O.
 */
import type { NumericArray } from "../model.js";

export type XLayout = "dense" | "csr" | "csc";

export interface XSource {
  /** Names the element in messages, e.g. "/data/x.h5ad: X". */
  readonly what: string;
  readonly shape: [number, number];
  readonly layout: XLayout;
  /** Dense layout: rows [start, end), row-major. */
  denseRows(start: number, end: number): Promise<NumericArray>;
  /** Sparse layouts: entries [start, end) of `data`, `indices` or `indptr`. */
  slice(member: "data" | "indices" | "indptr", start: number, end: number): Promise<NumericArray>;
  /** Changes whenever the matrix may have changed: the key of cached one-time work. */
  identity(): Promise<string>;
}
