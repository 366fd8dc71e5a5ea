/**
 * A CSR matrix's per-gene column index: its entries regrouped by gene on
 * disk, built once (csr-build.ts: one pass over X, in bounded memory) and
 * then read a gene at a time (index-file.ts: the layout and the checks).
 *
 * With `cacheDir` the index is kept there under a name derived from the
 * matrix's identity (file size, mtime, inode and a hash of its header), so a
 * changed file gets a new index; without it, it lives in a temp folder
 * removed at exit. An index that fails a check (cut short by a crash or a
 * power loss: it is not fsynced) is removed and built again.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerTemp } from "../../platform/node/cleanup.js";
import { AnnDataError, type XReadOptions } from "../model.js";
import { buildIndex } from "./csr-build.js";
import { type ColumnEntries, FileIndex } from "./index-file.js";
import type { XSource } from "./source.js";

/** The folder's version: a cache built by an earlier layout is never read as this one. */
const PREFIX = "cellucid-x-v3-";

const built = new WeakMap<XSource, Promise<FileIndex>>();

/** Gene `gene`'s stored entries, from the column index of `src` (from the cache when it is there, else built once per source). */
export async function csrColumn(src: XSource, gene: number, opts: XReadOptions): Promise<ColumnEntries> {
  const index = await indexOf(src, opts);
  const entries = index.column(gene);
  if (entries) return entries;
  // A damaged index (a crash or a power loss cut its writing short): removed, built again, read again.
  built.delete(src);
  await rm(index.dir, { recursive: true, force: true });
  const again = (await indexOf(src, opts)).column(gene);
  if (!again) throw new AnnDataError("IO", `${src.what}: the column index rebuilt in ${index.dir} fails its checksum`);
  return again;
}

function indexOf(src: XSource, opts: XReadOptions): Promise<FileIndex> {
  let index = built.get(src);
  if (!index) {
    index = openOrBuild(src, opts);
    built.set(src, index);
    // A failed or aborted build is not remembered: the next call tries again.
    index.catch(() => built.delete(src));
  }
  return index;
}

async function openOrBuild(src: XSource, opts: XReadOptions): Promise<FileIndex> {
  const key = createHash("sha256").update(await src.identity()).digest("hex").slice(0, 32);
  let root: string;
  if (opts.cacheDir) {
    await mkdir(opts.cacheDir, { recursive: true });
    root = opts.cacheDir;
  } else {
    root = await mkdtemp(join(tmpdir(), "cellucid-x-"));
    registerTemp(root);
  }
  const dir = join(root, `${PREFIX}${key}`);
  const existing = await FileIndex.open(dir, src.shape[1]);
  if (existing) return existing;
  // A folder that does not open (an interrupted build's remains) is in the way of the new one.
  await rm(dir, { recursive: true, force: true });
  const tmp = join(root, `.${PREFIX}${key}-${randomBytes(4).toString("hex")}`);
  registerTemp(tmp);
  try {
    await mkdir(tmp);
    await buildIndex(src, tmp, opts);
    // Another process may have finished the same index meanwhile: either copy is the same.
    await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const done = await FileIndex.open(dir, src.shape[1]);
  if (!done) throw new AnnDataError("IO", `${src.what}: the column index written to ${dir} cannot be read back`);
  return done;
}

/**
 * What identifies a file's content for the cache: its size, mtime and inode,
 * and a hash of its first 64 KiB (the header, which a rewrite changes even
 * when the size and the mtime's resolution do not tell).
 */
export async function fileIdentity(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const s = await fh.stat({ bigint: true });
    const head = new Uint8Array(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return `${path}\0${s.size}\0${s.mtimeNs}\0${s.ino}\0${createHash("sha256").update(head.subarray(0, bytesRead)).digest("hex")}`;
  } finally {
    await fh.close();
  }
}

/** The same for a Zarr element: every file under its folder, by name, size, mtime and inode, and its metadata files' bytes. */
export async function directoryIdentity(dir: string): Promise<string> {
  const hash = createHash("sha256");
  const visit = async (path: string): Promise<void> => {
    for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(path, e.name);
      if (e.isDirectory()) {
        await visit(p);
        continue;
      }
      const s = await stat(p, { bigint: true });
      hash.update(`${p}\0${s.size}\0${s.mtimeNs}\0${s.ino}\n`);
      if (e.name.startsWith(".z")) hash.update(await readFile(p));
    }
  };
  await visit(dir);
  return `${dir}\0${hash.digest("hex")}`;
}
