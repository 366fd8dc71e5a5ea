/**
 * Typed errors. Every failure a caller can act on has a stable `code` so that
 * programs branch on codes, never on message text. Messages carry the phrases
 * users search for (SPEC §6 "Troubleshooting phrases").
 */

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

export interface SessionErrorContext {
  /** File name or other description of where the bytes came from. */
  source?: string | undefined;
  /** Chunk id the problem belongs to, when it belongs to one. */
  chunkId?: string | undefined;
}

/** Base class of every error this library throws on purpose. */
export class CellucidSessionError extends Error {
  readonly code: SessionErrorCode;
  readonly source: string | undefined;
  readonly chunkId: string | undefined;
  /** The bare rule, without the file/chunk prefix. */
  readonly rule: string;

  constructor(code: SessionErrorCode, rule: string, ctx: SessionErrorContext = {}) {
    super(formatMessage(rule, ctx));
    this.name = new.target.name;
    this.code = code;
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
