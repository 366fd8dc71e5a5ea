/**
 * Recovery of Zarr stores: rolling back a transaction that a crash left
 * half-published (its journal says how), removing leftovers, under the
 * store's lock. Every open of a store goes through here first.
 */
import { stat } from "node:fs/promises";
import { AnnDataError } from "../model.js";
import { fsError } from "../fs-errors.js";
import { type HeldLock, acquireLock } from "../../platform/node/lock.js";
import { deferSignals } from "../../platform/node/cleanup.js";
import { ZarrFiles } from "./files.js";
import { JOURNAL, JOURNAL_TEMP, type Journal, LOCK_FILE, type RecoveryReport, STAGING, cleanLeftovers, emptyReport, rollBack } from "./transaction.js";

export interface RecoverOptions {
  /** How long to wait for a writer's lock (default 0: fail with LOCKED at once). */
  waitSeconds?: number;
}

/**
 * Rolls back an interrupted transaction (or removes leftovers such as a stale
 * lock file) in the Zarr store at `path`; fails with LOCKED while another
 * process writes to it.
 */
export async function recoverZarr(path: string, opts: RecoverOptions = {}): Promise<RecoveryReport> {
  const files = new ZarrFiles(path);
  try {
    if (!(await stat(path)).isDirectory()) throw new AnnDataError("NOT_ANNDATA", `${path}: not a Zarr store (not a folder)`);
    // A transaction never touches the root .zgroup: a folder without one was never a store of ours.
    if (!(await files.exists(".zgroup"))) throw new AnnDataError("NOT_ANNDATA", `${path}: not a Zarr store (no .zgroup)`);
    const staleLock = await files.exists(LOCK_FILE);
    const lock = await acquireLock(path, { waitSeconds: opts.waitSeconds, file: files.path(LOCK_FILE) });
    try {
      const report = await recoverLocked(files);
      if (staleLock) {
        report.cleaned.push(LOCK_FILE);
        if (report.action === "nothing") report.action = "cleaned";
      }
      return report;
    } finally {
      await lock.release();
    }
  } catch (err) {
    if (err instanceof AnnDataError) throw err;
    if (err instanceof SyntaxError) throw new AnnDataError("IO", err.message);
    const mapped = await fsError(err, { what: `${path}: recovering`, path });
    throw mapped instanceof AnnDataError ? mapped : new AnnDataError("IO", `${path}: recovering failed (${(err as Error).message})`);
  }
}

/**
 * Before reading, an interrupted transaction is rolled back. A live writer's
 * lock is fine as long as it has not started publishing (no journal): the
 * store still reads as it was. While it publishes, readers get LOCKED.
 */
export async function recoverBeforeReading(files: ZarrFiles, path: string, waitSeconds: number | undefined): Promise<void> {
  if (!(await hasLeftovers(files))) return;
  let lock: HeldLock;
  try {
    lock = await acquireLock(path, { waitSeconds, file: files.path(LOCK_FILE) });
  } catch (err) {
    // Locked, or a store we may not write to: without a journal there is nothing to undo.
    if (!(await hasJournal(files))) return;
    if (err instanceof AnnDataError && err.code === "LOCKED") throw new AnnDataError("LOCKED", `${err.message}, which is writing to it right now`);
    throw err;
  }
  try {
    await recoverLocked(files);
  } finally {
    await lock.release();
  }
}

/** Whether the store holds anything of ours to roll back or clean up (a journal, staging, a lock file). */
async function hasLeftovers(files: ZarrFiles): Promise<boolean> {
  for (const key of [JOURNAL, JOURNAL_TEMP, STAGING, LOCK_FILE]) if (await files.exists(key)) return true;
  return false;
}

async function hasJournal(files: ZarrFiles): Promise<boolean> {
  return files.exists(JOURNAL);
}

/**
 * Brings a store back to a consistent state; the caller holds its lock. With
 * a journal the interrupted transaction is rolled back; without one only
 * leftovers (staging, a journal temp file) are removed.
 */
export async function recoverLocked(files: ZarrFiles): Promise<RecoveryReport> {
  const report = emptyReport();
  const text = await files.readBytes(JOURNAL);
  if (text) {
    await deferSignals(() => rollBack(files, parseJournal(text, files.root), report));
    report.action = "rolled-back";
  } else {
    await cleanLeftovers(files, report);
    if (report.cleaned.length) report.action = "cleaned";
  }
  return report;
}

function parseJournal(bytes: Uint8Array, root: string): Journal {
  let j: Partial<Journal>;
  try {
    j = JSON.parse(new TextDecoder().decode(bytes)) as Partial<Journal>;
  } catch {
    throw new SyntaxError(`${root}/${JOURNAL} is not a journal this program wrote (unreadable JSON)`);
  }
  // Rolling back deletes what the journal names: only what our transactions write is accepted (new obs/var/uns
  // elements, metadata files, our staging folder), so a damaged journal can never make recovery delete X or obsm.
  const okKey = (k: unknown) => typeof k === "string" && k !== "" && !k.split("/").some((p) => p === "" || p === "." || p === "..");
  const okNode = (k: unknown) => okKey(k) && /^(obs\/|var\/|uns$|uns\/)/.test(k as string);
  const okMeta = (k: unknown) => okKey(k) && /(^|\/)\.(zattrs|zmetadata|zgroup|zarray)$/.test(k as string);
  const okStaged = (k: unknown) => okKey(k) && (k as string).startsWith(`${STAGING}/`);
  const ok =
    j.format === "cellucid-zarr-journal" && j.version === 1 &&
    Array.isArray(j.metadata) && j.metadata.every((m) => okMeta(m?.key) && (m.before === null || typeof m.before === "string")) &&
    Array.isArray(j.nodes) && j.nodes.every((n) => okNode(n?.key) && okStaged(n.staged) && (n.aside === null || okStaged(n.aside)));
  if (!ok) throw new SyntaxError(`${root}/${JOURNAL} is not a journal this program wrote`);
  return j as Journal;
}

