/**
 * CellucidSessionBundle: a handle on a `.cellucid-session`. Opening indexes
 * the manifest and chunk frames once; payloads are read and decoded only on
 * request. Runs unchanged in browsers (no node: imports).
 */
import { CellucidSessionError, NoSuchChunkError, SessionFormatError } from "../format/errors.js";
import { type BundleIndex, type ChunkFrame, checkFrameHeader, indexBundle } from "../format/framing.js";
import { type ChunkMeta, type DatasetFingerprint, type SessionManifest, fingerprintCounts } from "../format/manifest.js";
import { type ByteSource, type StreamReadOptions, blobSource, bytesSource, readStreamFully } from "../format/source.js";
import { type DecodedCodes, decodeCodes } from "../codecs/codes.js";
import { type GzipCodec, webGzip } from "../codecs/gzip.js";
import { decodeIndexSet, scanIndexSet } from "../codecs/index-set.js";
import { checkKind, checkStoredLength, decodeJsonPayload, decodePayload } from "../codecs/payload.js";
import { type HighlightGroupMeta, type HighlightPageMeta, type HighlightsMeta, parseHighlightsMeta } from "../chunks/highlights.js";
import { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, highlightCellsId, userDefinedCodesId } from "../chunks/ids.js";
import { type FieldOverlays, type UserDefinedField, parseFieldOverlays } from "../chunks/user-defined.js";
import { type CellOrder, parseCellOrder } from "../chunks/cell-order.js";

export interface BundleOpenOptions extends StreamReadOptions {
  /** gzip implementation; Node's entry point passes a zlib-based one. */
  gzip?: GzipCodec | undefined;
}

export interface IterChunksOptions {
  /** Decode payloads (JSON → objects, binary → bytes); otherwise yield stored bytes. */
  decode?: boolean;
}

export interface ChunkItem {
  id: string;
  meta: ChunkMeta;
  data: unknown;
}

export interface HighlightGroup {
  id: string;
  label: string;
  type: string | null;
  enabled: boolean;
  pageId: string;
  pageName: string | null;
  /** cellCount as the viewer recorded it. */
  declaredCellCount: number | null;
  /** Sorted cell indices; empty when the group has no cells chunk. */
  cells: Uint32Array;
  meta: HighlightGroupMeta;
}

export interface HighlightPage {
  id: string;
  name: string | null;
  color: string | null;
  groups: HighlightGroup[];
}

export interface UserDefinedFieldCodes {
  field: UserDefinedField;
  codes: Uint8Array | Uint16Array;
  encoding: DecodedCodes["encoding"];
}

export class CellucidSessionBundle {
  readonly manifest: SessionManifest;
  /** Bytes after the last chunk (ignored, reported by validate). */
  readonly trailingBytes: number;
  protected readonly gzip: GzipCodec;

  constructor(
    protected readonly source: ByteSource,
    readonly index: BundleIndex,
    gzip?: GzipCodec,
  ) {
    this.manifest = index.manifest;
    this.trailingBytes = index.trailingBytes;
    this.gzip = gzip ?? webGzip;
  }

  /** Indexes a bundle from any random-access byte source. */
  static async fromSource<T extends CellucidSessionBundle>(
    this: new (source: ByteSource, index: BundleIndex, gzip?: GzipCodec) => T,
    source: ByteSource,
    opts: BundleOpenOptions = {},
  ): Promise<T> {
    const index = await indexBundle(source);
    return new this(source, index, opts.gzip);
  }

  static async fromBytes<T extends CellucidSessionBundle>(
    this: new (source: ByteSource, index: BundleIndex, gzip?: GzipCodec) => T,
    bytes: Uint8Array | ArrayBuffer,
    opts: BundleOpenOptions = {},
  ): Promise<T> {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const source = bytesSource(u8, opts.name ?? "<bytes>");
    return new this(source, await indexBundle(source), opts.gzip);
  }

  /** A Blob or File: only the header and chunk frames are read until a chunk is asked for. */
  static async fromBlob<T extends CellucidSessionBundle>(
    this: new (source: ByteSource, index: BundleIndex, gzip?: GzipCodec) => T,
    blob: Blob,
    opts: BundleOpenOptions = {},
  ): Promise<T> {
    const source = blobSource(blob, opts.name);
    return new this(source, await indexBundle(source), opts.gzip);
  }

