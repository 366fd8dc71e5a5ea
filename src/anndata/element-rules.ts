/**
 * Rules about AnnData elements that hold whatever the backend (.h5ad, .zarr
 * or memory) and whatever the encoding: the element names a store can hold,
 * row-count and column-count limits. Each encoding's own checks are in its
 * module (encodings/); these are the ones around them.
 */
import { AnnDataError, type ColumnInput, type LazyColumn } from "./model.js";

/** The first value seen twice, or null. */
export function firstRepeated(values: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) return v;
    seen.add(v);
  }
  return null;
}

/**
 * A column name both stores can hold: element names become HDF5 link names
 * and Zarr folder names, so "/" would nest, "." / ".." escape, "\\" and NUL
 * are not portable, ".z…" collides with Zarr's metadata and ".cellucid-…"
 * with our journal, staging and lock files.
 */
export function isStorableName(name: string): boolean {
  return !(name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\\") || name.includes("\0") || name.startsWith(".z") || name.startsWith(".cellucid-"));
}

/** Refuses (BAD_NAME) a column name no store can hold, or the data frame's index name. */
export function checkColumnName(store: string, axis: string, name: string, indexKey: string): void {
  if (!isStorableName(name)) throw new AnnDataError("BAD_NAME", `${store}: a column cannot be stored under the name ${axis}/${name} (no "/", "\\", ".", "..", ".z…" or ".cellucid-…" names); choose another prefix`);
  if (name === indexKey) throw new AnnDataError("BAD_NAME", `${store}: ${axis}/${name} is the index, not a column`);
}

/** Refuses (BAD_NAME) an uns key no store can hold; `at` names where it was to go. */
export function checkUnsKey(at: string, key: string): void {
  if (!isStorableName(key)) throw new AnnDataError("BAD_NAME", `${at}: uns key ${JSON.stringify(key)} cannot be stored (no "/", "\\", ".", "..", ".z…" or ".cellucid-…" names)`);
}

export async function resolveColumn(column: ColumnInput | LazyColumn): Promise<ColumnInput> {
  return typeof column === "function" ? column() : column;
}

/**
 * The most rows a data frame may claim: JS typed arrays and int32 sparse
 * indices stop at 2^31 − 1, and a claimed length beyond it (or negative, or
 * not an integer) is a broken or hostile file, refused before anything is
 * allocated for it.
 */
export const MAX_ROWS = 2 ** 31 - 1;

/** Refuses (BAD_LENGTH) a 1-d shape that is not a row count this code can hold. */
export function checkRowCount(shape: readonly unknown[], what: string): void {
  const n = shape[0];
  if (shape.length !== 1 || typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_ROWS) {
    throw new AnnDataError("BAD_LENGTH", `${what} claims shape [${shape.map(String).join(", ")}]; a 1-d array of at most ${MAX_ROWS} rows is expected`);
  }
}

/**
 * HDF5 stores an attribute in its object's header, whose messages are at most
 * 64 KiB unless the file allows dense attribute storage (which h5py's default
 * file format does not): a `column-order` of variable-length strings takes 16
 * bytes per name. Refused before anything is written, so an apply with too
 * many new columns fails cleanly instead of leaving a file anndata cannot read.
 */
export const MAX_COLUMN_ORDER_NAMES = 4000;

export function checkColumnOrderSize(store: string, axis: string, columns: number): void {
  if (columns > MAX_COLUMN_ORDER_NAMES) {
    throw new AnnDataError("BAD_VALUE", `${store}: ${axis} would have ${columns} columns; an .h5ad data frame holds at most ${MAX_COLUMN_ORDER_NAMES} (its column-order attribute must fit in 64 KiB for h5py to read it); apply fewer highlight groups or fields at once`);
  }
}
