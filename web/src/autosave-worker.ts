/**
 * Autosave off the page's thread: the page posts its session as plain data;
 * this worker encodes the bundle (gzip included) and uploads it to the
 * server, which puts it in place atomically. The page only pays for the
 * structured clone of its arrays.
 */
import type { CellOrder } from "../../src/chunks/cell-order.js";
import type { ViewerConfig } from "./api.js";
import { type SessionData, type ViewSnapshot, writeSession } from "./session-io.js";
import { storedGzipCodec } from "./stored-gzip.js";

export interface AutosaveRequest {
  id: number;
  data: SessionData;
  config: Pick<ViewerConfig, "dataset">;
  view: ViewSnapshot;
  cellOrder: CellOrder;
  token: string;
}

export type AutosaveResponse = { id: number; ok: true; savedAt: string; bytes: number; encodeMs: number; totalMs: number } | { id: number; ok: false; message: string };

interface WorkerScope {
  onmessage: ((ev: MessageEvent<AutosaveRequest>) => void) | null;
  postMessage(msg: AutosaveResponse): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (ev) => {
  const { id, data, config, view, cellOrder, token } = ev.data;
  const t0 = performance.now();
  void (async () => {
    const blob = await writeSession(data, config, view, cellOrder, false, storedGzipCodec);
    const encodeMs = performance.now() - t0;
    const res = await fetch("/_cellucid/autosave", { method: "POST", cache: "no-store", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" }, body: blob });
    const body = (await res.json().catch(() => ({}))) as { savedAt?: string; bytes?: number; error?: string };
    if (!res.ok) throw new Error(`HTTP ${res.status}${body.error ? ` (${body.error})` : ""}`);
    scope.postMessage({ id, ok: true, savedAt: body.savedAt ?? new Date().toISOString(), bytes: body.bytes ?? blob.size, encodeMs, totalMs: performance.now() - t0 });
  })().catch((err: unknown) => scope.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) }));
};
