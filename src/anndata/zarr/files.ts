/**
 * The file side of a Zarr v2 directory store: keys are paths relative to the
 * store's root folder. Array data is read by zarrita (through NodeReader); writes
 * are plain files written here, because zarrita only creates Zarr v3 metadata
 * and cannot encode vlen-utf8, both of which anndata's v2 layout needs.
 */
import { execFile } from "node:child_process";
import { type Stats, closeSync, fsyncSync, openSync, readFileSync, readdirSync, statSync, writeSync } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { release } from "node:os";
import { dirname, join } from "node:path";
import type { AbsolutePath, AsyncReadable } from "zarrita";
import { beforeMutation } from "../../platform/node/faults.js";

export type Json = null | boolean | number | string | PyFloat | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The part of zarrita's store interface that reading needs: whole values by key. */
export class DirectoryReader implements AsyncReadable {
  constructor(readonly root: string) {}

  async get(key: AbsolutePath): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.fsPath(key.slice(1))));
    } catch (err) {
      // A missing chunk is not an error in Zarr: it reads as fill_value.
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  fsPath(key: string): string {
    return key === "" ? this.root : join(this.root, ...key.split("/"));
  }
}

/**
 * The same files seen from one node's folder, for zarrita. zarrita resolves
 * keys through URL parsing, which would cut a name at "#" or "?"; rooting the
 * view at the node leaves it only Zarr's own keys (".zarray", "0", "0.0").
 */
export class NodeReader implements AsyncReadable {
  /**
   * `rawChunkBytes`: the size every chunk file must have when the array is
   * stored without compressor or filters. zarrita does not check it and would
   * zero-fill a truncated chunk; Python zarr refuses it, and so do we.
   */
  constructor(private readonly reader: DirectoryReader, private readonly key: string, private readonly rawChunkBytes?: number) {}

