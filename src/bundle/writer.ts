/**
 * Writes bundles the way the web app does: manifest then length-prefixed
 * chunks with `storedBytes` and `uncompressedBytes`. By default the bundle is
 * canonical: what the current web app's Load State accepts (WEBAPP.md), with
 * its manifest and chunk keys, chunk order and labels, singleton chunks,
 * ids, group types and field records; input it would refuse is an error
 * naming the rule. `canonical: false` writes the permissive layout of SPEC.md.
 */
import { HEADER_LENGTH, MAGIC, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, writeU32LE } from "../format/limits.js";
import type { ChunkCodec, ChunkMeta, ChunkPriority, DataSource, DatasetFingerprint, SessionManifest } from "../format/manifest.js";
import { MISSING_U16, MISSING_U8, encodeCodes } from "../codecs/codes.js";
import { type GzipCodec, webGzip } from "../codecs/gzip.js";
import { encodeIndexSet, normalizeIndices } from "../codecs/index-set.js";
import { jsonBytes } from "../codecs/json.js";
import { checkJsonLimits } from "../format/json.js";
import { parseFieldOverlays } from "../chunks/user-defined.js";
import { concatBytes } from "../format/source.js";
import { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, highlightCellsId, userDefinedCodesId } from "../chunks/ids.js";
import { checkCoreState } from "./webapp-core-state.js";
import { CACHE_INVENTORY_ID, ANALYSIS_ARTIFACTS_PREFIX, CORE_STATE_ID, type ChunkProfile, highlightCellsLabel, singletonProfile, userDefinedCodesLabel } from "../chunks/app-chunks.js";
import { type CellOrderDimension, parseCellOrder } from "../chunks/cell-order.js";
import {
  AppIds, GROUP_BINDING_KEYS, NEUTRAL_PAYLOADS, PAGE_COLORS, U16_FROM_CATEGORIES, appChunkOrder, appFieldRecord, appFingerprint, appGroupType, appPageColor, neutralCoreState, notAppLoadable,
} from "./canonical.js";
import { checkFieldOverlays, checkHighlightsMeta } from "./webapp-shapes.js";
import { formatError } from "../format/errors.js";
import type { CachedPayload, EncodedChunkCache } from "./chunk-cache.js";

function duplicateId(id: string): Error {
  return formatError("DUPLICATE_CHUNK_ID", "this chunk id was already added", { chunkId: id });
}

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
  /** Canonical bundles: `highlight_<n>`, assigned in order when left out. */
  id?: string;
  label?: string;
  type?: string;
  enabled?: boolean;
  /** Cell indices; sorted and de-duplicated on write. */
  cells: ArrayLike<number>;
  [extra: string]: unknown;
}

export interface HighlightPageInput {
  /** Canonical bundles: `page_<n>`, assigned in order when left out. */
  id?: string;
  name?: string;
  /** `#rrggbb`; canonical bundles cycle through the app's page colours when left out. */
  color?: string;
  groups: HighlightGroupInput[];
}

export interface UserDefinedFieldInput {
  id: string;
  key: string;
  source?: "obs" | "var";
  /** Canonical bundles also take numbers and booleans, as the app does. */
  categories: (string | number | boolean)[];
  /**
   * Indices into `categories`. Canonical bundles: one per cell (the app's
   * codes are one per cell even for a var field); -1 or the missing marker
   * (255 in u8, 65535 in u16 storage) for a cell nobody labelled.
   * Otherwise one per cell (obs) or gene (var).
   */
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
  /**
   * true (default): a bundle the current web app's Load State accepts; the
   * fingerprint needs `cellOrder`. false: SPEC's permissive layout
   * (dataSource, summary, dependsOn, any ids and types, empty groups).
   */
  canonical?: boolean;
  /** Canonical: the field shown when the session was saved; its codes are the only eager ones. */
  activeFieldId?: string | null;
  /**
   * Canonical: `core/state`'s record of the app's sidebar controls. The app
   * loads a session only when this lists exactly the controls of its page, so
   * the way to an accepted `core/state` is to carry the record from a bundle
   * that app saved; each entry is checked for the app's shape (default: none).
   */
  uiControls?: Record<string, unknown>;
  /**
   * Chunks of earlier bundles, by the cells / codes arrays they were made
   * from: a group or field whose array is the same object as before is not
   * encoded again (see EncodedChunkCache: such arrays must never change).
   * Every check still runs on what goes into the bundle; the bytes are those
   * a writer without a cache writes.
   */
  cache?: EncodedChunkCache;
}

