/**
 * Browser-ready entry point (`cellucid-session/core`, and `cellucid-session`
 * under the `browser` condition): read, write and validate bundles, the
 * cell-order digest, the export table, and applying to AnnData held in memory.
 * No node: imports anywhere in its graph (test/layers.test.ts checks). The
 * names are listed one by one: what is not here is internal, whatever its
 * module exports (test/public-api.test.ts pins the list).
 */

// Errors (the whole model; codes and exit statuses in EXIT_STATUS).
export { CellucidError, CellucidSessionError, SessionFormatError, NoSuchChunkError, SessionAbortError, AnnDataError, EXIT_STATUS } from "./format/errors.js";
export type { CellucidErrorCode, SessionErrorCode, AnnDataErrorCode, ViewerErrorCode, UsageErrorCode, SessionErrorContext } from "./format/errors.js";

// The container: magic, limits, manifest, byte sources.
export {
  MAGIC, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, MAX_UNCOMPRESSED_BYTES, MAX_JSON_DEPTH, MAX_JSON_BYTES, MAX_JSON_VALUES,
  MAX_CATEGORIES_PER_FIELD, MAX_CATEGORIES_PER_BUNDLE, MAX_CATEGORY_BYTES_PER_FIELD, MAX_CATEGORY_BYTES_PER_BUNDLE,
} from "./format/limits.js";
export { checkJsonLimits, parseJsonUnderLimits } from "./format/json.js";
export type { ChunkPriority, ChunkKind, ChunkCodec, ChunkMeta, DatasetFingerprint, DataSource, SessionManifest } from "./format/manifest.js";
export type { ByteSource, StreamReadOptions } from "./format/source.js";

// Low-level codecs, for other tools.
export { readUvarint, writeUvarint, ByteWriter } from "./codecs/uvarint.js";
export type { Cursor } from "./codecs/uvarint.js";
export { decodeIndexSet, encodeIndexSet } from "./codecs/index-set.js";
export type { IndexSetDecodeOptions, IndexSetStats } from "./codecs/index-set.js";
export { decodeCodes, encodeCodes, CODES_RAW_U8, CODES_RAW_U16, CODES_RLE_U8, CODES_RLE_U16 } from "./codecs/codes.js";
export type { CodesArray, DecodedCodes, CodesDecodeOptions, CodesEncodeOptions } from "./codecs/codes.js";
export { webGzip } from "./codecs/gzip.js";
export type { GzipCodec } from "./codecs/gzip.js";

// Chunk ids and the typed chunk shapes.
export { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, highlightCellsId, userDefinedCodesId, chunkRole } from "./chunks/ids.js";
export type { ChunkRole } from "./chunks/ids.js";
export type { HighlightGroupMeta, HighlightPageMeta, HighlightsMeta } from "./chunks/highlights.js";
export type { UserDefinedField, FieldOverlays } from "./chunks/user-defined.js";
export { digestCellOrder, embeddingCellOrderDigest, compareCellOrder } from "./chunks/cell-order.js";
export type { CellOrderDimension, CellOrder, PositionsPath, ObsmEntry, CellOrderStatus, CellOrderCheck } from "./chunks/cell-order.js";

// Reader, writer, validation.
export { CellucidSessionBundle } from "./bundle/bundle.js";
export type { BundleOpenOptions, IterChunksOptions, ChunkItem, HighlightGroup, HighlightPage, UserDefinedFieldCodes } from "./bundle/bundle.js";
export { SessionWriter } from "./bundle/writer.js";
export { EncodedChunkCache } from "./bundle/chunk-cache.js";
export type { ChunkOptions, HighlightGroupInput, HighlightPageInput, UserDefinedFieldInput, SessionWriterOptions } from "./bundle/writer.js";
export { validateBundle } from "./bundle/validate.js";
export type { ValidationIssue, ChunkCheck, ValidationReport, ValidateOptions } from "./bundle/validate.js";

// Applying to AnnData (any store; in memory here, files in the Node entry point).
export { MemoryAnnData } from "./anndata/memory.js";
export type { DataFrameInit } from "./anndata/memory.js";
export type { Axis, NumericArray, CategoricalCodes, Column, ColumnKind, BoolRowsColumn, ColumnInput, LazyColumn, UnsValue, UnsDict, AnnDataStore, XReadOptions, DenseMatrix } from "./anndata/model.js";
export { safeKey } from "./apply/naming.js";
export type { ColumnConflictPolicy } from "./apply/naming.js";
export { applySessionToStore, planApply } from "./apply/apply.js";
export type { DatasetMismatchPolicy, ApplyOptions, HighlightApplied, FieldApplied, ReferenceSummary, CellOrderSummary, ApplySummary, ApplyPlan } from "./apply/apply.js";
export { applyCellucidSessionToAnnData } from "./apply/anndata.js";
export type { ApplyToMemoryOptions } from "./apply/anndata.js";
export { appCellOrder, checkCellOrder } from "./apply/cell-order-check.js";
export type { StoreCellOrder } from "./apply/cell-order-check.js";

// The export table.
export { buildExportTable, exportText, escapeCell, unescapeTsvCell } from "./export/table.js";
export type { ExportFormat, ExportColumn, ExportTable, ExportOptions, ExportTextOptions } from "./export/table.js";
