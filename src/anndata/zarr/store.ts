/**
 * AnnData in a Zarr v2 directory store (`adata.write_zarr(path)`). Opening
 * reads only metadata: the root and obs/var attributes and the `.zarray` of
 * the two indexes, never X, layers or obsm. Columns and uns are read on
 * request. Every write builds the new element under a temporary name next to
 * its destination and renames it into place, so an interrupted write never
 * leaves a half-written element under the real name, and nothing else in the
 * store is touched (X, obsm, ... stay byte-for-byte as they were).
 */
import { readFileSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { type AnnDataStore, type Axis, type Column, type DenseMatrix, type UnsValue, AnnDataError, checkLength } from "../model.js";
import { checkColumn, columnKindAt, dictAttrs, encodingOf, readColumnAt, readUnsAt, writeColumnAt, writeGroup, writeUnsAt } from "./encodings.js";
import { readArray } from "./arrays.js";
import { type Json, type JsonObject, ZarrFiles, checkElementName, isJsonObject, isNotFound, isTempName, keyJoin, parsePythonJson, tempName } from "./files.js";

interface Frame {
  /** Name of the index array inside the data frame group. */
  indexKey: string;
  length: number;
  order: string[];
}

export class ZarrStore implements AnnDataStore {
  private closed = false;
  /** Writes run one at a time: each rewrites the frame's attributes from the in-memory column order. */
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly files: ZarrFiles,
    readonly name: string,
    private readonly writable: boolean,
    private readonly frames: Record<Axis, Frame>,
    /** Whether the store has consolidated metadata (.zmetadata) that writes must keep in step. */
    private readonly consolidated: boolean,
  ) {}

  get nObs(): number {
    return this.frames.obs.length;
  }
  get nVars(): number {
    return this.frames.var.length;
  }

  static async open(path: string, mode: "r" | "r+" = "r"): Promise<ZarrStore> {
    const files = new ZarrFiles(path);
    try {
      await checkRoot(files, path);
      const frames = { obs: await readFrame(files, path, "obs"), var: await readFrame(files, path, "var") };
      return new ZarrStore(files, path, mode === "r+", frames, await files.exists(".zmetadata"));
    } catch (err) {
      if (err instanceof AnnDataError) throw err;
      if (err instanceof SyntaxError) throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (unreadable metadata: ${err.message})`);
      throw new AnnDataError("IO", `${path}: ${(err as Error).message}`);
    }
  }

  columnNames(axis: Axis): string[] {
    return [...this.frames[axis].order];
  }

  async readIndex(axis: Axis): Promise<string[]> {
    this.assertOpen();
    const r = await readArray(this.files, keyJoin(axis, this.frames[axis].indexKey), this.what(axis, this.frames[axis].indexKey));
    if (r.type === "string") return r.data;
    // Integer indexes exist in old files; pandas shows them as their decimal text.
    return Array.from(r.data as ArrayLike<number | bigint>, String);
  }

  async readColumn(axis: Axis, name: string): Promise<Column> {
    this.assertOpen();
    const key = keyJoin(axis, name);
    if (!isStorableName(name) || !(await this.files.nodeKind(key))) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return readColumnAt(this.files, key, this.what(axis, name));
  }

  async columnKind(axis: Axis, name: string): Promise<Column["kind"] | null> {
    this.assertOpen();
    return isStorableName(name) ? columnKindAt(this.files, keyJoin(axis, name), this.what(axis, name)) : null;
  }

  async setColumn(axis: Axis, name: string, column: Column): Promise<void> {
    this.assertWritable();
    checkElementName(name, `column ${axis}/${name}`);
    if (name === this.frames[axis].indexKey) throw new TypeError(`${this.name}: ${axis}/${name} is the index, not a column`);
    checkLength(this, axis, name, column);
    checkColumn(column, this.what(axis, name));
    await this.guardIo(axis, async () => {
      await this.replaceNode(axis, name, (tmp) => writeColumnAt(this.files, tmp, column));
      const frame = this.frames[axis];
      if (!frame.order.includes(name)) {
        // Re-read the attributes so keys we do not manage (e.g. _index) are kept as they are.
        const attrs = (await this.files.readJsonObject(keyJoin(axis, ".zattrs"))) ?? {};
        attrs["column-order"] = [...frame.order, name];
        await this.files.replaceJson(keyJoin(axis, ".zattrs"), attrs);
        frame.order.push(name);
      }
      await this.syncConsolidated();
    });
  }

  async readUns(path: string[] = []): Promise<UnsValue | undefined> {
    this.assertOpen();
    // A name that cannot be stored (e.g. with "/") names nothing, rather than a deeper path.
    if (!path.every(isStorableName)) return undefined;
    const key = keyJoin("uns", ...path);
    if (!(await this.files.nodeKind(key))) return undefined;
    return readUnsAt(this.files, key, this.what(...["uns", ...path]));
  }

  async setUns(path: string[], value: UnsValue): Promise<void> {
    this.assertWritable();
    if (path.length === 0) throw new TypeError("setUns needs a non-empty path");
    for (const p of path) checkElementName(p, `uns key ${p}`);
    await this.guardIo(["uns", ...path].join("/"), async () => {
      let parent = "uns";
      await this.ensureDict(parent);
      for (const part of path.slice(0, -1)) {
        parent = keyJoin(parent, part);
        await this.ensureDict(parent);
      }
      const what = this.what("uns", ...path);
      await this.replaceNode(parent, path[path.length - 1]!, (tmp) => writeUnsAt(this.files, tmp, value, what));
      await this.syncConsolidated();
    });
  }

  /**
   * Dense numeric 2-d obsm entries. Synchronous in the interface, so this
   * reads their `.zarray` files synchronously, on request (never at open).
   */
  obsmKeys(): string[] {
    this.assertOpen();
    let names: string[];
    try {
      names = readdirSync(this.files.path("obsm"));
    } catch (err) {
      if (isNotFound(err)) return [];
      throw new AnnDataError("IO", `${this.name}: cannot list obsm (${(err as Error).message})`);
    }
    return names.filter((k) => this.obsmShape(k) !== null).sort();
  }

  obsmShape(key: string): [number, number] | null {
    this.assertOpen();
    if (isTempName(key) || !isStorableName(key)) return null;
    let meta: Json;
    try {
      meta = parsePythonJson(readFileSync(this.files.path(keyJoin("obsm", key, ".zarray")), "utf8"));
    } catch {
      return null; // a group (sparse matrix, data frame) or no node at all
    }
    if (!isJsonObject(meta)) return null;
    const shape = meta["shape"];
    const dtype = meta["dtype"];
    const dense = Array.isArray(shape) && shape.length === 2 && shape.every((n) => typeof n === "number") && typeof dtype === "string" && /^[<>|][iuf]\d+$/.test(dtype);
    return dense ? [shape[0] as number, shape[1] as number] : null;
  }

  async readObsm(key: string): Promise<DenseMatrix> {
    if (!this.obsmKeys().includes(key)) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no dense obsm entry '${key}'`);
    const r = await readArray(this.files, keyJoin("obsm", key), this.what("obsm", key), 2);
    if (r.type !== "numeric") throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.what("obsm", key)} has dtype ${r.dtype}`);
    const [rows, cols] = r.shape as [number, number];
    // Embeddings are float32/float64 in practice; other numeric types are widened to float64, as the .h5ad store does.
    const data = r.data instanceof Float32Array || r.data instanceof Float64Array ? r.data : Float64Array.from(r.data as ArrayLike<number | bigint>, Number);
    return { shape: [rows, cols], data };
  }

  async close(): Promise<void> {
    // Every write is complete on disk when its call returns: only writes still queued need waiting for.
    this.closed = true;
    await this.writes;
  }

  // ------------------------------------------------------------ internals

  private what(...parts: string[]): string {
    return `${this.name}: ${parts.join("/")}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new AnnDataError("IO", `${this.name} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (!this.writable) throw new AnnDataError("READ_ONLY", `${this.name} was opened read-only`);
  }

  /**
   * Runs one write after the previous ones (concurrent setColumn calls would
   * otherwise race on column-order); file-system failures become
   * AnnDataError("IO"), our own errors pass through.
   */
  private guardIo(where: string, fn: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (err instanceof AnnDataError || err instanceof TypeError || err instanceof RangeError) throw err;
        throw new AnnDataError("IO", `${this.name}: writing ${where} failed (${(err as Error).message})`);
      }
    };
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * Writes a node under a temporary sibling name, then swaps it in: the old
   * node is first moved aside (then deleted), so at no point does the real
   * name hold a partial element. The temporary node only becomes a Zarr node
   * when its metadata file is written, last; a failed write removes it.
   */
  private async replaceNode(parent: string, name: string, write: (tmpKey: string) => Promise<void>): Promise<void> {
    const tmp = keyJoin(parent, tempName());
    try {
      await write(tmp);
    } catch (err) {
      await this.files.remove(tmp).catch(() => undefined);
      throw err;
    }
    const dest = keyJoin(parent, name);
    let old: string | undefined;
    if (await this.files.exists(dest)) {
      old = keyJoin(parent, tempName());
      await this.files.rename(dest, old);
    }
    await this.files.rename(tmp, dest);
    if (old) {
      // Unmark it as a node first: if deleting a large element is interrupted, what is left is no Zarr node.
      await this.files.remove(keyJoin(old, ".zarray"));
      await this.files.remove(keyJoin(old, ".zgroup"));
      await this.files.remove(old);
    }
  }

  /** Makes `key` a dict group, replacing a non-dict element there (as setting a nested uns key in Python would). */
  private async ensureDict(key: string): Promise<void> {
    const kind = await this.files.nodeKind(key);
    if (kind === "group") {
      const attrs = (await this.files.readJsonObject(keyJoin(key, ".zattrs"))) ?? {};
      const type = encodingOf(attrs, this.what(key));
      if (type === undefined || type === "dict") return;
    }
    const slash = key.lastIndexOf("/");
    const parent = slash < 0 ? "" : key.slice(0, slash);
    await this.replaceNode(parent, key.slice(slash + 1), (tmp) => writeGroup(this.files, tmp, dictAttrs()));
  }

  /**
   * Stores written by newer anndata may carry consolidated metadata
   * (.zmetadata), which zarr.open_consolidated trusts instead of the files:
   * rebuild it after each write, as zarr.consolidate_metadata would.
   */
  private async syncConsolidated(): Promise<void> {
    if (!this.consolidated) return;
    const metadata: JsonObject = {};
    const visit = async (key: string): Promise<void> => {
      for (const f of [".zarray", ".zattrs", ".zgroup"]) {
        const v = await this.files.readJson(keyJoin(key, f));
        if (v !== undefined) metadata[keyJoin(key, f)] = v;
      }
      if ((await this.files.nodeKind(key)) !== "group") return;
      for (const child of await this.files.children(key)) await visit(keyJoin(key, child));
    };
    await visit("");
    await this.files.replaceJson(".zmetadata", { metadata, zarr_consolidated_format: 1 });
  }
}

function isStorableName(name: string): boolean {
  try {
    checkElementName(name, "");
    return true;
  } catch {
    return false;
  }
}

async function checkRoot(files: ZarrFiles, path: string): Promise<void> {
  try {
    if (!(await stat(path)).isDirectory()) throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (not a folder)`);
  } catch (err) {
    if (isNotFound(err)) throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (no such folder)`);
    throw err;
  }
  if (!(await files.exists(".zgroup"))) {
    if (await files.exists("zarr.json")) throw new AnnDataError("UNSUPPORTED_ENCODING", `${path}: Zarr v3 stores are not supported (only Zarr v2, anndata's default)`);
    throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (no .zgroup at its root)`);
  }
  const zgroup = await files.readJsonObject(".zgroup");
  if (zgroup?.["zarr_format"] !== 2) throw new AnnDataError("UNSUPPORTED_ENCODING", `${path}: zarr_format ${String(zgroup?.["zarr_format"])} is not supported (only 2)`);
  const attrs = (await files.readJsonObject(".zattrs")) ?? {};
  // anndata < 0.8 wrote no root encoding; accept that, refuse anything else.
  const type = attrs["encoding-type"];
  if (type !== undefined && type !== "anndata") throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (root encoding-type ${String(type)})`);
}

