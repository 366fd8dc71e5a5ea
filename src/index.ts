/** Browser-ready entry point: format, codecs, chunk types, reader, writer, validation. No node: imports. */
export * from "./format/errors.js";
export * from "./format/limits.js";
export * from "./format/manifest.js";
export * from "./format/source.js";
export { indexBundle, type BundleIndex, type ChunkFrame } from "./format/framing.js";
export * from "./codecs/uvarint.js";
export * from "./codecs/index-set.js";
export * from "./codecs/codes.js";
export * from "./codecs/gzip.js";
export * from "./codecs/payload.js";
export * from "./chunks/ids.js";
export * from "./chunks/highlights.js";
export * from "./chunks/user-defined.js";
export * from "./bundle/bundle.js";
export * from "./bundle/writer.js";
export * from "./bundle/validate.js";
export * from "./apply/naming.js";
