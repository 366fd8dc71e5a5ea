/** Small structural checks for JSON chunks, failing with CHUNK_SHAPE and the path that broke. */
import { formatError } from "../format/errors.js";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class ShapeChecker {
  constructor(readonly chunkId: string, readonly source?: string) {}

  fail(path: string, rule: string): never {
    throw formatError("CHUNK_SHAPE", `${path} ${rule}`, { chunkId: this.chunkId, source: this.source });
  }
  object(v: unknown, path: string): Json {
    if (!isObject(v)) this.fail(path, "must be an object");
    return v;
  }
  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, "must be an array");
    return v;
  }
  /** Absent or null becomes [], anything else must be an array. */
  optionalArray(v: unknown, path: string): unknown[] {
    return v === undefined || v === null ? [] : this.array(v, path);
  }
  id(v: unknown, path: string): string {
    if (typeof v === "string" && v.length > 0) return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    this.fail(path, "must be a non-empty string");
  }
  optionalString(v: unknown, path: string): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") this.fail(path, "must be a string");
    return v;
  }
}
