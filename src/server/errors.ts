/** Typed errors of the viewer server: programs branch on `code`, HTTP clients get `status` + message. */

export type ViewerErrorCode =
  /** The wait ran out (waitForReady, getSessionBundle, loadSession). */
  | "TIMEOUT"
  /** No page was connected during the whole wait, so the request was never delivered. */
  | "NOT_CONNECTED"
  /** The viewer was closed while the call was waiting. */
  | "CLOSED"
  /** The page's upload went over the size cap. */
  | "UPLOAD_TOO_LARGE"
  /** The page's upload was not a readable session bundle (bad magic, corrupt manifest, ...). */
  | "INVALID_UPLOAD"
  /** The page dropped the connection before the upload was complete. */
  | "UPLOAD_ABORTED"
  /** Several pages are open and none has been used yet: which one's session is meant is unknown (pass `page`). */
  | "NO_INTERACTED_PAGE"
  /** `page` names no open page (see viewer.pages()). */
  | "UNKNOWN_PAGE";

export class ViewerError extends Error {
  constructor(
    readonly code: ViewerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ViewerError";
  }
}

/**
 * The stable `code` of every error answer, sent as `{error, code}`: clients
 * branch on the code; the message is short and generic, never a server path
 * or a stack (details of server-side failures go to the viewer's log).
 */
export type HttpErrorCode =
  | "HOST_NOT_ALLOWED"
  | "ORIGIN_NOT_ALLOWED"
  /** No access token, or a wrong one. */
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "BAD_REQUEST"
  | "TOO_LARGE"
  | "NO_PENDING_REQUEST"
  | "ALREADY_ANSWERED"
  | "UPLOAD_TOO_LARGE"
  | "INVALID_UPLOAD"
  | "UPLOAD_ABORTED"
  /** Over the message-stream limit of one client (429) or of the server (503). */
  | "TOO_MANY_STREAMS"
  | "VIEWER_CLOSED"
  /** The dataset could not be read (details in the server log). */
  | "DATA_READ_ERROR"
  | "INTERNAL";

/** An error answered to an HTTP client as `{error: message, code}` with `status`; never carries a stack to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