  /** A ReadableStream such as a fetch body; buffered in memory, magic checked on arrival. */
  static async fromStream<T extends CellucidSessionBundle>(
    this: new (source: ByteSource, index: BundleIndex, gzip?: GzipCodec) => T,
    stream: ReadableStream<Uint8Array>,
    opts: BundleOpenOptions = {},
  ): Promise<T> {
    const bytes = await readStreamFully(stream, opts);
    const source = bytesSource(bytes, opts.name ?? "<stream>");
    return new this(source, await indexBundle(source), opts.gzip);
  }

  /** Where the bundle came from, as used in error messages. */
  get sourceName(): string {
    return this.source.name;
  }

  get byteLength(): number {
    return this.source.size;
  }

  get datasetFingerprint(): DatasetFingerprint | null {
    return this.manifest.datasetFingerprint ?? null;
  }

  /** The fingerprint's `cellOrder` when it is well-formed; null for older bundles. */
  get cellOrder(): CellOrder | null {
    return parseCellOrder(this.datasetFingerprint?.cellOrder);
  }

  /** n_obs and n_vars from the fingerprint, when recorded. */
  get counts(): { cellCount: number | null; varCount: number | null } {
    return fingerprintCounts(this.manifest);
  }

  listChunkIds(): string[] {
    return this.manifest.chunks.map((c) => c.id);
  }

  hasChunk(id: string): boolean {
    return this.index.positions.has(id);
  }

  getChunkMeta(id: string): ChunkMeta {
    return this.manifest.chunks[this.position(id)]!;
  }

  protected frame(id: string): ChunkFrame {
    return this.index.frameAt(this.position(id));
  }

  /** The chunk's position in the manifest. */
  protected position(id: string): number {
    const i = this.index.positions.get(id);
    if (i === undefined) throw NoSuchChunkError.of(id, this.source.name);
    return i;
  }

  /** The chunk as stored (still compressed); its frame header is checked first if the open left it unread. */
  async readChunkBytes(id: string): Promise<Uint8Array> {
    const i = this.position(id);
    if (!this.index.framesVerified) await checkFrameHeader(this.source, this.index, i);
    return this.source.read(this.index.offsets[i]!, this.index.lengths[i]!);
  }

  /**
   * Every frame header the open left unread (`index.framesVerified` false),
   * checked now: the error of each chunk whose header disagrees, by chunk id.
   */
  async frameHeaderErrors(): Promise<Map<string, CellucidSessionError>> {
    const errors = new Map<string, CellucidSessionError>();
    if (this.index.framesVerified) return errors;
    const chunks = this.manifest.chunks;
    for (let i = 0; i < chunks.length; i++) {
      try {
        await checkFrameHeader(this.source, this.index, i);
      } catch (err) {
        if (!(err instanceof CellucidSessionError)) throw err;
        errors.set(chunks[i]!.id, err);
      }
    }
    return errors;
  }

  /** The chunk's payload after its codec: bytes, for either kind. */
  async readChunkPayload(id: string): Promise<Uint8Array> {
    const f = this.frame(id);
    checkKind(f.meta, this.source.name);
    checkStoredLength(f.meta, f.length, this.source.name);
    return decodePayload(f.meta, await this.readChunkBytes(id), this.gzip, this.source.name);
  }

  /** JSON chunks become objects, binary chunks their payload bytes. */
  async decodeChunk(id: string): Promise<unknown> {
    const meta = this.getChunkMeta(id);
    const kind = checkKind(meta, this.source.name);
    const payload = await this.readChunkPayload(id);
    return kind === "json" ? decodeJsonPayload(meta, payload, this.source.name) : payload;
  }

  async *iterChunks(opts: IterChunksOptions = {}): AsyncGenerator<ChunkItem> {
    for (const f of this.index.frames) {
      const id = f.meta.id;
      yield { id, meta: f.meta, data: opts.decode ? await this.decodeChunk(id) : await this.readChunkBytes(id) };
    }
  }

