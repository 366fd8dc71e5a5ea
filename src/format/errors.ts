/**
 * The error model. Every failure a caller can act on is a CellucidError with
 * a stable `code`, so that programs branch on codes, never on message text,
 * and with the standard `cause` when it wraps another failure. Messages carry
 * the phrases users search for (SPEC §6 "Troubleshooting phrases").
 *
 * The classes every layer throws live here, in the lowest layer: the Node
 * adapters raise AnnDataError LOCKED / NO_SPACE, the core raises
 * CellucidSessionError. Classes only one layer throws (ViewerError, HttpError,
 * UsageError) live in that layer and extend CellucidError.
 */

/** Base class of every error this package throws on purpose. */
export class CellucidError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export type SessionErrorCode =
  | "BAD_MAGIC"
  | "TRUNCATED"
  | "MANIFEST_LENGTH"
  | "MANIFEST_JSON"
  | "MANIFEST_SHAPE"
  | "DUPLICATE_CHUNK_ID"
  | "CHUNK_LENGTH"
  | "STORED_BYTES_MISMATCH"
  | "UNSUPPORTED_CODEC"
  | "UNSUPPORTED_KIND"
  | "DECOMPRESSED_LARGER_THAN_EXPECTED"
  | "DECOMPRESSED_TOO_LARGE"
  | "CORRUPT_GZIP"
  | "CHUNK_JSON"
  | "CHUNK_SHAPE"
  | "JSON_TOO_DEEP"
  | "JSON_TOO_LARGE"
  | "TOO_MANY_CATEGORIES"
  | "CATEGORIES_TOO_LARGE"
  | "VARINT_TRUNCATED"
  | "VARINT_TOO_LONG"
  | "VARINT_TOO_LARGE"
  | "INDEX_COUNT"
  | "INDEX_OUT_OF_RANGE"
  | "CODES_ENCODING"
  | "CODES_LENGTH"
  | "CODES_TRAILING"
  | "RLE_INVALID"
  | "NO_SUCH_CHUNK"
  | "ABORTED"
  | "TOO_LARGE"
  | "DATASET_MISMATCH"
  | "COLUMN_EXISTS"
  /** Writing a canonical bundle from input the web app would refuse (the message names the rule). */
  | "NOT_APP_LOADABLE"
  /** `apply --reference`: obs or var names that cannot match cells one to one. */
  | "REFERENCE_NAMES";

export type AnnDataErrorCode =
  | "NOT_ANNDATA" | "UNSUPPORTED_ENCODING" | "NO_SUCH_COLUMN" | "BAD_LENGTH"
  /** A value anndata cannot read back (e.g. repeated categories, codes outside the categories): refused before anything is written. */
  | "BAD_VALUE"
  /** A column name the store cannot hold (e.g. "../x/a" in a .zarr, from a prefix): refused before anything is written. */
  | "BAD_NAME"
  /** Input/output problems the user fixes outside the data. */
  | "READ_ONLY" | "IO" | "LOCKED" | "NO_SPACE" | "PERMISSION_DENIED" | "INTERRUPTED";

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

/** A command line the CLI cannot run (unknown option, missing argument, bad option value). */
export type UsageErrorCode = "USAGE";

/** Every code a program using the library or the CLI can meet (the viewer server's HTTP answers have their own, HttpErrorCode). */
export type CellucidErrorCode = SessionErrorCode | AnnDataErrorCode | ViewerErrorCode | UsageErrorCode;

/**
 * The one table of what each code means for the caller, as the CLI's exit
 * status: 1 = the input is invalid (fix the bundle or the data); 2 = usage or
 * I/O (fix the command line or the environment: disk, permissions, locks,
 * signals, timeouts). Adding a code without a row here does not compile.
 */
