/** The viewer server (Node only): startViewer and its types. */
export { startViewer, type Viewer, type StartViewerOptions, type WaitOptions, type GetSessionOptions, type ViewerPage } from "./viewer.js";
export type { ViewerEvent, ViewerEventMap } from "./events.js";
export { ViewerError, type ViewerErrorCode, type HttpErrorCode } from "./errors.js";
export type { ViewerLimits } from "./connections.js";
export { CapturedSessionBundle } from "./captures.js";
export type { SessionInput } from "./sessions.js";
export type { DatasetInfo } from "./dataset.js";
export { defaultAutosaveDir, type AutosaveInfo } from "./autosave.js";
