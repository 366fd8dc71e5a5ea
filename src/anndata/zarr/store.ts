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
import { stat } from "node:fs/promises";
import { type AnnDataStore, type Axis, type ColumnInput, type LazyColumn, type UnsValue, AnnDataError, checkLength } from "../model.js";
import { fsError } from "../fs-errors.js";
import { type HeldLock, acquireLock } from "../../platform/node/lock.js";
import { checkColumnName, resolveColumn } from "../element-rules.js";
import { ElementStore } from "../element-store.js";
import { COLUMN_ORDER, type FrameHeader } from "../encodings/dataframe.js";
import { checkColumn, checkUnsWrite, isDict, readFrames, writeColumn, writeUns } from "../encodings/registry.js";
import { ZarrElements } from "./elements.js";
import { type Json, type JsonObject, ZarrFiles, isJsonObject, isNotFound, keyJoin } from "./files.js";
import { LOCK_FILE, type NodeWrite, runTransaction } from "./transaction.js";
import { recoverBeforeReading, recoverLocked } from "./recovery.js";

/** Writes recorded during a transaction, published together when it ends. */
interface Pending {
  /** By "axis/name": writing a column twice keeps the last. */
  columns: Map<string, { axis: Axis; name: string; column: ColumnInput | LazyColumn }>;
  uns: { path: string[]; value: UnsValue }[];
}

export interface ZarrOpenOptions {
  /** With mode "r+": how long to wait for another writer's lock (default 0: fail with LOCKED at once). */
  waitSeconds?: number;
}

export class ZarrStore extends ElementStore implements AnnDataStore {
  private closed = false;
  /** Transactions run one at a time: each rewrites the frame's attributes from the in-memory column order. */
  private writes: Promise<unknown> = Promise.resolve();
  private pending: Pending | null = null;

  private constructor(
    private readonly files: ZarrFiles,
    io: ZarrElements,
    readonly name: string,
    /** Held by a writable store until close(). */
    private readonly lock: HeldLock | null,
    frames: Record<Axis, FrameHeader>,
    /** Whether the store has consolidated metadata (.zmetadata) that writes must keep in step. */
    private readonly consolidated: boolean,
  ) {
    super(io, frames);
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
      const io = new ZarrElements(files);
      return new ZarrStore(files, io, path, lock, readFrames(io), await files.exists(".zmetadata"));
    } catch (err) {
      await lock?.release();
      if (err instanceof AnnDataError) throw err;
      if (err instanceof SyntaxError) throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData Zarr store (unreadable metadata: ${err.message})`);
      const mapped = await fsError(err, { what: path, path });
      throw mapped instanceof AnnDataError ? mapped : new AnnDataError("IO", `${path}: ${(err as Error).message}`);
    }
  }

  async setColumn(axis: Axis, name: string, column: ColumnInput | LazyColumn): Promise<void> {
    this.assertWritable();
    // Column names come from bundles and prefixes: one that would leave obs/ or var/ is the user's input, not a bug.
    checkColumnName(this.name, axis, name, this.frames[axis].indexKey);
    // A lazy column is checked when it is staged: a failure then still leaves the store untouched.
    if (typeof column !== "function") this.checkColumn(axis, name, column);
    await this.record((p) => p.columns.set(keyJoin(axis, name), { axis, name, column }));
  }

  async setUns(path: string[], value: UnsValue): Promise<void> {
    this.assertWritable();
    checkUnsWrite(this.name, path, value);
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

  async close(): Promise<void> {
    // Every transaction is complete on disk when its call returns: only queued ones need waiting for.
    this.closed = true;
    await this.writes;
    await this.lock?.release();
  }

  // ------------------------------------------------------------ internals

  private checkColumn(axis: Axis, name: string, column: ColumnInput): void {
    checkLength(this, axis, name, column);
    checkColumn(column, `${this.name}: ${axis}/${name}`);
  }

  protected override assertOpen(): void {
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
        write: async (_files, key) => {
          const c = await resolveColumn(column);
          if (typeof column === "function") this.checkColumn(axis, name, c);
          await writeColumn(this.io, key, c);
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
        nodes.push({ key: target.key, write: (_files, key) => writeUns(this.io, key, target.value) });
      }
      const metadata = new Map<string, Json>();
      for (const axis of ["obs", "var"] as const) {
        if (!added[axis].length) continue;
        // Re-read the attributes so keys we do not manage (e.g. _index) are kept as they are.
        const attrs = (await this.files.readJsonObject(keyJoin(axis, ".zattrs"))) ?? {};
        attrs[COLUMN_ORDER] = [...this.frames[axis].order, ...added[axis]];
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
      if (!isDict(this.io, key)) return { key, value: path.slice(i).reduceRight<UnsValue>((v, k) => ({ [k]: v }), value) };
      key = keyJoin(key, path[i]!);
    }
    return { key, value };
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
}
