/**
 * All-or-nothing writes to a Zarr store, with a rollback journal (as SQLite
 * keeps one). A transaction adds or replaces whole nodes (arrays, groups) and
 * rewrites some metadata files (.zattrs, .zmetadata):
 *
 * 1. Staging: every new node is written complete under `.cellucid-staging/`
 *    in the store's root. Nothing visible has changed; a failure or a signal
 *    removes the staging folder.
 * 2. The journal `.cellucid-journal` is written (to a temp file, flushed,
 *    renamed): every metadata file to be replaced with its exact pre-image
 *    (or "absent"), every new node's final path, and where a node it replaces
 *    is set aside.
 * 3. Publishing: replaced nodes are moved aside into the staging folder, new
 *    nodes renamed to their final paths, metadata files replaced (temp file +
 *    rename each), `.zmetadata` rebuilt last.
 * 4. Removing the journal is the commit point; then the staging folder (with
 *    the nodes set aside) is deleted.
 *
 * Steps 2-4 run with SIGINT/SIGTERM deferred. A failure during them rolls back
 * at once; a crash leaves the journal, and the next open of the store (by any
 * of our commands) or `cellucid-session recover` rolls back: every new node
 * removed, every node set aside put back, every pre-image restored byte for
 * byte, temp files removed. The store is then exactly the original.
 */
import { deferSignals, registerTemp, releaseTemp } from "../../platform/node/cleanup.js";
import { formatBytes, fsError, isNoSpace, treeSize } from "../fs-errors.js";
import { type Json, type ZarrFiles, keyJoin, replacementTemp } from "./files.js";

export const JOURNAL = ".cellucid-journal";
export const STAGING = ".cellucid-staging";
export const LOCK_FILE = ".cellucid-lock";
export const JOURNAL_TEMP = `${JOURNAL}.tmp`;

/** A node the transaction writes: `key` is its final path. */
export interface NodeWrite {
  key: string;
  write(files: ZarrFiles, stagedKey: string): Promise<void>;
}

export interface TransactionPlan {
  /** What is written, for messages: "store.zarr: writing 3 columns and uns/cellucid/session". */
  what: string;
  nodes: NodeWrite[];
  /** Metadata files to replace, with their new content. */
  metadata: Map<string, Json>;
  /** Rebuilds `.zmetadata` from the published tree, for consolidated stores; its pre-image is journaled too. */
  consolidate?: () => Promise<Json>;
}

export interface Journal {
  format: "cellucid-zarr-journal";
  version: 1;
  metadata: { key: string; before: string | null }[];
  nodes: { key: string; staged: string; aside: string | null }[];
}

export interface RecoveryReport {
  /** "rolled-back": an interrupted transaction was undone; "cleaned": only leftovers of a finished or never-published one were removed. */
  action: "nothing" | "rolled-back" | "cleaned";
  restored: string[];
  removed: string[];
  cleaned: string[];
}

/** Runs the transaction; file-system failures come out as AnnDataErrors (NO_SPACE, PERMISSION_DENIED, IO). */
export async function runTransaction(files: ZarrFiles, plan: TransactionPlan): Promise<void> {
  const stagingPath = files.path(STAGING);
  registerTemp(stagingPath);
  let journal: Journal;
  try {
    journal = await stage(files, plan);
  } catch (err) {
    // What was staged before the disk filled is a lower bound of what the write needs.
    const staged = isNoSpace(err) ? await treeSize(stagingPath).catch(() => undefined) : undefined;
    await files.remove(STAGING).catch(() => undefined);
    throw await fsError(err, { what: plan.what, path: files.root, need: async () => staged && `more than ${formatBytes(staged.allocated)} (written before the disk filled)` });
  } finally {
    // From here on the journal, not the exit hook, decides what happens to the staging folder.
    releaseTemp(stagingPath);
  }
  await deferSignals(async () => {
    try {
      await files.writeDurable(JOURNAL_TEMP, new TextEncoder().encode(JSON.stringify(journal)));
      await files.rename(JOURNAL_TEMP, JOURNAL);
      await files.syncDir("");
      await publish(files, journal, plan);
      await files.remove(JOURNAL);
      await files.syncDir("");
    } catch (err) {
      await rollBackAfterFailure(files, journal, await fsError(err, { what: plan.what, path: files.root }));
    }
    // Committed: what is left in the staging folder (replaced nodes) is garbage.
    await files.remove(STAGING).catch(() => undefined);
  });
}

