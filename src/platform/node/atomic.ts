/**
 * Writes that never leave a half-written file: data goes to a temp file in the
 * destination's folder and is renamed into place only once complete. The temp
 * file is removed on every exit path, Ctrl+C and `kill` included.
 */
import { randomBytes } from "node:crypto";
import { copyFile, open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { processAlive, registerTemp, releaseTemp } from "./cleanup.js";

export function tempPathFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Removes the temp outputs for `dest` (tempPathFor's names, with a .h5ad
 * journal beside them) that a process killed with -9 or by a power loss left
 * behind; those of a process still running are left alone. Returns the
 * removed paths. The pid is that of this machine: processes in another pid
 * namespace sharing the folder are not told apart.
 */
export async function removeStaleTemps(dest: string): Promise<string[]> {
  const dir = dirname(dest);
  const prefix = `.${basename(dest)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{8}\.tmp(-cellucid-journal)?$/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** Runs `write(tempPath)` then renames the temp file over `dest`; removes the temp file on failure. */
export async function writeAtomically(dest: string, write: (tempPath: string) => Promise<void>): Promise<void> {
  await removeStaleTemps(dest);
  const tmp = tempPathFor(dest);
  registerTemp(tmp);
  try {
    await write(tmp);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true, recursive: true }).catch(() => undefined);
    throw err;
  } finally {
    releaseTemp(tmp);
  }
}

export async function writePartsAtomically(dest: string, parts: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  await writeAtomically(dest, async (tmp) => {
    const fh = await open(tmp, "w");
    try {
      for await (const p of parts) {
        let at = 0;
        while (at < p.length) at += (await fh.write(p, at, p.length - at)).bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
}

export async function copyFileAtomically(src: string, dest: string): Promise<void> {
  await writeAtomically(dest, (tmp) => copyFile(src, tmp));
}
