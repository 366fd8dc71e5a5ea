/**
 * File-system failures as AnnDataErrors a user can act on: a full disk names
 * the disk and how much was needed, a permission problem says so; the CLI
 * shows them as I/O errors (exit 2), never as a stack trace.
 */
import { readdir, stat, statfs } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { AnnDataError } from "./model.js";

export interface FsErrorContext {
  /** What failed, for the message: "store.zarr: writing obs/x". */
  what: string;
  /** A path on the disk that was being written (for the free space and mount point). */
  path: string;
  /** For a full disk: how much the operation needed, e.g. "about 2.0 MiB (a copy of in.h5ad)"; asked only then. */
  need?: () => Promise<string | undefined>;
}

const PERMISSION = new Set(["EACCES", "EPERM", "EROFS"]);
const NO_SPACE = new Set(["ENOSPC", "EDQUOT"]);

export function isNoSpace(err: unknown): boolean {
  return NO_SPACE.has((err as NodeJS.ErrnoException | null)?.code ?? "");
}

/** An errno error becomes an AnnDataError; anything else is returned as it is. */
export async function fsError(err: unknown, ctx: FsErrorContext): Promise<unknown> {
  if (err instanceof AnnDataError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) return err;
  const detail = (err as Error).message;
  if (NO_SPACE.has(code)) {
    const disk = await describeDisk(ctx.path);
    const needed = await ctx.need?.().catch(() => undefined);
    const need = needed ? `; it needs ${needed}` : "";
    return new AnnDataError("NO_SPACE", `${ctx.what}: no space left on ${disk}${need}`, { cause: err });
  }
  if (PERMISSION.has(code)) return new AnnDataError("PERMISSION_DENIED", `${ctx.what}: permission denied (${detail})`, { cause: err });
  return new AnnDataError("IO", `${ctx.what}: ${detail}`, { cause: err });
}

/** The bytes of a file or of every file in a folder: their sizes, and the disk space they take up. */
export async function treeSize(path: string): Promise<{ bytes: number; allocated: number }> {
  const st = await stat(path);
  const out = { bytes: st.size, allocated: st.blocks * 512 };
  if (!st.isDirectory()) return out;
  for (const e of await readdir(path, { recursive: true, withFileTypes: true })) {
    const f = await stat(join(e.parentPath, e.name));
    out.bytes += f.isFile() ? f.size : 0;
    out.allocated += f.blocks * 512;
  }
  return out;
}

/** "the disk mounted at /data (1.2 MB free)", as far as it can be found out. */
async function describeDisk(path: string): Promise<string> {
  let dir = resolve(path);
  // The path itself may not exist (yet, or any more): use its nearest existing ancestor.
  while (!(await stat(dir).then(() => true, () => false)) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const fs = await statfs(dir);
    return `the disk mounted at ${await mountPoint(dir)} (${formatBytes(Number(fs.bavail) * Number(fs.bsize))} free)`;
  } catch {
    return `the disk holding ${dir}`;
  }
}

/** The top folder of the file system holding `dir`: the last ancestor on the same device. */
async function mountPoint(dir: string): Promise<string> {
  const dev = (await stat(dir)).dev;
  let at = dir;
  while (dirname(at) !== at && (await stat(dirname(at))).dev === dev) at = dirname(at);
  return at;
}

/** 1536 → "1.5 KiB" (the CLI's reports use it too). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
