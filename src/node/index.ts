/** Node entry point: everything from the core plus file access and zlib. */
export * from "../index.js";
export { CellucidSessionBundle, writeSessionFile, createSessionWriter } from "./bundle.js";
export { zlibGzip } from "./zlib-gzip.js";
export { fileSource } from "./file-source.js";
export { writeAtomically, writePartsAtomically, copyFileAtomically } from "./atomic.js";
export { openAnnData, detectAnnDataFormat, type AnnDataFormat } from "../anndata/open.js";
export { H5adStore } from "../anndata/h5/store.js";
export { ZarrStore, type ZarrOpenOptions } from "../anndata/zarr/store.js";
export { recoverZarr, type RecoverOptions } from "../anndata/zarr/recovery.js";
export type { RecoveryReport } from "../anndata/zarr/transaction.js";
export { applySessionToFile, type ApplyFileOptions } from "../apply/files.js";
export { startViewer, ViewerError, CapturedSessionBundle, type Viewer, type StartViewerOptions, type WaitOptions, type ViewerEvent, type ViewerEventMap, type ViewerErrorCode, type SessionInput, type DatasetInfo } from "../server/index.js";
