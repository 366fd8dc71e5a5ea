/**
 * Selection off the main thread: the page posts the displayed coordinates
 * once per embedding/axes change, then polygons; the worker answers with the
 * sorted cell indices (transferred, not copied).
 */
import { selectInPolygon } from "./selection.js";

export type WorkerRequest =
  | { type: "points"; generation: number; xs: Float32Array; ys: Float32Array }
  | { type: "select"; id: number; generation: number; polygon: Float64Array; start: number; end: number };

export type WorkerResponse =
  | { type: "selected"; id: number; cells: Uint32Array; ms: number }
  | { type: "failed"; id: number; message: string };

interface WorkerScope {
  onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(msg: WorkerResponse, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
let points: { generation: number; xs: Float32Array; ys: Float32Array } | null = null;

scope.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === "points") {
    points = { generation: msg.generation, xs: msg.xs, ys: msg.ys };
    return;
  }
  // Messages are handled in order, so a select always follows the points it was drawn on.
  if (!points || points.generation !== msg.generation) {
    scope.postMessage({ type: "failed", id: msg.id, message: "the embedding changed while selecting" });
    return;
  }
  const t0 = performance.now();
  const cells = selectInPolygon(points.xs, points.ys, msg.polygon, msg.start, msg.end);
  scope.postMessage({ type: "selected", id: msg.id, cells, ms: performance.now() - t0 }, [cells.buffer]);
};