export const EXIT_STATUS: Readonly<Record<CellucidErrorCode, 1 | 2>> = {
  BAD_MAGIC: 1, TRUNCATED: 1, MANIFEST_LENGTH: 1, MANIFEST_JSON: 1, MANIFEST_SHAPE: 1, DUPLICATE_CHUNK_ID: 1,
  CHUNK_LENGTH: 1, STORED_BYTES_MISMATCH: 1, UNSUPPORTED_CODEC: 1, UNSUPPORTED_KIND: 1,
  DECOMPRESSED_LARGER_THAN_EXPECTED: 1, DECOMPRESSED_TOO_LARGE: 1, CORRUPT_GZIP: 1, CHUNK_JSON: 1, CHUNK_SHAPE: 1,
  VARINT_TRUNCATED: 1, VARINT_TOO_LONG: 1, VARINT_TOO_LARGE: 1, INDEX_COUNT: 1, INDEX_OUT_OF_RANGE: 1,
  CODES_ENCODING: 1, CODES_LENGTH: 1, CODES_TRAILING: 1, RLE_INVALID: 1, NO_SUCH_CHUNK: 1, TOO_LARGE: 1,
  DATASET_MISMATCH: 1, COLUMN_EXISTS: 1, NOT_APP_LOADABLE: 1, REFERENCE_NAMES: 1,
  JSON_TOO_DEEP: 1, JSON_TOO_LARGE: 1, TOO_MANY_CATEGORIES: 1, CATEGORIES_TOO_LARGE: 1,
  ABORTED: 2,
  NOT_ANNDATA: 1, UNSUPPORTED_ENCODING: 1, NO_SUCH_COLUMN: 1, BAD_LENGTH: 1, BAD_VALUE: 1, BAD_NAME: 1,
  READ_ONLY: 2, IO: 2, LOCKED: 2, NO_SPACE: 2, PERMISSION_DENIED: 2, INTERRUPTED: 2,
  TIMEOUT: 2, NOT_CONNECTED: 2, CLOSED: 2, NO_INTERACTED_PAGE: 2, UNKNOWN_PAGE: 2, UPLOAD_ABORTED: 2, UPLOAD_TOO_LARGE: 1, INVALID_UPLOAD: 1,
  USAGE: 2,
};

/** The CLI's exit status for any failure: the table's for a known code, 2 for anything else (an I/O error from Node). */
export function exitStatusOf(err: unknown): 1 | 2 {
  const code = err instanceof CellucidError ? (err.code as string) : undefined;
  return code !== undefined && Object.hasOwn(EXIT_STATUS, code) ? EXIT_STATUS[code as CellucidErrorCode] : 2;
}

export interface SessionErrorContext {
  /** File name or other description of where the bytes came from. */
  source?: string | undefined;
  /** Chunk id the problem belongs to, when it belongs to one. */
  chunkId?: string | undefined;
  /** The failure this one wraps. */
  cause?: unknown;
}

/** A problem with a bundle (or with applying one): the file, the chunk and the rule. */
export class CellucidSessionError extends CellucidError<SessionErrorCode> {
  readonly source: string | undefined;
  readonly chunkId: string | undefined;
  /** The bare rule, without the file/chunk prefix. */
  readonly rule: string;

  constructor(code: SessionErrorCode, rule: string, ctx: SessionErrorContext = {}) {
    super(code, formatMessage(rule, ctx), "cause" in ctx ? { cause: ctx.cause } : undefined);
    this.rule = rule;
    this.source = ctx.source;
    this.chunkId = ctx.chunkId;
  }

  /** Same error with file/chunk context filled in where it was missing. */
  withContext(ctx: SessionErrorContext): CellucidSessionError {
    if ((this.source || !ctx.source) && (this.chunkId || !ctx.chunkId)) return this;
    const Ctor = this.constructor as new (
      code: SessionErrorCode,
      rule: string,
      ctx: SessionErrorContext,
    ) => CellucidSessionError;
    return new Ctor(this.code, this.rule, {
      source: this.source ?? ctx.source,
      chunkId: this.chunkId ?? ctx.chunkId,
      ...("cause" in this ? { cause: this.cause } : {}),
    });
  }

  toJSON(): { code: string; message: string; chunkId: string | null; source: string | null } {
    return { code: this.code, message: this.message, chunkId: this.chunkId ?? null, source: this.source ?? null };
  }
}

/** The bytes break a rule of the format (SPEC §2–§5): the input is invalid. */
export class SessionFormatError extends CellucidSessionError {}

/** A chunk id that the bundle does not contain (the Python reader's KeyError). */
export class NoSuchChunkError extends CellucidSessionError {
  constructor(code: SessionErrorCode, rule: string, ctx: SessionErrorContext = {}) {
    super(code, rule, ctx);
  }
  static of(chunkId: string, source?: string): NoSuchChunkError {
    return new NoSuchChunkError("NO_SUCH_CHUNK", `no such chunk: '${chunkId}'`, { chunkId, source });
  }
}

/** Reading was cancelled through an AbortSignal. */
export class SessionAbortError extends CellucidSessionError {}

function formatMessage(rule: string, ctx: SessionErrorContext): string {
  const where: string[] = [];
  if (ctx.source) where.push(ctx.source);
  if (ctx.chunkId) where.push(`chunk '${ctx.chunkId}'`);
  return where.length ? `${where.join(", ")}: ${rule}` : rule;
}

export function formatError(code: SessionErrorCode, rule: string, ctx?: SessionErrorContext): SessionFormatError {
  return new SessionFormatError(code, rule, ctx);
}

export function throwIfAborted(signal: AbortSignal | undefined, source?: string): void {
  if (signal?.aborted) throw new SessionAbortError("ABORTED", "reading was aborted", { source });
}

/** A problem with AnnData: its layout or encodings (exit 1), or reading and writing it (the I/O codes, exit 2). */
export class AnnDataError extends CellucidError<AnnDataErrorCode> {}
