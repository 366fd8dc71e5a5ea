/** `cellucid-session serve` as users run it: a child process, its URL on stdout, a clean stop on SIGTERM. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLI, EXAMPLE, ROOT, withTempDir } from "./helpers.js";

const run = promisify(execFile);
const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts `serve` and resolves with its first stdout line; the caller must stop it. */
function startServe(args: string[]) {
  const child = spawn(process.execPath, [CLI, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, firstLine, exited };
}

test("serve --help exits 0; the top-level help lists serve", async () => {
  const r = await cli("serve", "--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: cellucid-session serve DATA/);
  assert.match((await cli("--help")).stdout, /\bserve\b/);
});

test("serve: missing data exits 2, bad --port exits 2, an invalid --session bundle exits 1", async () => {
  const missing = await cli("serve", "/nonexistent/data.h5ad");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or directory/);
  assert.equal((await cli("serve")).code, 2);
  assert.equal((await cli("serve", DATA, "--port", "http")).code, 2);
  assert.equal((await cli("serve", DATA, "--session", "/nonexistent/s.cellucid-session")).code, 2);
  await withTempDir(async (dir) => {
    const bad = join(dir, "bad.cellucid-session");
    await writeFile(bad, "this is not a session bundle");
    const r = await cli("serve", DATA, "--session", bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid MAGIC header/);
  });
});

test("serve prints its tokened URL, answers /_cellucid/config only with the token, and exits 0 on SIGTERM", async () => {
  const s = startServe([DATA, "--session", EXAMPLE]);
  try {
    const line = await s.firstLine;
    const m = /^Serving pbmc-demo\.h5ad \(2,638 cells × 1,838 genes\) at (http:\/\/127\.0\.0\.1:\d+)\/\?token=([A-Za-z0-9_-]{43})$/.exec(line);
    assert.ok(m, line);
    assert.equal((await fetch(`${m[1]}/_cellucid/config`)).status, 401);
    const cfg = await (await fetch(`${m[1]}/_cellucid/config`, { headers: { Authorization: `Bearer ${m[2]}` } })).json();
    assert.equal(cfg.dataset.nObs, 2638);
    assert.equal(cfg.dataset.hasSession, true);
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0);
  } finally {
    if (s.child.exitCode === null) s.child.kill("SIGKILL");
  }
});

test("serve --json prints {url, token, viewerId, autosave}; SIGINT also stops it with exit 0", async () => {
  const state = await mkdtemp(join(tmpdir(), "cellucid-serve-state-"));
  const s = startServe([DATA, "--json", "--port", "0", "--autosave-dir", state]);
  try {
    const info = JSON.parse(await s.firstLine);
    assert.deepEqual(Object.keys(info), ["url", "token", "viewerId", "autosave"]);
    assert.match(info.autosave, new RegExp(`^${state}/[0-9a-f]{32}\\.cellucid-session$`));
    assert.equal(new URL(info.url).searchParams.get("token"), info.token);
    const cfg = await (await fetch(new URL("/_cellucid/config", info.url), { headers: { Authorization: `Bearer ${info.token}` } })).json();
    assert.equal(cfg.viewerId, info.viewerId);
    s.child.kill("SIGINT");
    assert.equal(await s.exited, 0);
  } finally {
    if (s.child.exitCode === null) s.child.kill("SIGKILL");
    await rm(state, { recursive: true, force: true });
  }
});
