/**
 * Main-thread side of the selection workers: a promise per polygon. Two
 * workers each test half of the points, so a selection takes half as long
 * on a machine with a core to spare.
 */
import type { WorkerRequest, WorkerResponse } from "./select-worker.js";

export class SelectorPool {
  private readonly workers = [new Selector(), new Selector()];
  private n = 0;

  /** Worker time of the last polygon (the slower half). */
  get lastWorkerMs(): number {
    return Math.max(...this.workers.map((w) => w.lastWorkerMs));
  }

  setPoints(xs: Float32Array, ys: Float32Array): void {
    this.n = xs.length;
    for (const w of this.workers) w.setPoints(xs, ys);
  }

  /** `preview`: a live preview, which any later request makes the workers give up (the promise then rejects with Superseded). */
  async select(polygon: Float64Array, preview = false): Promise<Uint32Array> {
    const mid = this.n >> 1;
    const [a, b] = await Promise.all([this.workers[0]!.select(polygon, 0, mid, preview), this.workers[1]!.select(polygon, mid, this.n, preview)]);
    const out = new Uint32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
}

/** A preview the workers gave up because a later request came. */
export class Superseded extends Error {
  constructor() {
    super("a later selection took over");
  }
}

class Selector {
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
      } else p.reject(msg.type === "superseded" ? new Superseded() : new Error(msg.message));
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

  select(polygon: Float64Array, start: number, end: number, preview: boolean): Promise<Uint32Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const msg: WorkerRequest = { type: "select", id, generation: this.generation, polygon, start, end, preview };
      this.worker.postMessage(msg);
    });
  }
}
