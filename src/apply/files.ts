/**
 * Applying a bundle to AnnData files (Node), without ever losing data:
 *
 * - In place, the store is locked (a second apply waits `waitSeconds` or fails
 *   with LOCKED), planned, then committed as one transaction (.zarr: the
 *   store's journal; .h5ad: the HDF5 store's own), with SIGINT/SIGTERM
 *   deferred until the commit ends.
 * - Otherwise the input is copied to a temp path beside the output (under a
 *   reader's lock on the input, so no writer changes it mid-copy), applied there and moved
 *   into place. The temp copy is removed on every exit path, signals included.
 *   An existing OUT is replaced only with `force`, and only if it is a regular
 *   file or an AnnData store of the same kind, never any other directory; the
 *   old one is set aside until the new one is in place.
 */
import { constants } from "node:fs";
import { copyFile, cp, lstat, mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { CellucidSessionBundle } from "../bundle/bundle.js";
import { type AnnDataStore, AnnDataError } from "../anndata/model.js";
import { EXIT_STATUS } from "../format/errors.js";
import { type AnnDataFormat, detectAnnDataFormat, openAnnData } from "../anndata/open.js";
import { formatBytes, fsError, treeSize } from "../anndata/fs-errors.js";
import { removeStaleTemps, tempPathFor } from "../platform/node/atomic.js";
import { deferSignals, registerTemp, releaseTemp } from "../platform/node/cleanup.js";
import { beforeMutation } from "../platform/node/faults.js";
import { type HeldLock, acquireLock } from "../platform/node/lock.js";
import { type ApplyOptions, type ApplySummary, planApply } from "./apply.js";

export interface ApplyFileOptions extends Omit<ApplyOptions, "reference"> {
  /** The .h5ad / .zarr the session was made on, when `input` is a subset, superset or reordering of it (opened read-only). */
  reference?: string;
  /** Append to `input` itself. */
  inplace?: boolean;
  /** Where the result goes when not in place. */
  output?: string;
  /** Replace an existing output (a regular file or an AnnData store of the same kind only). */
  force?: boolean;
  /** How long to wait while another process holds the store's lock (default 0: fail with LOCKED at once). */
  waitSeconds?: number;
}

export async function applySessionToFile(bundle: CellucidSessionBundle, input: string, opts: ApplyFileOptions = {}): Promise<ApplySummary> {
  const format = await detectAnnDataFormat(input);
  const wait = new Deadline(opts.waitSeconds ?? 0);
  if (opts.dryRun) return withStore(input, "r", wait, (s) => planWithReference(bundle, s, opts, wait)).then((p) => p.summary);
  if (opts.inplace && opts.output && resolve(opts.output) !== resolve(input)) throw new AnnDataError("IO", "give either an output path or inplace, not both");
  if (opts.inplace) return format === "zarr" ? applyToZarrInPlace(bundle, input, opts, wait) : applyToH5adInPlace(bundle, input, opts, wait);
  if (!opts.output) throw new AnnDataError("IO", "an output path is needed unless applying in place");
  return applyToCopy(bundle, input, format, opts.output, opts, wait);
}

/** The writable store holds the lock from planning to commit: no other apply can claim the same column names in between. */
function applyToZarrInPlace(bundle: CellucidSessionBundle, input: string, opts: ApplyFileOptions, wait: Deadline): Promise<ApplySummary> {
  return withStore(input, "r+", wait, async (s) => {
    const plan = await planWithReference(bundle, s, opts, wait);
    await plan.commit(s);
    return plan.summary;
  });
}

async function applyToH5adInPlace(bundle: CellucidSessionBundle, input: string, opts: ApplyFileOptions, wait: Deadline): Promise<ApplySummary> {
  const lock = await acquireLock(input, { waitSeconds: wait.left() });
  try {
    // Plan on a read-only handle: a failing apply (conflict, mismatch, corrupt chunk) writes nothing.
    const plan = await withStore(input, "r", wait, (s) => planWithReference(bundle, s, opts, wait));
    await deferSignals(() => withStore(input, "r+", wait, (s) => plan.commit(s)));
    return plan.summary;
  } finally {
    await lock.release();
  }
}

async function applyToCopy(bundle: CellucidSessionBundle, input: string, format: AnnDataFormat, dest: string, opts: ApplyFileOptions, wait: Deadline): Promise<ApplySummary> {
  const src = resolve(input);
  const out = resolve(dest);
  if (out === src) throw new AnnDataError("IO", `output ${dest} is the input; use inplace to modify it`);
  if (out.startsWith(src + sep)) throw new AnnDataError("IO", `output ${dest} is inside the input ${input}`);
  await recoverReplacedOutput(dest);
  await removeStaleTemps(dest);
  const existing = await existingOutput(dest, format, opts.force === true);
  // Opening rolls back an apply to the input that a crash interrupted, before the input is locked for the copy.
  await (await openStore(input, "r", wait)).close();
  const tmp = tempPathFor(dest);
  registerTemp(tmp);
  let copying: Promise<void> | undefined;
  try {
    let plan: Awaited<ReturnType<typeof planApply>>;
    // A reader's lock on the input keeps writers out while it is copied; other copies may run at the same time.
    const inputLock = await acquireLock(input, { waitSeconds: wait.left(), shared: true });
    try {
      // The copy (kernel work) runs while the bundle is decoded and planned (JavaScript work) on a read-only handle.
      copying = copyStore(input, tmp, format);
      const [planned] = await Promise.all([withStore(input, "r", wait, (s) => planWithReference(bundle, s, opts, wait)), copying]);
      plan = planned;
    } finally {
      await inputLock.release();
    }
    await withStore(tmp, "r+", wait, (s) => plan.commit(s));
    await deferSignals(() => moveIntoPlace(tmp, dest, existing));
    return plan.summary;
  } catch (err) {
    // A failing plan waits for the copy and removes it: the output never appears.
    await copying?.catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const mapped = await fsError(err, { what: `writing ${dest}`, path: dirname(out), need: async () => `about ${formatBytes((await treeSize(input)).bytes)} (a copy of ${input})` });
    // Errors from the store being written name its temp path, which is gone now: name the output instead.
    if (mapped instanceof AnnDataError && mapped.message.includes(tmp)) throw new AnnDataError(mapped.code, mapped.message.replaceAll(tmp, dest), { cause: mapped.cause });
    throw mapped;
  } finally {
    releaseTemp(tmp);
  }
}

type Existing = "none" | "file" | "store";

/** What is at the output path, refusing anything `--force` may not replace. */
async function existingOutput(dest: string, format: AnnDataFormat, force: boolean): Promise<Existing> {
  let st;
  try {
    st = await lstat(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw await fsError(err, { what: `output ${dest}`, path: dest });
  }
  if (!force) throw new AnnDataError("IO", `output ${dest} already exists (use force to replace it)`);
  if (st.isFile() || st.isSymbolicLink()) return "file";
  const kind = format === "zarr" ? "a .zarr AnnData store" : "a file";
  const refuse = () => new AnnDataError("IO", `output ${dest} is a ${st.isDirectory() ? "folder" : "special file"} that is not ${kind}: force replaces only a regular file or ${kind}, so it is left as it is`);
  if (!st.isDirectory() || format !== "zarr") throw refuse();
  try {
    if ((await detectAnnDataFormat(dest)) !== "zarr") throw refuse();
    await (await openAnnData(dest, { mode: "r" })).close();
  } catch (err) {
    if (err instanceof AnnDataError && err.code === "LOCKED") throw err;
    throw refuse();
  }
  return "store";
}

async function copyStore(input: string, tmp: string, format: AnnDataFormat): Promise<void> {
  if (format === "h5ad") {
    // EXCL: the temp path is new; without it libuv truncates the target, and ext4 then flushes it on close.
    await copyFile(input, tmp, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
    return;
  }
  // The folder exists before the copy starts, so the exit hook never races with its creation.
  await mkdir(tmp);
  // Our own lock, journal and temp files are not part of the data.
  await cp(input, tmp, { recursive: true, errorOnExist: true, force: false, filter: (from) => !basename(from).startsWith(".cellucid-") });
}

/**
 * Puts the finished temp output at `dest`. A file replaces a file in one
 * rename. A folder cannot replace a folder atomically: the old one is renamed
 * aside under a fixed name, the new one renamed in (on failure the old one
 * goes back), and only then is the old one deleted. A crash between the two
 * renames leaves the old output at its fixed name, where the next apply to
 * `dest` or `recover dest` puts it back (recoverReplacedOutput).
 */
async function moveIntoPlace(tmp: string, dest: string, existing: Existing): Promise<void> {
  if (existing === "none") return rename(tmp, dest);
  // Nobody may be writing to the store being replaced.
  const lock: HeldLock = await acquireLock(dest);
  try {
    if (existing === "file" && (await stat(tmp)).isFile()) return await rename(tmp, dest);
    const aside = replacedAsidePath(dest);
    // A leftover from an earlier replacement that completed: the output it replaced is not wanted.
    await rm(aside, { recursive: true, force: true });
    beforeMutation("rename", dest);
    await rename(dest, aside);
    try {
      beforeMutation("rename", tmp);
      await rename(tmp, dest);
    } catch (err) {
      await rename(aside, dest);
      throw err;
    }
    // The new output is in place: failing to delete the old one must not report the apply as failed.
    await rm(aside, { recursive: true, force: true }).catch(() => undefined);
  } finally {
    await lock.release();
  }
}

/** Where `apply -o OUT --force` keeps the OUT folder it replaces until the new one is in place. */
export function replacedAsidePath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.cellucid-replaced`);
}

/**
 * Finishes a folder replacement that a crash interrupted: with no `dest`, the
 * old output set aside goes back ("restored"); with both, the replacement was
 * complete and the old one is removed ("removed"); null when there was none.
 */
export async function recoverReplacedOutput(dest: string): Promise<"restored" | "removed" | null> {
  const aside = replacedAsidePath(dest);
  if (!(await lstat(aside).then(() => true, () => false))) return null;
  if (await lstat(dest).then(() => true, () => false)) {
    await rm(aside, { recursive: true, force: true });
    return "removed";
  }
  await rename(aside, dest);
  return "restored";
}

function planWithReference(bundle: CellucidSessionBundle, store: AnnDataStore, opts: ApplyFileOptions, wait: Deadline) {
  const { reference, ...rest } = opts;
  if (!reference) return planApply(bundle, store, rest);
  return withStore(reference, "r", wait, (ref) => planApply(bundle, store, { ...rest, reference: ref }));
}

function openStore(path: string, mode: "r" | "r+", wait: Deadline): Promise<AnnDataStore> {
  return openAnnData(path, { mode, waitSeconds: wait.left() });
}

async function withStore<T>(path: string, mode: "r" | "r+", wait: Deadline, fn: (s: AnnDataStore) => Promise<T>): Promise<T> {
  const store = await openStore(path, mode, wait);
  let result: T;
  try {
    result = await fn(store);
  } catch (err) {
    // An I/O error has already doomed a write: close() rolls it back and throws the whole story.
    // Any other failure must not be committed half-way by close(): abort leaves the store as it was opened.
    if (store.abort && !(err instanceof AnnDataError && EXIT_STATUS[err.code] === 2)) await store.abort().catch(() => undefined);
    else await store.close();
    throw err;
  }
  await store.close();
  return result;
}

class Deadline {
  private readonly until: number;
  constructor(seconds: number) {
    this.until = Date.now() + seconds * 1000;
  }
  /** Seconds left (0 when past). */
  left(): number {
    return Math.max(0, (this.until - Date.now()) / 1000);
  }
}
