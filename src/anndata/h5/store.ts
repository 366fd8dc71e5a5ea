/**
 * AnnData `.h5ad` through the HDF5 C library. Opening reads the obs/var
 * attributes and index shapes only; columns are read on request; new columns
 * are appended in place (no rewrite of the file) with the encodings Python
 * anndata writes, so every other object stays byte-for-byte as it was.
 *
 * A read-write open is one transaction (native/hdf5/txn.c): close() commits
 * every change at once, abort() or an I/O error leaves the file as it was,
 * and a crash is rolled back by the next open of the file (any open, or
 * recoverH5ad), from the journal `FILE-cellucid-journal`.
 */
import { randomBytes } from "node:crypto";
import { type AnnDataStore, type Axis, type Column, type DenseMatrix, type LazyColumn, type NumericArray, type UnsValue, type XReadOptions, AnnDataError, checkLength, checkRange, isUnsDict } from "../model.js";
import { type XLayout, type XSource, readXColumn, readXRows } from "../x/matrix.js";
import { fileIdentity } from "../x/csr-index.js";
import { ENCODING_TYPE as ENC, ENCODING_VERSION as VER, checkColumn, checkColumnName, checkColumnOrderSize, checkRowCount, encodingOf, isStorableName, resolveColumn, UNS_LEAF_ENCODINGS } from "../element-rules.js";
import { type AttrValue, type H5DType, type H5Recovery, H5File, recoverH5 } from "./binding.js";

export type { H5Recovery } from "./binding.js";

/**
 * Rolls back an interrupted in-place write of the .h5ad at `path` (a crash or
 * kill during apply --inplace), if its journal `path-cellucid-journal` is
 * there. Returns what was undone, or null when there was nothing to do.
 * Throws AnnDataError LOCKED when another process holds the file (it may be
 * writing it right now), PERMISSION_DENIED or IO when it cannot be rolled back.
 */
export function recoverH5ad(path: string): H5Recovery | null {
  return recoverH5(path);
}

const NUMERIC_DTYPE = new Map<string, H5DType>([
  ["Int8Array", "int8"], ["Int16Array", "int16"], ["Int32Array", "int32"], ["BigInt64Array", "int64"],
  ["Uint8Array", "uint8"], ["Uint16Array", "uint16"], ["Uint32Array", "uint32"], ["BigUint64Array", "uint64"],
  ["Float32Array", "float32"], ["Float64Array", "float64"],
]);

function dtypeOf(values: NumericArray): H5DType {
  const d = NUMERIC_DTYPE.get(values.constructor.name);
  if (!d) throw new TypeError(`unsupported array type ${values.constructor.name}`);
  return d;
}

function attrString(v: AttrValue | undefined): string | null {
  return typeof v === "string" ? v : null;
}

export class H5adStore implements AnnDataStore {
  readonly nObs: number;
  readonly nVars: number;
  private readonly order: Record<Axis, string[]>;
  private readonly indexKey: Record<Axis, string>;
  /** Inside transaction(): column-order is written once when it ends, not once per new column. */
  private orderChanged: Record<Axis, boolean> | null = null;
  private readonly xSources = new Map<string, XSource>();

  private constructor(
    private readonly file: H5File,
    readonly name: string,
    private readonly writable: boolean,
  ) {
    this.indexKey = { obs: this.indexKeyOf("obs"), var: this.indexKeyOf("var") };
    this.nObs = this.lengthOf(`/obs/${this.indexKey.obs}`);
    this.nVars = this.lengthOf(`/var/${this.indexKey.var}`);
    this.order = { obs: this.readColumnOrder("obs"), var: this.readColumnOrder("var") };
  }

  /** What opening rolled back: an interrupted write of an earlier process (null when the file was clean). */
  get recovered(): H5Recovery | null {
    return this.file.recovered;
  }

