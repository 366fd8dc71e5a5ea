/**
 * AnnData in a Zarr v2 directory store (`adata.write_zarr(path)`). Opening
 * reads only metadata: the root and obs/var attributes and the `.zarray` of
 * the two indexes, never X, layers or obsm. Columns and uns are read on
 * request. Writes are transactions (transaction.ts): new elements are written
 * under a staging folder and published with a rollback journal, so after a
 * failure, a signal or a crash at any instant the store is either exactly as
 * it was or holds every write; nothing else in the store is touched (X, obsm,
 * ... keep their bytes). Opening for writing takes the store's lock (another
 * writer gets LOCKED); any open first rolls back an interrupted transaction.
 */
import { readFileSync, readdirSync } from "node:fs";
import { stat } from "node:fs/promises";
import { type AnnDataStore, type Axis, type Column, type DenseMatrix, type LazyColumn, type UnsValue, type XReadOptions, AnnDataError, checkLength, checkRange } from "../model.js";
import { type XLayout, type XSource, readXColumn, readXRows } from "../x/matrix.js";
import { directoryIdentity } from "../x/csr-index.js";
import { fsError } from "../fs-errors.js";
import { type HeldLock, acquireLock } from "../../platform/node/lock.js";
import { checkColumn, checkColumnName, checkRowCount, encodingOf, isStorableName, resolveColumn } from "../element-rules.js";
import { columnKindAt, readColumnAt, readUnsAt, writeColumnAt, writeUnsAt } from "./encodings.js";
import { readArray } from "./arrays.js";
import { type Json, type JsonObject, ZarrFiles, checkElementName, isJsonObject, isNotFound, isReservedName, keyJoin, parsePythonJson } from "./files.js";
import { LOCK_FILE, type NodeWrite, runTransaction } from "./transaction.js";
import { recoverBeforeReading, recoverLocked } from "./recovery.js";

interface Frame {
  /** Name of the index array inside the data frame group. */
  indexKey: string;
  length: number;
  order: string[];
}

/** Writes recorded during a transaction, published together when it ends. */
interface Pending {
  /** By "axis/name": writing a column twice keeps the last. */
  columns: Map<string, { axis: Axis; name: string; column: Column | LazyColumn }>;
  uns: { path: string[]; value: UnsValue }[];
}

export interface ZarrOpenOptions {
  /** With mode "r+": how long to wait for another writer's lock (default 0: fail with LOCKED at once). */
  waitSeconds?: number;
}

export class ZarrStore implements AnnDataStore {
  private closed = false;
  /** Transactions run one at a time: each rewrites the frame's attributes from the in-memory column order. */
  private writes: Promise<unknown> = Promise.resolve();
  private pending: Pending | null = null;
  private readonly xSources = new Map<string, XSource>();

