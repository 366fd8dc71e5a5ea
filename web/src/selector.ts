/** Main-thread side of the selection worker: promise per polygon. */
import type { WorkerRequest, WorkerResponse } from "./select-worker.js";

export class Selector {
  private readonly worker: Worker;
  private generation = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (cells: Uint32Array) => void; reject: (err: Error) => void }>();
  /** Time the worker spent on the last polygon. */
  lastWorkerMs = 0;

  constructor(url = "/assets/select-worker.js") {
    this.worker = new Worker(url, { type: "module" });
    this.worker.onmessage = (ev: MessageEvent<WorkerResponse>) => {
      const msg = ev.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === "selected") {
        this.lastWorkerMs = msg.ms;
        p.resolve(msg.cells);
      } else p.reject(new Error(msg.message));
    };
    this.worker.onerror = (ev) => {
      for (const p of this.pending.values()) p.reject(new Error(`selection worker failed: ${ev.message}`));
      this.pending.clear();
    };
  }

  /** Copies the displayed coordinates to the worker (the page keeps its own for drawing). */
  setPoints(xs: Float32Array, ys: Float32Array): void {
    const msg: WorkerRequest = { type: "points", generation: ++this.generation, xs: xs.slice(), ys: ys.slice() };
    this.worker.postMessage(msg, [msg.xs.buffer, msg.ys.buffer]);
  }

  select(polygon: Float64Array): Promise<Uint32Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: "select", id, generation: this.generation, polygon };
      this.worker.postMessage(msg);
    });
  }
}