  /**
   * Opens a .h5ad, first rolling back any interrupted write (see `recovered`).
   * With "r+" the changes are one transaction, committed by close().
   * Throws AnnDataError LOCKED when another process has the file open in a
   * conflicting mode (HDF5's file lock), NO_SPACE / PERMISSION_DENIED / IO for
   * file-system failures, NOT_ANNDATA when it is not an AnnData HDF5 file.
   */
  static async open(path: string, mode: "r" | "r+" = "r"): Promise<H5adStore> {
    let file: H5File;
    try {
      file = H5File.open(path, mode);
    } catch (err) {
      if (err instanceof AnnDataError) throw err;
      throw new AnnDataError("NOT_ANNDATA", `${path}: cannot open as HDF5 (${(err as Error).message})`);
    }
    try {
      for (const g of ["obs", "var"]) {
        if (file.kind(`/${g}`) !== "group") throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData .h5ad file (no /${g} data frame)`);
      }
      return new H5adStore(file, path, mode === "r+");
    } catch (err) {
      file.abort();
      throw err;
    }
  }

  private indexKeyOf(axis: Axis): string {
    const key = attrString(this.file.readAttrs(`/${axis}`)["_index"]);
    if (key !== null) {
      if (!isStorableName(key) || this.file.kind(`/${axis}/${key}`) !== "dataset") throw new AnnDataError("NOT_ANNDATA", `${this.name}: /${axis} names its index ${JSON.stringify(key)}, which is not a dataset of /${axis}`);
      return key;
    }
    // Files from anndata < 0.7 have no _index attribute; their index is "index" or "_index".
    for (const k of ["_index", "index"]) if (this.file.kind(`/${axis}/${k}`) === "dataset") return k;
    throw new AnnDataError("NOT_ANNDATA", `${this.name}: /${axis} has no index`);
  }

  private lengthOf(path: string): number {
    const shape = this.file.datasetInfo(path).shape;
    checkRowCount(shape, `${this.name}: ${path}`);
    return shape[0]!;
  }

  private readColumnOrder(axis: Axis): string[] {
    const v = this.file.readAttrs(`/${axis}`)["column-order"];
    if (Array.isArray(v)) return v.map(String);
    if (typeof v === "string") return [v];
    if (v === undefined) {
      // Older files: every member but the index (and the old __categories group) is a column.
      return this.file.list(`/${axis}`).filter((n) => n !== this.indexKey[axis] && n !== "__categories");
    }
    return [];
  }

  columnNames(axis: Axis): string[] {
    return [...this.order[axis]];
  }

  indexName(axis: Axis): string {
    return this.indexKey[axis];
  }

  async readIndex(axis: Axis): Promise<string[]> {
    return this.readIndexRange(axis, 0, axis === "obs" ? this.nObs : this.nVars);
  }

  async readIndexRange(axis: Axis, start: number, end: number): Promise<string[]> {
    checkRange(this.name, axis, start, end, axis === "obs" ? this.nObs : this.nVars);
    const r = this.file.readDataset(`/${axis}/${this.indexKey[axis]}`, { start, count: end - start });
    if (r.dtype !== "string") return Array.from(r.data as ArrayLike<number | bigint>, String);
    return r.data;
  }

  async readColumn(axis: Axis, name: string): Promise<Column> {
    const path = `/${axis}/${name}`;
    const kind = this.file.kind(path);
    if (!kind || !isStorableName(name)) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return this.readColumnAt(path, kind, axis === "obs" ? this.nObs : this.nVars);
  }

  async columnKind(axis: Axis, name: string): Promise<Column["kind"] | null> {
    const path = `/${axis}/${name}`;
    const kind = isStorableName(name) ? this.file.kind(path) : undefined;
    if (!kind) return null;
    const et = encodingOf(this.file.readAttrs(path), `${this.name}: ${path}`);
    if (kind === "dataset") {
      if (et !== undefined && et !== "array" && et !== "string-array") return null;
      const dtype = this.file.datasetInfo(path).dtype;
      return dtype === "string" ? "string" : dtype === "bool" ? "bool" : "numeric";
    }
    return et === "categorical" || et === "nullable-integer" || et === "nullable-boolean" ? et : null;
  }

  private readColumnAt(path: string, kind: "group" | "dataset", rows: number): Column {
    const attrs = this.file.readAttrs(path);
    const et = encodingOf(attrs, `${this.name}: ${path}`);
    // A member claiming another length than the index is refused before anything is allocated for it.
    const dataset = (p: string) => {
      const shape = this.file.datasetInfo(p).shape;
      if (shape.length !== 1 || shape[0] !== rows) throw new AnnDataError("BAD_LENGTH", `${this.name}: ${p} has shape [${shape.join(", ")}], expected [${rows}]`);
      return this.file.readDataset(p);
    };
    if (kind === "dataset") {
      if (et !== undefined && et !== "array" && et !== "string-array") throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path} has encoding-type ${et}, not a column encoding`);
      const r = dataset(path);
      if (r.dtype === "string") return { kind: "string", values: r.data };
      if (r.dtype === "bool") return { kind: "bool", values: r.data };
      return { kind: "numeric", values: r.data };
    }
    if (et === "categorical") {
      const codes = dataset(`${path}/codes`);
      const cats = this.file.readDataset(`${path}/categories`);
      if (codes.dtype !== "int8" && codes.dtype !== "int16" && codes.dtype !== "int32" && codes.dtype !== "int64")
        throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path}/codes has dtype ${codes.dtype}`);
      const categories = cats.dtype === "string" ? cats.data : Array.from(cats.data as ArrayLike<number | bigint>, String);
      return { kind: "categorical", codes: codes.data, categories, ordered: attrs["ordered"] === true };
    }
    if (et === "nullable-integer" || et === "nullable-boolean") {
      const values = dataset(`${path}/values`);
      const mask = dataset(`${path}/mask`);
      const m = mask.data instanceof Uint8Array ? mask.data : Uint8Array.from(mask.data as ArrayLike<number>);
      if (et === "nullable-boolean") return { kind: "nullable-boolean", values: values.data as Uint8Array, mask: m };
      if (values.dtype === "string" || values.dtype === "bool") throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path}/values has dtype ${values.dtype}`);
      return { kind: "nullable-integer", values: values.data, mask: m };
    }
    throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path} has encoding-type ${et ?? "(none)"}, not a column encoding`);
  }

  private assertWritable(): void {
    if (!this.writable) throw new AnnDataError("READ_ONLY", `${this.name} was opened read-only`);
  }

  async setColumn(axis: Axis, name: string, lazy: Column | LazyColumn): Promise<void> {
    this.assertWritable();
    checkColumnName(this.name, axis, name, this.indexKey[axis]);
    const isNew = !this.order[axis].includes(name);
    // Refused before the column is written: column-order must stay an attribute h5py can read.
    if (isNew) checkColumnOrderSize(this.name, axis, [...this.order[axis], name]);
    const column = await resolveColumn(lazy);
    checkLength(this, axis, name, column);
    checkColumn(column, `${this.name}: ${axis}/${name}`);
    this.replaceAt(`/${axis}`, name, (tmp) => this.writeColumn(tmp, column));
    if (!isNew) return;
    this.order[axis].push(name);
    if (this.orderChanged) this.orderChanged[axis] = true;
    else this.writeColumnOrder(axis);
  }

  /**
   * Runs `fn`, writing `column-order` once when it returns rather than after
   * each new column: rewriting a growing attribute per column leaves every
   * old copy's strings in the file (quadratic growth with the column count).
   */
  async transaction(fn: () => Promise<void>): Promise<void> {
    this.assertWritable();
    if (this.orderChanged) return fn();
    this.orderChanged = { obs: false, var: false };
    try {
      await fn();
      for (const axis of ["obs", "var"] as const) if (this.orderChanged[axis]) this.writeColumnOrder(axis);
    } finally {
      this.orderChanged = null;
    }
  }

  private writeColumnOrder(axis: Axis): void {
    this.file.writeAttr(`/${axis}`, "column-order", this.order[axis], "string");
  }

  /** Writes under a temporary name, then swaps it in: a failed write never leaves a half-written element under `name`. */
  private replaceAt(parent: string, name: string, write: (tmpPath: string) => void): void {
    const tmp = `${parent}/.cellucid-tmp-${randomBytes(6).toString("hex")}`;
    try {
      write(tmp);
    } catch (err) {
      // After an I/O error the whole session rolls back at close: nothing to tidy.
      if (!this.file.failure && this.file.exists(tmp)) this.file.deleteLink(tmp);
      throw err;
    }
    const dest = `${parent}/${name}`;
    if (this.file.exists(dest)) this.file.deleteLink(dest);
    this.file.moveLink(tmp, dest);
  }

  private encode(path: string, type: string, version: string): void {
    this.file.writeAttr(path, ENC, type, "string");
    this.file.writeAttr(path, VER, version, "string");
  }

  private writeColumn(path: string, c: Column): void {
    switch (c.kind) {
      case "bool":
        // A group's column is mostly False: stored as runs, ~1% of its bytes (binding: `runs`).
        this.file.createDataset(path, "bool", c.values, { runs: true });
        return this.encode(path, "array", "0.2.0");
      case "numeric":
        this.file.createDataset(path, dtypeOf(c.values), c.values as never);
        return this.encode(path, "array", "0.2.0");
      case "string":
        this.file.createDataset(path, "string", c.values);
        return this.encode(path, "string-array", "0.2.0");
      case "categorical":
        this.file.createGroup(path);
        this.encode(path, "categorical", "0.2.0");
        this.file.writeAttr(path, "ordered", c.ordered, "bool");
        this.file.createDataset(`${path}/codes`, dtypeOf(c.codes), c.codes as never, { runs: true });
        this.encode(`${path}/codes`, "array", "0.2.0");
        this.file.createDataset(`${path}/categories`, "string", c.categories);
        return this.encode(`${path}/categories`, "string-array", "0.2.0");
      case "nullable-integer":
      case "nullable-boolean":
        this.file.createGroup(path);
        this.encode(path, c.kind, "0.1.0");
        if (c.kind === "nullable-boolean") this.file.createDataset(`${path}/values`, "bool", c.values, { runs: true });
        else this.file.createDataset(`${path}/values`, dtypeOf(c.values), c.values as never);
        this.encode(`${path}/values`, "array", "0.2.0");
        this.file.createDataset(`${path}/mask`, "bool", c.mask, { runs: true });
        return this.encode(`${path}/mask`, "array", "0.2.0");
    }
  }

  async readUns(path: string[] = []): Promise<UnsValue | undefined> {
    const p = ["", "uns", ...path].join("/");
    const kind = this.file.kind(p);
    return kind ? this.readUnsAt(p, kind) : undefined;
  }

  private readUnsAt(path: string, kind: "group" | "dataset"): UnsValue {
    const attrs = this.file.readAttrs(path);
    const et = encodingOf(attrs, `${this.name}: ${path}`);
    if (kind === "group") {
      if (et && et !== "dict") throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path} has encoding-type ${et}; only dict, string, numeric-scalar, array and string-array are read in uns`);
      const out: { [k: string]: UnsValue } = {};
      for (const name of this.file.list(path)) {
        const child = `${path}/${name}`;
        out[name] = this.readUnsAt(child, this.file.kind(child)!);
      }
      return out;
    }
    if (et !== undefined && !UNS_LEAF_ENCODINGS.includes(et)) throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.name}: ${path} has encoding-type ${et}; only dict, string, numeric-scalar, array and string-array are read in uns`);
    const r = this.file.readDataset(path);
    const scalar = r.shape.length === 0;
    if (r.dtype === "string") return scalar ? r.data[0]! : r.data;
    if (r.dtype === "bool") return scalar ? r.data[0] === 1 : r.data;
    if (scalar) return Number((r.data as ArrayLike<number | bigint>)[0]);
    return r.data;
  }

  async setUns(path: string[], value: UnsValue): Promise<void> {
    this.assertWritable();
    if (path.length === 0) throw new TypeError("setUns needs a non-empty path");
    let parent = "/uns";
    this.ensureDict(parent);
    for (const part of path.slice(0, -1)) {
      parent = `${parent}/${part}`;
      this.ensureDict(parent);
    }
    this.replaceAt(parent, path[path.length - 1]!, (tmp) => this.writeUns(tmp, value));
  }

  private ensureDict(path: string): void {
    const kind = this.file.kind(path);
    if (kind === "group") return;
    if (kind === "dataset") this.file.deleteLink(path);
    this.file.createGroup(path);
    this.encode(path, "dict", "0.1.0");
  }

  private writeUns(path: string, v: UnsValue): void {
    if (typeof v === "string") {
      this.file.createDataset(path, "string", [v], { scalar: true });
      return this.encode(path, "string", "0.2.0");
    }
    if (typeof v === "boolean") {
      this.file.createDataset(path, "bool", new Uint8Array([v ? 1 : 0]), { scalar: true });
      return this.encode(path, "numeric-scalar", "0.2.0");
    }
    if (typeof v === "number") {
      if (Number.isSafeInteger(v)) this.file.createDataset(path, "int64", new BigInt64Array([BigInt(v)]), { scalar: true });
      else this.file.createDataset(path, "float64", new Float64Array([v]), { scalar: true });
      return this.encode(path, "numeric-scalar", "0.2.0");
    }
    if (Array.isArray(v)) {
      this.file.createDataset(path, "string", v);
      return this.encode(path, "string-array", "0.2.0");
    }
    if (ArrayBuffer.isView(v)) {
      this.file.createDataset(path, dtypeOf(v as NumericArray), v as never);
      return this.encode(path, "array", "0.2.0");
    }
    if (isUnsDict(v)) {
      this.file.createGroup(path);
      this.encode(path, "dict", "0.1.0");
      for (const [k, child] of Object.entries(v)) {
        if (!isStorableName(k)) throw new AnnDataError("BAD_NAME", `${this.name}: uns key ${JSON.stringify(k)} at ${path} cannot be stored (no "/", "\\", ".", "..", ".z…" or ".cellucid-…" names)`);
        this.writeUns(`${path}/${k}`, child);
      }
    }
  }

  layerKeys(): string[] {
    if (this.file.kind("/layers") !== "group") return [];
    return this.file.list("/layers").filter((k) => isStorableName(k) && this.matrixLayout(`/layers/${k}`) !== null);
  }

  async readXColumn(varIndex: number, opts: XReadOptions = {}): Promise<Float32Array> {
    return readXColumn(this.xSource(opts.layer), varIndex, opts);
  }

  async readXRows(start: number, end: number, opts: XReadOptions = {}): Promise<DenseMatrix> {
    return readXRows(this.xSource(opts.layer), start, end, opts);
  }

  /** X or a layer as dense, csr_matrix or csc_matrix; null for anything else. */
  private matrixLayout(path: string): XLayout | null {
    const kind = this.file.kind(path);
    if (kind === "dataset") {
      const info = this.file.datasetInfo(path);
      return info.shape.length === 2 && info.dtype !== "string" ? "dense" : null;
    }
    if (kind !== "group") return null;
    const et = encodingOf(this.file.readAttrs(path), `${this.name}: ${path}`);
    return et === "csr_matrix" ? "csr" : et === "csc_matrix" ? "csc" : null;
  }

  /** One source per element, so a CSR matrix's column index is built once per open store. */
  private xSource(layer: string | undefined): XSource {
    const path = layer === undefined ? "/X" : `/layers/${layer}`;
    const known = this.xSources.get(path);
    if (known) return known;
    const what = `${this.name}: ${path}`;
    const layout = layer === undefined || isStorableName(layer) ? this.matrixLayout(path) : null;
    if (!layout) throw new AnnDataError("NO_SUCH_COLUMN", `${what}: no dense, csr_matrix or csc_matrix element there`);
    let shape: number[];
    if (layout === "dense") shape = this.file.datasetInfo(path).shape;
    else {
      const attr = this.file.readAttrs(path)["shape"];
      shape = ArrayBuffer.isView(attr) || Array.isArray(attr) ? Array.from(attr as ArrayLike<number | bigint>, Number) : [];
    }
    if (shape.length !== 2 || shape[0] !== this.nObs || shape[1] !== this.nVars) throw new AnnDataError("BAD_LENGTH", `${what} has shape [${shape.join(", ")}], expected [${this.nObs}, ${this.nVars}]`);
    const read = (p: string, start: number, end: number) => this.file.readDataset(p, { start, count: end - start }).data as NumericArray;
    const src: XSource = {
      what,
      shape: [shape[0]!, shape[1]!],
      layout,
      denseRows: async (start, end) => read(path, start, end),
      slice: async (member, start, end) => read(`${path}/${member}`, start, end),
      identity: async () => `${await fileIdentity(this.name)}\0${path}`,
    };
    this.xSources.set(path, src);
    return src;
  }

  obsmKeys(): string[] {
    if (this.file.kind("/obsm") !== "group") return [];
    return this.file.list("/obsm").filter((k) => this.obsmShape(k) !== null);
  }

  obsmShape(key: string): [number, number] | null {
    const path = `/obsm/${key}`;
    if (key.includes("/") || this.file.kind("/obsm") !== "group" || this.file.kind(path) !== "dataset") return null;
    const info = this.file.datasetInfo(path);
    return info.shape.length === 2 && info.dtype !== "string" && info.dtype !== "bool" ? [info.shape[0]!, info.shape[1]!] : null;
  }

  async readObsm(key: string): Promise<DenseMatrix> {
    const path = `/obsm/${key}`;
    if (!this.obsmKeys().includes(key)) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no dense obsm entry '${key}'`);
    const r = this.file.readDataset(path);
    const [rows, cols] = r.shape as [number, number];
    const data = r.data instanceof Float32Array || r.data instanceof Float64Array ? r.data : Float64Array.from(r.data as ArrayLike<number | bigint>, Number);
    return { shape: [rows, cols], data };
  }

  /**
   * Commits the changes (opened "r+") and closes. When an I/O error doomed the
   * session, the file is rolled back instead and that error is thrown.
   */
  async close(): Promise<void> {
    if (this.file.isOpen) this.file.close();
  }

  /** Closes without committing: the file is left exactly as it was when opened. */
  async abort(): Promise<void> {
    if (this.file.isOpen) this.file.abort();
  }
}
