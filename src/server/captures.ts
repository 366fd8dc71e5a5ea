/**
 * Pending capture requests (SPEC §8) and the bundles they produce.
 *
 * A request is a (viewerId, requestId) pair with a deadline. An upload may
 * claim it once, before the deadline: claiming marks it used at the first
 * request, whatever then happens to the upload, so a second POST (a retry, a
 * second tab, a replay) is refused. A used pair is remembered until its
 * deadline so that refusal can say "already used" rather than "unknown".
 */
import { rmSync } from "node:fs";
import { indexBundle } from "../format/framing.js";
import { CellucidSessionBundle } from "../apply/session-bundle.js";
import { fileSource } from "../platform/node/file-source.js";

export interface PendingCapture {
  viewerId: string;
  requestId: string;
  deadline: number;
  /** Claimed by an upload (the pair cannot be used again). */
  used: boolean;
  /** The request message reached at least one page. */
  delivered: boolean;
  /** The one page asked (a tabId); null until a page connects when none was open. */
  target: string | null;
  /** False when the wait had already ended (the bundle was not taken). */
  resolve(bundle: CellucidSessionBundle): boolean;
  reject(err: Error): void;
  /** Set while an upload is streaming, to cut it off on timeout or close. */
  abortUpload?: () => void;
  timer: NodeJS.Timeout | null;
}

export type ClaimResult = { ok: true; capture: PendingCapture } | { ok: false; status: 404 | 409 };

export class CaptureRegistry {
  private readonly byId = new Map<string, PendingCapture>();

  add(capture: PendingCapture): void {
    this.byId.set(capture.requestId, capture);
  }

  remove(requestId: string): void {
    const c = this.byId.get(requestId);
    if (c?.timer) clearTimeout(c.timer);
    this.byId.delete(requestId);
  }

  /** Claims the pair for one upload: 404 when unknown or expired, 409 when already claimed. */
  claim(viewerId: string, requestId: string, now = Date.now()): ClaimResult {
    const c = this.byId.get(requestId);
    if (!c || c.viewerId !== viewerId || now > c.deadline) return { ok: false, status: 404 };
    if (c.used) return { ok: false, status: 409 };
    c.used = true;
    return { ok: true, capture: c };
  }

  /** Requests still waiting for a page to start uploading (re-sent to pages that connect later). */
  unclaimed(): PendingCapture[] {
    return [...this.byId.values()].filter((c) => !c.used);
  }

  all(): PendingCapture[] {
    return [...this.byId.values()];
  }
}

/*
 * Captured bundles live in their own temp dir. The viewer cannot delete it
 * when it closes: the program may still hold the bundle and call save() or
 * read chunks (and Windows cannot remove an open file). So the dir goes away
 * when the bundle is closed, or at the latest when the process exits.
 */
const liveCaptureDirs = new Set<string>();
let exitHookInstalled = false;

function trackForExit(dir: string): void {
  liveCaptureDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const d of liveCaptureDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** A bundle captured from the page: a Node bundle whose close() also deletes its temp copy. */
export class CapturedSessionBundle extends CellucidSessionBundle {
  private tempDir: string | null = null;

  static async openCaptured(path: string, dir: string): Promise<CapturedSessionBundle> {
    const source = await fileSource(path);
    try {
      const b = new CapturedSessionBundle(source, await indexBundle(source), undefined, path);
      b.tempDir = dir;
      trackForExit(dir);
      return b;
    } catch (err) {
      await source.close?.();
      throw err;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.tempDir) {
      rmSync(this.tempDir, { recursive: true, force: true });
      liveCaptureDirs.delete(this.tempDir);
      this.tempDir = null;
    }
  }
}
