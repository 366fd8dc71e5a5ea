/**
 * The viewer server's HTTP contract, and nothing else: config, binary data,
 * session bytes, events and the SSE message channel. Data arrives as raw
 * little-endian typed arrays (never JSON) so 1M cells cost one copy. Every
 * request carries the access token (`Authorization: Bearer`, or `?token=` on
 * the message stream, which EventSource opens without custom headers).
 */

const TOKEN_KEY = "cellucid-viewer-token";

/**
 * The access token the server printed in the page's URL (`?token=`). It is
 * kept in sessionStorage (this tab only, gone when the tab closes) so a
 * reload still works, and removed from the address bar so it does not stay
 * in the tab's history, get bookmarked or show in a screen share.
 */
export function takeAccessToken(): string | null {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage disabled: the page works until it is reloaded.
    }
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

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
    /** Numeric obs columns (continuous colouring), with their place among the obs columns. */
    obsNumeric: { key: string; index: number }[];
    /** Whether genes can colour cells, and the layers besides X. */
    x: { readable: boolean; layers: string[] };
    hasSession: boolean;
  };
  /** The server's autosave of this dataset: off, or on with the last one (null: none yet). */
  autosave: { enabled: boolean; saved: { savedAt: string; bytes: number } | null };
}

/** A message from the program driving the viewer (SPEC §8). */
export interface ServerMessage {
  type: string;
  viewerId?: string;
  viewerToken?: string;
  requestId?: string;
  [extra: string]: unknown;
}

/** The server's answer to a failed request is `{error, code}`; the person sees the error text. */
async function checked(res: Response, what: string): Promise<Response> {
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    let reason = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { error?: unknown };
      if (typeof body.error === "string") reason = body.error;
    } catch {
      // Not JSON (a proxy's page, say): shown as it is.
    }
    throw new Error(`${what}: HTTP ${res.status}${reason ? ` (${reason})` : ""}`);
  }
  return res;
}

/** Authenticated fetch of a server path. */
function call(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return fetch(path, { cache: "no-store", ...init, headers });
}

export async function fetchConfig(token: string): Promise<ViewerConfig> {
  const res = await checked(await call(token, "/_cellucid/config"), "loading the viewer config");
  return (await res.json()) as ViewerConfig;
}

/** Fire and forget: a lost event must never break the page. */
export function postEvent(token: string, body: Record<string, unknown>): void {
  void call(token, "/_cellucid/events", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).catch(() => undefined);
}

export class ViewerApi {
  /** Names this tab's message stream and events, so the server knows the stream is in use (src/server/sse.ts) and which tab was used last. */
  readonly tabId = crypto.randomUUID();
  private lastInteraction = 0;
  private interactionQueued = false;

  constructor(
    readonly config: ViewerConfig,
    private readonly token: string,
  ) {}

  /** An embedding, row-major nObs × dims. */
  async fetchEmbedding(key: string, nObs: number, dims: number): Promise<Float32Array> {
    const res = await checked(await call(this.token, `/_cellucid/obsm/${encodeURIComponent(key)}`), `loading embedding ${key}`);
    const buf = await res.arrayBuffer();
    if (buf.byteLength !== nObs * dims * 4) throw new Error(`embedding ${key}: got ${buf.byteLength} bytes, expected ${nObs}×${dims} float32`);
    return new Float32Array(buf);
  }

  /** Category codes of an obs categorical, −1 = missing. */
  async fetchObsCodes(key: string, nObs: number): Promise<Int32Array> {
    const res = await checked(await call(this.token, `/_cellucid/obs/${encodeURIComponent(key)}`), `loading obs column ${key}`);
    const buf = await res.arrayBuffer();
    if (buf.byteLength !== nObs * 4) throw new Error(`obs column ${key}: got ${buf.byteLength} bytes, expected ${nObs} int32 codes`);
    return new Int32Array(buf);
  }

