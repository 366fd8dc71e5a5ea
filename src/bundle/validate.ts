/**
 * Full validation: every chunk decoded under every guard, highlight indices
 * bounded by the fingerprint's cellCount, codes by cellCount/varCount. The
 * report lists errors (the bundle is invalid) and warnings (tolerated by the
 * reference readers, worth knowing).
 */
import { CellucidSessionError } from "../format/errors.js";
import { codesLength, scanCodes } from "../codecs/codes.js";
import { scanIndexSet, type IndexSetStats } from "../codecs/index-set.js";
import { checkKind, decodeJsonPayload, decodePayload } from "../codecs/payload.js";
import { parseHighlightsMeta, listHighlightGroups } from "../chunks/highlights.js";
import { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, HIGHLIGHT_CELLS_PREFIX, USER_DEFINED_CODES_PREFIX, chunkRole } from "../chunks/ids.js";
import { type UserDefinedField, parseFieldOverlays } from "../chunks/user-defined.js";
import type { ChunkFrame } from "../format/framing.js";
import type { CellucidSessionBundle } from "./bundle.js";
import { webappIssues } from "./webapp-rules.js";
import type { ValidationIssue } from "./validation-issue.js";

export type { ValidationIssue } from "./validation-issue.js";

export interface ChunkCheck {
  id: string;
  ok: boolean;
  role: string;
  storedBytes: number;
  payloadBytes: number | null;
}

export interface ValidationReport {
  source: string;
  valid: boolean;
  fileBytes: number;
  chunkCount: number;
  trailingBytes: number;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  chunks: ChunkCheck[];
}

export interface ValidateOptions {
  /** Called after each chunk with the stored bytes checked so far. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  signal?: AbortSignal;
  /** "webapp": also every rule of the current web app's Load State, as errors (WEBAPP_*). */
  target?: "webapp";
}

function issueOf(err: unknown, chunkId: string | null): ValidationIssue {
  if (err instanceof CellucidSessionError) return { code: err.code, chunkId: err.chunkId ?? chunkId, message: err.message };
  throw err;
}

