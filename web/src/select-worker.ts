/**
 * Selection off the main thread: the page posts the displayed coordinates
 * once per embedding/axes change, then polygons; the worker answers with the
 * sorted cell indices (transferred, not copied). A live preview is worked
 * through in slices, and given up as soon as any later message arrives (the
 * next preview, the release's polygon, new points): the release then waits
 * for at most one slice of a preview that no longer matters, not all of it.
 */
import { PolygonSelector } from "./selection.js";

export type WorkerRequest =
  | { type: "points"; generation: number; xs: Float32Array; ys: Float32Array }
  | { type: "select"; id: number; generation: number; polygon: Float64Array; start: number; end: number; preview: boolean };

export type WorkerResponse =
  | { type: "selected"; id: number; cells: Uint32Array; ms: number }
  | { type: "failed"; id: number; message: string }
  | { type: "superseded"; id: number };

interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(msg: WorkerResponse, transfer?: Transferable[]): void;
}

/** Points per slice of a preview. */
const SLICE = 1 << 18;

const scope = self as unknown as WorkerScope;
let points: { generation: number; xs: Float32Array; ys: Float32Array } | null = null;
/** Counts messages: a preview that sees it move on was overtaken. */
let received = 0;

// Lets queued messages run between slices (a message to ourselves: no timer clamping). One waiter per
// message sent, oldest first: a preview overtaken by another one still wakes, sees it, and answers.
const channel = new MessageChannel();
const waiters: (() => void)[] = [];
channel.port1.onmessage = () => waiters.shift()?.();
const letMessagesIn = (): Promise<void> =>
  new Promise((resolve) => {
    waiters.push(resolve);
    channel.port2.postMessage(null);
  });

scope.onmessage = (ev) => {
  received++;
  const msg = ev.data;
  if (msg.type === "points") {
    points = { generation: msg.generation, xs: msg.xs, ys: msg.ys };
    return;
  }
  void select(msg);
};

async function select(msg: Extract<WorkerRequest, { type: "select" }>): Promise<void> {
  const seen = received;
  // Messages are handled in order, so a select always follows the points it was drawn on.
  if (!points || points.generation !== msg.generation) return scope.postMessage({ type: "failed", id: msg.id, message: "the embedding changed while selecting" });
  const { xs, ys } = points;
  const t0 = performance.now();
  const selector = new PolygonSelector(msg.polygon);
  const parts: Uint32Array[] = [];
  for (let s = msg.start; s < msg.end; s += SLICE) {
    if (msg.preview && s > msg.start) {
      await letMessagesIn();
      if (received !== seen) return scope.postMessage({ type: "superseded", id: msg.id });
    }
    parts.push(selector.select(xs, ys, s, Math.min(msg.end, s + SLICE)));
  }
  const cells = parts.length === 1 ? parts[0]! : new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  if (parts.length > 1) parts.reduce((at, p) => (cells.set(p, at), at + p.length), 0);
  scope.postMessage({ type: "selected", id: msg.id, cells, ms: performance.now() - t0 }, [cells.buffer]);
}