interface PendingChunk {
  meta: ChunkMeta;
  payload: Uint8Array;
  codec: ChunkCodec | "auto";
  /** The payload is the cache's: so may its stored bytes be. */
  cached?: boolean;
}

interface EncodedChunk {
  meta: ChunkMeta;
  stored: Uint8Array;
}

export class SessionWriter {
  private readonly chunks: PendingChunk[] = [];
  private readonly ids = new Set<string>();
  private readonly gzip: GzipCodec;
  private readonly canonical: boolean;
  private highlights: { pages: Record<string, unknown>[]; activePageId: string | null; activePageName: string | null } | null = null;
  private overlays: { renames: Record<string, unknown>; deletedFields: unknown; userDefinedFields: Record<string, unknown>[] } | null = null;
  private readonly pageIds = new AppIds("page_");
  private readonly groupIds = new AppIds("highlight_");

  constructor(private readonly opts: SessionWriterOptions = {}) {
    this.gzip = opts.gzip ?? webGzip;
    this.canonical = opts.canonical !== false;
  }

  addJsonChunk(id: string, value: unknown, opts: ChunkOptions = {}): this {
    return this.addChunk(id, "json", jsonBytes(value), { codec: "gzip", ...opts });
  }

  addBinaryChunk(id: string, payload: Uint8Array, opts: ChunkOptions = {}): this {
    return this.addChunk(id, "binary", payload, { codec: "auto", ...opts });
  }

