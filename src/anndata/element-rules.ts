/**
 * Rules about AnnData elements that hold whatever the backend (.h5ad or
 * .zarr): the encoding versions this code reads and writes, the checks a
 * column must pass before it is written, and the element names a store can
 * hold. Both stores call these, so the same input gets the same error code.
 */
import { AnnDataError, type Column, type LazyColumn } from "./model.js";

export const ENCODING_TYPE = "encoding-type";
export const ENCODING_VERSION = "encoding-version";

/** The encoding versions this code reads and writes; others may lay out members differently. */
export const ENCODING_VERSIONS: Readonly<Record<string, string>> = {
  array: "0.2.0",
  "string-array": "0.2.0",
  categorical: "0.2.0",
  "nullable-integer": "0.1.0",
  "nullable-boolean": "0.1.0",
  dict: "0.1.0",
  string: "0.2.0",
  "numeric-scalar": "0.2.0",
  dataframe: "0.2.0",
  csr_matrix: "0.1.0",
  csc_matrix: "0.1.0",
  anndata: "0.1.0",
};

/**
 * An element's encoding-type from its attributes, checking that its version
 * is one we understand (absent type or version = legacy files, accepted).
 * `what` names the element in the message.
 */
export function encodingOf(attrs: Readonly<Record<string, unknown>>, what: string): string | undefined {
  const type = attrs[ENCODING_TYPE];
  if (type === undefined) return undefined;
  if (typeof type !== "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has a non-string encoding-type`);
  const version = attrs[ENCODING_VERSION];
  const known = ENCODING_VERSIONS[type];
  if (known !== undefined && version !== undefined && version !== known) {
    throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has encoding ${type} ${String(version)}; only ${known} is supported`);
  }
  return type;
}

/**
 * What would make an element anndata cannot read back: a mask of the wrong
 * length; codes outside −1..n−1 or repeated categories, which pandas refuses
 * (`Categorical categories must be unique`). Throws AnnDataError BAD_VALUE.
 */
export function checkColumn(c: Column, what: string): void {
  if ((c.kind === "nullable-integer" || c.kind === "nullable-boolean") && c.mask.length !== c.values.length) {
    throw new AnnDataError("BAD_LENGTH", `${what}: mask has ${c.mask.length} entries for ${c.values.length} values`);
  }
  if (c.kind !== "categorical") return;
  const repeated = firstRepeated(c.categories);
  if (repeated !== null) throw new AnnDataError("BAD_VALUE", `${what}: category ${JSON.stringify(repeated)} appears more than once (categories must be unique)`);
  const n = c.categories.length;
  for (let i = 0; i < c.codes.length; i++) {
    const code = Number(c.codes[i]);
    if (code < -1 || code >= n) throw new AnnDataError("BAD_VALUE", `${what}: code ${code} at row ${i} is outside -1..${n - 1}`);
  }
}

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

export async function resolveColumn(column: Column | LazyColumn): Promise<Column> {
  return typeof column === "function" ? column() : column;
}

/** Encodings read as uns values that are not dicts. */
export const UNS_LEAF_ENCODINGS: readonly string[] = ["string", "numeric-scalar", "array", "string-array"];

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

export function checkColumnOrderSize(store: string, axis: string, names: readonly string[]): void {
  if (names.length > MAX_COLUMN_ORDER_NAMES) {
    throw new AnnDataError("BAD_VALUE", `${store}: ${axis} would have ${names.length} columns; an .h5ad data frame holds at most ${MAX_COLUMN_ORDER_NAMES} (its column-order attribute must fit in 64 KiB for h5py to read it); apply fewer highlight groups or fields at once`);
  }
}
