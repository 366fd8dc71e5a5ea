/**
 * Node entry point (`cellucid-session` in Node): the browser-ready entry
 * point's names (src/index.ts), with the Node flavour of CellucidSessionBundle
 * in place of the core one, plus files, .h5ad / .zarr stores and the viewer.
 * Listed by name, like the core's; test/public-api.test.ts pins the list.
 */
export {
  CellucidError, CellucidSessionError, SessionFormatError, NoSuchChunkError, SessionAbortError, AnnDataError,
  EXIT_STATUS, MAGIC, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, MAX_UNCOMPRESSED_BYTES, MAX_JSON_DEPTH, MAX_JSON_BYTES,
  MAX_JSON_VALUES, MAX_CATEGORIES_PER_FIELD, MAX_CATEGORIES_PER_BUNDLE, MAX_CATEGORY_BYTES_PER_FIELD,
  MAX_CATEGORY_BYTES_PER_BUNDLE, checkJsonLimits, parseJsonUnderLimits, readUvarint, writeUvarint,
  ByteWriter, decodeIndexSet, encodeIndexSet, decodeCodes, encodeCodes, CODES_RAW_U8, CODES_RAW_U16, CODES_RLE_U8,
  CODES_RLE_U16, webGzip, FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, highlightCellsId, userDefinedCodesId, chunkRole,
  digestCellOrder, embeddingCellOrderDigest, compareCellOrder, SessionWriter, EncodedChunkCache, validateBundle, MemoryAnnData, safeKey,
  applySessionToStore, planApply, applyCellucidSessionToAnnData, appCellOrder, checkCellOrder, buildExportTable,
  exportText, escapeCell, unescapeTsvCell
} from "../index.js";
export type {
  CellucidErrorCode, SessionErrorCode, AnnDataErrorCode, ViewerErrorCode, UsageErrorCode, SessionErrorContext,
  ChunkPriority, ChunkKind, ChunkCodec, ChunkMeta, DatasetFingerprint, DataSource, SessionManifest, ByteSource,
  StreamReadOptions, Cursor, IndexSetDecodeOptions, IndexSetStats, CodesArray, DecodedCodes, CodesDecodeOptions,
  CodesEncodeOptions, GzipCodec, ChunkRole, HighlightGroupMeta, HighlightPageMeta, HighlightsMeta, UserDefinedField,
  FieldOverlays, CellOrderDimension, CellOrder, PositionsPath, ObsmEntry, CellOrderStatus, CellOrderCheck,
  BundleOpenOptions, IterChunksOptions, ChunkItem, HighlightGroup, HighlightPage, UserDefinedFieldCodes,
  ChunkOptions, HighlightGroupInput, HighlightPageInput, UserDefinedFieldInput, SessionWriterOptions,
  ValidationIssue, ChunkCheck, ValidationReport, ValidateOptions, DataFrameInit, Axis, NumericArray,
  CategoricalCodes, Column, ColumnKind, BoolRowsColumn, ColumnInput, LazyColumn, UnsValue, UnsDict, AnnDataStore, XReadOptions, DenseMatrix,
  ColumnConflictPolicy, DatasetMismatchPolicy, ApplyOptions, HighlightApplied, FieldApplied, ReferenceSummary,
  CellOrderSummary, ApplySummary, ApplyPlan, ApplyToMemoryOptions, StoreCellOrder, ExportFormat, ExportColumn,
  ExportTable, ExportOptions, ExportTextOptions
} from "../index.js";
export { CellucidSessionBundle } from "../apply/session-bundle.js";
export { writeSessionFile, createSessionWriter } from "../platform/node/session-writer.js";
export { zlibGzip } from "../platform/node/zlib-gzip.js";
export { openAnnData, type AnnDataFormat } from "../anndata/open.js";
export { H5adStore, recoverH5ad } from "../anndata/h5/store.js";
export { ZarrStore, type ZarrOpenOptions } from "../anndata/zarr/store.js";
export { recoverZarr, type RecoverOptions } from "../anndata/zarr/recovery.js";
export type { RecoveryReport } from "../anndata/zarr/transaction.js";
export { applySessionToFile, type ApplyFileOptions } from "../apply/files.js";
export {
  startViewer, ViewerError, CapturedSessionBundle, type Viewer, type StartViewerOptions, type WaitOptions, type GetSessionOptions,
  type ViewerPage, type ViewerEvent, type ViewerEventMap, type ViewerLimits, type SessionInput, type DatasetInfo,
} from "../server/index.js";