  private constructor(
    private readonly files: ZarrFiles,
    readonly name: string,
    /** Held by a writable store until close(). */
    private readonly lock: HeldLock | null,
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

  static async open(path: string, mode: "r" | "r+" = "r", opts: ZarrOpenOptions = {}): Promise<ZarrStore> {
    const files = new ZarrFiles(path);
    let lock: HeldLock | null = null;
    try {
      await checkRoot(files, path);
      if (mode === "r+") {
        lock = await acquireLock(path, { waitSeconds: opts.waitSeconds, file: files.path(LOCK_FILE) });
        await recoverLocked(files);
      } else {
        await recoverBeforeReading(files, path, opts.waitSeconds);
      }
      const frames = { obs: await readFrame(files, path, "obs"), var: await readFrame(files, path, "var") };
      return new ZarrStore(files, path, lock, frames, await files.exists(".zmetadata"));
    } catch (err) {
      await lock?.release();
      if (err instanceof AnnDataError) throw err;
      if (err instanceof SyntaxError) throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (unreadable metadata: ${err.message})`);
      const mapped = await fsError(err, { what: path, path });
      throw mapped instanceof AnnDataError ? mapped : new AnnDataError("IO", `${path}: ${(err as Error).message}`);
    }
  }

  columnNames(axis: Axis): string[] {
    return [...this.frames[axis].order];
  }

  indexName(axis: Axis): string {
    return this.frames[axis].indexKey;
  }

  async readIndex(axis: Axis): Promise<string[]> {
    return this.readIndexRange(axis, 0, this.frames[axis].length);
  }

  async readIndexRange(axis: Axis, start: number, end: number): Promise<string[]> {
    this.assertOpen();
    checkRange(this.name, axis, start, end, this.frames[axis].length);
    const r = await readArray(this.files, keyJoin(axis, this.frames[axis].indexKey), this.what(axis, this.frames[axis].indexKey), 1, { start, end });
    if (r.type === "string") return r.data;
    // Integer indexes exist in old files; pandas shows them as their decimal text.
    return Array.from(r.data as ArrayLike<number | bigint>, String);
  }

  async readColumn(axis: Axis, name: string): Promise<Column> {
    this.assertOpen();
    const key = keyJoin(axis, name);
    if (!isStorableName(name) || !(await this.files.nodeKind(key))) throw new AnnDataError("NO_SUCH_COLUMN", `${this.name}: no column ${axis}/${name}`);
    return readColumnAt(this.files, key, this.what(axis, name), this.frames[axis].length);
  }

  async columnKind(axis: Axis, name: string): Promise<Column["kind"] | null> {
    this.assertOpen();
    return isStorableName(name) ? columnKindAt(this.files, keyJoin(axis, name), this.what(axis, name)) : null;
  }

  async setColumn(axis: Axis, name: string, column: Column): Promise<void> {
    this.assertWritable();
    // Column names come from bundles and prefixes: one that would leave obs/ or var/ is the user's input, not a bug.
    checkColumnName(this.name, axis, name, this.frames[axis].indexKey);
    // A lazy column is checked when it is staged: a failure then still leaves the store untouched.
    if (typeof column !== "function") this.checkColumn(axis, name, column);
    await this.record((p) => p.columns.set(keyJoin(axis, name), { axis, name, column }));
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
    await this.record((p) => p.uns.push({ path, value }));
  }

  /**
   * Runs `fn` as one transaction: the setColumn / setUns calls it makes are
   * checked as they come, written only when it returns, and published all
   * together or not at all. Reads inside `fn` see the store as it was before.
   * Outside a transaction, each setColumn / setUns is a transaction of its own.
   */
  async transaction(fn: () => Promise<void>): Promise<void> {
    this.assertWritable();
    await this.enqueue(async () => {
      this.pending = { columns: new Map(), uns: [] };
      try {
        await fn();
        await this.commit(this.pending);
      } finally {
        this.pending = null;
      }
    });
  }

  /**
   * Dense numeric 2-d obsm entries. Synchronous in the interface, so this
   * reads their `.zarray` files synchronously, on request (never at open).
   */
  obsmKeys(): string[] {
    return this.membersOf("obsm").filter((k) => this.obsmShape(k) !== null);
  }

  /** Names in a top-level group (obsm, layers), synchronously; none when it is absent. */
  private membersOf(group: string): string[] {
    this.assertOpen();
    try {
      return readdirSync(this.files.path(group)).sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw new AnnDataError("IO", `${this.name}: cannot list ${group} (${(err as Error).message})`);
    }
  }

  obsmShape(key: string): [number, number] | null {
    this.assertOpen();
    if (isReservedName(key) || !isStorableName(key)) return null;
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

  layerKeys(): string[] {
    return this.membersOf("layers").filter((k) => isStorableName(k) && this.matrixLayout(keyJoin("layers", k)) !== null);
  }

  async readXColumn(varIndex: number, opts: XReadOptions = {}): Promise<Float32Array> {
    return readXColumn(this.xSource(opts.layer), varIndex, opts);
  }

  async readXRows(start: number, end: number, opts: XReadOptions = {}): Promise<DenseMatrix> {
    return readXRows(this.xSource(opts.layer), start, end, opts);
  }

  /** X or a layer as dense, csr_matrix or csc_matrix (from its metadata files, read synchronously as obsmShape does); null otherwise. */
  private matrixLayout(key: string): { layout: XLayout; shape: Json | undefined } | null {
    const json = (file: string): JsonObject | null => {
      try {
        const v = parsePythonJson(readFileSync(this.files.path(keyJoin(key, file)), "utf8"));
        return isJsonObject(v) ? v : null;
      } catch {
        return null;
      }
    };
    const zarray = json(".zarray");
    if (zarray) return { layout: "dense", shape: zarray["shape"] };
    const attrs = json(".zattrs");
    if (!attrs || !json(".zgroup")) return null;
    const type = encodingOf(attrs, this.what(key));
    return type === "csr_matrix" ? { layout: "csr", shape: attrs["shape"] } : type === "csc_matrix" ? { layout: "csc", shape: attrs["shape"] } : null;
  }

  /** One source per element, so a CSR matrix's column index is built once per open store. */
  private xSource(layer: string | undefined): XSource {
    this.assertOpen();
    const key = layer === undefined ? "X" : keyJoin("layers", layer);
    const known = this.xSources.get(key);
    if (known) return known;
    const what = this.what(key);
    const found = layer === undefined || isStorableName(layer) ? this.matrixLayout(key) : null;
    if (!found) throw new AnnDataError("NO_SUCH_COLUMN", `${what}: no dense, csr_matrix or csc_matrix element there`);
    const shape = found.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || shape[0] !== this.nObs || shape[1] !== this.nVars) throw new AnnDataError("BAD_LENGTH", `${what} has shape ${JSON.stringify(shape ?? null)}, expected [${this.nObs}, ${this.nVars}]`);
    const numeric = async (k: string, start: number, end: number, dims: number) => {
      const r = await readArray(this.files, k, this.what(k), dims, { start, end });
      if (r.type === "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${this.what(k)} holds strings, not numbers`);
      return r.data;
    };
    const src: XSource = {
      what,
      shape: [this.nObs, this.nVars],
      layout: found.layout,
      denseRows: (start, end) => numeric(key, start, end, 2),
      slice: (member, start, end) => numeric(keyJoin(key, member), start, end, 1),
      identity: () => directoryIdentity(this.files.path(key)),
    };
    this.xSources.set(key, src);
    return src;
  }