  private addChunk(id: string, kind: "json" | "binary", payload: Uint8Array, opts: ChunkOptions): this {
    if (!id) throw formatError("MANIFEST_SHAPE", "chunk id must be a non-empty string");
    if (this.ids.has(id)) throw duplicateId(id);
    if (this.canonical) return this.addAppChunk(id, kind, payload, opts);
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

  /**
   * Canonical bundles take only chunks the app has a contributor for: its
   * view-state singletons (replacing the neutral payload) and analysis
   * artifacts. Highlights and fields go through their own methods.
   */
  private addAppChunk(id: string, kind: "json" | "binary", payload: Uint8Array, opts: ChunkOptions): this {
    const profile = singletonProfile(id);
    let meta: ChunkMeta;
    if (profile && id !== FIELD_OVERLAYS_ID && id !== HIGHLIGHTS_META_ID && id !== CACHE_INVENTORY_ID && kind === profile.kind) meta = { ...profile };
    else if (id.startsWith(ANALYSIS_ARTIFACTS_PREFIX) && kind === "binary")
      meta = { id, contributorId: "analysis-artifacts", priority: "lazy", kind, codec: "gzip", label: opts.label ?? id, datasetDependent: true };
    else throw notAppLoadable("WEBAPP_UNKNOWN_CONTRIBUTOR", `chunk '${id}' (${opts.contributorId ?? "no contributor"}) has no contributor in the app, or is written by addHighlightPage / addUserDefinedField`);
    this.ids.add(id);
    this.chunks.push({ meta, payload, codec: "gzip" });
    return this;
  }

  /** Adds a highlight page; its groups' cells become `highlights/cells/<groupId>` chunks. */
  addHighlightPage(page: HighlightPageInput, opts: { active?: boolean } = {}): this {
    if (!this.highlights) this.highlights = { pages: [], activePageId: null, activePageName: null };
    const pageId = this.canonical ? this.pageIds.take(page.id) : page.id ?? `page-${this.highlights.pages.length + 1}`;
    const groups = page.groups.map((g) => {
      const { cells, ...shell } = g;
      const { payload, count } = this.fromSource(cells, "cells", () => {
        const sorted = normalizeIndices(cells);
        return { payload: encodeIndexSet(sorted), count: sorted.length };
      });
      const groupId = this.canonical ? this.groupIds.take(g.id) : g.id ?? `group-${this.chunks.length + 1}`;
      const label = g.label ?? groupId;
      if (this.canonical && count === 0) throw notAppLoadable("WEBAPP_EMPTY_GROUP", `highlight group '${label}' has no cells: the app has no empty groups`);
      if (count > 0 || this.canonical) {
        this.addCellsChunk(groupId, payload, label);
      }
      if (!this.canonical) return { type: "selection", label: groupId, enabled: true, ...shell, id: groupId, cellCount: count };
      const type = appGroupType(g.type);
      const group: Record<string, unknown> = { id: groupId, type, label, enabled: g.enabled !== false, cellCount: count };
      for (const k of GROUP_BINDING_KEYS[type] ?? []) group[k] = shell[k];
      return group;
    });
    const name = page.name ?? pageId;
    const color = this.canonical ? appPageColor(page.color, this.highlights.pages.length) : page.color;
    this.highlights.pages.push({ id: pageId, name, ...(color ? { color } : {}), highlightedGroups: groups });
    if (opts.active || this.highlights.activePageId === null) {
      this.highlights.activePageId = pageId;
      this.highlights.activePageName = name;
    }
    return this;
  }

  private addCellsChunk(groupId: string, payload: Uint8Array, label: string): void {
    const id = highlightCellsId(groupId);
    if (this.ids.has(id)) throw duplicateId(id);
    this.ids.add(id);
    const meta: ChunkMeta = this.canonical
      ? { id, contributorId: "highlights-cells", priority: "lazy", kind: "binary", codec: "gzip", label: highlightCellsLabel(label), datasetDependent: true }
      : { id, contributorId: "highlights-cells", priority: "lazy", kind: "binary", codec: "none", label: `Highlight cells: ${label}`, datasetDependent: true, dependsOn: [HIGHLIGHTS_META_ID] };
    this.chunks.push({ meta, payload, codec: this.canonical ? "gzip" : "auto", cached: this.opts.cache !== undefined });
  }

  /** What `make` builds from `source`, from the cache when the writer has one. */
  private fromSource(source: ArrayLike<number>, how: string, make: () => CachedPayload): CachedPayload {
    return this.opts.cache && typeof source === "object" ? this.opts.cache.payload(source, how, make) : make();
  }

  /** Adds a categorical user-defined field; codes are stored raw or RLE, whichever is smaller. */
  addUserDefinedField(field: UserDefinedFieldInput): this {
    if (!this.overlays) this.overlays = { renames: {}, deletedFields: [], userDefinedFields: [] };
    if (this.canonical) return this.addAppField(field);
    const { codes, ...rest } = field;
    // count: 1 when the codes need u16 storage.
    const { payload, count: wide } = this.fromSource(codes, "codes", () => {
      let wide = field.categories.length > 256;
      for (let i = 0; i < codes.length && !wide; i++) if (codes[i]! > 0xff) wide = true;
      return { payload: encodeCodes(codes), count: wide ? 1 : 0 };
    });
    this.overlays.userDefinedFields.push({
      source: "obs",
      kind: "category",
      isDeleted: false,
      isPurged: false,
      ...rest,
      codesLength: codes.length,
      codesType: wide ? "Uint16Array" : "Uint8Array",
    });
    const id = userDefinedCodesId(field.id);
    if (this.ids.has(id)) throw duplicateId(id);
    this.ids.add(id);
    this.chunks.push({
      meta: { id, contributorId: "user-defined-codes", priority: "eager", kind: "binary", codec: "none", label: `User-defined field codes: ${field.key}`, datasetDependent: true, dependsOn: [FIELD_OVERLAYS_ID] },
      payload,
      codec: "auto",
      cached: this.opts.cache !== undefined,
    });
    return this;
  }

  private addAppField(field: UserDefinedFieldInput): this {
    const cellCount = this.opts.datasetFingerprint?.cellCount;
    const where = `user-defined field '${field.key}'`;
    if (typeof cellCount === "number" && field.codes.length !== cellCount)
      throw notAppLoadable("WEBAPP_FIELD_CODES", `${where} has ${field.codes.length} codes, not one per cell (${cellCount}): the app's codes are one per cell${field.source === "var" ? ", even for a var field" : ""}`);
    const wide = field.categories.length >= U16_FROM_CATEGORIES;
    // The codes are checked against the category count, so that is part of what the payload is made by.
    const { payload } = this.fromSource(field.codes, `app-codes/${field.categories.length}`, () => {
      const marker = wide ? MISSING_U16 : MISSING_U8;
      const bad = (c: number, i: number) => notAppLoadable("WEBAPP_CODES", `${where}: code ${c} at cell ${i} is neither one of the ${field.categories.length} categories nor missing (-1 or ${marker})`);
      const given = field.codes;
      let codes: Uint8Array | Uint16Array;
      const sameWidth = wide ? (given instanceof Uint16Array ? given : null) : given instanceof Uint8Array ? given : null;
      if (sameWidth) {
        // Already the declared width, with its marker: checked, not copied.
        for (let i = 0; i < sameWidth.length; i++) if (sameWidth[i]! >= field.categories.length && sameWidth[i] !== marker) throw bad(sameWidth[i]!, i);
        codes = sameWidth;
      } else {
        codes = new (wide ? Uint16Array : Uint8Array)(given.length);
        for (let i = 0; i < codes.length; i++) {
          const c = given[i]!;
          if (c === -1 || c === marker) codes[i] = marker;
          else if (Number.isInteger(c) && c >= 0 && c < field.categories.length) codes[i] = c;
          else throw bad(c, i);
        }
      }
      // The smaller of raw and RLE, at the width the field record declares.
      return { payload: encodeCodes(codes, { wide }), count: codes.length };
    });
    this.overlays!.userDefinedFields.push(appFieldRecord({
      id: field.id, key: field.key, source: field.source ?? "obs", categories: [...field.categories], codesLength: field.codes.length, wide,
      isDeleted: field.isDeleted === true, isPurged: field.isPurged === true,
    }));
    const id = userDefinedCodesId(field.id);
    if (this.ids.has(id)) throw duplicateId(id);
    this.ids.add(id);
    this.chunks.push({
      meta: { id, contributorId: "user-defined-codes", priority: field.id === this.opts.activeFieldId ? "eager" : "lazy", kind: "binary", codec: "gzip", label: userDefinedCodesLabel(field.key), datasetDependent: true },
      payload,
      codec: "gzip",
      cached: this.opts.cache !== undefined,
    });
    return this;
  }

  /** Encodes every chunk and returns the manifest and stored chunks in file order. */
  async encode(): Promise<{ manifest: SessionManifest; manifestBytes: Uint8Array; chunks: EncodedChunk[] }> {
    const fingerprint = this.canonical ? appFingerprint(this.opts.datasetFingerprint) : null;
    const pending = this.canonical ? appChunkOrder([...this.appStructuredChunks(fingerprint!), ...this.chunks]) : [...this.structuredChunks(), ...this.chunks];
    const encoded: EncodedChunk[] = [];
    for (const c of pending) {
      // Never write what a reader refuses.
      if (c.meta.kind === "json") checkJsonLimits(c.payload, "JSON chunk", { chunkId: c.meta.id });
      const cache = c.cached ? this.opts.cache : undefined;
      const { stored, codec } = cache?.storedBytes(this.gzip, c.payload, c.codec) ?? (await this.compress(c));
      if (cache) cache.keepStored(this.gzip, c.payload, c.codec, { stored, codec });
      if (stored.length > MAX_CHUNK_BYTES) throw formatError("CHUNK_LENGTH", `chunk is ${stored.length} bytes, over the ${MAX_CHUNK_BYTES}-byte limit`, { chunkId: c.meta.id });
      encoded.push({ meta: { ...c.meta, codec, storedBytes: stored.length, uncompressedBytes: c.payload.length }, stored });
    }
    // Stable partition: readers restore eager chunks first and rely on this order.
    const ordered = [...encoded.filter((c) => c.meta.priority !== "lazy"), ...encoded.filter((c) => c.meta.priority === "lazy")];
    const createdAt = this.opts.createdAt ?? new Date().toISOString();
    if (this.canonical && new Date(createdAt).toISOString() !== createdAt) throw notAppLoadable("WEBAPP_CREATED_AT", `createdAt '${createdAt}' must be a canonical ISO timestamp`);
    const manifest: SessionManifest = this.canonical
      ? { createdAt, datasetFingerprint: fingerprint, chunks: ordered.map((c) => c.meta) }
      : {
          createdAt,
          dataSource: this.opts.dataSource ?? null,
          datasetFingerprint: this.opts.datasetFingerprint ?? null,
          summary: this.opts.summary ?? null,
          chunks: ordered.map((c) => c.meta),
        };
    const manifestBytes = jsonBytes(manifest);
    if (manifestBytes.length > MAX_MANIFEST_BYTES) throw formatError("MANIFEST_LENGTH", `manifest is ${manifestBytes.length} bytes, over the 16 MiB limit`);
    checkJsonLimits(manifestBytes, "manifest");
    return { manifest, manifestBytes, chunks: ordered };
  }

  private async compress(c: PendingChunk): Promise<{ stored: Uint8Array; codec: ChunkCodec }> {
    if (c.codec !== "none") {
      const zipped = await this.gzip.deflate(c.payload);
      if (c.codec === "gzip" || zipped.length <= c.payload.length * 0.9) return { stored: zipped, codec: "gzip" };
    }
    return { stored: c.payload, codec: "none" };
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

  /** The app's singletons: its shapes of overlays and highlights, and neutral payloads for what was not added. */
  private appStructuredChunks(fingerprint: DatasetFingerprint): PendingChunk[] {
    const overlays = { renames: { fields: {}, categories: {} }, deletedFields: { deleted: [], purged: [] }, userDefinedFields: this.overlays?.userDefinedFields ?? [] };
    // The app always has a page; a session without highlights carries its empty first page.
    const highlights = this.highlights
      ? { pages: this.highlights.pages, activePageId: this.highlights.activePageId }
      : { pages: [{ id: "page_1", name: "Page 1", color: PAGE_COLORS[0], highlightedGroups: [] }], activePageId: "page_1" };
    // The structures above are built to the app's shapes; checking them here turns any slip into a named refusal.
    const fail = (code: string, _chunk: string | null, message: string) => {
      throw notAppLoadable(`WEBAPP_${code}`, message);
    };
    checkHighlightsMeta(highlights, true, fail);
    checkFieldOverlays(overlays, true, fingerprint.cellCount ?? null, fail);
    const active = overlays.userDefinedFields.find((f) => f["id"] === this.opts.activeFieldId);
    const dimension = parseCellOrder(fingerprint.cellOrder)!.dimension as CellOrderDimension;
    const coreState = neutralCoreState({ dimension, activeField: active ? { key: String(active["key"]), source: active["source"] === "var" ? "var" : "obs" } : null }, this.opts.uiControls);
    // Controls the app has that we cannot list are the caller's to carry (see uiControls); what we can check, we do.
    checkCoreState(coreState, fail, () => undefined);
    const neutral: Record<string, unknown> = {
      ...NEUTRAL_PAYLOADS,
      [CORE_STATE_ID]: coreState,
      [CACHE_INVENTORY_ID]: { artifactIds: this.chunks.filter((c) => c.meta.id.startsWith(ANALYSIS_ARTIFACTS_PREFIX)).map((c) => c.meta.id) },
      [FIELD_OVERLAYS_ID]: overlays,
      [HIGHLIGHTS_META_ID]: highlights,
    };
    const out: PendingChunk[] = [];
    for (const [id, value] of Object.entries(neutral)) {
      if (this.ids.has(id)) continue;
      out.push({ meta: { ...(singletonProfile(id) as ChunkProfile) }, payload: jsonBytes(value), codec: "gzip" });
    }
    return out;
  }
}
