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
import { type AnnDataStore, type Axis, type ColumnInput, type LazyColumn, type UnsValue, AnnDataError, checkLength } from "../model.js";
import { checkColumnName, checkColumnOrderSize, resolveColumn } from "../element-rules.js";
import { ElementStore } from "../element-store.js";
import { join } from "../encodings/io.js";
import { COLUMN_ORDER } from "../encodings/dataframe.js";
import { checkColumn, checkUnsWrite, isDict, readFrames, writeColumn, writeUns } from "../encodings/registry.js";
import { type H5Recovery, H5File, recoverH5 } from "./binding.js";
import { H5Elements, h5Path } from "./elements.js";

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

export class H5adStore extends ElementStore implements AnnDataStore {
  /** Inside transaction(): column-order is written once when it ends, not once per new column. */
  private orderChanged: Record<Axis, boolean> | null = null;

  private constructor(
    private readonly file: H5File,
    readonly name: string,
    private readonly writable: boolean,
  ) {
    const io = new H5Elements(file, name);
    super(io, readFrames(io));
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
      return new H5adStore(file, path, mode === "r+");
    } catch (err) {
      file.abort();
      throw err;
    }
  }

  private assertWritable(): void {
    if (!this.writable) throw new AnnDataError("READ_ONLY", `${this.name} was opened read-only`);
  }

  async setColumn(axis: Axis, name: string, lazy: ColumnInput | LazyColumn): Promise<void> {
    this.assertWritable();
    const order = this.frames[axis].order;
    checkColumnName(this.name, axis, name, this.frames[axis].indexKey);
    const isNew = !order.includes(name);
    // Refused before the column is written: column-order must stay an attribute h5py can read.
    if (isNew) checkColumnOrderSize(this.name, axis, order.length + 1);
    const column = await resolveColumn(lazy);
    checkLength(this, axis, name, column);
    checkColumn(column, `${this.name}: ${axis}/${name}`);
    await this.replaceAt(axis, name, (path) => writeColumn(this.io, path, column));
    if (!isNew) return;
    order.push(name);
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
    this.file.writeAttr(h5Path(axis), COLUMN_ORDER, this.frames[axis].order, "string");
  }

  /**
   * Writes the element `parent/name`: a new one where it goes, one that
   * replaces another under a temporary name, swapped in once written. Either
   * way a failed write is unlinked, so it never leaves a half-written element
   * under `name`.
   */
  private async replaceAt(parent: string, name: string, write: (path: string) => Promise<void>): Promise<void> {
    const dest = join(parent, name);
    const replacing = this.file.exists(h5Path(dest));
    const at = replacing ? join(parent, `.cellucid-tmp-${randomBytes(6).toString("hex")}`) : dest;
    try {
      await write(at);
    } catch (err) {
      // After an I/O error the whole session rolls back at close: nothing to tidy.
      if (!this.file.failure && this.file.exists(h5Path(at))) this.file.deleteLink(h5Path(at));
      throw err;
    }
    if (!replacing) return;
    this.file.deleteLink(h5Path(dest));
    this.file.moveLink(h5Path(at), h5Path(dest));
  }

  async setUns(path: string[], value: UnsValue): Promise<void> {
    this.assertWritable();
    checkUnsWrite(this.name, path, value);
    let parent = "uns";
    await this.ensureDict(parent);
    for (const part of path.slice(0, -1)) {
      parent = join(parent, part);
      await this.ensureDict(parent);
    }
    await this.replaceAt(parent, path[path.length - 1]!, (at) => writeUns(this.io, at, value));
  }

  /** Makes `path` a dict, replacing what else is there (as Python would). */
  private async ensureDict(path: string): Promise<void> {
    if (isDict(this.io, path)) return;
    if (this.io.kind(path)) this.file.deleteLink(h5Path(path));
    await writeUns(this.io, path, {});
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
