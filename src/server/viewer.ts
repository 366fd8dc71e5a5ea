/**
 * startViewer(): serves the viewer page for one AnnData and bridges it to the
 * program (SPEC §8). One server = one viewer (one viewerId); any number of
 * browser tabs may show it. The HTTP side is in routes.ts; this file holds
 * the state and the program-facing API.
 */
import { createServer, type Server } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { AnnDataStore } from "../anndata/model.js";
import { openAnnData } from "../anndata/open.js";
import type { CellucidSessionBundle } from "../apply/session-bundle.js";
import { AccessToken } from "./auth.js";
import { AutosaveStore, datasetIdentityKey, defaultAutosaveDir } from "./autosave.js";
import { CaptureRegistry, type PendingCapture } from "./captures.js";
import { ConnectionGate, DEFAULT_LIMITS, SERVER_OPTIONS, type ViewerLimits } from "./connections.js";
import { DatasetEndpoints, defaultDatasetId } from "./dataset.js";
import { ViewerError } from "./errors.js";
import type { ViewerEvent, ViewerEventMap } from "./events.js";
import { HostGuard, hostPort } from "./http.js";
import { handleRequest, type ViewerState, type SessionPush } from "./routes.js";
import { toSessionSource, type SessionInput } from "./sessions.js";
import { MessageHub } from "./sse.js";
import { DEFAULT_WEB_DIR } from "./static.js";
import { DEFAULT_MAX_UPLOAD_BYTES } from "./upload.js";

export interface StartViewerOptions {
  /** Interface to bind; default 127.0.0.1 (this machine only). */
  host?: string;
  /** Port; default 0 = any free port (read it from `viewer.url`). */
  port?: number;
  /** A bundle the page loads when it opens. */
  session?: SessionInput;
  /** Hard cap on one captured bundle; default 512 MiB (SPEC §8). */
  maxUploadBytes?: number;
  /** datasetId of the page's fingerprint; default `uns["dataset_id"]` when it is a string, else the data file name without .h5ad / .zarr. */
  datasetId?: string;
  /** Where captures are streamed to; default the OS temp dir. */
  tempDir?: string;
  /** Folder holding the built page (index.html + assets/); default dist/web/. */
  webDir?: string;
  /**
   * The access token (16-512 characters of A-Z a-z 0-9 . _ ~ -); default 256
   * random bits. Fix it only for tests or when embedding the viewer in a
   * program that hands the token over by itself.
   */
  token?: string;
  /** Connection and message-stream limits (see README "Limits"). */
  limits?: Partial<ViewerLimits>;
  /** Where details of server-side failures go (they are never sent to clients); default stderr. */
  log?: (line: string) => void;
  /**
   * The folder the page's work is autosaved to (per dataset identity);
   * default `$XDG_STATE_HOME/cellucid-session` or `~/.local/state/cellucid-session`.
   * `false` turns autosave off.
   */
  autosaveDir?: string | false;
}

export interface GetSessionOptions extends WaitOptions {
  /**
   * Which page to ask (an id from viewer.pages()). Default: the page the
   * person used last; with a single open page, that page.
   */
  page?: string;
}

/** An open viewer page (a browser tab). */
export interface ViewerPage {
  /** The tab's id, as pages() lists it and getSessionBundle({ page }) takes it. */
  id: string;
  /** When the person last clicked, drew or typed in it; null when never. */
  lastInteraction: Date | null;
}

export interface WaitOptions {
  /** Default 60 000 ms; Infinity waits forever. */
  timeoutMs?: number;
}

