/**
 * The HTTP contract of the viewer server (see README "Viewer server"). Every
 * request passes the Host guard first; everything but the static page shell
 * needs the access token (auth.ts); POSTs also pass the Origin guard. Paths
 * are matched on the raw request target, never normalised, so `..` and `%2f`
 * tricks simply match no route or fail the asset name pattern. Error answers
 * are `{error, code}` with a short generic message; what went wrong on the
 * server side (a path, an HDF5 message) goes to the viewer's log only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { rm } from "node:fs/promises";
import { AnnDataError } from "../anndata/model.js";
import { CellucidSessionError } from "../format/errors.js";
import { AccessToken } from "./auth.js";
import type { AutosaveStore } from "./autosave.js";
import { CapturedSessionBundle, type CaptureRegistry } from "./captures.js";
import type { ConnectionGate } from "./connections.js";
import type { DatasetEndpoints } from "./dataset.js";
import { HttpError, ViewerError } from "./errors.js";
import { BASE_HEADERS, type HostGuard, readLimitedBody, sendError, sendJson } from "./http.js";
import { serveSession, type SessionSource } from "./sessions.js";
import type { MessageHub } from "./sse.js";
import { serveAsset, serveIndex } from "./static.js";
import { UploadFailure, receiveBundleUpload } from "./upload.js";
import type { ViewerEvent } from "./events.js";

export const MAX_EVENT_BYTES = 64 * 1024;
const NO_PENDING = "No pending session bundle request";
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
/** A tab's self-chosen id (web/src/api.ts makes a UUID). */
const TAB_ID = /^[A-Za-z0-9-]{1,64}$/;

/** A bundle pushed by loadSession(), downloadable by requestId. */
export interface SessionPush {
  source: SessionSource;
  settled: boolean;
  delivered: boolean;
  resolve(): void;
  reject(err: Error): void;
}

/** What the routes need from the viewer (implemented by ViewerImpl in viewer.ts). */
export interface ViewerState {
  readonly viewerId: string;
  readonly viewerToken: string;
  readonly access: AccessToken;
  readonly gate: ConnectionGate;
  readonly hub: MessageHub;
  readonly captures: CaptureRegistry;
  readonly pushes: Map<string, SessionPush>;
  readonly uploads: Set<Promise<unknown>>;
  readonly dataset: DatasetEndpoints;
  readonly autosave: AutosaveStore | null;
  readonly initialSession: SessionSource | null;
  readonly maxUploadBytes: number;
  readonly tempParent: string;
  readonly webDir: string;
  readonly guard: HostGuard;
  readonly closed: boolean;
  emit(event: ViewerEvent): void;
  /** Details of server-side failures (never sent to clients). */
  log(line: string): void;
}

type Handler = (v: ViewerState, req: IncomingMessage, res: ServerResponse, rest: string, query: URLSearchParams) => Promise<void> | void;
export interface Route {
  path: string;
  /** Matches `path` + anything (the rest is passed to the handler). */
  prefix?: boolean;
  methods: string[];
  handler: Handler;
  /** The static page shell: answers without the token (it reads the token from its own URL). */
  open?: true;
  /** Also takes the token as `?token=` (EventSource cannot send headers). */
  queryToken?: true;
}

const GET = ["GET", "HEAD"];

