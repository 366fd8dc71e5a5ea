/**
 * The program→page channel: Server-Sent Events, one JSON object per `data:` line.
 *
 * Streams are few and long-lived, so they are bounded per client address and
 * in all. A tab says who it is (`tabId`) on its stream and on its events; a
 * stream whose tab has posted an event (the viewer page posts `ready` once it
 * has drawn) is active, the others are idle. A new stream over a limit
 * replaces the oldest idle stream in that scope, which is told so (an
 * `evicted` event) and does not reconnect; when every stream there is active,
 * the new one is refused: 429 over the per-client limit, 503 over the total.
 * So idle streams, however many, never lock out a page that is being used,
 * and a newly opened page is not locked out by stale ones.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./errors.js";
import { BASE_HEADERS } from "./http.js";

const PING_MS = 15_000;
/** A stream whose client stops reading is closed once this much is waiting for it. */
const MAX_BUFFERED_BYTES = 256 * 1024;

interface Stream {
  res: ServerResponse;
  client: string;
  tabId: string | null;
  /** The page this stream belongs to: its tabId, or a name of its own for a stream that gave none. */
  page: string;
  active: boolean;
}

export class MessageHub {
  private readonly streams = new Map<ServerResponse, Stream>();
  private readonly ping: NodeJS.Timeout;
  private unnamed = 0;
  /** Called with each newly connected page, after its stream is open. */
  onConnect: (client: ServerResponse, page: string) => void = () => undefined;

  constructor(private readonly limits: { maxStreams: number; maxStreamsPerClient: number }) {
    // Comments keep proxies and idle-timeouts from cutting a quiet stream; unref'd so they never hold the process.
    this.ping = setInterval(() => this.writeAll(": ping\n\n"), PING_MS).unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Opens a stream, making room or throwing HttpError 429/503 (see the file comment). */
  attach(req: IncomingMessage, res: ServerResponse, tabId: string | null): void {
    const client = req.socket.remoteAddress ?? "";
    this.makeRoom((s) => s.client === client, this.limits.maxStreamsPerClient, 429);
    this.makeRoom(() => true, this.limits.maxStreams, 503);
    res.writeHead(200, { ...BASE_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.write(": connected\n\n");
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const page = tabId ?? `stream-${++this.unnamed}`;
    this.streams.set(res, { res, client, tabId, page, active: false });
    res.on("close", () => this.streams.delete(res));
    this.onConnect(res, page);
  }

  /** The tab posted an event: its streams are in use and are not replaced by newcomers. */
  markActive(tabId: string): void {
    for (const s of this.streams.values()) if (s.tabId === tabId) s.active = true;
  }

  /** The pages with an open stream, in the order they connected. */
  pages(): string[] {
    return [...new Set([...this.streams.values()].map((s) => s.page))];
  }

  /** Sends one message to every stream of one page; returns how many streams it was written to. */
  sendToPage(message: object, page: string): number {
    const line = `data: ${JSON.stringify(message)}\n\n`;
    let n = 0;
    for (const s of [...this.streams.values()]) if (s.page === page) n += this.write(s.res, line);
    return n;
  }

  private makeRoom(inScope: (s: Stream) => boolean, limit: number, status: 429 | 503): void {
    let open = 0;
    let oldestIdle: Stream | null = null;
    for (const s of this.streams.values())
      if (inScope(s)) {
        open++;
        if (!s.active) oldestIdle ??= s;
      }
    if (open < limit) return;
    if (!oldestIdle) throw new HttpError(status, "TOO_MANY_STREAMS", "Too many viewer pages are connected", { "Retry-After": "30" });
    this.streams.delete(oldestIdle.res);
    oldestIdle.res.end(`event: evicted\ndata: ${JSON.stringify({ reason: "too many viewer pages are connected" })}\n\n`);
  }

  /** Sends one message to one page or to all; returns how many pages it was written to. */
  send(message: object, to?: ServerResponse): number {
    const line = `data: ${JSON.stringify(message)}\n\n`;
    if (to) return this.streams.has(to) ? this.write(to, line) : 0;
    return this.writeAll(line);
  }

  private write(res: ServerResponse, text: string): number {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.streams.delete(res);
      res.destroy();
      return 0;
    }
    res.write(text);
    return 1;
  }

  private writeAll(text: string): number {
    let n = 0;
    for (const res of [...this.streams.keys()]) n += this.write(res, text);
    return n;
  }

  close(): void {
    clearInterval(this.ping);
    for (const res of this.streams.keys()) res.end();
    this.streams.clear();
  }
}
