/**
 * Bounds on what clients can hold: time to send a request, idle keep-alive,
 * header count, and the number of open connections. Only requests that carry
 * the access token get past routes.ts, but a socket costs memory before any
 * request is read, so the connection limit must also hold against clients
 * that never send one (slowloris).
 *
 * Node's own `server.maxConnections` refuses the newest connection once the
 * limit is reached, which lets a flood of idle sockets lock the real page
 * out. The gate below instead closes the oldest connection that has not yet
 * made an authenticated request, so a flood only displaces itself; sockets
 * that proved they hold the token are never closed for a newcomer.
 */
import type { Server, ServerOptions } from "node:http";
import type { Socket } from "node:net";

export interface ViewerLimits {
  /** Open TCP connections (default 256: a few tabs of 6 connections each, with room to spare). */
  maxConnections: number;
  /** Message streams (SSE) in all (default 32). */
  maxStreams: number;
  /** Message streams from one client address (default 16; on 127.0.0.1 every local client is one address). */
  maxStreamsPerClient: number;
}

export const DEFAULT_LIMITS: Readonly<ViewerLimits> = { maxConnections: 256, maxStreams: 32, maxStreamsPerClient: 16 };

/** Whole request head within 10 s; whole request (a capture upload included) within 5 min. */
export const SERVER_OPTIONS: ServerOptions = {
  headersTimeout: 10_000,
  requestTimeout: 300_000,
  // Node checks those timeouts on this period (default 30 s, which would triple the head timeout).
  connectionsCheckingInterval: 1_000,
  maxHeaderSize: 16 * 1024,
};

/** Idle keep-alive connections close after this; at most this many header lines per request. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_HEADERS_COUNT = 64;

export class ConnectionGate {
  /** Insertion order is age: the first untrusted entry is the oldest. */
  private readonly sockets = new Set<Socket>();
  private readonly trusted = new WeakSet<Socket>();

  constructor(
    server: Server,
    private readonly max: number,
  ) {
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.maxHeadersCount = MAX_HEADERS_COUNT;
    server.on("connection", (socket: Socket) => this.admit(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  /** The socket has carried a request with the right token: a newcomer may not displace it. */
  trust(socket: Socket): void {
    this.trusted.add(socket);
  }

  private admit(socket: Socket): void {
    if (this.sockets.size >= this.max) {
      let victim: Socket | null = null;
      for (const s of this.sockets)
        if (!this.trusted.has(s)) {
          victim = s;
          break;
        }
      if (!victim) return void socket.destroy();
      this.sockets.delete(victim);
      victim.destroy();
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }
}
