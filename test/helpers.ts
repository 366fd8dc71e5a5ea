/** Test helpers: hand-built bundles (to break rules on purpose) and temp dirs. */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import assert from "node:assert/strict";
import { CellucidSessionError, MAGIC } from "../src/index.js";
import { writeU32LE } from "../src/format/limits.js";
import { concatBytes } from "../src/format/source.js";

export interface RawChunk {
  meta: Record<string, unknown>;
  stored: Uint8Array;
  /** Override the frame's length prefix. */
  frameLength?: number;
}

const enc = new TextEncoder();

export function jsonChunk(id: string, value: unknown, extra: Record<string, unknown> = {}, codec: "none" | "gzip" = "gzip"): RawChunk {
  const payload = enc.encode(JSON.stringify(value));
  const stored = codec === "gzip" ? new Uint8Array(gzipSync(payload)) : payload;
  return { meta: { id, kind: "json", codec, priority: "eager", storedBytes: stored.length, uncompressedBytes: payload.length, ...extra }, stored };
}

export function binaryChunk(id: string, payload: Uint8Array, extra: Record<string, unknown> = {}, codec: "none" | "gzip" = "none"): RawChunk {
  const stored = codec === "gzip" ? new Uint8Array(gzipSync(payload)) : payload;
  return { meta: { id, kind: "binary", codec, priority: "lazy", storedBytes: stored.length, uncompressedBytes: payload.length, ...extra }, stored };
}

export interface RawOptions {
  fingerprint?: Record<string, unknown> | null;
  manifestExtra?: Record<string, unknown>;
  /** Replace the manifest bytes entirely. */
  manifestBytes?: Uint8Array;
  manifestLength?: number;
  trailing?: Uint8Array;
  magic?: Uint8Array;
}

/** Assembles a bundle byte by byte, without any of the writer's checks. */
export function rawBundle(chunks: RawChunk[], opts: RawOptions = {}): Uint8Array {
  const manifest = {
    createdAt: "2026-01-01T00:00:00.000Z",
    dataSource: { sourceType: "local-user", datasetId: "t", userPath: null },
    datasetFingerprint: opts.fingerprint === undefined ? { sourceType: "local-user", datasetId: "t", cellCount: 100, varCount: 20 } : opts.fingerprint,
    summary: null,
    chunks: chunks.map((c) => c.meta),
    ...opts.manifestExtra,
  };
  const mBytes = opts.manifestBytes ?? enc.encode(JSON.stringify(manifest));
  const parts: Uint8Array[] = [opts.magic ?? MAGIC, u32(opts.manifestLength ?? mBytes.length), mBytes];
  for (const c of chunks) parts.push(u32(c.frameLength ?? c.stored.length), c.stored);
  if (opts.trailing) parts.push(opts.trailing);
  return concatBytes(parts);
}

export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32LE(b, 0, v);
  return b;
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "cellucid-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Asserts that `fn` rejects with a CellucidSessionError of `code` (and optionally a message fragment). */
export async function rejectsWithCode(fn: () => Promise<unknown>, code: string, fragment?: string | RegExp): Promise<CellucidSessionError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CellucidSessionError, `expected a CellucidSessionError ${code}, got ${caught === undefined ? "no error" : String((caught as Error)?.stack ?? caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (fragment !== undefined) {
    if (typeof fragment === "string") assert.ok(caught.message.includes(fragment), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(fragment)}`);
    else assert.match(caught.message, fragment);
  }
  return caught;
}

export const ROOT = new URL("../../", import.meta.url).pathname;
export const EXAMPLE = join(ROOT, "examples", "pbmc-demo.cellucid-session");
export const CLI = join(ROOT, "dist", "src", "cli", "main.js");

/**
 * A bundle for the 2638-cell example dataset whose highlights decode fine and
 * whose codes chunk then breaks the RLE rules: an apply fails mid-way.
 */
export function corruptCodesBundle(): Uint8Array {
  return rawBundle([
    jsonChunk("highlights/meta", { pages: [{ id: "p", highlightedGroups: [{ id: "g" }] }] }),
    binaryChunk("highlights/cells/g", Uint8Array.from([2, 1, 1])),
    jsonChunk("core/field-overlays", { userDefinedFields: [{ id: "f", key: "f", source: "obs", kind: "category", categories: ["a"] }] }),
    binaryChunk("user-defined/codes/f", Uint8Array.from([2, 0xce, 0x14, 1, 0, 5])),
  ], { fingerprint: { cellCount: 2638, varCount: 1838 } });
}

/**
 * Every file under `root` (a store, a folder) with the SHA-256 of its bytes,
 * and with `withDirs` every folder too (as "path/" → "dir"), so that an empty
 * leftover folder shows: proof of what a write touched and what it did not.
 */
export function manifest(root: string, withDirs = false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (withDirs) out.set(relative(root, p) + "/", "dir");
        walk(p);
      } else out.set(relative(root, p), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(root);
  return out;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI in a child process (so it can be killed); `done` settles when it exits, however it exits. */
export function spawnCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d));
  child.stderr!.on("data", (d: Buffer) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs the built CLI as a child process: exit code and both streams, never a throw. */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, signal, stdout, stderr } = await spawnCli(args).done;
  return { code: code ?? (signal ? 128 : 1), stdout, stderr };
}
