/** Opens an AnnData on disk, choosing the store by what is there: an HDF5 file (.h5ad) or a Zarr v2 directory. */
import { open as openFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type AnnDataStore, AnnDataError } from "./model.js";

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export type AnnDataFormat = "h5ad" | "zarr";

export async function detectAnnDataFormat(path: string): Promise<AnnDataFormat> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new AnnDataError("IO", `${path}: ${err.code === "ENOENT" ? "no such file or directory" : err.message}`);
  });
  if (st.isDirectory()) {
    const isZarr = await stat(join(path, ".zgroup")).then(() => true, () => false);
    if (isZarr) return "zarr";
    throw new AnnDataError("NOT_ANNDATA", `${path}: a directory but not a Zarr v2 store (no .zgroup)`);
  }
  const fh = await openFile(path, "r");
  try {
    const head = new Uint8Array(8);
    await fh.read(head, 0, 8, 0);
    if (HDF5_SIGNATURE.every((b, i) => head[i] === b)) return "h5ad";
  } finally {
    await fh.close();
  }
  throw new AnnDataError("NOT_ANNDATA", `${path}: not an AnnData file (neither an HDF5 .h5ad file nor a Zarr directory)`);
}

export interface OpenAnnDataOptions {
  mode?: "r" | "r+";
  /** How long to wait while another process holds the data (a writer's lock, or an .h5ad open elsewhere) before failing with LOCKED (default 0). */
  waitSeconds?: number;
}

export async function openAnnData(path: string, opts: OpenAnnDataOptions = {}): Promise<AnnDataStore> {
  const mode = opts.mode ?? "r";
  const waitSeconds = Math.max(0, opts.waitSeconds ?? 0);
  const format = await detectAnnDataFormat(path);
  // Each store loads its own stack (the HDF5 binding; zarrita and its codecs) only when a file needs it.
  // A store left mid-apply by a crash is rolled back by its open, before anything reads it.
  if (format === "zarr") return (await import("./zarr/store.js")).ZarrStore.open(path, mode, { waitSeconds });
  const { H5adStore } = await import("./h5/store.js");
  // HDF5 takes its lock at open and cannot wait for it: the open is retried until the time is up.
  const until = Date.now() + waitSeconds * 1000;
  for (;;) {
    try {
      return await H5adStore.open(path, mode);
    } catch (err) {
      const left = until - Date.now();
      if (!(err instanceof AnnDataError && err.code === "LOCKED") || left <= 0) throw err;
      await new Promise((r) => setTimeout(r, Math.min(100, left)));
    }
  }
}
