/** The program→page channel: Server-Sent Events, one JSON object per `data:` line. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { BASE_HEADERS } from "./http.js";

const PING_MS = 15_000;

export class MessageHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly ping: NodeJS.Timeout;
  /** Called with each newly connected page, after its stream is open. */
  onConnect: (client: ServerResponse) => void = () => undefined;
  /** A page has connected at least once (tells "nobody came" from "nobody answered"). */
  everConnected = false;

  constructor() {
    // Comments keep proxies and idle-timeouts from cutting a quiet stream; unref'd so they never hold the process.
    this.ping = setInterval(() => this.writeAll(": ping\n\n"), PING_MS).unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...BASE_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.write(": connected\n\n");
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    this.clients.add(res);
    this.everConnected = true;
    res.on("close", () => this.clients.delete(res));
    this.onConnect(res);
  }

  /** Sends one message to one page or to all; returns how many pages it was written to. */
  send(message: object, to?: ServerResponse): number {
    const line = `data: ${JSON.stringify(message)}\n\n`;
    if (to) {
      if (!this.clients.has(to)) return 0;
      to.write(line);
      return 1;
    }
    return this.writeAll(line);
  }

  private writeAll(text: string): number {
    for (const c of this.clients) c.write(text);
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.ping);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
