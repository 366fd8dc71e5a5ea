/** Typed errors of the viewer server: programs branch on `code`, HTTP clients get `status` + message. */
import { CellucidError, type ViewerErrorCode } from "../format/errors.js";

export type { ViewerErrorCode } from "../format/errors.js";

/** A failure of startViewer or of a Viewer's calls (codes in format/errors.ts, with the others). */
export class ViewerError extends CellucidError<ViewerErrorCode> {}

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
  /** The dataset's store cannot read columns of X (501): cells cannot be coloured by genes. */
  | "X_NOT_READABLE"
  | "INTERNAL";

/** An error answered to an HTTP client as `{error: message, code}` with `status`; never carries a stack to the client. */
export class HttpError extends CellucidError<HttpErrorCode> {
  constructor(
    readonly status: number,
    code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}