export const ROUTES: readonly Route[] = [
  { path: "/", methods: GET, open: true, handler: (v, req, res) => serveIndex(req, res, v.webDir) },
  { path: "/index.html", methods: GET, open: true, handler: (v, req, res) => serveIndex(req, res, v.webDir) },
  { path: "/assets/", prefix: true, methods: GET, open: true, handler: (v, req, res, rest) => serveAsset(req, res, v.webDir, decodeOr404(rest)) },
  { path: "/_cellucid/config", methods: GET, handler: config },
  { path: "/_cellucid/obsm/", prefix: true, methods: GET, handler: obsm },
  { path: "/_cellucid/obs/", prefix: true, methods: GET, handler: obs },
  { path: "/_cellucid/obs_values/", prefix: true, methods: GET, handler: obsValues },
  { path: "/_cellucid/var_names", methods: GET, handler: varNames },
  { path: "/_cellucid/obs_names", methods: GET, handler: obsNames },
  { path: "/_cellucid/x/", prefix: true, methods: GET, handler: xColumn },
  { path: "/_cellucid/session", methods: GET, handler: session },
  { path: "/_cellucid/messages", methods: ["GET"], queryToken: true, handler: messages },
  { path: "/_cellucid/events", methods: ["POST"], handler: events },
  { path: "/_cellucid/session_bundle", methods: ["POST"], handler: sessionBundle },
  { path: "/_cellucid/autosave", methods: ["GET", "HEAD", "POST"], handler: autosave },
  { path: "/_cellucid/autosave/discard", methods: ["POST"], handler: discardAutosave },
];

function decodeOr404(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(404, "NOT_FOUND", "Not found");
  }
}

export async function handleRequest(v: ViewerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (!v.guard || !v.guard.allows(req.headers.host)) return sendError(res, 403, "HOST_NOT_ALLOWED", "Host not allowed");
    if (v.closed) return sendError(res, 503, "VIEWER_CLOSED", "Viewer closed");
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
    const route = ROUTES.find((r) => (r.prefix ? path.startsWith(r.path) && path.length > r.path.length : path === r.path));
    if (!route) return sendError(res, 404, "NOT_FOUND", "Not found");
    if (!route.open) {
      if (!v.access.matches(AccessToken.of(req, route.queryToken ? query : null)))
        return sendError(res, 401, "UNAUTHORIZED", "Missing or wrong access token (open the URL the server printed, with its ?token=)", { "WWW-Authenticate": 'Bearer realm="cellucid"' });
      v.gate.trust(req.socket);
    }
    if (!route.methods.includes(req.method ?? "")) return sendError(res, 405, "METHOD_NOT_ALLOWED", "Method not allowed", { Allow: route.methods.join(", ") });
    if (req.method === "POST" && !v.guard.allowsOrigin(req.headers.origin)) return sendError(res, 403, "ORIGIN_NOT_ALLOWED", "Origin not allowed");
    await route.handler(v, req, res, path.slice(route.path.length), query);
  } catch (err) {
    sendThrown(v, res, err);
  } finally {
    discardUnreadBody(req);
  }
}

/** Deliberate errors are answered as they are; anything else is logged in full and answered generically. */
function sendThrown(v: ViewerState, res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message, err.headers);
  if (err instanceof AnnDataError) {
    v.log(`dataset error [${err.code}]: ${err.message}`);
    return sendError(res, 500, "DATA_READ_ERROR", "Could not read the dataset");
  }
  // Not one of ours: the stack is what finds the bug.
  v.log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  sendError(res, 500, "INTERNAL", "Internal server error");
}

/**
 * After an early answer (413, 400, 404 on a POST) the client may still be
 * sending. Destroying the socket now could make it lose our answer (a TCP
 * reset discards unread data), so the rest is read and thrown away, for at
 * most 10 s, after which the connection is cut.
 */
function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  const cut = setTimeout(() => req.socket.destroy(), 10_000).unref();
  req.once("end", () => clearTimeout(cut));
  req.once("close", () => clearTimeout(cut));
  req.resume();
}

async function config(v: ViewerState, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const info = await v.dataset.describe();
  const autosave = v.autosave ? { enabled: true, saved: await v.autosave.info() } : { enabled: false, saved: null };
  sendJson(res, 200, { viewerId: v.viewerId, viewerToken: v.viewerToken, dataset: { ...info, hasSession: v.initialSession !== null }, autosave });
}

function autosaveOf(v: ViewerState): AutosaveStore {
  if (!v.autosave) throw new HttpError(404, "NOT_FOUND", "Autosave is off for this viewer");
  return v.autosave;
}

