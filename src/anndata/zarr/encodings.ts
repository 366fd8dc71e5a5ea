/**
 * anndata's encoding spec (SPEC §7) on top of Zarr v2 nodes: which arrays and
 * groups, with which `encoding-type` / `encoding-version` attributes, make a
 * column or an uns value. Written exactly as Python anndata writes them, so
 * `anndata.read_zarr` reads our columns back with the same dtypes.
 */
import { AnnDataError, type CategoricalCodes as CodesArray, type Column, type NumericArray, type UnsValue, codesArrayFor, isUnsDict } from "../model.js";
import { ENCODING_TYPE, ENCODING_VERSION, ENCODING_VERSIONS, UNS_LEAF_ENCODINGS, encodingOf } from "../element-rules.js";
import { type ArrayData, type ArrayRead, isNumericArray, readArray, writeArray } from "./arrays.js";
import { type JsonObject, type ZarrFiles, checkElementName, keyJoin } from "./files.js";

function encodingAttrs(type: string, extra: JsonObject = {}): JsonObject {
  return { [ENCODING_TYPE]: type, [ENCODING_VERSION]: ENCODING_VERSIONS[type]!, ...extra };
}

async function attrsOf(files: ZarrFiles, key: string): Promise<JsonObject> {
  return (await files.readJsonObject(keyJoin(key, ".zattrs"))) ?? {};
}

// ---------------------------------------------------------------- columns

/** What readColumnAt would return for `key`, from `.zattrs` / `.zarray` only; null for a non-column node. */
export async function columnKindAt(files: ZarrFiles, key: string, what: string): Promise<Column["kind"] | null> {
  const kind = await files.nodeKind(key);
  if (!kind) return null;
  const type = encodingOf(await attrsOf(files, key), what);
  if (kind === "group") return type === "categorical" || type === "nullable-integer" || type === "nullable-boolean" ? type : null;
  if (type !== undefined && type !== "array" && type !== "string-array") return null;
  const dtype = (await files.readJsonObject(keyJoin(key, ".zarray")))?.["dtype"];
  if (typeof dtype !== "string") return null;
  if (dtype === "|b1") return "bool";
  if (/^[<>|][iuf]\d+$/.test(dtype)) return "numeric";
  return dtype === "|O" || /^[<>|][US]\d+$/.test(dtype) ? "string" : null;
}

