/**
 * The page's autosave, kept by the server in a per-user state folder
 * (`$XDG_STATE_HOME/cellucid-session`, else `~/.local/state/cellucid-session`)
 * under a key naming the dataset: its absolute path, fingerprint (datasetId,
 * cell and gene counts) and cell-order digest. So a reload, another tab or a
 * new `serve` of the same data finds it, and another dataset never does.
 *
 * Each save is streamed to a temp folder inside the state folder, checked as
 * a bundle, synced and renamed over the previous one: a crash leaves the old
 * autosave or the new one, never a mix. "Start fresh" moves the autosave
 * aside (`<key>.previous.cellucid-session`) rather than deleting it.
 */
import { createHash } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { IncomingMessage } from "node:http";
import { embeddingCellOrderDigest } from "../chunks/cell-order.js";
import { indexBundle } from "../format/framing.js";
import type { AnnDataStore } from "../anndata/model.js";
import { fileSource } from "../platform/node/file-source.js";
import { receiveBundleUpload } from "./upload.js";

export interface AutosaveInfo {
  /** ISO time of the last autosave. */
  savedAt: string;
  bytes: number;
}

/** The folder autosaves go to when none is given. */
export function defaultAutosaveDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env["XDG_STATE_HOME"];
  return join(state && state.startsWith("/") ? state : join(homedir(), ".local", "state"), "cellucid-session");
}

/** The dataset identity an autosave is filed under (a hex digest: no path characters reach the file name). */
export async function datasetIdentityKey(store: AnnDataStore, datasetId: string): Promise<string> {
  const h = createHash("sha256");
  h.update(JSON.stringify({ path: resolve(store.name), datasetId, nObs: store.nObs, nVars: store.nVars }));
  // The cell order: the narrowest embedding's first (up to) three columns, digested as the app digests cell order.
  // Only that one is read (a store that knows shapes from metadata reads none to choose it): a 50-column PCA of
  // millions of cells would otherwise be read at every start.
  const keys = store.obsmKeys?.() ?? [];
  const width = (key: string) => store.obsmShape?.(key)?.[1] ?? Infinity;
  const ordered = [...keys].sort((a, b) => width(a) - width(b));
  for (const key of ordered) {
    const m = await store.readObsm!(key).catch(() => null);
    if (!m || m.shape[0] !== store.nObs || m.shape[1] < 1) continue;
    const cols = Math.min(3, m.shape[1]);
    const xyz = new Float32Array(store.nObs * cols);
    for (let i = 0; i < store.nObs; i++) for (let j = 0; j < cols; j++) xyz[i * cols + j] = Number(m.data[i * m.shape[1] + j]);
    h.update(`${key}:${embeddingCellOrderDigest(xyz, store.nObs, cols, "python")}`);
    break;
  }
  return h.digest("hex").slice(0, 32);
}

export class AutosaveStore {
  readonly path: string;
  readonly previousPath: string;

  constructor(
    readonly dir: string,
    readonly key: string,
    /** A session given to the viewer wins over the autosave: the first new autosave sets the old one aside, never over it. */
    private setAsideFirst = false,
  ) {
    this.path = join(dir, `${key}.cellucid-session`);
    this.previousPath = join(dir, `${key}.previous.cellucid-session`);
  }

  async info(): Promise<AutosaveInfo | null> {
    const s = await stat(this.path).catch(() => null);
    return s ? { savedAt: s.mtime.toISOString(), bytes: s.size } : null;
  }

  /** Receives one bundle from the page (size-capped, magic and frames checked) and puts it in place atomically. */
  async write(req: IncomingMessage, maxBytes: number): Promise<AutosaveInfo> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const received = await receiveBundleUpload(req, { maxBytes, tempParent: this.dir });
    try {
      const source = await fileSource(received.path);
      try {
        await indexBundle(source);
      } finally {
        await source.close?.();
      }
      const fh = await open(received.path, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.setAsideFirst) {
        await this.discard();
        this.setAsideFirst = false;
      }
      await rename(received.path, this.path);
    } finally {
      await rm(received.dir, { recursive: true, force: true }).catch(() => undefined);
    }
    return (await this.info())!;
  }

  /** "Start fresh": the autosave is moved aside, replacing an older set-aside one. */
  async discard(): Promise<void> {
    await rename(this.path, this.previousPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}
