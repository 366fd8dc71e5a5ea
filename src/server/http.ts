/** Small HTTP helpers shared by the routes: JSON answers, bounded bodies, the Host/Origin guard. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { HttpError, type HttpErrorCode } from "./errors.js";

/** Headers on every answer: nothing is cacheable (the data can change between runs on the same port). */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...BASE_HEADERS, "Content-Type": "application/json; charset=utf-8", "Content-Length": String(body.length), ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, code: HttpErrorCode, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message, code }, headers);
}

/**
 * Reads a whole request body of at most `limit` bytes. Content-Length is
 * checked first, then the running total, so a lying or chunked client cannot
 * make us buffer more than `limit`.
 */
export async function readLimitedBody(req: IncomingMessage, limit: number, tooLarge: string): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) throw new HttpError(413, "TOO_LARGE", tooLarge);
  const parts: Buffer[] = [];
  let total = 0;
  // destroyOnReturn: false keeps the socket alive when we stop early, so the 413 can still be sent.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new HttpError(413, "TOO_LARGE", tooLarge);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}

/**
 * The Host values we answer to. A DNS-rebinding attack reaches us under the
 * attacker's host name, so only our own address (and `localhost` for loopback)
 * is accepted. On a wildcard bind (0.0.0.0, ::) the server is reachable under
 * any of the machine's addresses, so any IP literal with our port is allowed:
 * IP literals cannot be rebound.
 */
export class HostGuard {
  private readonly allowed = new Set<string>();
  private readonly anyIp: boolean;

  constructor(
    bindHost: string,
    private readonly port: number,
  ) {
    const host = bindHost.toLowerCase();
    this.anyIp = host === "0.0.0.0" || host === "::" || host === "[::]";
    this.allowed.add(hostPort(host, port));
    const loopback = host === "localhost" || host === "::1" || host.startsWith("127.") || this.anyIp;
    if (loopback) for (const h of ["localhost", "127.0.0.1", "::1"]) this.allowed.add(hostPort(h, port));
  }

  allows(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const h = hostHeader.toLowerCase();
    if (this.allowed.has(h)) return true;
    if (!this.anyIp) return false;
    const m = /^\[([0-9a-f:.]+)\]:(\d+)$/.exec(h) ?? /^([0-9.]+):(\d+)$/.exec(h);
    return m !== null && isIP(m[1]!) !== 0 && Number(m[2]) === this.port;
  }

  /** Browsers send Origin on cross-site POSTs; a page of another site may not post into ours. */
  allowsOrigin(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    try {
      const u = new URL(origin);
      return u.protocol === "http:" && this.allows(u.host);
    } catch {
      return false;
    }
  }
}

export function hostPort(host: string, port: number): string {
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}
