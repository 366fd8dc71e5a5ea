/**
 * The element I/O of an open .h5ad (encodings/io.ts) over the HDF5 binding:
 * store-relative paths become absolute HDF5 paths, datasets are arrays, and
 * attributes get the HDF5 types h5py gives them (strings as variable-length
 * UTF-8, booleans as h5py's enum, integers as int64).
 */
import { isUtf8 } from "node:buffer";
import type { NumericArray, Utf8Strings } from "../model.js";
import { fileIdentity } from "../x/csr-index.js";
import { type ArrayInfo, type ArrayRead, type ArrayWrite, type Attrs, type AttrWrite, type AttrsWrite, type ElementIO, type NodeKind, type RowRange, dtypeOf } from "../encodings/io.js";
import type { AttrWriteType, DatasetAttr, H5File } from "./binding.js";

/** The HDF5 path of a store-relative one ("" is the root). */
export function h5Path(path: string): string {
  return `/${path}`;
}

function attrType(v: AttrWrite): AttrWriteType {
  const first: unknown = Array.isArray(v) ? v[0] : v;
  if (typeof first === "boolean") return "bool";
  if (typeof first === "number") return (Array.isArray(v) ? (v as number[]) : [first]).every(Number.isSafeInteger) ? "int64" : "float64";
  return "string";
}

export class H5Elements implements ElementIO {
  constructor(private readonly file: H5File, readonly name: string) {}

  kind(path: string): NodeKind | null {
    const k = this.file.kind(h5Path(path));
    return k === "dataset" ? "array" : k;
  }

  members(path: string): string[] {
    return this.file.list(h5Path(path));
  }

  attrs(path: string): Attrs {
    return this.file.readAttrs(h5Path(path));
  }

  info(path: string): ArrayInfo {
    try {
      const i = this.file.datasetInfo(h5Path(path));
      return { shape: i.shape, dtype: i.dtype };
    } catch (err) {
      // The binding reads bool, integers, floats and strings; float16, compounds and the like are a fact to report, not a failure.
      if (err instanceof Error && err.message.includes("unsupported datatype")) return { shape: null, dtype: null };
      throw err;
    }
  }

  async read(path: string, range?: RowRange): Promise<ArrayRead> {
    const r = this.file.readDataset(h5Path(path), range ? { start: range.start, count: range.end - range.start } : {});
    if (r.dtype === "string") return { type: "string", data: r.data, shape: r.shape };
    if (r.dtype === "bool") return { type: "bool", data: r.data, shape: r.shape };
    return { type: "numeric", data: r.data as NumericArray, shape: r.shape };
  }

  async readUtf8(path: string, range?: RowRange): Promise<Utf8Strings | null> {
    const r = this.file.readStringBytes(h5Path(path), range ? { start: range.start, count: range.end - range.start } : {});
    if (!r || isUtf8(r.bytes)) return r;
    // Bytes that are not UTF-8 read as the strings read() gives (U+FFFD for each bad sequence), encoded again.
    const read = await this.read(path, range);
    return utf8Strings(read.data as string[]);
  }

  async writeArray(path: string, value: ArrayWrite, attrs: AttrsWrite, scalar = false): Promise<void> {
    const p = h5Path(path);
    // The attributes go with the dataset in one native call; one-byte arrays of long runs (a group's bool
    // column, masks, small codes) are stored as deflated runs, when smaller.
    const opts = { scalar, runs: !scalar, attrs: datasetAttrs(attrs) };
    if ("trueRows" in value) this.file.createBoolRowsDataset(p, value.length, value.trueRows, opts);
    else if (value.type === "numeric") this.file.createDataset(p, dtypeOf(value.data), value.data as never, opts);
    else this.file.createDataset(p, value.type, value.data as never, opts);
  }

  async writeGroup(path: string, attrs: AttrsWrite, members?: () => Promise<void>): Promise<void> {
    const p = h5Path(path);
    this.file.createGroup(p);
    this.writeAttrs(p, attrs);
    await members?.();
  }

  async identity(path: string): Promise<string> {
    return `${await fileIdentity(this.name)}\0${h5Path(path)}`;
  }

  private writeAttrs(p: string, attrs: AttrsWrite): void {
    for (const [k, v] of Object.entries(attrs)) this.file.writeAttr(p, k, v, attrType(v));
  }
}

function utf8Strings(strings: readonly string[]): Utf8Strings {
  const encoder = new TextEncoder();
  const parts = strings.map((s) => encoder.encode(s));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  const ends = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => {
    bytes.set(p, at);
    ends[i] = at += p.length;
  });
  return { bytes, ends };
}

function datasetAttrs(attrs: AttrsWrite): DatasetAttr[] {
  return Object.entries(attrs).map(([k, v]) => [k, v, attrType(v)]);
}
