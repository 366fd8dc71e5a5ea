/**
 * Writes bundles the way the web app does: manifest then length-prefixed
 * chunks, eager chunks before lazy ones (contributor order kept inside each
 * group), `storedBytes` and `uncompressedBytes` on every chunk.
 */
import { HEADER_LENGTH, MAGIC, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, writeU32LE } from "../format/limits.js";
import type { ChunkCodec, ChunkMeta, ChunkPriority, DataSource, DatasetFingerprint, SessionManifest } from "../format/manifest.js";
import { encodeCodes } from "../codecs/codes.js";
import { type GzipCodec, webGzip } from "../codecs/gzip.js";
import { encodeIndexSet, normalizeIndices } from "../codecs/index-set.js";
import { jsonBytes } from "../codecs/json.js";
import { checkJsonLimits } from "../format/json.js";
import { parseFieldOverlays } from "../chunks/user-defined.js";
import { concatBytes } from "../format/source.js";
import { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, highlightCellsId, userDefinedCodesId } from "../chunks/ids.js";

export interface ChunkOptions {
  contributorId?: string;
  priority?: ChunkPriority;
  /** "auto" (binary default) keeps gzip only when it saves at least 10%. */
  codec?: ChunkCodec | "auto";
  label?: string;
  datasetDependent?: boolean;
  dependsOn?: string[];
}

export interface HighlightGroupInput {
  id: string;
  label?: string;
  type?: string;
  enabled?: boolean;
  /** Cell indices; sorted and de-duplicated on write. */
  cells: ArrayLike<number>;
  [extra: string]: unknown;
}

export interface HighlightPageInput {
  id: string;
  name?: string;
  color?: string;
  groups: HighlightGroupInput[];
}

export interface UserDefinedFieldInput {
  id: string;
  key: string;
  source?: "obs" | "var";
  categories: string[];
  /** One code per cell (obs) or gene (var), indices into `categories`. */
  codes: ArrayLike<number>;
  isDeleted?: boolean;
  isPurged?: boolean;
  [extra: string]: unknown;
}

export interface SessionWriterOptions {
  datasetFingerprint?: DatasetFingerprint | null;
  dataSource?: DataSource | null;
  createdAt?: string;
  summary?: unknown;
  gzip?: GzipCodec;
}

interface PendingChunk {
  meta: ChunkMeta;
  payload: Uint8Array;
  codec: ChunkCodec | "auto";
}

interface EncodedChunk {
  meta: ChunkMeta;
  stored: Uint8Array;
}

export class SessionWriter {
  private readonly chunks: PendingChunk[] = [];
  private readonly ids = new Set<string>();
  private readonly gzip: GzipCodec;
  private highlights: { pages: unknown[]; activePageId: string | null; activePageName: string | null } | null = null;
  private overlays: { renames: Record<string, unknown>; deletedFields: unknown[]; userDefinedFields: unknown[] } | null = null;

  constructor(private readonly opts: SessionWriterOptions = {}) {
    this.gzip = opts.gzip ?? webGzip;
  }

  addJsonChunk(id: string, value: unknown, opts: ChunkOptions = {}): this {
    return this.addChunk(id, "json", jsonBytes(value), { codec: "gzip", ...opts });
  }

  addBinaryChunk(id: string, payload: Uint8Array, opts: ChunkOptions = {}): this {
    return this.addChunk(id, "binary", payload, { codec: "auto", ...opts });
  }

  private addChunk(id: string, kind: "json" | "binary", payload: Uint8Array, opts: ChunkOptions): this {
    if (!id) throw new TypeError("chunk id must be a non-empty string");
    if (this.ids.has(id)) throw new Error(`chunk id '${id}' was already added`);
    this.ids.add(id);
    const meta: ChunkMeta = {
      id,
      contributorId: opts.contributorId ?? id.split("/")[0]!,
      priority: opts.priority ?? "eager",
      kind,
      codec: "none",
      label: opts.label ?? id,
      datasetDependent: opts.datasetDependent ?? false,
    };
    if (opts.dependsOn) meta.dependsOn = opts.dependsOn;
    this.chunks.push({ meta, payload, codec: opts.codec ?? "gzip" });
    return this;
  }

  /** Adds a highlight page; its groups' cells become `highlights/cells/<groupId>` chunks. */
  addHighlightPage(page: HighlightPageInput, opts: { active?: boolean } = {}): this {
    if (!this.highlights) this.highlights = { pages: [], activePageId: null, activePageName: null };
    const groups = page.groups.map((g) => {
      const { cells, ...shell } = g;
      const sorted = normalizeIndices(cells);
      if (sorted.length > 0) {
        this.addBinaryChunk(highlightCellsId(g.id), encodeIndexSet(sorted), {
          contributorId: "highlights-cells",
          priority: "lazy",
          label: `Highlight cells: ${g.label ?? g.id}`,
          datasetDependent: true,
          dependsOn: [HIGHLIGHTS_META_ID],
        });
      }
      return { type: "selection", label: g.id, enabled: true, ...shell, cellCount: sorted.length };
    });
    this.highlights.pages.push({ id: page.id, name: page.name ?? page.id, ...(page.color ? { color: page.color } : {}), highlightedGroups: groups });
    if (opts.active || this.highlights.activePageId === null) {
      this.highlights.activePageId = page.id;
      this.highlights.activePageName = page.name ?? page.id;
    }
    return this;
  }

