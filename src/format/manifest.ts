/** Manifest types (SPEC §3) and the structural checks a reader needs before trusting it. */
import { formatError } from "./errors.js";

export type ChunkPriority = "eager" | "lazy";
export type ChunkKind = "json" | "binary";
export type ChunkCodec = "none" | "gzip";

export interface ChunkMeta {
  id: string;
  contributorId?: string;
  priority?: ChunkPriority | string;
  kind?: ChunkKind | string;
  codec?: ChunkCodec | string;
  label?: string;
  datasetDependent?: boolean;
  storedBytes?: number;
  uncompressedBytes?: number;
  dependsOn?: string[];
  [extra: string]: unknown;
}

export interface DatasetFingerprint {
  sourceType?: string | null;
  datasetId?: string | null;
  cellCount?: number;
  varCount?: number;
  /** The web app's `{dimension, digest}` of the cell order (absent in older bundles). */
  cellOrder?: unknown;
  [extra: string]: unknown;
}

export interface DataSource {
  sourceType?: string | null;
  datasetId?: string | null;
  userPath?: string | null;
  [extra: string]: unknown;
}

export interface SessionManifest {
  createdAt?: string;
  dataSource?: DataSource | null;
  datasetFingerprint?: DatasetFingerprint | null;
  summary?: unknown;
  chunks: ChunkMeta[];
  [extra: string]: unknown;
}

export const KNOWN_CODECS: readonly string[] = ["none", "gzip"];
export const KNOWN_KINDS: readonly string[] = ["json", "binary"];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Checks what must hold before any chunk can be located: a JSON object with a
 * `chunks` array of objects with unique non-empty string ids, and numeric
 * size fields that are sane. Codec and kind are checked when a chunk is
 * decoded, so that one unsupported chunk does not hide the others. Returns
 * the manifest and each chunk's position by id.
 */
export function validateManifest(value: unknown, source?: string): { manifest: SessionManifest; positions: Map<string, number> } {
  const ctx = { source };
  if (!isPlainObject(value)) throw formatError("MANIFEST_SHAPE", "manifest must be a JSON object", ctx);
  const chunks = value["chunks"];
  if (!Array.isArray(chunks)) throw formatError("MANIFEST_SHAPE", "manifest.chunks must be an array", ctx);
  const positions = new Map<string, number>();
  for (let i = 0; i < chunks.length; i++) {
    const c: unknown = chunks[i];
    if (!isPlainObject(c)) throw formatError("MANIFEST_SHAPE", `manifest.chunks[${i}] must be an object`, ctx);
    const id = c["id"];
    if (typeof id !== "string" || id.length === 0)
      throw formatError("MANIFEST_SHAPE", `manifest.chunks[${i}].id must be a non-empty string`, ctx);
    if (positions.has(id)) throw formatError("DUPLICATE_CHUNK_ID", `chunk id '${id}' appears twice in the manifest`, ctx);
    positions.set(id, i);
    const stored = c["storedBytes"];
    const uncompressed = c["uncompressedBytes"];
    if (stored !== undefined && stored !== null && !isCount(stored))
      throw formatError("MANIFEST_SHAPE", "storedBytes must be a non-negative integer", { source, chunkId: id });
    if (uncompressed !== undefined && uncompressed !== null && !isCount(uncompressed))
      throw formatError("MANIFEST_SHAPE", "uncompressedBytes must be a non-negative integer", { source, chunkId: id });
    if (c["dependsOn"] !== undefined && !Array.isArray(c["dependsOn"]))
      throw formatError("MANIFEST_SHAPE", "dependsOn must be an array of chunk ids", { source, chunkId: id });
  }
  const fp = value["datasetFingerprint"];
  if (fp !== undefined && fp !== null) {
    if (!isPlainObject(fp)) throw formatError("MANIFEST_SHAPE", "datasetFingerprint must be an object", ctx);
    for (const key of ["cellCount", "varCount"] as const) {
      if (fp[key] !== undefined && fp[key] !== null && !isCount(fp[key]))
        throw formatError("MANIFEST_SHAPE", `datasetFingerprint.${key} must be a non-negative integer`, ctx);
    }
  }
  return { manifest: value as SessionManifest, positions };
}

/** The fingerprint's cell / gene counts, when present. */
export function fingerprintCounts(m: SessionManifest): { cellCount: number | null; varCount: number | null } {
  const fp = m.datasetFingerprint;
  return {
    cellCount: fp && isCount(fp.cellCount) ? fp.cellCount : null,
    varCount: fp && isCount(fp.varCount) ? fp.varCount : null,
  };
}
