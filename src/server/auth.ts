/**
 * The viewer's access token. On a shared machine every local user can reach
 * 127.0.0.1, so the port alone protects nothing: like Jupyter, the server
 * prints a URL with a secret token, and everything but the static page shell
 * answers only to requests that carry it.
 *
 * Programs and the page send it as `Authorization: Bearer TOKEN`. EventSource
 * cannot set headers, so the message stream alone also takes `?token=`. A
 * cookie was the other way for the stream, and the worse one: cookies are
 * scoped by host, not port, so the browser would hand ours to any other
 * server on 127.0.0.1 (another user's included), and they ride along on
 * cross-site requests by themselves. The query token is sent to no one else,
 * and the answers carry `Referrer-Policy: no-referrer` and `no-store`.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** What a fixed token (StartViewerOptions.token) may look like: URL-safe, so it goes into `?token=` unescaped. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,512}$/;
const BEARER = /^Bearer +([^\s]+) *$/i;

export class AccessToken {
  readonly value: string;
  private readonly digest: Buffer;

  /** 256 random bits unless `fixed` is given (tests, embedding in another program). */
  constructor(fixed?: string) {
    if (fixed !== undefined && !TOKEN_PATTERN.test(fixed))
      throw new TypeError("startViewer: token must be 16 to 512 characters from A-Z a-z 0-9 . _ ~ -");
    this.value = fixed ?? randomBytes(32).toString("base64url");
    this.digest = sha256(this.value);
  }

  /**
   * Constant-time: both sides are hashed to 32 bytes first, so
   * timingSafeEqual always compares equal lengths and even the length of the
   * token does not leak through timing.
   */
  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(sha256(candidate), this.digest);
  }

  /** The token a request carries: the Bearer header, else (only where allowed) `?token=`. */
  static of(req: IncomingMessage, query: URLSearchParams | null): string | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) return BEARER.exec(header)?.[1];
    return query?.get("token") ?? undefined;
  }
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