  /** The whole file as a stream, for saving or uploading a copy. */
  stream(blockSize = 1 << 20): ReadableStream<Uint8Array> {
    let at = 0;
    const src = this.source;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= src.size) return controller.close();
        const n = Math.min(blockSize, src.size - at);
        controller.enqueue((await src.read(at, n)).slice());
        at += n;
      },
    });
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }

  // ---- typed views -------------------------------------------------------

  /** `highlights/meta`, checked for shape; null when the bundle has none. */
  async highlightsMeta(): Promise<HighlightsMeta | null> {
    if (!this.hasChunk(HIGHLIGHTS_META_ID)) return null;
    return parseHighlightsMeta(await this.decodeChunk(HIGHLIGHTS_META_ID), this.source.name);
  }

  /** `core/field-overlays`, checked for shape; null when the bundle has none. */
  async fieldOverlays(): Promise<FieldOverlays | null> {
    if (!this.hasChunk(FIELD_OVERLAYS_ID)) return null;
    return parseFieldOverlays(await this.decodeChunk(FIELD_OVERLAYS_ID), this.source.name);
  }

  /**
   * A group's cells, bounded by `nObs` (default: the fingerprint's cellCount).
   * A group without a cells chunk has no cells.
   */
  async readHighlightCells(groupId: string, opts: { nObs?: number | null } = {}): Promise<Uint32Array> {
    const id = highlightCellsId(groupId);
    if (!this.hasChunk(id)) return new Uint32Array(0);
    const limit = opts.nObs !== undefined ? opts.nObs : this.counts.cellCount;
    return this.withChunkContext(id, async () => decodeIndexSet(await this.readChunkPayload(id), { limit }));
  }

  /** How many cells `readHighlightCells` would give, checked under the same rules, without holding them. */
  async countHighlightCells(groupId: string, opts: { nObs?: number | null } = {}): Promise<number> {
    const id = highlightCellsId(groupId);
    if (!this.hasChunk(id)) return 0;
    const limit = opts.nObs !== undefined ? opts.nObs : this.counts.cellCount;
    return this.withChunkContext(id, async () => scanIndexSet(await this.readChunkPayload(id), { limit }));
  }

  /** Highlight pages with every group's cells decoded. */
  async highlightPages(opts: { nObs?: number | null } = {}): Promise<HighlightPage[]> {
    const meta = await this.highlightsMeta();
    if (!meta) return [];
    const pages: HighlightPage[] = [];
    for (const page of meta.pages) pages.push(await this.typedPage(page, opts));
    return pages;
  }

  private async typedPage(page: HighlightPageMeta, opts: { nObs?: number | null }): Promise<HighlightPage> {
    const groups: HighlightGroup[] = [];
    for (const g of page.highlightedGroups) {
      groups.push({
        id: g.id,
        label: typeof g.label === "string" ? g.label : g.id,
        type: typeof g.type === "string" ? g.type : null,
        enabled: g.enabled !== false,
        pageId: page.id,
        pageName: typeof page.name === "string" ? page.name : null,
        declaredCellCount: typeof g.cellCount === "number" ? g.cellCount : null,
        cells: await this.readHighlightCells(g.id, opts),
        meta: g,
      });
    }
    return { id: page.id, name: page.name ?? null, color: typeof page.color === "string" ? page.color : null, groups };
  }

  /** User-defined fields from `core/field-overlays` (all of them, deleted ones included). */
  async userDefinedFields(): Promise<UserDefinedField[]> {
    return (await this.fieldOverlays())?.userDefinedFields ?? [];
  }

  /**
   * A field's decoded codes. Their length must be `expectedLength` (default:
   * the fingerprint's cellCount or varCount for the field's source, else the
   * field's codesLength).
   */
  async readUserDefinedCodes(field: UserDefinedField, opts: { expectedLength?: number | null } = {}): Promise<UserDefinedFieldCodes> {
    const id = userDefinedCodesId(field.id);
    const counts = this.counts;
    const fromFingerprint = field.source === "var" ? counts.varCount : counts.cellCount;
    const declared = typeof field.codesLength === "number" ? field.codesLength : null;
    const expectedLength = opts.expectedLength !== undefined ? opts.expectedLength : (fromFingerprint ?? declared);
    return this.withChunkContext(id, async () => {
      const decoded = decodeCodes(await this.readChunkPayload(id), { expectedLength });
      // Raw codes are views of the payload. An inflated payload is ours to hand out;
      // an uncompressed one may be the caller's own bundle bytes, which a store
      // that keeps (or a caller that edits) the codes must not alias.
      const aliased = decoded.encoding <= 1 && this.source.sharesMemory === true && (this.getChunkMeta(id).codec ?? "none") === "none";
      return { field, codes: aliased ? decoded.codes.slice() : decoded.codes, encoding: decoded.encoding };
    });
  }

  /** Adds this bundle's name and the chunk id to errors raised by context-free decoders. */
  protected async withChunkContext<T>(chunkId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SessionFormatError) throw err.withContext({ source: this.source.name, chunkId });
      throw err;
    }
  }
}