  async close(): Promise<void> {
    // Every transaction is complete on disk when its call returns: only queued ones need waiting for.
    this.closed = true;
    await this.writes;
    await this.lock?.release();
  }

  // ------------------------------------------------------------ internals

  private checkColumn(axis: Axis, name: string, column: Column): void {
    checkLength(this, axis, name, column);
    checkColumn(column, this.what(axis, name));
  }

  private what(...parts: string[]): string {
    return `${this.name}: ${parts.join("/")}`;
  }

  private assertOpen(): void {
    if (this.closed) throw new AnnDataError("IO", `${this.name} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (!this.lock) throw new AnnDataError("READ_ONLY", `${this.name} was opened read-only`);
  }

  /** Adds a write to the running transaction, or runs it as a transaction of its own. */
  private async record(add: (p: Pending) => void): Promise<void> {
    if (this.pending) add(this.pending);
    else await this.transaction(async () => add(this.pending!));
  }

  /** Runs one transaction after the previous ones (concurrent ones would otherwise race on column-order). */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.writes.then(fn, fn);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private async commit(p: Pending): Promise<void> {
    if (p.columns.size === 0 && p.uns.length === 0) return;
    const nodes: NodeWrite[] = [];
    const added: Record<Axis, string[]> = { obs: [], var: [] };
    for (const { axis, name, column } of p.columns.values()) {
      nodes.push({
        key: keyJoin(axis, name),
        write: async (files, key) => {
          const c = await resolveColumn(column);
          if (typeof column === "function") this.checkColumn(axis, name, c);
          await writeColumnAt(files, key, c);
        },
      });
      if (!this.frames[axis].order.includes(name)) added[axis].push(name);
    }
    const written = describeWrites([...p.columns.keys()], [...new Set(p.uns.map((u) => keyJoin("uns", ...u.path)))]);
    try {
      const unsPaths = new Map<string, string>();
      for (const u of p.uns) {
        const target = await this.unsTarget(u.path, u.value);
        const path = u.path.join("/");
        // Writing the same uns path twice keeps the last; nested writes would each replace the whole element.
        const clash = nodes.find((n) => n.key.startsWith(`${target.key}/`) || target.key.startsWith(`${n.key}/`) || (n.key === target.key && unsPaths.get(n.key) !== path));
        if (clash) throw new TypeError(`${this.name}: one transaction cannot write both ${clash.key} and uns/${path}`);
        const at = nodes.findIndex((n) => n.key === target.key);
        if (at >= 0) nodes.splice(at, 1);
        unsPaths.set(target.key, path);
        const what = this.what(...target.key.split("/"));
        nodes.push({ key: target.key, write: (files, key) => writeUnsAt(files, key, target.value, what) });
      }
      const metadata = new Map<string, Json>();
      for (const axis of ["obs", "var"] as const) {
        if (!added[axis].length) continue;
        // Re-read the attributes so keys we do not manage (e.g. _index) are kept as they are.
        const attrs = (await this.files.readJsonObject(keyJoin(axis, ".zattrs"))) ?? {};
        attrs["column-order"] = [...this.frames[axis].order, ...added[axis]];
        metadata.set(keyJoin(axis, ".zattrs"), attrs);
      }
      const consolidate = this.consolidated ? () => this.consolidatedMetadata(nodes.map((n) => n.key), metadata) : undefined;
      await runTransaction(this.files, { what: `${this.name}: writing ${written}`, nodes, metadata, consolidate });
    } catch (err) {
      if (err instanceof AnnDataError || err instanceof TypeError || err instanceof RangeError) throw err;
      throw new AnnDataError("IO", `${this.name}: writing ${written} failed (${(err as Error).message})`, { cause: err });
    }
    for (const axis of ["obs", "var"] as const) this.frames[axis].order.push(...added[axis]);
  }

  /**
   * The node to write for uns[path] = value: the value itself, or, when a
   * dict on the way is missing or is no dict (Python would replace it), that
   * ancestor holding the value nested in new dicts.
   */
  private async unsTarget(path: string[], value: UnsValue): Promise<{ key: string; value: UnsValue }> {
    let key = "uns";
    for (let i = 0; i < path.length; i++) {
      if (!(await this.isDict(key))) return { key, value: path.slice(i).reduceRight<UnsValue>((v, k) => ({ [k]: v }), value) };
      key = keyJoin(key, path[i]!);
    }
    return { key, value };
  }

  private async isDict(key: string): Promise<boolean> {
    if ((await this.files.nodeKind(key)) !== "group") return false;
    const type = encodingOf((await this.files.readJsonObject(keyJoin(key, ".zattrs"))) ?? {}, this.what(key));
    return type === undefined || type === "dict";
  }

  /**
   * Stores written by newer anndata may carry consolidated metadata
   * (.zmetadata), which zarr.open_consolidated trusts instead of the files:
   * updated once per transaction, from its current content, the nodes the
   * transaction wrote and the metadata files it replaced, so its cost grows
   * with what was written, not with the store. Without a readable current
   * .zmetadata it is rebuilt from the whole tree, as zarr.consolidate_metadata
   * would.
   */
  private async consolidatedMetadata(written: string[], replaced: Map<string, Json>): Promise<Json> {
    const read = await this.files.readJson(".zmetadata").catch(() => undefined);
    const current = isJsonObject(read) ? read : {};
    const before = isJsonObject(current["metadata"]) ? current["metadata"] : null;
    const metadata: JsonObject = {};
    const visit = async (key: string): Promise<void> => {
      for (const f of [".zarray", ".zattrs", ".zgroup"]) {
        const v = await this.files.readJson(keyJoin(key, f));
        if (v !== undefined) metadata[keyJoin(key, f)] = v;
      }
      if ((await this.files.nodeKind(key)) !== "group") return;
      for (const child of await this.files.children(key)) await visit(keyJoin(key, child));
    };
    if (!before) {
      await visit("");
      return { metadata, zarr_consolidated_format: 1 };
    }
    for (const [k, v] of Object.entries(before)) if (!written.some((w) => k.startsWith(`${w}/`))) metadata[k] = v;
    for (const w of written) await visit(w);
    for (const [k, v] of replaced) metadata[k] = v;
    return { ...current, metadata };
  }
}

/** "obs/a, obs/b and uns/x", or "12 columns and uns/x" when there are many. */
function describeWrites(columns: string[], uns: string[]): string {
  const parts = columns.length > 3 ? [`${columns.length} columns`, ...uns] : [...columns, ...uns];
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts.join("");
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
  if (!Array.isArray(shape) || shape.length !== 1) throw new AnnDataError("NOT_ANNDATA", `${path}: ${axis}/${indexKey} is not a 1-d index array`);
  checkRowCount(shape, `${path}: ${axis}/${indexKey}`);
  return { indexKey, length: shape[0] as number, order: await columnOrder(files, axis, attrs, indexKey) };
}

async function indexKeyOf(files: ZarrFiles, axis: Axis, attrs: JsonObject): Promise<string | undefined> {
  const key = attrs["_index"];
  // A name with "/" or ".." would be followed out of the data frame, or out of the store (Python zarr refuses it too).
  if (typeof key === "string" && !isStorableName(key)) throw new AnnDataError("NOT_ANNDATA", `${files.root}: ${axis} names its index ${JSON.stringify(key)}, which is not a member of ${axis}`);
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
