/**
 * The viewer server's HTTP contract, and nothing else: config, binary data,
 * session bytes, events and the SSE message channel. Data arrives as raw
 * little-endian typed arrays (never JSON) so 1M cells cost one copy.
 */

export interface DatasetFingerprint {
  sourceType: string;
  datasetId: string | null;
  cellCount?: number;
  varCount?: number;
}

export interface EmbeddingInfo {
  key: string;
  dims: number;
}

export interface ObsCategoricalInfo {
  key: string;
  categories: string[];
}

export interface ViewerConfig {
  viewerId: string;
  viewerToken: string;
  dataset: {
    name: string;
    nObs: number;
    nVars: number;
    fingerprint: DatasetFingerprint;
    embeddings: EmbeddingInfo[];
    obsCategoricals: ObsCategoricalInfo[];
    hasSession: boolean;
  };
}

/** A message from the program driving the viewer (SPEC §8). */
export interface ServerMessage {
  type: string;
  viewerId?: string;
  viewerToken?: string;
  requestId?: string;
  [extra: string]: unknown;
}

async function checked(res: Response, what: string): Promise<Response> {
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    throw new Error(`${what}: HTTP ${res.status}${text ? ` (${text.slice(0, 200)})` : ""}`);
  }
  return res;
}

export async function fetchConfig(): Promise<ViewerConfig> {
  const res = await checked(await fetch("/_cellucid/config", { cache: "no-store" }), "loading the viewer config");
  return (await res.json()) as ViewerConfig;
}

/** An embedding, row-major nObs × dims. */
export async function fetchEmbedding(key: string, nObs: number, dims: number): Promise<Float32Array> {
  const res = await checked(await fetch(`/_cellucid/obsm/${encodeURIComponent(key)}`), `loading embedding ${key}`);
  const buf = await res.arrayBuffer();
  if (buf.byteLength !== nObs * dims * 4) throw new Error(`embedding ${key}: got ${buf.byteLength} bytes, expected ${nObs}×${dims} float32`);
  return new Float32Array(buf);
}

/** Category codes of an obs categorical, −1 = missing. */
export async function fetchObsCodes(key: string, nObs: number): Promise<Int32Array> {
  const res = await checked(await fetch(`/_cellucid/obs/${encodeURIComponent(key)}`), `loading obs column ${key}`);
  const buf = await res.arrayBuffer();
  if (buf.byteLength !== nObs * 4) throw new Error(`obs column ${key}: got ${buf.byteLength} bytes, expected ${nObs} int32 codes`);
  return new Int32Array(buf);
}

export class ViewerApi {
  constructor(readonly config: ViewerConfig) {}

  private query(requestId?: string): string {
    const q = new URLSearchParams({ viewerId: this.config.viewerId });
    if (requestId !== undefined) q.set("requestId", requestId);
    return q.toString();
  }

  async fetchSession(requestId: string): Promise<Uint8Array> {
    const res = await checked(await fetch(`/_cellucid/session?${this.query(requestId)}`, { cache: "no-store" }), "loading the session");
    return new Uint8Array(await res.arrayBuffer());
  }

  async uploadBundle(requestId: string, bytes: Blob): Promise<void> {
    await checked(
      await fetch(`/_cellucid/session_bundle?${this.query(requestId)}`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: bytes }),
      "uploading the session bundle",
    );
  }

  /** Fire and forget: a lost event must never break the page. */
  event(type: string, payload: Record<string, unknown> = {}): void {
    const body = JSON.stringify({ ...payload, viewerId: this.config.viewerId, type });
    void fetch("/_cellucid/events", { method: "POST", headers: { "Content-Type": "application/json" }, body }).catch(() => undefined);
  }

  /**
   * Subscribes to program-to-page messages. Messages for another viewer or
   * with a wrong token are dropped and reported, never acted on: any page on
   * the machine could otherwise ask this one for its session.
   */
  listen(onMessage: (msg: ServerMessage) => void): EventSource {
    const es = new EventSource(`/_cellucid/messages?${this.query()}`);
    es.onmessage = (ev: MessageEvent<string>) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(ev.data) as ServerMessage;
      } catch {
        this.event("error", { message: "unreadable message from the server" });
        return;
      }
      if (msg.viewerId !== this.config.viewerId || msg.viewerToken !== this.config.viewerToken) {
        this.event("error", { message: `ignored '${String(msg.type)}' message: viewerId/viewerToken do not match this viewer` });
        return;
      }
      onMessage(msg);
    };
    return es;
  }
}