/** Reads the column stored at `key`, which must exist (the caller checks). */
export async function readColumnAt(files: ZarrFiles, key: string, what: string, rows: number): Promise<Column> {
  const kind = await files.nodeKind(key);
  const attrs = await attrsOf(files, key);
  const type = encodingOf(attrs, what);
  if (kind === "array") {
    if (type === undefined && "categories" in attrs) {
      throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} is a pre-0.8 anndata categorical (codes with a "categories" attribute)`);
    }
    if (type !== undefined && type !== "array" && type !== "string-array") {
      throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has encoding-type ${type}, not a column encoding`);
    }
    const r = await readVector(files, key, what, rows);
    if (r.type === "string") return { kind: "string", values: r.data };
    if (r.type === "bool") return { kind: "bool", values: r.data };
    return { kind: "numeric", values: r.data };
  }
  if (type === "categorical") {
    const codes = await readVector(files, keyJoin(key, "codes"), `${what}/codes`, rows);
    if (codes.type !== "numeric" || !isCodes(codes.data)) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what}/codes has dtype ${codes.dtype}, not a signed integer`);
    const cats = await readVector(files, keyJoin(key, "categories"), `${what}/categories`, null);
    return { kind: "categorical", codes: codes.data, categories: categoriesAsStrings(cats), ordered: attrs["ordered"] === true };
  }
  if (type === "nullable-integer" || type === "nullable-boolean") {
    const values = await readVector(files, keyJoin(key, "values"), `${what}/values`, rows);
    const maskRead = await readVector(files, keyJoin(key, "mask"), `${what}/mask`, rows);
    if (maskRead.type === "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what}/mask holds strings`);
    const mask = maskRead.type === "bool" ? maskRead.data : Uint8Array.from(maskRead.data as ArrayLike<number | bigint>, (m) => (m ? 1 : 0));
    if (type === "nullable-boolean") {
      if (values.type !== "bool") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what}/values has dtype ${values.dtype}, not bool`);
      return { kind: "nullable-boolean", values: values.data, mask };
    }
    if (values.type !== "numeric") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what}/values has dtype ${values.dtype}, not an integer`);
    return { kind: "nullable-integer", values: values.data, mask };
  }
  throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has encoding-type ${type ?? "(none)"}, not a column encoding`);
}

/** A 1-d member; with `rows`, its claimed length must be that (checked before anything is read). */
async function readVector(files: ZarrFiles, key: string, what: string, rows: number | null): Promise<ArrayRead> {
  if ((await files.nodeKind(key)) !== "array") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} is missing or not an array`);
  const shape = (await files.readJsonObject(keyJoin(key, ".zarray")))?.["shape"];
  if (rows !== null && !(Array.isArray(shape) && shape.length === 1 && shape[0] === rows)) {
    throw new AnnDataError("BAD_LENGTH", `${what} claims shape ${JSON.stringify(shape ?? null)}, expected [${rows}]`);
  }
  const r = await readArray(files, key, what);
  if (r.shape.length !== 1) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} is ${r.shape.length}-d, a column must be 1-d`);
  return r;
}

function isCodes(v: NumericArray): v is CodesArray {
  return v instanceof Int8Array || v instanceof Int16Array || v instanceof Int32Array || v instanceof BigInt64Array;
}

/** The model's categories are strings; numeric or bool categories are shown as pandas prints them. */
function categoriesAsStrings(r: ArrayRead): string[] {
  if (r.type === "string") return r.data;
  if (r.type === "bool") return Array.from(r.data, (b) => (b ? "True" : "False"));
  return Array.from(r.data as ArrayLike<number | bigint>, String);
}

/** Writes `c` as a new node at `key` (which must not exist). */
export async function writeColumnAt(files: ZarrFiles, key: string, c: Column): Promise<void> {
  switch (c.kind) {
    case "bool":
      return writeArray(files, key, { type: "bool", data: c.values }, encodingAttrs("array"));
    case "numeric":
      return writeArray(files, key, { type: "numeric", data: c.values }, encodingAttrs("array"));
    case "string":
      return writeArray(files, key, { type: "string", data: c.values }, encodingAttrs("string-array"));
    case "categorical":
      return writeGroup(files, key, encodingAttrs("categorical", { ordered: c.ordered }), async () => {
        await writeArray(files, keyJoin(key, "codes"), { type: "numeric", data: smallestCodes(c) }, encodingAttrs("array"));
        await writeArray(files, keyJoin(key, "categories"), { type: "string", data: c.categories }, encodingAttrs("string-array"));
      });
    case "nullable-integer":
    case "nullable-boolean":
      return writeGroup(files, key, encodingAttrs(c.kind), async () => {
        const values: ArrayData = c.kind === "nullable-boolean" ? { type: "bool", data: c.values } : { type: "numeric", data: c.values };
        await writeArray(files, keyJoin(key, "values"), values, encodingAttrs("array"));
        await writeArray(files, keyJoin(key, "mask"), { type: "bool", data: c.mask }, encodingAttrs("array"));
      });
  }
}

/** pandas keeps codes in the smallest signed type that fits, and anndata writes them as they are: do the same. */
function smallestCodes(c: Extract<Column, { kind: "categorical" }>): CodesArray {
  const out = codesArrayFor(c.categories.length, c.codes.length);
  if (out.constructor === c.codes.constructor) return c.codes;
  for (let i = 0; i < c.codes.length; i++) out[i] = Number(c.codes[i]);
  return out;
}

/** A new group with its members; `.zgroup` goes last so the folder is no Zarr node until it is complete. */
async function writeGroup(files: ZarrFiles, key: string, attrs: JsonObject, members?: () => Promise<void>): Promise<void> {
  await files.mkdir(key);
  await files.writeNewJson(keyJoin(key, ".zattrs"), attrs);
  if (members) await members();
  await files.writeNewJson(keyJoin(key, ".zgroup"), { zarr_format: 2 });
}

// ---------------------------------------------------------------- uns

/** Reads the uns element at `key` (which must exist), recursing into dicts. */
export async function readUnsAt(files: ZarrFiles, key: string, what: string): Promise<UnsValue> {
  const kind = await files.nodeKind(key);
  const type = encodingOf(await attrsOf(files, key), what);
  if (kind === "group") {
    if (type !== undefined && type !== "dict") {
      throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has encoding-type ${type}; only dict, string, numeric-scalar, array and string-array are read in uns`);
    }
    const out: { [key: string]: UnsValue } = {};
    for (const name of await files.children(key)) out[name] = await readUnsAt(files, keyJoin(key, name), `${what}/${name}`);
    return out;
  }
  if (type !== undefined && !UNS_LEAF_ENCODINGS.includes(type)) {
    throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has encoding-type ${type}; only dict, string, numeric-scalar, array and string-array are read in uns`);
  }
  const r = await readArray(files, key, what);
  if (r.shape.length === 0) {
    if (r.type === "string") return r.data[0]!;
    if (r.type === "bool") return r.data[0] === 1;
    return Number(r.data[0]!);
  }
  // UnsValue has no bool array: numpy bool arrays come back as their 0/1 bytes (as the .h5ad store does).
  return r.data;
}

/** Writes `v` as a new node at `key` (which must not exist). */
export async function writeUnsAt(files: ZarrFiles, key: string, v: UnsValue, what: string): Promise<void> {
  if (typeof v === "string") return writeArray(files, key, { type: "string", data: [v] }, encodingAttrs("string"), true);
  if (typeof v === "boolean") return writeArray(files, key, { type: "bool", data: new Uint8Array([v ? 1 : 0]) }, encodingAttrs("numeric-scalar"), true);
  if (typeof v === "number") {
    // Python writes int as int64 and float as float64; a JS number that is an exact integer is taken as an int.
    const data: NumericArray = Number.isSafeInteger(v) ? new BigInt64Array([BigInt(v)]) : new Float64Array([v]);
    return writeArray(files, key, { type: "numeric", data }, encodingAttrs("numeric-scalar"), true);
  }
  if (Array.isArray(v)) {
    if (v.some((s) => typeof s !== "string")) throw new TypeError(`${what}: a list in uns must hold only strings`);
    return writeArray(files, key, { type: "string", data: v }, encodingAttrs("string-array"));
  }
  if (isNumericArray(v)) return writeArray(files, key, { type: "numeric", data: v }, encodingAttrs("array"));
  if (isUnsDict(v)) {
    for (const k of Object.keys(v)) checkElementName(k, `uns key ${what}/${k}`);
    return writeGroup(files, key, encodingAttrs("dict"), async () => {
      for (const [k, child] of Object.entries(v)) await writeUnsAt(files, keyJoin(key, k), child, `${what}/${k}`);
    });
  }
  throw new TypeError(`${what}: cannot store ${describe(v)} in uns`);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return typeof v;
}