/** GET: the last autosave of this dataset; POST: a new one (bounded like a capture, put in place atomically). */
async function autosave(v: ViewerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const store = autosaveOf(v);
  if (req.method !== "POST") {
    if (!(await store.info())) return sendError(res, 404, "NOT_FOUND", "No autosave for this dataset");
    await serveSession(req, res, { kind: "path", path: store.path });
    return;
  }
  try {
    sendJson(res, 200, await store.write(req, v.maxUploadBytes));
  } catch (err) {
    if (err instanceof UploadFailure) return sendError(res, err.status, err.code, err.message);
    if (err instanceof CellucidSessionError) return sendError(res, 400, "INVALID_UPLOAD", `Invalid session bundle: ${err.rule}`);
    throw err;
  }
}

async function discardAutosave(v: ViewerState, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  await autosaveOf(v).discard();
  res.writeHead(204, BASE_HEADERS);
  res.end();
}

function sendBinary(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { ...BASE_HEADERS, "Content-Type": "application/octet-stream", "Content-Length": String(bytes.length), ...headers });
  res.end(req.method === "HEAD" ? undefined : bytes);
}

async function obsm(v: ViewerState, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  const e = await v.dataset.embedding(decodeOr404(rest));
  if (!e) return sendError(res, 404, "NOT_FOUND", "No such embedding");
  sendBinary(req, res, e.bytes, { "X-Cellucid-Shape": `${e.rows},${e.dims}` });
}

async function obs(v: ViewerState, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  const codes = await v.dataset.obsCodes(decodeOr404(rest));
  if (!codes) return sendError(res, 404, "NOT_FOUND", "No such categorical obs column");
  sendBinary(req, res, codes);
}

async function obsValues(v: ViewerState, req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
  const values = await v.dataset.obsValues(decodeOr404(rest));
  if (!values) return sendError(res, 404, "NOT_FOUND", "No such numeric obs column");
  sendBinary(req, res, values);
}

async function varNames(v: ViewerState, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendJson(res, 200, { names: await v.dataset.varNames() });
}

/** `?cells=3,17`: those cells' obs names, in that order. */
async function obsNames(v: ViewerState, _req: IncomingMessage, res: ServerResponse, _rest: string, q: URLSearchParams): Promise<void> {
  const list = q.get("cells") ?? "";
  if (!/^\d{1,10}(,\d{1,10})*$/.test(list)) return sendError(res, 400, "BAD_REQUEST", "cells must be a comma-separated list of cell indices");
  sendJson(res, 200, { names: await v.dataset.obsNames(list.split(",").map(Number)) });
}

/**
 * One gene's Float32 values. A one-time index build (CSR) reports its
 * progress to every open page as an `xProgress` message, at most every 200 ms.
 */
async function xColumn(v: ViewerState, req: IncomingMessage, res: ServerResponse, rest: string, q: URLSearchParams): Promise<void> {
  if (!/^\d{1,10}$/.test(rest)) return sendError(res, 404, "NOT_FOUND", "No such gene index");
  let last = 0;
  const onProgress = (done: number, total: number): void => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    v.hub.send({ type: "xProgress", viewerId: v.viewerId, viewerToken: v.viewerToken, done, total });
  };
  sendBinary(req, res, await v.dataset.xColumn(Number(rest), q.get("layer"), onProgress));
}

async function session(v: ViewerState, req: IncomingMessage, res: ServerResponse, _rest: string, q: URLSearchParams): Promise<void> {
  if (q.get("viewerId") !== v.viewerId) return sendError(res, 404, "NOT_FOUND", "Unknown viewerId");
  const requestId = q.get("requestId") ?? "";
  const push = requestId === "initial" ? null : v.pushes.get(requestId);
  const source = requestId === "initial" ? v.initialSession : push?.source;
  if (!source) return sendError(res, 404, "NOT_FOUND", "No such session");
  if ((await serveSession(req, res, source)) && push) push.resolve();
}

function messages(v: ViewerState, req: IncomingMessage, res: ServerResponse, _rest: string, q: URLSearchParams): void {
  if (q.get("viewerId") !== v.viewerId) return sendError(res, 404, "NOT_FOUND", "Unknown viewerId");
  const tabId = q.get("tabId");
  v.hub.attach(req, res, tabId !== null && TAB_ID.test(tabId) ? tabId : null);
}

