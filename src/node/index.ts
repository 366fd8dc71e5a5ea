/** Node entry point: everything from the core plus file access and zlib. */
export * from "../index.js";
export { CellucidSessionBundle, writeSessionFile, createSessionWriter } from "./bundle.js";
export { zlibGzip } from "./zlib-gzip.js";
export { fileSource } from "./file-source.js";
export { writeAtomically, writePartsAtomically, copyFileAtomically } from "./atomic.js";
