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
  | "UPLOAD_ABORTED";

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

/** An error answered to an HTTP client as `{error: message}` with `status`; never carries a stack to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
