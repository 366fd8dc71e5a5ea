/**
 * anndata `array` 0.2.0: a numeric or numpy-bool array. 1-d it is a column
 * (`numeric` / `bool`) or an uns array; 2-d a dense matrix (X, a layer, an
 * obsm entry), read a block of rows at a time (written as 1-d only: both
 * backends write 1-d arrays).
 */
import { AnnDataError, type Column, type NumericArray } from "../model.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { type ElementIO, dimsOf, isNumericArray, readVector } from "./io.js";
import { readUnsLeaf } from "./scalar.js";

/** Values (or entries) read at a time when a whole pass over a matrix is needed. */
export const READ_BLOCK = 4 * 1024 * 1024;

/** A 1-d array as the column its dtype makes it. */
export async function readVectorColumn(io: ElementIO, path: string, rows: number): Promise<Column> {
  const r = await readVector(io, path, rows);
  if (r.type === "string") return { kind: "string", values: r.data };
  if (r.type === "bool") return { kind: "bool", values: r.data };
  return { kind: "numeric", values: r.data };
}

export function toFloat32(a: NumericArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>, Number);
}

export const array: Encoding = {
  type: "array",
  version: "0.2.0",
  column: {
    kinds: ["bool", "numeric"],
    kindOf: (io, path) => {
      const dtype = io.kind(path) === "array" ? io.info(path).dtype : null;
      return dtype === null ? null : dtype === "string" ? "string" : dtype === "bool" ? "bool" : "numeric";
    },
    read: readVectorColumn,
    // A bool column by its true rows is written from them: they must be rows of the column, ascending, once each.
    check: (c, at) => {
      if (!("trueRows" in c)) return;
      const rows = c.trueRows;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        if (r >= c.length || (i > 0 && r <= rows[i - 1]!))
          throw new AnnDataError("BAD_VALUE", `${at}: trueRows must list rows below ${c.length} in ascending order, each once (row ${r} at position ${i} does not)`);
      }
    },
    write: (io, path, c) => {
      if ("trueRows" in c) return io.writeArray(path, { type: "bool", length: c.length, trueRows: c.trueRows }, encodingAttrs(array));
      if (c.kind === "bool") return io.writeArray(path, { type: "bool", data: c.values }, encodingAttrs(array));
      return io.writeArray(path, { type: "numeric", data: (c as Extract<Column, { kind: "numeric" }>).values }, encodingAttrs(array));
    },
  },
  uns: {
    holds: (v) => isNumericArray(v),
    read: (io, path) => readUnsLeaf(io, path),
    write: (io, path, v) => io.writeArray(path, { type: "numeric", data: v as NumericArray }, encodingAttrs(array)),
  },
  matrix: {
    layout: "dense",
    shapeOf: (io, path) => {
      if (io.kind(path) !== "array") return null;
      const info = io.info(path);
      return info.dtype !== null && info.dtype !== "string" && dimsOf(info.shape)?.length === 2 ? info.shape : null;
    },
    holds: (m) => !("format" in m),
    async column(src, gene, opts) {
      const [rows, cols] = src.shape;
      const out = new Float32Array(rows);
      const step = Math.max(1, Math.floor(READ_BLOCK / Math.max(1, cols)));
      for (let r = 0; r < rows; r += step) {
        opts.signal?.throwIfAborted();
        const end = Math.min(rows, r + step);
        const block = await src.denseRows(r, end);
        for (let i = 0, at = gene; i < end - r; i++, at += cols) out[r + i] = Number(block[at]!);
      }
      return out;
    },
    async rows(src, start, end, out) {
      out.set(toFloat32(await src.denseRows(start, end)));
    },
  },
};
