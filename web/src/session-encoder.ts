/**
 * The page's handle on the session worker: Save State, captures and
 * autosaves all go through it, so the page's thread never encodes a bundle
 * and the worker's chunk cache serves all three.
 */
import type { CellOrder } from "../../src/chunks/cell-order.js";
import type { ViewerConfig } from "./api.js";
import type { SessionData, ViewSnapshot } from "./session-io.js";
import type { EncodeStats, SessionRequest, SessionResponse } from "./session-worker.js";
import { WireSender } from "./session-wire.js";

type Answer<K> = Extract<SessionResponse, { ok: true; kind: K }>;
type Job = { kind: "encode"; canonical: boolean } | { kind: "autosave"; token: string; prepare: boolean };

export class SessionEncoder {
  private readonly worker = new Worker("/assets/session-worker.js", { type: "module" });
  private readonly sender = new WireSender();
  private readonly pending = new Map<number, (r: SessionResponse) => void>();
  private nextId = 1;
  /** The last bundle's timing and cache use (for tests and the bench). */
  last: EncodeStats | null = null;

  constructor(private readonly config: Pick<ViewerConfig, "dataset">) {
    this.worker.onmessage = (ev: MessageEvent<SessionResponse>) => {
      this.pending.get(ev.data.id)?.(ev.data);
      this.pending.delete(ev.data.id);
    };
  }

  /** The bundle Save State and captures hand out (canonical: what the web app loads). */
  async encode(data: SessionData, view: ViewSnapshot, cellOrder: CellOrder, canonical: boolean): Promise<Blob> {
    return (await this.run<"encode">(data, view, cellOrder, { kind: "encode", canonical })).blob;
  }

  /**
   * Writes a permissive bundle and uploads it as this dataset's autosave;
   * then the worker prepares the chunks of the bundle a capture would take
   * (canonical or not: `prepare`).
   */
  autosave(data: SessionData, view: ViewSnapshot, cellOrder: CellOrder, token: string, prepare: boolean): Promise<Answer<"autosave">> {
    return this.run<"autosave">(data, view, cellOrder, { kind: "autosave", token, prepare });
  }

  private async run<K extends Job["kind"]>(data: SessionData, view: ViewSnapshot, cellOrder: CellOrder, job: Job): Promise<Answer<K>> {
    const reply = await new Promise<SessionResponse>((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, resolve);
      // toWire and postMessage together: the worker must see the requests in the order their arrays were counted.
      try {
        this.worker.postMessage({ id, data: this.sender.toWire(data), config: { dataset: this.config.dataset }, view, cellOrder, ...job } as SessionRequest);
      } catch (err) {
        this.pending.delete(id);
        resolve({ id, ok: false, message: err instanceof Error ? err.message : String(err) });
      }
    });
    if (!reply.ok) {
      this.sender.forget();
      throw new Error(reply.message);
    }
    this.last = { encodeMs: reply.encodeMs, encoded: reply.encoded, reused: reply.reused };
    return reply as Answer<K>;
  }
}