async function stage(files: ZarrFiles, plan: TransactionPlan): Promise<Journal> {
  // A staging folder that an earlier transaction could not delete after committing is garbage.
  if (await files.exists(STAGING)) await files.remove(STAGING);
  await files.mkdir(STAGING);
  const nodes: Journal["nodes"] = [];
  for (const [i, n] of plan.nodes.entries()) {
    const staged = keyJoin(STAGING, `new-${i}`);
    await n.write(files, staged);
    nodes.push({ key: n.key, staged, aside: (await files.exists(n.key)) ? keyJoin(STAGING, `old-${i}`) : null });
  }
  // Staged data must be on disk before the journal can make it part of the store.
  await files.flush();
  const keys = [...plan.metadata.keys(), ...(plan.consolidate ? [".zmetadata"] : [])];
  const metadata: Journal["metadata"] = [];
  for (const key of keys) {
    const before = await files.readBytes(key);
    metadata.push({ key, before: before ? Buffer.from(before).toString("base64") : null });
  }
  return { format: "cellucid-zarr-journal", version: 1, metadata, nodes };
}

async function publish(files: ZarrFiles, journal: Journal, plan: TransactionPlan): Promise<void> {
  for (const n of journal.nodes) {
    if (n.aside) await files.rename(n.key, n.aside);
    await files.rename(n.staged, n.key);
  }
  for (const [key, value] of plan.metadata) await files.replaceJson(key, value);
  if (plan.consolidate) await files.replaceJson(".zmetadata", await plan.consolidate());
  for (const dir of new Set([...journal.nodes, ...journal.metadata].map((e) => parentKey(e.key)))) await files.syncDir(dir);
}

async function rollBackAfterFailure(files: ZarrFiles, journal: Journal, err: unknown): Promise<never> {
  try {
    await rollBack(files, journal, emptyReport());
  } catch (rollbackErr) {
    const e = err as Error;
    e.message += ` (the store could not be restored yet: ${(rollbackErr as Error).message}; run \`cellucid-session recover ${files.root}\`)`;
  }
  throw err;
}

/** Undoes a transaction described by `journal`, whatever step it reached; safe to repeat if interrupted itself. */
export async function rollBack(files: ZarrFiles, journal: Journal, report: RecoveryReport): Promise<void> {
  for (const n of [...journal.nodes].reverse()) {
    if (n.aside) {
      // Without the aside copy the original never moved (or was already put back): leave it.
      if (!(await files.exists(n.aside))) continue;
      await files.remove(n.key);
      await files.rename(n.aside, n.key);
      report.restored.push(n.key);
    } else if (await files.exists(n.key)) {
      await files.remove(n.key);
      report.removed.push(n.key);
    }
  }
  for (const m of journal.metadata) {
    const temp = replacementTemp(m.key);
    if (await files.exists(temp)) {
      await files.remove(temp);
      report.cleaned.push(temp);
    }
    const now = await files.readBytes(m.key);
    const before = m.before === null ? undefined : new Uint8Array(Buffer.from(m.before, "base64"));
    if (before === undefined) {
      if (now === undefined) continue;
      await files.remove(m.key);
    } else {
      if (now !== undefined && Buffer.compare(now, before) === 0) continue;
      await files.replaceBytes(m.key, before);
    }
    report.restored.push(m.key);
  }
  for (const dir of new Set([...journal.nodes, ...journal.metadata].map((e) => parentKey(e.key)))) {
    if (await files.exists(dir)) await files.syncDir(dir);
  }
  await cleanLeftovers(files, report);
  await files.remove(JOURNAL);
  await files.syncDir("");
}

export async function cleanLeftovers(files: ZarrFiles, report: RecoveryReport): Promise<void> {
  for (const key of [STAGING, JOURNAL_TEMP]) {
    if (!(await files.exists(key))) continue;
    await files.remove(key);
    report.cleaned.push(key);
  }
}

function parentKey(key: string): string {
  const slash = key.lastIndexOf("/");
  return slash < 0 ? "" : key.slice(0, slash);
}

export function emptyReport(): RecoveryReport {
  return { action: "nothing", restored: [], removed: [], cleaned: [] };
}
