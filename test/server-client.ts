/** The client side of the viewer server's tests: raw HTTP requests and a page's message stream, with or without the token. */
import http from "node:http";
import type { Viewer } from "../src/node/index.js";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The token to send as `Authorization: Bearer`; default the viewer's own, null: none. */
  token?: string | null;
}

/**
 * http.request rather than fetch: fetch may not set Host, nor send an
 * unnormalised path. A fresh connection per request (no agent), so a test
 * sees exactly the connections it opens.
 */
export function request(v: Pick<Viewer, "url" | "token">, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const u = new URL(v.url);
  // Host "" means: send no Host header at all.
  const noHost = opts.headers?.["Host"] === "";
  const token = opts.token === undefined ? v.token : opts.token;
  const headers: Record<string, string> = { ...(token !== null && { Authorization: `Bearer ${token}` }), ...opts.headers };
  if (noHost) delete headers["Host"];
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, method: opts.method ?? "GET", headers, setHost: !noHost, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export const json = (r: Reply) => JSON.parse(r.body.toString("utf8"));

export interface PageStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Named SSE events received (`event: NAME`), in order. */
  events: string[];
  /** Resolves when the server ends or drops the stream. */
  ended: Promise<void>;
  /** The next `data:` message of the default event type. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/**
 * The page's side of /_cellucid/messages. The token goes in the header
 * unless `queryToken` (as EventSource sends it); `tabId` names the stream as
 * the viewer page does.
 */
export async function connectPage(v: Pick<Viewer, "url" | "token" | "viewerId">, opts: { token?: string | null; queryToken?: boolean; tabId?: string } = {}): Promise<PageStream> {
  const token = opts.token === undefined ? v.token : opts.token;
  const q = new URLSearchParams({ viewerId: v.viewerId });
  if (opts.tabId) q.set("tabId", opts.tabId);
  if (opts.queryToken && token !== null) q.set("token", token);
  const headers: Record<string, string> = token !== null && !opts.queryToken ? { Authorization: `Bearer ${token}` } : {};
  const messages: Record<string, unknown>[] = [];
  const events: string[] = [];
  let wake: (() => void) | null = null;
  const { req, res } = await new Promise<{ req: http.ClientRequest; res: http.IncomingMessage }>((resolve, reject) => {
    const req = http.get(new URL(`/_cellucid/messages?${q}`, v.url), { headers, agent: false }, (res) => resolve({ req, res }));
    req.on("error", reject);
  });
  const ended = new Promise<void>((resolve) => {
    res.on("end", resolve);
    res.on("close", resolve);
  });
  let buf = "";
  res.setEncoding("utf8");
  res.on("error", () => undefined);
  req.on("error", () => undefined);
  res.on("data", (d: string) => {
    buf += d;
    for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
      const lines = buf.slice(0, i).split("\n");
      buf = buf.slice(i + 2);
      const named = lines.find((l) => l.startsWith("event: "));
      if (named) events.push(named.slice(7));
      else for (const line of lines) if (line.startsWith("data: ")) messages.push(JSON.parse(line.slice(6)));
    }
    wake?.();
  });
  return {
    status: res.statusCode!,
    headers: res.headers,
    events,
    ended,
    async next(timeoutMs = 5000): Promise<Record<string, unknown>> {
      const until = Date.now() + timeoutMs;
      while (!messages.length) {
        if (Date.now() > until) throw new Error("no SSE message");
        await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
      }
      return messages.shift()!;
    },
    close: () => req.destroy(),
  };
}