export interface Viewer {
  /** Where the page is served, with its access token: http://127.0.0.1:41234/?token=… */
  readonly url: string;
  /** The access token alone, for programs: send it as `Authorization: Bearer TOKEN`. */
  readonly token: string;
  readonly viewerId: string;
  /** The AnnData being shown (name as given to the store, and its dimensions). */
  readonly data: { readonly name: string; readonly nObs: number; readonly nVars: number };
  /** Resolves once a page has posted `ready` (at once if one already has). */
  waitForReady(opts?: WaitOptions): Promise<void>;
  /**
   * Asks one page for its current session and resolves with the uploaded
   * bundle: `page`, else the page the person used last, else the only open
   * page (NO_INTERACTED_PAGE when several are open and none was used;
   * UNKNOWN_PAGE when `page` is not open). With no page open yet, the first
   * page that connects is asked. `timeoutMs` is the request's time-to-live and bounds the whole
   * wait, upload included. The bundle reads from a temp copy that its close()
   * deletes (otherwise it is deleted at process exit); save(dest) copies it.
   * Rejects with ViewerError: TIMEOUT, NOT_CONNECTED, CLOSED, UPLOAD_TOO_LARGE,
   * INVALID_UPLOAD, UPLOAD_ABORTED. The pair is used up by the first upload,
   * even a failed one: call again to retry.
   */
  getSessionBundle(opts?: GetSessionOptions): Promise<CellucidSessionBundle>;
  /** The open pages, most recently used first (never-used ones last, in the order they opened). */
  pages(): ViewerPage[];
  /** Where this dataset's autosave lives, or null when autosave is off. */
  readonly autosavePath: string | null;
  /** Pushes a bundle to the page(s); resolves once a page has downloaded it. */
  loadSession(session: SessionInput, opts?: WaitOptions): Promise<void>;
  on<K extends keyof ViewerEventMap>(type: K, listener: (event: ViewerEventMap[K]) => void): () => void;
  on(type: string, listener: (event: ViewerEvent) => void): () => void;
  /** Ends page streams, stops the server, rejects pending waits with CLOSED. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** How many loadSession() bundles stay downloadable (a page reconnecting late may still fetch a recent one). */
const KEEP_PUSHES = 8;

/** setTimeout that accepts Infinity (never) and clamps what Node would otherwise turn into 1 ms. */
function deadlineTimer(ms: number, fn: () => void): NodeJS.Timeout | null {
  if (!Number.isFinite(ms)) return null;
  return setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
}

class ViewerImpl implements Viewer, ViewerState {
  readonly viewerId = randomUUID();
  readonly viewerToken = randomBytes(24).toString("hex");
  readonly hub: MessageHub;
  readonly captures = new CaptureRegistry();
  readonly pushes = new Map<string, SessionPush>();
  readonly uploads = new Set<Promise<unknown>>();
  readonly listeners = new Map<string, Set<(e: ViewerEvent) => void>>();
  /** Last interaction time (ms) per tabId. */
  private readonly interactions = new Map<string, number>();
  url = "";
  guard!: HostGuard;
  readonly gate: ConnectionGate;
  ready = false;
  closed = false;
  private readyWaiters = new Set<{ resolve(): void; reject(e: Error): void }>();
  private closing: Promise<void> | null = null;

  constructor(
    readonly server: Server,
    readonly dataset: DatasetEndpoints,
    readonly initialSession: SessionPush["source"] | null,
    readonly maxUploadBytes: number,
    readonly tempParent: string,
    readonly webDir: string,
    private readonly ownsStore: boolean,
    readonly access: AccessToken,
    limits: ViewerLimits,
    readonly log: (line: string) => void,
    readonly autosave: AutosaveStore | null,
  ) {
    this.gate = new ConnectionGate(server, limits.maxConnections);
    this.hub = new MessageHub(limits);
    // A page that connects after a request was sent (or reconnects) still gets every open request.
    this.hub.onConnect = (client, page) => {
      for (const c of this.captures.unclaimed()) {
        // A request made while no page was open goes to the first one that connects, and only to it.
        c.target ??= page;
        if (c.target === page && this.hub.send(this.message("requestSessionBundle", c.requestId), client)) c.delivered = true;
      }
      for (const [id, p] of this.pushes) if (!p.settled) this.hub.send(this.message("loadSession", id), client);
    };
  }

  get token(): string {
    return this.access.value;
  }

  get data(): { name: string; nObs: number; nVars: number } {
    const s = this.dataset.store;
    return { name: s.name, nObs: s.nObs, nVars: s.nVars };
  }

  message(type: string, requestId: string): object {
    return { type, viewerId: this.viewerId, viewerToken: this.viewerToken, requestId };
  }

  private assertOpen(): void {
    if (this.closed) throw new ViewerError("CLOSED", "the viewer is closed");
  }