async function events(v: ViewerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readLimitedBody(req, MAX_EVENT_BYTES, "Event too large");
  let ev: unknown;
  try {
    ev = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BAD_REQUEST", "Event body is not valid JSON");
  }
  if (typeof ev !== "object" || ev === null || Array.isArray(ev)) throw new HttpError(400, "BAD_REQUEST", "Event must be a JSON object");
  const e = ev as Record<string, unknown>;
  if (e["viewerId"] !== v.viewerId) throw new HttpError(404, "NOT_FOUND", "Unknown viewerId");
  if (typeof e["type"] !== "string" || !EVENT_TYPE.test(e["type"])) throw new HttpError(400, "BAD_REQUEST", "Event needs a string type");
  if (typeof e["tabId"] === "string") v.hub.markActive(e["tabId"]);
  v.emit(e as ViewerEvent);
  res.writeHead(204, BASE_HEADERS);
  res.end();
}

async function sessionBundle(v: ViewerState, req: IncomingMessage, res: ServerResponse, _rest: string, q: URLSearchParams): Promise<void> {
  const viewerId = q.get("viewerId");
  const requestId = q.get("requestId");
  const claim = viewerId === v.viewerId && requestId ? v.captures.claim(viewerId, requestId) : ({ ok: false, status: 404 } as const);
  if (!claim.ok)
    return claim.status === 409
      ? sendError(res, 409, "ALREADY_ANSWERED", `${NO_PENDING} (this request was already answered)`)
      : sendError(res, 404, "NO_PENDING_REQUEST", NO_PENDING);
  const capture = claim.capture;
  // Timeout or close while streaming: cut the upload; its error path removes the temp file.
  capture.abortUpload = () => req.destroy();
  const work = receiveCapture(v, req, res, capture);
  v.uploads.add(work);
  try {
    await work;
  } finally {
    v.uploads.delete(work);
    capture.abortUpload = undefined;
  }
}

async function receiveCapture(v: ViewerState, req: IncomingMessage, res: ServerResponse, capture: ReturnType<CaptureRegistry["all"]>[number]): Promise<void> {
  let received;
  try {
    received = await receiveBundleUpload(req, { maxBytes: v.maxUploadBytes, tempParent: v.tempParent });
  } catch (err) {
    if (err instanceof UploadFailure) {
      sendError(res, err.status, err.code, err.message);
      capture.reject(new ViewerError(err.code, `capture failed: ${err.message}`));
    } else {
      v.log(`could not store a captured session bundle: ${(err as Error)?.message ?? String(err)}`);
      sendError(res, 500, "INTERNAL", "Could not store the session bundle");
      capture.reject(err as Error);
    }
    return;
  }
  let bundle: CapturedSessionBundle;
  try {
    bundle = await CapturedSessionBundle.openCaptured(received.path, received.dir);
  } catch (err) {
    await rm(received.dir, { recursive: true, force: true }).catch(() => undefined);
    // The page is told the rule only: the message names the temp file.
    sendError(res, 400, "INVALID_UPLOAD", err instanceof CellucidSessionError ? `Invalid session bundle: ${err.rule}` : "Invalid session bundle");
    const msg = err instanceof Error ? err.message : String(err);
    capture.reject(new ViewerError("INVALID_UPLOAD", `capture failed: the page sent an invalid session bundle: ${msg}`, { cause: err }));
    return;
  }
  if (!capture.resolve(bundle)) {
    // The wait ended (timeout, close) while the file was being indexed: nobody will take this bundle.
    await bundle.close();
    return sendError(res, 410, "NO_PENDING_REQUEST", NO_PENDING);
  }
  // Nothing waits on the pair any more; it only lingers to refuse a second upload until its deadline.
  capture.timer?.unref();
  sendJson(res, 200, { ok: true, bytes: received.bytes });
}