  async get(key: AbsolutePath): Promise<Uint8Array | undefined> {
    const bytes = await this.reader.get(`/${keyJoin(this.key, key.slice(1))}` as AbsolutePath);
    if (bytes && this.rawChunkBytes !== undefined && !key.startsWith("/.") && bytes.length !== this.rawChunkBytes) {
      throw new Error(`corrupt chunk ${key.slice(1)}: ${bytes.length} bytes, expected ${this.rawChunkBytes}`);
    }
    return bytes;
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Joins store keys, skipping empty parts (the root is ""). */
export function keyJoin(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

export class ZarrFiles {
  readonly reader: DirectoryReader;
  /** Files written but not yet flushed to disk. */
  private readonly unsynced = new Set<string>();
  constructor(readonly root: string) {
    this.reader = new DirectoryReader(root);
  }

  path(key: string): string {
    return this.reader.fsPath(key);
  }

  // Metadata lookups (stat, small JSON files, listings) are synchronous, as the
  // small writes are (see write()): a store has thousands of them, and rebuilding
  // .zmetadata after a large apply reads back every node it wrote.

  async isDirectory(key: string): Promise<boolean> {
    return statIfExists(this.path(key))?.isDirectory() ?? false;
  }

  async exists(key: string): Promise<boolean> {
    return statIfExists(this.path(key)) !== undefined;
  }

  /** A JSON metadata file, or undefined when absent. */
  async readJson(key: string): Promise<Json | undefined> {
    let text: string;
    try {
      text = readFileSync(this.path(key), "utf8");
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return parsePythonJson(text);
  }

  async readJsonObject(key: string): Promise<JsonObject | undefined> {
    const v = await this.readJson(key);
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) throw new SyntaxError(`${key} is not a JSON object`);
    return v;
  }

  /** What kind of Zarr node sits at `key`: decided by its metadata file, as Python zarr does. */
  async nodeKind(key: string): Promise<"array" | "group" | undefined> {
    if (await this.exists(keyJoin(key, ".zarray"))) return "array";
    if (await this.exists(keyJoin(key, ".zgroup"))) return "group";
    return undefined;
  }

  /** Child node names of a group, sorted like Python zarr lists them. */
  async children(key: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of readdirSync(this.path(key), { withFileTypes: true })) {
      if (!e.isDirectory() || isReservedName(e.name)) continue;
      if (await this.nodeKind(keyJoin(key, e.name))) out.push(e.name);
    }
    return out.sort();
  }

  /** A file's bytes, or undefined when absent. */
  async readBytes(key: string): Promise<Uint8Array | undefined> {
    return this.reader.get(`/${key}` as AbsolutePath);
  }

  // Every mutation below goes through beforeMutation: the one hook for fault-injection tests.

  /** Creates the folder of a new node; failing if it exists guards against clobbering. */
  async mkdir(key: string): Promise<void> {
    beforeMutation("mkdir", this.path(key));
    await mkdir(this.path(key));
  }

  /**
   * New files, in a folder not yet visible under its final name: created
   * exclusively (never clobbering), and flushed to disk by `flush()`, all at
   * once (see there).
   */
  async writeNewJson(key: string, value: Json): Promise<void> {
    await this.writeNewBytes(key, new TextEncoder().encode(pythonJson(value)));
  }

  async writeNewBytes(key: string, bytes: Uint8Array): Promise<void> {
    await this.write(key, bytes, "wx", false);
    this.unsynced.add(this.path(key));
  }

  /** Writes a file and flushes it to disk before returning. */
  async writeDurable(key: string, bytes: Uint8Array): Promise<void> {
    await this.write(key, bytes, "w", true);
  }

  /**
   * Synchronous on purpose: a transaction writes thousands of small files
   * (anndata stores every uns scalar as an array node of three files), and
   * open/write/close as three round trips through libuv's thread pool cost
   * several times the syscalls themselves. The .h5ad store blocks the same
   * way in its native driver.
   */
  private async write(key: string, bytes: Uint8Array, flag: string, sync: boolean): Promise<void> {
    beforeMutation("write", this.path(key));
    const fd = openSync(this.path(key), flag);
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      if (sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Flushes every file written by writeNewBytes, and the folders holding
   * them, to disk. Up to SYNCFS_FROM paths get an fsync each (in parallel);
   * beyond that one syncfs(2) of the store's file system is far cheaper (11,600
   * fsyncs took ~3 s for a 500-group apply, the syncfs ~0.1 s) though it also
   * flushes what other programs wrote, so small transactions keep the fsyncs.
   */
  async flush(): Promise<void> {
    const files = [...this.unsynced];
    this.unsynced.clear();
    const paths = [...files, ...new Set(files.map((f) => dirname(f)))];
    if (paths.length > SYNCFS_FROM && (await syncFileSystem(this.root))) return;
    // Files of a staging that failed and was removed are gone: nothing to flush there.
    await Promise.all(paths.map((p) => syncPath(p).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    })));
  }

  /** Replaces a file of a live node atomically (a temp file beside it, then a rename), so readers never see half a file. */
  async replaceBytes(key: string, bytes: Uint8Array): Promise<void> {
    const tmp = replacementTemp(key);
    await this.writeDurable(tmp, bytes);
    await this.rename(tmp, key);
  }

  async replaceJson(key: string, value: Json): Promise<void> {
    await this.replaceBytes(key, new TextEncoder().encode(pythonJson(value)));
  }

  async rename(from: string, to: string): Promise<void> {
    beforeMutation("rename", this.path(from));
    await rename(this.path(from), this.path(to));
  }

  async remove(key: string): Promise<void> {
    beforeMutation("unlink", this.path(key));
    await rm(this.path(key), { recursive: true, force: true });
  }

  /** Flushes a folder's entries (renames into it) to disk. */
  async syncDir(key: string): Promise<void> {
    await syncPath(this.path(key));
  }
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** See flush(): how many paths get an fsync each before one syncfs replaces them. */
const SYNCFS_FROM = 256;

/**
 * syncfs(2) of the file system holding `path`, through coreutils' `sync -f`
 * (Node has no binding for it). Linux only, and from 5.8 on, where syncfs
 * reports write-back errors; false when it is not available or failed, and the
 * caller then fsyncs file by file (which reports any error itself).
 */
function syncFileSystem(path: string): Promise<boolean> {
  if (!syncfsReportsErrors()) return Promise.resolve(false);
  return new Promise((resolve) => execFile("sync", ["-f", path], (err) => resolve(err === null)));
}

function syncfsReportsErrors(): boolean {
  if (process.platform !== "linux") return false;
  const [major = 0, minor = 0] = release().split(".").map((p) => parseInt(p, 10));
  return major > 5 || (major === 5 && minor >= 8);
}

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const RESERVED_PREFIX = ".cellucid-";

/** The temp file that replaceBytes writes before renaming it over `key`; a fixed name, so recovery knows it. */
export function replacementTemp(key: string): string {
  const slash = key.lastIndexOf("/");
  return keyJoin(key.slice(0, slash + 1).replace(/\/$/, ""), `${RESERVED_PREFIX}tmp-${key.slice(slash + 1)}`);
}

/** Our own files and folders inside a store (journal, staging, lock, temp files): never AnnData elements. */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

export function isJsonObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

/**
 * A number Python wrote (or must read) as a float: JSON has one number type,
 * but Python's json writes 0.0 for a float and 0 for an int, and zarr's
 * fill_value for a float dtype is a float.
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * JSON the way Python zarr 2 writes metadata (json.dumps with indent=4,
 * sort_keys=True, ensure_ascii=True), so files we write look like files
 * Python wrote and diffs stay small.
 */
export function pythonJson(value: Json, indent = ""): string {
  const inner = indent + "    ";
  if (value instanceof PyFloat) {
    const v = value.value;
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return Number.isInteger(v) ? v.toFixed(1) : String(v);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) return "{}";
    return `{\n${keys.map((k) => `${inner}${asciiJson(k)}: ${pythonJson(value[k]!, inner)}`).join(",\n")}\n${indent}}`;
  }
  return asciiJson(value);
}

function asciiJson(v: string | number | boolean | null): string {
  // Python's json writes non-finite numbers bare (allow_nan=True); JSON.stringify would write null.
  if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/**
 * Python's json module writes bare NaN / Infinity (allow_nan=True), which
 * JSON.parse rejects; those tokens outside strings are read as numbers here.
 */
export function parsePythonJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (first) {
    const fixed = text.replace(/("(?:[^"\\]|\\.)*")|-?\bNaN\b|-?\bInfinity\b/g, (m, str: string | undefined) => {
      if (str !== undefined) return str;
      return JSON.stringify(m.replace("-", "") === "NaN" ? "__NaN__" : m.startsWith("-") ? "__-Infinity__" : "__Infinity__");
    });
    if (fixed === text) throw first;
    return JSON.parse(fixed, (_k, v: unknown) =>
      v === "__NaN__" ? NaN : v === "__Infinity__" ? Infinity : v === "__-Infinity__" ? -Infinity : v,
    ) as Json;
  }
}
