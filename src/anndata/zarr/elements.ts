/**
 * The element I/O of a Zarr v2 directory store (encodings/io.ts): metadata
 * from the `.zarray` / `.zattrs` / `.zgroup` files (read synchronously: a few
 * hundred bytes each), array data through zarrita (arrays.ts), new nodes
 * written as Python zarr 2 writes them. Writes go wherever the caller says:
 * the store writes under its transaction's staging folder.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { directoryIdentity } from "../x/csr-index.js";
import type { ArrayInfo, ArrayRead, ArrayWrite, Attrs, AttrsWrite, DType, ElementIO, NodeKind, RowRange } from "../encodings/io.js";
import { NUMPY_CODES, readArray, writeArray } from "./arrays.js";
import { type JsonObject, type ZarrFiles, isJsonObject, isNotFound, isReservedName, keyJoin, parsePythonJson } from "./files.js";

const DTYPE_OF_CODE = new Map<string, DType>(Object.entries(NUMPY_CODES).map(([dtype, code]) => [code, dtype as DType]));

/** The dtype of a numpy dtype string as zarr v2 writes it ("<i4", "|b1", "|O", "<U12"); null for others. */
export function dtypeOfNumpy(dtype: unknown): DType | null {
  if (typeof dtype !== "string") return null;
  if (dtype === "|O" || /^[<>|][US]\d+$/.test(dtype)) return "string";
  const m = /^[<>|]([biuf]\d+)$/.exec(dtype);
  return (m && DTYPE_OF_CODE.get(m[1]!)) ?? null;
}

export class ZarrElements implements ElementIO {
  readonly name: string;
  constructor(private readonly files: ZarrFiles) {
    this.name = files.root;
  }

  /** A metadata file as an object; undefined when absent. Unparsable metadata throws SyntaxError. */
  json(key: string): JsonObject | undefined {
    let text: string;
    try {
      text = readFileSync(this.files.path(key), "utf8");
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const v = parsePythonJson(text);
    if (!isJsonObject(v)) throw new SyntaxError(`${key} is not a JSON object`);
    return v;
  }

  private exists(key: string): boolean {
    try {
      statSync(this.files.path(key));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Decided by the metadata file, as Python zarr does. */
  kind(path: string): NodeKind | null {
    if (this.exists(keyJoin(path, ".zarray"))) return "array";
    if (this.exists(keyJoin(path, ".zgroup"))) return "group";
    return null;
  }

  members(path: string): string[] {
    if (this.kind(path) !== "group") return [];
    return readdirSync(this.files.path(path), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !isReservedName(e.name) && this.kind(keyJoin(path, e.name)) !== null)
      .map((e) => e.name)
      .sort();
  }

  attrs(path: string): Attrs {
    return this.json(keyJoin(path, ".zattrs")) ?? {};
  }

  info(path: string): ArrayInfo {
    const meta = this.json(keyJoin(path, ".zarray"));
    return { shape: meta?.["shape"], dtype: dtypeOfNumpy(meta?.["dtype"]) };
  }

  read(path: string, range?: RowRange): Promise<ArrayRead> {
    return readArray(this.files, path, `${this.name}: ${path}`, range);
  }

  writeArray(path: string, value: ArrayWrite, attrs: AttrsWrite, scalar = false): Promise<void> {
    return writeArray(this.files, path, value, attrs as JsonObject, scalar);
  }

  /** `.zgroup` goes last, so the folder is no Zarr node until it is complete. */
  async writeGroup(path: string, attrs: AttrsWrite, members?: () => Promise<void>): Promise<void> {
    await this.files.mkdir(path);
    await this.files.writeNewJson(keyJoin(path, ".zattrs"), attrs as JsonObject);
    await members?.();
    await this.files.writeNewJson(keyJoin(path, ".zgroup"), { zarr_format: 2 });
  }

  identity(path: string): Promise<string> {
    return directoryIdentity(this.files.path(path));
  }
}
