/**
 * Writes session bundles off the page's thread, for Save State, captures and
 * autosaves. The page posts its session (see session-wire.ts: each array
 * crosses once); this worker encodes the bundle, reusing the chunks of groups
 * and fields that did not change since the last bundle, and answers with it
 * (a Blob: passed by reference, not copied), or for an autosave uploads it to
 * the server, which puts it in place atomically.
 */
import { EncodedChunkCache } from "../../src/bundle/chunk-cache.js";
import type { CellOrder } from "../../src/chunks/cell-order.js";
import type { ViewerConfig } from "./api.js";
import { type SessionData, type ViewSnapshot, writeSession } from "./session-io.js";
import { WireReceiver, type WireSession } from "./session-wire.js";
import { captureGzipCodec } from "./fast-gzip.js";
import { storedGzipCodec } from "./stored-gzip.js";

interface RequestBase {
  id: number;
  data: WireSession;
  config: Pick<ViewerConfig, "dataset">;
  view: ViewSnapshot;
  cellOrder: CellOrder;
}

/**
 * `encode`: the bundle back to the page. `autosave`: a permissive bundle,
 * with stored gzip, uploaded with `token`; then, while nothing else waits,
 * the bundle a capture would take (`prepare`: canonical or not) is encoded
 * and thrown away, so that its gzip'd chunks are in the cache when a capture
 * or Save State comes.
 */
export type SessionRequest = (RequestBase & { kind: "encode"; canonical: boolean }) | (RequestBase & { kind: "autosave"; token: string; prepare: boolean });

/** How a bundle was made: its time, and how many group / field chunks were encoded anew or taken from the cache. */
export interface EncodeStats {
  encodeMs: number;
  encoded: number;
  reused: number;
}

export type SessionResponse =
  | ({ id: number; ok: true; kind: "encode"; blob: Blob } & EncodeStats)
  | ({ id: number; ok: true; kind: "autosave"; savedAt: string; bytes: number; totalMs: number } & EncodeStats)
  | { id: number; ok: false; message: string };

interface WorkerScope {
  onmessage: ((ev: MessageEvent<SessionRequest>) => void) | null;
  postMessage(msg: SessionResponse): void;
}

const scope = self as unknown as WorkerScope;
const receiver = new WireReceiver();
// One cache: its entries are kept per gzip codec (autosaves store, saves and captures deflate).
const cache = new EncodedChunkCache();

// One bundle at a time: the cache's counts then tell what each bundle reused.
let queue = Promise.resolve();
let waiting = 0;

scope.onmessage = (ev) => {
  const req = ev.data;
  const fail = (err: unknown) => scope.postMessage({ id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) });
  let data: SessionData;
  try {
    // At once, not queued: the arrays kept follow the order of the requests.
    data = receiver.fromWire(req.data);
  } catch (err) {
    return fail(err);
  }
  waiting++;
  queue = queue
    .then(() => answer(req, data))
    .catch(fail)
    .finally(() => waiting--);
};

async function answer(req: SessionRequest, data: SessionData): Promise<void> {
  const t0 = performance.now();
  const before = { ...cache.counts };
  const autosave = req.kind === "autosave";
  const blob = await writeSession(data, req.config, req.view, req.cellOrder, autosave ? false : req.canonical, autosave ? storedGzipCodec : captureGzipCodec, cache);
  const stats: EncodeStats = { encodeMs: performance.now() - t0, encoded: cache.counts.encoded - before.encoded, reused: cache.counts.reused - before.reused };
  if (!autosave) return scope.postMessage({ id: req.id, ok: true, kind: "encode", blob, ...stats });
  const res = await fetch("/_cellucid/autosave", { method: "POST", cache: "no-store", headers: { Authorization: `Bearer ${req.token}`, "Content-Type": "application/octet-stream" }, body: blob });
  const body = (await res.json().catch(() => ({}))) as { savedAt?: string; bytes?: number; error?: string };
  if (!res.ok) throw new Error(`HTTP ${res.status}${body.error ? ` (${body.error})` : ""}`);
  scope.postMessage({ id: req.id, ok: true, kind: "autosave", savedAt: body.savedAt ?? new Date().toISOString(), bytes: body.bytes ?? blob.size, totalMs: performance.now() - t0, ...stats });
  // Only a head start: the capture or Save State that comes reports its own refusal, if any.
  if (waiting === 1) await writeSession(data, req.config, req.view, req.cellOrder, req.prepare, captureGzipCodec, cache).catch(() => undefined);
}