async function readFrame(files: ZarrFiles, path: string, axis: Axis): Promise<Frame> {
  if ((await files.nodeKind(axis)) !== "group") throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (no ${axis} data frame)`);
  const attrs = (await files.readJsonObject(keyJoin(axis, ".zattrs"))) ?? {};
  const type = encodingOf(attrs, `${path}: ${axis}`);
  if (type !== undefined && type !== "dataframe") throw new AnnDataError("UNSUPPORTED_ENCODING", `${path}: ${axis} has encoding-type ${type}, not dataframe`);
  const indexKey = await indexKeyOf(files, axis, attrs);
  if (indexKey === undefined) throw new AnnDataError("NOT_ANNDATA", `${path}: ${axis} has no index array`);
  // The length comes from the index's .zarray: no data is read to open a store.
  const zarray = await files.readJsonObject(keyJoin(axis, indexKey, ".zarray"));
  const shape = zarray?.["shape"];
  if (!Array.isArray(shape) || shape.length !== 1 || typeof shape[0] !== "number") {
    throw new AnnDataError("NOT_ANNDATA", `${path}: ${axis}/${indexKey} is not a 1-d index array`);
  }
  return { indexKey, length: shape[0], order: await columnOrder(files, axis, attrs, indexKey) };
}

async function indexKeyOf(files: ZarrFiles, axis: Axis, attrs: JsonObject): Promise<string | undefined> {
  const key = attrs["_index"];
  if (typeof key === "string" && (await files.nodeKind(keyJoin(axis, key))) === "array") return key;
  // Stores from anndata < 0.7 have no _index attribute; their index is "_index" or "index".
  for (const k of ["_index", "index"]) if ((await files.nodeKind(keyJoin(axis, k))) === "array") return k;
  return undefined;
}

async function columnOrder(files: ZarrFiles, axis: Axis, attrs: JsonObject, indexKey: string): Promise<string[]> {
  const v: Json | undefined = attrs["column-order"];
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
  if (typeof v === "string") return [v];
  if (v === undefined || isJsonObject(v)) {
    // No column-order: every member but the index (and the old __categories group) is a column, as anndata falls back.
    return (await files.children(axis)).filter((n) => n !== indexKey && n !== "__categories");
  }
  return [];
}