  /** Values of a numeric obs column, NaN = missing. */
  async fetchObsValues(key: string, nObs: number): Promise<Float32Array> {
    return this.floats(`/_cellucid/obs_values/${encodeURIComponent(key)}`, `loading obs column ${key}`, nObs);
  }

  /** One gene's values for every cell, from X or a layer. */
  async fetchGene(varIndex: number, layer: string | null, name: string, nObs: number): Promise<Float32Array> {
    const q = layer === null ? "" : `?${new URLSearchParams({ layer })}`;
    return this.floats(`/_cellucid/x/${varIndex}${q}`, `loading gene ${name}`, nObs);
  }

  async fetchVarNames(): Promise<string[]> {
    const res = await checked(await call(this.token, "/_cellucid/var_names"), "loading the gene names");
    return ((await res.json()) as { names: string[] }).names;
  }

  async fetchObsNames(cells: number[]): Promise<string[]> {
    const res = await checked(await call(this.token, `/_cellucid/obs_names?cells=${cells.join(",")}`), "loading cell names");
    return ((await res.json()) as { names: string[] }).names;
  }

  private async floats(path: string, what: string, nObs: number): Promise<Float32Array> {
    const buf = await (await checked(await call(this.token, path), what)).arrayBuffer();
    if (buf.byteLength !== nObs * 4) throw new Error(`${what}: got ${buf.byteLength} bytes, expected ${nObs} float32 values`);
    return new Float32Array(buf);
  }

  private query(requestId?: string): string {
    const q = new URLSearchParams({ viewerId: this.config.viewerId });
    if (requestId !== undefined) q.set("requestId", requestId);
    return q.toString();
  }

  /**
   * The person used this tab: the server asks the last-used tab for its
   * session. Sent at most once a second, the last one always arriving.
   */
  interaction(): void {
    const wait = this.lastInteraction + 1000 - Date.now();
    if (wait <= 0) {
      this.lastInteraction = Date.now();
      this.event("interaction");
    } else if (!this.interactionQueued) {
      this.interactionQueued = true;
      setTimeout(() => {
        this.interactionQueued = false;
        this.interaction();
      }, wait);
    }
  }

  async fetchAutosave(): Promise<Uint8Array> {
    const res = await checked(await call(this.token, "/_cellucid/autosave"), "loading the autosave");
    return new Uint8Array(await res.arrayBuffer());
  }

  async fetchSession(requestId: string): Promise<Uint8Array> {
    const res = await checked(await call(this.token, `/_cellucid/session?${this.query(requestId)}`), "loading the session");
    return new Uint8Array(await res.arrayBuffer());
  }

  async uploadBundle(requestId: string, bytes: Blob): Promise<void> {
    await checked(
      await call(this.token, `/_cellucid/session_bundle?${this.query(requestId)}`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: bytes }),
      "uploading the session bundle",
    );
  }

  /** Fire and forget: a lost event must never break the page. */
  event(type: string, payload: Record<string, unknown> = {}): void {
    postEvent(this.token, { ...payload, viewerId: this.config.viewerId, tabId: this.tabId, type });
  }

  /**
   * Subscribes to program-to-page messages. Messages for another viewer or
   * with a wrong token are dropped and reported, never acted on: any page on
   * the machine could otherwise ask this one for its session.
   */
  listen(onMessage: (msg: ServerMessage) => void, onLost: (why: string) => void): EventSource {
    const q = new URLSearchParams({ viewerId: this.config.viewerId, tabId: this.tabId, token: this.token });
    const es = new EventSource(`/_cellucid/messages?${q}`);
    // The server replaced this idle stream with a newer page's: reconnecting would only push that one out again.
    es.addEventListener("evicted", () => {
      es.close();
      onLost("This tab was disconnected from the program because too many viewer pages are open; reload it to reconnect.");
    });
    // EventSource retries dropped streams by itself; CLOSED means the server refused it (401, 429, 503) or went away.
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) onLost("Lost the connection to the program (the server refused or closed the message stream); reload the page to reconnect.");
    };
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
