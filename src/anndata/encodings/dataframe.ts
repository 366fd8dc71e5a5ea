/**
 * anndata `dataframe` 0.2.0 (obs, var): a group of columns, its index named
 * by the `_index` attribute and its columns' order by `column-order`. Opening
 * a store reads only this: the attributes and the index's claimed length.
 */
import { AnnDataError, type Utf8Strings } from "../model.js";
import { checkRowCount, isStorableName } from "../element-rules.js";
import type { Encoding } from "./encoding.js";
import { type ElementIO, join, readChecked, readUtf8Checked, what } from "./io.js";

export const dataframe: Encoding = { type: "dataframe", version: "0.2.0" };

export const COLUMN_ORDER = "column-order";

export interface FrameHeader {
  /** Name of the index array inside the data frame group. */
  indexKey: string;
  length: number;
  /** Column names in `column-order`. */
  order: string[];
}

/** The header of the data frame at `path`, whose encoding the caller checked. */
export function readFrameHeader(io: ElementIO, path: string): FrameHeader {
  const attrs = io.attrs(path);
  const indexKey = indexKeyOf(io, path, attrs["_index"]);
  const shape = io.info(join(path, indexKey)).shape;
  checkRowCount(Array.isArray(shape) ? shape : [shape], what(io, join(path, indexKey)));
  return { indexKey, length: (shape as number[])[0]!, order: columnOrder(io, path, attrs[COLUMN_ORDER], indexKey) };
}

function indexKeyOf(io: ElementIO, path: string, key: unknown): string {
  if (typeof key === "string") {
    // A name with "/" or ".." would be followed out of the data frame, or out of the store.
    if (!isStorableName(key) || io.kind(join(path, key)) !== "array") throw new AnnDataError("NOT_ANNDATA", `${io.name}: ${path} names its index ${JSON.stringify(key)}, which is not an array of ${path}`);
    return key;
  }
  // Files from anndata < 0.7 have no _index attribute; their index is "_index" or "index".
  for (const k of ["_index", "index"]) if (io.kind(join(path, k)) === "array") return k;
  throw new AnnDataError("NOT_ANNDATA", `${io.name}: ${path} has no index`);
}

function columnOrder(io: ElementIO, path: string, v: unknown, indexKey: string): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") return [v];
  // No column-order: every member but the index (and the old __categories group) is a column, as anndata falls back.
  return io.members(path).filter((n) => n !== indexKey && n !== "__categories");
}

/** Names [start, end) of the index as UTF-8 bytes; null when the backend does not read them so, or they are no strings (then readIndexRange). */
export function readIndexRangeUtf8(io: ElementIO, path: string, start: number, end: number): Promise<Utf8Strings | null> {
  return readUtf8Checked(io, path, { start, end });
}

/** Names [start, end) of the index; integer indexes (old files) as pandas shows them. */
export async function readIndexRange(io: ElementIO, path: string, start: number, end: number): Promise<string[]> {
  const r = await readChecked(io, path, 1, { start, end });
  if (r.type === "string") return r.data;
  return Array.from(r.data as ArrayLike<number | bigint>, String);
}
