/**
 * Node entry point (`cellucid-session` in Node): the browser-ready entry
 * point's names (src/index.ts, itself a curated list), with the Node flavour of
 * CellucidSessionBundle in place of the core one, plus files, .h5ad / .zarr
 * stores and the viewer. test/public-api.test.ts pins the list.
 */
export * from "../index.js";
export { CellucidSessionBundle } from "../apply/session-bundle.js";
export { writeSessionFile, createSessionWriter } from "../platform/node/session-writer.js";
export { zlibGzip } from "../platform/node/zlib-gzip.js";
export { openAnnData, type AnnDataFormat } from "../anndata/open.js";
export { H5adStore } from "../anndata/h5/store.js";
export { ZarrStore, type ZarrOpenOptions } from "../anndata/zarr/store.js";
export { recoverZarr, type RecoverOptions } from "../anndata/zarr/recovery.js";
export type { RecoveryReport } from "../anndata/zarr/transaction.js";
export { applySessionToFile, type ApplyFileOptions } from "../apply/files.js";
export { startViewer, ViewerError, CapturedSessionBundle, type Viewer, type StartViewerOptions, type WaitOptions, type ViewerEvent, type ViewerEventMap, type ViewerLimits, type SessionInput, type DatasetInfo } from "../server/index.js";