  private timeoutError(what: string, ms: number, delivered: boolean): ViewerError {
    return delivered || this.hub.size > 0
      ? new ViewerError("TIMEOUT", `${what}: no answer from the viewer page within ${ms} ms`)
      : new ViewerError("NOT_CONNECTED", `${what}: no viewer page connected within ${ms} ms (open ${this.url} in a browser)`);
  }

  get autosavePath(): string | null {
    return this.autosave?.path ?? null;
  }

  // ---- events from the page (routes.ts calls these) ------------------------

  emit(event: ViewerEvent): void {
    if (event.type === "interaction" && typeof event["tabId"] === "string") this.interactions.set(event["tabId"], Date.now());
    if (event.type === "ready" && !this.ready) {
      this.ready = true;
      for (const w of this.readyWaiters) w.resolve();
      this.readyWaiters.clear();
    }
    for (const l of [...(this.listeners.get(event.type) ?? [])]) {
      try {
        l(event);
      } catch (err) {
        // A throwing listener must not break the page's request or the other listeners.
        process.emitWarning(`cellucid viewer: '${event.type}' listener threw: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  // ---- program API ---------------------------------------------------------

  on(type: string, listener: (event: never) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener as (e: ViewerEvent) => void);
    this.listeners.set(type, set);
    return () => void set.delete(listener as (e: ViewerEvent) => void);
  }

  waitForReady(opts: WaitOptions = {}): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.closed) return Promise.reject(new ViewerError("CLOSED", "the viewer is closed"));
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<void>((resolve, reject) => {
      const w = {
        resolve: () => (clearTimeout(timer ?? undefined), resolve()),
        reject: (e: Error) => (clearTimeout(timer ?? undefined), reject(e)),
      };
      const timer = deadlineTimer(ms, () => {
        this.readyWaiters.delete(w);
        reject(this.timeoutError("waitForReady", ms, false));
      });
      this.readyWaiters.add(w);
    });
  }

  pages(): ViewerPage[] {
    const open = this.hub.pages();
    const t = (id: string) => this.interactions.get(id) ?? -1;
    return open
      .map((id, i) => ({ id, i, at: t(id) }))
      .sort((a, b) => b.at - a.at || a.i - b.i)
      .map(({ id, at }) => ({ id, lastInteraction: at < 0 ? null : new Date(at) }));
  }

  /** The page a capture asks (see getSessionBundle); null: none is open yet. */
  private capturePage(wanted: string | undefined): string | null {
    const pages = this.pages();
    if (wanted !== undefined) {
      if (pages.some((p) => p.id === wanted)) return wanted;
      throw new ViewerError("UNKNOWN_PAGE", `getSessionBundle: no open viewer page '${wanted}' (open pages: ${pages.map((p) => p.id).join(", ") || "none"})`);
    }
    if (pages[0]?.lastInteraction) return pages[0].id;
    if (pages.length > 1)
      throw new ViewerError("NO_INTERACTED_PAGE", `getSessionBundle: ${pages.length} viewer pages are open and none has been used yet, so which session is meant is unknown; click in the one you mean, or pass { page } (see viewer.pages())`);
    return pages[0]?.id ?? null;
  }

  getSessionBundle(opts: GetSessionOptions = {}): Promise<CellucidSessionBundle> {
    if (this.closed) return Promise.reject(new ViewerError("CLOSED", "the viewer is closed"));
    let target: string | null;
    try {
      target = this.capturePage(opts.page);
    } catch (err) {
      return Promise.reject(err);
    }
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const requestId = randomUUID();
    return new Promise<CellucidSessionBundle>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): boolean => {
        if (settled) return false;
        settled = true;
        fn();
        return true;
      };
      const capture: PendingCapture = {
        viewerId: this.viewerId,
        requestId,
        deadline: Number.isFinite(ms) ? Date.now() + ms : Infinity,
        used: false,
        delivered: false,
        target,
        resolve: (b) => settle(() => resolve(b)),
        reject: (e) => void settle(() => reject(e)),
        // The TTL bounds the whole wait: at the deadline the pair is forgotten and a running upload is cut off.
        timer: deadlineTimer(ms, () => {
          this.captures.remove(requestId);
          capture.abortUpload?.();
          capture.reject(this.timeoutError("getSessionBundle", ms, capture.delivered));
        }),
      };
      this.captures.add(capture);
      if (target !== null && this.hub.sendToPage(this.message("requestSessionBundle", requestId), target) > 0) capture.delivered = true;
    });
  }

  async loadSession(session: SessionInput, opts: WaitOptions = {}): Promise<void> {
    this.assertOpen();
    const source = await toSessionSource(session);
    this.assertOpen();
    const ms = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const requestId = randomUUID();
    await new Promise<void>((resolve, reject) => {
      const push: SessionPush = { source, settled: false, delivered: false, resolve: () => undefined, reject: () => undefined };
      const timer = deadlineTimer(ms, () => push.reject(this.timeoutError("loadSession", ms, push.delivered)));
      const done = (fn: () => void) => {
        if (push.settled) return;
        push.settled = true;
        clearTimeout(timer ?? undefined);
        fn();
      };
      push.resolve = () => done(resolve);
      push.reject = (e) => done(() => (this.pushes.delete(requestId), reject(e)));
      this.pushes.set(requestId, push);
      for (const [id, p] of this.pushes) if (this.pushes.size > KEEP_PUSHES && p.settled) this.pushes.delete(id);
      if (this.hub.send(this.message("loadSession", requestId)) > 0) push.delivered = true;
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    const closedErr = () => new ViewerError("CLOSED", "the viewer was closed");
    for (const w of this.readyWaiters) w.reject(closedErr());
    this.readyWaiters.clear();
    for (const c of this.captures.all()) {
      c.abortUpload?.();
      c.reject(closedErr());
      this.captures.remove(c.requestId);
    }
    for (const p of this.pushes.values()) p.reject(closedErr());
    this.hub.close();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await stopped;
    // Aborted uploads remove their temp dirs in their own error path; wait for that to finish.
    await Promise.allSettled([...this.uploads]);
    if (this.ownsStore) await this.dataset.store.close();
  }
}

export async function startViewer(data: string | AnnDataStore, opts: StartViewerOptions = {}): Promise<Viewer> {
  const host = opts.host ?? "127.0.0.1";
  const access = new AccessToken(opts.token);
  const limits = viewerLimits(opts.limits);
  const initial = opts.session === undefined ? null : await toSessionSource(opts.session);
  const store = typeof data === "string" ? await openAnnData(data, { mode: "r" }) : data;
  try {
    const webDir = (opts.webDir ?? DEFAULT_WEB_DIR).replace(/[\\/]*$/, "/");
    const stateDir = typeof opts.autosaveDir === "string" ? opts.autosaveDir : defaultAutosaveDir();
    const dataset = new DatasetEndpoints(store, opts.datasetId ?? (await defaultDatasetId(store)), join(stateDir, "x-index"));
    const server = createServer(SERVER_OPTIONS);
    const log = opts.log ?? ((line: string) => void process.stderr.write(`cellucid viewer: ${line}\n`));
    const autosave = opts.autosaveDir === false ? null : new AutosaveStore(opts.autosaveDir ?? defaultAutosaveDir(), await datasetIdentityKey(store, dataset.datasetId), initial !== null);
    const viewer = new ViewerImpl(server, dataset, initial, opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES, opts.tempDir ?? tmpdir(), webDir, typeof data === "string", access, limits, log, autosave);
    server.on("request", (req, res) => void handleRequest(viewer, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    viewer.guard = new HostGuard(host, port);
    const wildcard = host === "0.0.0.0" || host === "::";
    viewer.url = `http://${hostPort(wildcard ? "127.0.0.1" : host, port)}/?token=${access.value}`;
    return viewer;
  } catch (err) {
    if (typeof data === "string") await store.close();
    throw err;
  }
}

function viewerLimits(given: Partial<ViewerLimits> = {}): ViewerLimits {
  const limits: ViewerLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(limits) as (keyof ViewerLimits)[]) if (given[key] !== undefined) limits[key] = given[key];
  for (const [name, n] of Object.entries(limits))
    if (!Number.isInteger(n) || n < 1) throw new TypeError(`startViewer: limits.${name} must be a positive integer, got ${String(n)}`);
  return limits;
}