export async function validateBundle(bundle: CellucidSessionBundle, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const source = bundle.sourceName;
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const chunks: ChunkCheck[] = [];
  const { cellCount, varCount } = bundle.counts;
  const warn = (code: string, chunkId: string | null, message: string) =>
    warnings.push({ code, chunkId, message: `${source}${chunkId ? `, chunk '${chunkId}'` : ""}: ${message}` });

  if (bundle.trailingBytes > 0) warn("TRAILING_BYTES", null, `${bundle.trailingBytes} bytes after the last chunk are ignored by readers`);
  // Frames the open placed from the manifest: every header is checked here, and a chunk whose header is wrong is not read.
  const badFrames = await bundle.frameHeaderErrors();
  for (const err of badFrames.values()) errors.push(issueOf(err, null));

  // Structured chunks first: their content tells how to bound the binary ones.
  const fields = new Map<string, UserDefinedField>();
  const groupIds = new Set<string>();
  const decoded = new Map<string, unknown>();
  for (const id of [HIGHLIGHTS_META_ID, FIELD_OVERLAYS_ID]) {
    if (!bundle.hasChunk(id) || badFrames.has(id)) continue;
    try {
      const value = await bundle.decodeChunk(id);
      decoded.set(id, value);
      if (id === HIGHLIGHTS_META_ID) for (const { group } of listHighlightGroups(parseHighlightsMeta(value, source))) groupIds.add(group.id);
      else for (const f of parseFieldOverlays(value, source).userDefinedFields) fields.set(f.id, f);
    } catch (err) {
      errors.push(issueOf(err, id));
    }
  }

  const total = bundle.index.frames.reduce((n, f) => n + f.length, 0);
  let done = 0;
  const frames = bundle.index.frames;
  const needsPayload = (k: number): boolean => {
    const id = frames[k]!.meta.id;
    const role = chunkRole(id);
    return !decoded.has(id) && !badFrames.has(id) && role !== "highlights-meta" && role !== "field-overlays";
  };
  // Chunks that need their payload read, in file order, and which of them may be read ahead.
  const order = frames.map((_, k) => k).filter(needsPayload);
  const payloads = new Prefetcher((k) => bundle.readChunkPayload(frames[k]!.meta.id));
  let nextAhead = 0;
  for (const [k, frame] of frames.entries()) {
    if (opts.signal?.aborted) throw new CellucidSessionError("ABORTED", "validation was aborted", { source });
    const id = frame.meta.id;
    const role = chunkRole(id);
    const check: ChunkCheck = { id, ok: true, role, storedBytes: frame.length, payloadBytes: null };
    const before = errors.length;
    try {
      if (!needsPayload(k)) {
        // Decoded (or failed) above.
        if (errors.some((e) => e.chunkId === id)) check.ok = false;
      } else {
        const payloadPromise = payloads.take(k);
        // Read and inflate the next chunks (on the thread pool) while this one is checked, unless they are big.
        while (nextAhead < order.length && order[nextAhead]! <= k) nextAhead++;
        while (nextAhead < order.length && payloads.pending < PREFETCH_DEPTH && prefetchable(frames[order[nextAhead]!]!))
          payloads.start(order[nextAhead++]!);
        const payload = await payloadPromise;
        check.payloadBytes = payload.length;
        const declared = frame.meta.uncompressedBytes;
        if (typeof declared === "number" && declared !== payload.length)
          warn("UNCOMPRESSED_BYTES_MISMATCH", id, `uncompressedBytes is ${declared} but the payload is ${payload.length} bytes`);
        if (checkKind(frame.meta, source) === "json") decodeJsonPayload(frame.meta, payload, source);
        else if (role === "highlight-cells") checkCells(id, payload);
        else if (role === "user-defined-codes") checkCodes(id, payload);
      }
    } catch (err) {
      const e = err instanceof CellucidSessionError ? err.withContext({ source, chunkId: id }) : err;
      errors.push(issueOf(e, id));
    }
    if (errors.length > before) check.ok = false;
    chunks.push(check);
    done += frame.length;
    opts.onProgress?.(done, total);
  }

  for (const gid of groupIds)
    if (!bundle.hasChunk(HIGHLIGHT_CELLS_PREFIX + gid)) warn("EMPTY_GROUP", HIGHLIGHTS_META_ID, `highlight group '${gid}' has no cells chunk (no cells)`);
  for (const f of fields.values())
    if (f.kind === "category" && !f.isPurged && !bundle.hasChunk(USER_DEFINED_CODES_PREFIX + f.id))
      warn("MISSING_CODES", FIELD_OVERLAYS_ID, `user-defined field '${f.key ?? f.id}' has no codes chunk; applying skips it`);
  for (const f of fields.values()) {
    // anndata cannot read a categorical whose categories repeat, so apply refuses such a field.
    const cats = f.categories ?? [];
    if (new Set(cats).size !== cats.length) warn("DUPLICATE_CATEGORIES", FIELD_OVERLAYS_ID, `user-defined field '${f.key ?? f.id}' has repeated category names; applying skips it`);
  }

  if (opts.target === "webapp") {
    const webapp = await webappIssues(bundle);
    errors.push(...webapp.errors);
    warnings.push(...webapp.warnings);
  }
  return { source, valid: errors.length === 0, fileBytes: bundle.byteLength, chunkCount: chunks.length, trailingBytes: bundle.trailingBytes, errors, warnings, chunks };

  function checkCells(id: string, payload: Uint8Array): void {
    const gid = id.slice(HIGHLIGHT_CELLS_PREFIX.length);
    const stats: IndexSetStats = { duplicates: 0, trailingBytes: 0 };
    scanIndexSet(payload, { limit: cellCount }, stats);
    if (stats.duplicates) warn("DUPLICATE_INDICES", id, `${stats.duplicates} duplicate indices (gap 0)`);
    if (stats.trailingBytes) warn("TRAILING_CHUNK_BYTES", id, `${stats.trailingBytes} bytes after the last index are ignored`);
    if (decoded.has(HIGHLIGHTS_META_ID) && !groupIds.has(gid)) warn("ORPHAN_CHUNK", id, `no highlight group '${gid}' in highlights/meta`);
  }

  function checkCodes(id: string, payload: Uint8Array): void {
    const fid = id.slice(USER_DEFINED_CODES_PREFIX.length);
    const field = fields.get(fid);
    const fromFingerprint = field?.source === "var" ? varCount : cellCount;
    const declared = typeof field?.codesLength === "number" ? field.codesLength : null;
    const nCats = field?.categories?.length ?? 0;
    const cellCodes = field?.source === "var" && cellCount !== null && cellCount !== varCount && codesLength(payload) === cellCount;
    // The web app writes one code per cell even for a var field; such a field is read, warned about, and skipped by apply.
    if (cellCodes) warn("VAR_FIELD_CELL_CODES", id, `var field '${field.key ?? field.id}' has one code per cell (${cellCount}), as the web app writes them, not one per gene (${varCount ?? "?"}); applying skips it`);
    const scan = scanCodes(payload, nCats > 0 ? nCats : Infinity, { expectedLength: cellCodes ? cellCount : (fromFingerprint ?? declared) });
    if (scan.trailingBytes) warn("TRAILING_CHUNK_BYTES", id, `${scan.trailingBytes} bytes after the codes are ignored`);
    if (!field) {
      if (decoded.has(FIELD_OVERLAYS_ID)) warn("ORPHAN_CHUNK", id, `no user-defined field '${fid}' in core/field-overlays`);
      return;
    }
    if (declared !== null && declared !== scan.length)
      warn("CODES_LENGTH_MISMATCH", id, `field declares codesLength ${declared} but holds ${scan.length} codes`);
    if (scan.outOfRange) warn("CODES_OUT_OF_RANGE", id, `${scan.outOfRange} codes are outside the ${nCats} categories (they become missing)`);
  }
}

/** Over this size a chunk is not read ahead, so few big payloads are in memory at once. */
const PREFETCH_MAX_BYTES = 64 * 1024 * 1024;
/** Chunks read ahead at most: enough to keep a second core inflating while this one checks. */
const PREFETCH_DEPTH = 2;
/**
 * Without a declared size, a chunk stored in at most this is read ahead: a
 * bomb is measured and refused without being held, so what is held is real
 * payload that validation needs anyway.
 */
const PREFETCH_MAX_STORED_UNDECLARED = 16 * 1024 * 1024;

function prefetchable(frame: ChunkFrame): boolean {
  const declared = frame.meta.uncompressedBytes;
  return typeof declared === "number" ? declared <= PREFETCH_MAX_BYTES : frame.length <= PREFETCH_MAX_STORED_UNDECLARED;
}

/** Reads started ahead of their turn, taken in turn. */
class Prefetcher {
  private readonly ahead = new Map<number, Promise<Uint8Array>>();
  constructor(private readonly read: (k: number) => Promise<Uint8Array>) {}

  get pending(): number {
    return this.ahead.size;
  }

  start(k: number): void {
    const promise = this.read(k);
    // Its failure is reported when its turn comes, not as an unhandled rejection now.
    promise.catch(() => undefined);
    this.ahead.set(k, promise);
  }

  take(k: number): Promise<Uint8Array> {
    const promise = this.ahead.get(k);
    this.ahead.delete(k);
    return promise ?? this.read(k);
  }
}