  /** Adds a categorical user-defined field; codes are stored raw or RLE, u8 or u16, whichever is smaller. */
  addUserDefinedField(field: UserDefinedFieldInput): this {
    if (!this.overlays) this.overlays = { renames: {}, deletedFields: [], userDefinedFields: [] };
    const { codes, ...rest } = field;
    let wide = field.categories.length > 256;
    for (let i = 0; i < codes.length && !wide; i++) if (codes[i]! > 0xff) wide = true;
    this.overlays.userDefinedFields.push({
      source: "obs",
      kind: "category",
      isDeleted: false,
      isPurged: false,
      ...rest,
      codesLength: codes.length,
      codesType: wide ? "Uint16Array" : "Uint8Array",
    });
    this.addBinaryChunk(userDefinedCodesId(field.id), encodeCodes(codes), {
      contributorId: "user-defined-codes",
      priority: "eager",
      label: `User-defined field codes: ${field.key}`,
      datasetDependent: true,
      dependsOn: [FIELD_OVERLAYS_ID],
    });
    return this;
  }

  /** Encodes every chunk and returns the manifest and stored chunks in file order. */
  async encode(): Promise<{ manifest: SessionManifest; manifestBytes: Uint8Array; chunks: EncodedChunk[] }> {
    const pending = [...this.structuredChunks(), ...this.chunks];
    const encoded: EncodedChunk[] = [];
    for (const c of pending) {
      // Never write what a reader refuses.
      if (c.meta.kind === "json") checkJsonLimits(c.payload, "JSON chunk", { chunkId: c.meta.id });
      let stored = c.payload;
      let codec: ChunkCodec = "none";
      if (c.codec !== "none") {
        const zipped = await this.gzip.deflate(c.payload);
        if (c.codec === "gzip" || zipped.length <= c.payload.length * 0.9) {
          stored = zipped;
          codec = "gzip";
        }
      }
      if (stored.length > MAX_CHUNK_BYTES) throw new RangeError(`chunk '${c.meta.id}' is ${stored.length} bytes, over the ${MAX_CHUNK_BYTES}-byte limit`);
      encoded.push({ meta: { ...c.meta, codec, storedBytes: stored.length, uncompressedBytes: c.payload.length }, stored });
    }
    // Stable partition: readers restore eager chunks first and rely on this order.
    const ordered = [...encoded.filter((c) => c.meta.priority !== "lazy"), ...encoded.filter((c) => c.meta.priority === "lazy")];
    const manifest: SessionManifest = {
      createdAt: this.opts.createdAt ?? new Date().toISOString(),
      dataSource: this.opts.dataSource ?? null,
      datasetFingerprint: this.opts.datasetFingerprint ?? null,
      summary: this.opts.summary ?? null,
      chunks: ordered.map((c) => c.meta),
    };
    const manifestBytes = jsonBytes(manifest);
    if (manifestBytes.length > MAX_MANIFEST_BYTES) throw new RangeError(`manifest is ${manifestBytes.length} bytes, over the 16 MiB limit`);
    checkJsonLimits(manifestBytes, "manifest");
    return { manifest, manifestBytes, chunks: ordered };
  }

  /** The file in pieces, in order, for streaming to disk or a Blob without one big copy. */
  async toParts(): Promise<Uint8Array[]> {
    const { manifestBytes, chunks } = await this.encode();
    const header = new Uint8Array(HEADER_LENGTH);
    header.set(MAGIC, 0);
    writeU32LE(header, HEADER_LENGTH - 4, manifestBytes.length);
    const parts: Uint8Array[] = [header, manifestBytes];
    for (const c of chunks) {
      const len = new Uint8Array(4);
      writeU32LE(len, 0, c.stored.length);
      parts.push(len, c.stored);
    }
    return parts;
  }

  async toBytes(): Promise<Uint8Array> {
    return concatBytes(await this.toParts());
  }

  async toBlob(): Promise<Blob> {
    return new Blob((await this.toParts()) as Uint8Array<ArrayBuffer>[], { type: "application/octet-stream" });
  }

  private structuredChunks(): PendingChunk[] {
    const out: PendingChunk[] = [];
    const json = (id: string, value: unknown, contributorId: string, label: string): PendingChunk => ({
      meta: { id, contributorId, priority: "eager", kind: "json", codec: "gzip", label, datasetDependent: true },
      payload: jsonBytes(value),
      codec: "gzip",
    });
    // The category caps, checked as a reader will check them.
    if (this.overlays) parseFieldOverlays(this.overlays);
    if (this.overlays) out.push(json(FIELD_OVERLAYS_ID, this.overlays, "field-overlays", "Field overlays"));
    if (this.highlights) out.push(json(HIGHLIGHTS_META_ID, this.highlights, "highlights-meta", "Highlight metadata"));
    return out;
  }
}
