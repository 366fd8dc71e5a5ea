/**
 * The selection worker's message handling, run in Node on its real module
 * (its scope stood in for by an object that records what it posts): a
 * preview is given up for any later request, which is answered in full.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { WorkerRequest, WorkerResponse } from "../web/src/select-worker.js";
import { selectInPolygon } from "../web/src/selection.js";

interface Scope {
  onmessage: ((ev: { data: WorkerRequest }) => void) | null;
  postMessage(msg: WorkerResponse): void;
}

const posted: WorkerResponse[] = [];
const scope: Scope = { onmessage: null, postMessage: (msg) => posted.push(msg) };
(globalThis as unknown as { self: Scope }).self = scope;
// The worker yields to queued messages through a MessageChannel; Node's would keep the test process alive
// once done, so a stand-in delivers on the next turn of the event loop (after the messages sent before it).
globalThis.MessageChannel = class {
  readonly port1: { onmessage: (() => void) | null } = { onmessage: null };
  readonly port2 = { postMessage: (): void => void setImmediate(() => this.port1.onmessage?.()) };
} as unknown as typeof MessageChannel;
await import("../web/src/select-worker.js");
const send = (data: WorkerRequest): void => scope.onmessage!({ data });

/** The next `count` answers; a request left unanswered fails the test after 10 s. */
async function answers(count: number): Promise<WorkerResponse[]> {
  const until = Date.now() + 10_000;
  while (posted.length < count) {
    if (Date.now() > until) throw new Error(`only ${posted.length} of ${count} answers: a request was never answered`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return posted.splice(0, count);
}

// Enough points for a preview to take several slices.
const n = 1_200_000;
const xs = new Float32Array(n), ys = new Float32Array(n);
for (let i = 0; i < n; i++) {
  xs[i] = (i % 1000) / 10;
  ys[i] = Math.floor(i / 1000) / 12;
}
const square = Float64Array.of(10, 10, 60, 10, 60, 60, 10, 60);
const triangle = Float64Array.of(5, 5, 90, 20, 30, 95);
send({ type: "points", generation: 1, xs, ys });

test("a preview alone is worked through and answered with every cell inside", async () => {
  send({ type: "select", id: 1, generation: 1, polygon: square, start: 0, end: n, preview: true });
  const [a] = await answers(1);
  assert.equal(a!.type, "selected");
  assert.deepEqual(a!.type === "selected" && a.cells, selectInPolygon(xs, ys, square));
});

test("the release overtakes a running preview: it is answered in full, the preview is given up", async () => {
  send({ type: "select", id: 2, generation: 1, polygon: square, start: 0, end: n, preview: true });
  send({ type: "select", id: 3, generation: 1, polygon: triangle, start: 0, end: n, preview: false });
  const [first, second] = await answers(2);
  assert.equal(first!.id, 3);
  assert.deepEqual(first!.type === "selected" && first.cells, selectInPolygon(xs, ys, triangle));
  assert.deepEqual(second, { type: "superseded", id: 2 });
});

test("a preview overtaken by the next preview answers too (none is left waiting); a select on other points fails", async () => {
  send({ type: "select", id: 4, generation: 1, polygon: square, start: 0, end: n, preview: true });
  send({ type: "select", id: 5, generation: 1, polygon: triangle, start: n >> 1, end: n, preview: true });
  const got = await answers(2);
  assert.deepEqual(got.find((r) => r.id === 4), { type: "superseded", id: 4 });
  const last = got.find((r) => r.id === 5)!;
  assert.deepEqual(last.type === "selected" && last.cells, selectInPolygon(xs, ys, triangle, n >> 1, n));
  send({ type: "select", id: 6, generation: 0, polygon: square, start: 0, end: n, preview: false });
  assert.equal((await answers(1))[0]!.type, "failed");
});
