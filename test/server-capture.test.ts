/**
 * Capturing a bundle from the page (SPEC §8): one upload per registered
 * (viewerId, requestId), magic before disk, streamed with a hard cap, temp
 * files removed on every failure. The test plays the page over real HTTP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { CellucidSessionBundle, startViewer, ViewerError, type Viewer } from "../src/node/index.js";
import { EXAMPLE, ROOT, rawBundle, withTempDir } from "./helpers.js";

const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");
const MiB = 1024 * 1024;
/** These tests fix the viewer's access token (startViewer's `token` option) and send it on every request. */
const TOKEN = "capture-test-token-0123456789";
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const origin = (v: Viewer) => new URL(v.url).origin;

interface Reply {
  status: number;
  body: string;
}

/**
 * POSTs `total` bytes in 64 KiB chunks (chunked encoding, no Content-Length,
 * so only the running count can stop it), honouring backpressure. `head` is
 * sent first; the rest is zeros from one reused buffer, so the client itself
 * never holds the body. Resolves with the answer as soon as it arrives.
 */
function streamPost(url: string, head: Uint8Array, total: number, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "Content-Type": "application/octet-stream", ...AUTH, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    // Once the server has answered, a reset while we are still writing is expected.
    req.on("error", reject);
    const zeros = new Uint8Array(64 * 1024);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const part = sent < head.length ? head.subarray(sent, Math.min(head.length, sent + zeros.length)) : zeros.subarray(0, Math.min(zeros.length, total - sent));
        sent += part.length;
        if (!req.write(part)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

function post(url: string, body: Uint8Array | string): Promise<Reply> {
  return fetch(url, { method: "POST", body: typeof body === "string" ? body : Buffer.from(body), headers: { "Content-Type": "application/octet-stream", ...AUTH } }).then(async (r) => ({ status: r.status, body: await r.text() }));
}

/** Registers a capture and returns the (viewerId, requestId) upload URL a page would use. */
async function capture(v: Viewer, timeoutMs = 5000): Promise<{ url: string; bundle: Promise<CellucidSessionBundle> }> {
  const seen = new Promise<string>((resolve, reject) => {
    const req = http.get(`${origin(v)}/_cellucid/messages?viewerId=${v.viewerId}`, { headers: AUTH }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        const m = /data: (.*)\n\n/.exec(d);
        if (m) {
          resolve(JSON.parse(m[1]!).requestId);
          req.destroy();
        }
      });
      res.on("error", () => undefined);
    });
    req.on("error", () => undefined);
    setTimeout(() => reject(new Error("no requestSessionBundle message")), 5000).unref();
  });
  // Asked before any page is connected: the page that connects next still gets the request.
  const bundle = v.getSessionBundle({ timeoutMs });
  bundle.catch(() => undefined);
  const requestId = await seen;
  return { url: `${origin(v)}/_cellucid/session_bundle?viewerId=${v.viewerId}&requestId=${requestId}`, bundle };
}

async function withViewer(opts: Parameters<typeof startViewer>[1], fn: (v: Viewer, tempDir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (tempDir) => {
    const v = await startViewer(DATA, { tempDir, token: TOKEN, ...opts });
    try {
      await fn(v, tempDir);
    } finally {
      await v.close();
    }
  });
}

const isCode = (code: string) => (e: unknown) => e instanceof ViewerError && e.code === code;

test("round trip: the uploaded bundle resolves getSessionBundle with the same manifest and bytes; second upload refused", async () => {
  const file = await readFile(EXAMPLE);
  const original = await CellucidSessionBundle.open(EXAMPLE);
  await withViewer({}, async (v, tempDir) => {
    const { url, bundle } = await capture(v);
    const up = await post(url, file);
    assert.equal(up.status, 200);
    assert.deepEqual(JSON.parse(up.body), { ok: true, bytes: file.length });
    const b = await bundle;
    assert.deepEqual(b.manifest, original.manifest);
    assert.deepEqual(await b.highlightsMeta(), await original.highlightsMeta());
    const again = await post(url, file);
    assert.equal(again.status, 409);
    assert.match(JSON.parse(again.body).error, /^No pending session bundle request/);
    await withTempDir(async (out) => {
      await b.save(join(out, "copy.cellucid-session"));
      assert.ok((await readFile(join(out, "copy.cellucid-session"))).equals(file));
    });
    assert.equal((await readdir(tempDir)).length, 1, "the capture lives in the temp dir while the bundle is open");
    await b.close();
    assert.deepEqual(await readdir(tempDir), [], "closing the captured bundle removes its temp copy");
  });
  await original.close();
});

test("unknown, foreign-viewer and expired request ids get 404 No pending session bundle request", async () => {
  const file = await readFile(EXAMPLE);
  await withViewer({}, async (v, tempDir) => {
    for (const q of [`viewerId=${v.viewerId}&requestId=nope`, `viewerId=other&requestId=nope`, `viewerId=${v.viewerId}`, ""]) {
      const r = await post(`${origin(v)}/_cellucid/session_bundle?${q}`, file);
      assert.equal(r.status, 404, q);
      assert.deepEqual(JSON.parse(r.body), { error: "No pending session bundle request", code: "NO_PENDING_REQUEST" });
    }
    const { url, bundle } = await capture(v, 150);
    await assert.rejects(bundle, isCode("TIMEOUT")); // delivered to a page that never answered
    const late = await post(url, file);
    assert.equal(late.status, 404);
    assert.match(late.body, /No pending session bundle request/);
    assert.deepEqual(await readdir(tempDir), []);
    // Nobody connected at all during the wait.
    await assert.rejects(v.getSessionBundle({ timeoutMs: 50 }), isCode("NOT_CONNECTED"));
  });
});

test("bad magic: 400 before anything touches the disk; the pair is consumed and getSessionBundle rejects INVALID_UPLOAD", async () => {
  await withViewer({}, async (v, tempDir) => {
    const { url, bundle } = await capture(v);
    const r = await post(url, "NOT_A_SESSION_FILE_AT_ALL, just some text");
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { error: "Invalid session bundle MAGIC header", code: "INVALID_UPLOAD" });
    await assert.rejects(bundle, isCode("INVALID_UPLOAD"));
    assert.deepEqual(await readdir(tempDir), []);
    assert.equal((await post(url, await readFile(EXAMPLE))).status, 409, "one upload per pair, even a failed one");

    // Right magic, broken manifest: also 400, temp file removed, typed rejection.
    const c2 = await capture(v);
    const broken = rawBundle([], { manifestBytes: new TextEncoder().encode("{nope") });
    const r2 = await post(c2.url, broken);
    assert.equal(r2.status, 400);
    assert.doesNotMatch(r2.body, /\n\s+at /);
    await assert.rejects(c2.bundle, isCode("INVALID_UPLOAD"));
    assert.deepEqual(await readdir(tempDir), []);

    // Shorter than the magic.
    const c3 = await capture(v);
    assert.equal((await post(c3.url, "CELL")).status, 400);
    await assert.rejects(c3.bundle, isCode("INVALID_UPLOAD"));
  });
});

test("over the cap: 413 while streaming (no Content-Length), temp file removed, getSessionBundle rejects UPLOAD_TOO_LARGE", async () => {
  const head = rawBundle([]);
  await withViewer({ maxUploadBytes: 1 * MiB }, async (v, tempDir) => {
    const { url, bundle } = await capture(v);
    const r = await streamPost(url, head, 5 * MiB);
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(r.body), { error: "Session bundle too large", code: "UPLOAD_TOO_LARGE" });
    await assert.rejects(bundle, isCode("UPLOAD_TOO_LARGE"));
    assert.deepEqual(await readdir(tempDir), []);

    // A declared Content-Length over the cap is refused before reading the body.
    const c2 = await capture(v);
    const big = new Uint8Array(2 * MiB);
    big.set(head);
    const r2 = await post(c2.url, big);
    assert.equal(r2.status, 413);
    await assert.rejects(c2.bundle, isCode("UPLOAD_TOO_LARGE"));
    assert.deepEqual(await readdir(tempDir), []);
    // The server still answers after cutting uploads short.
    assert.equal((await fetch(`${origin(v)}/_cellucid/config`, { headers: AUTH })).status, 200);
  });
});

test("a large upload streams to disk with bounded memory (RSS grows by less than half the body)", async () => {
  const body = Number(process.env["CELLUCID_BODY_MIB"] ?? 160) * MiB;
  const head = rawBundle([]); // a valid bundle; the zeros after it are trailing bytes
  await withViewer({}, async (v) => {
    const { url, bundle } = await capture(v, 60_000);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const r = await streamPost(url, head, body);
      assert.equal(r.status, 200, r.body);
    } finally {
      clearInterval(sampler);
    }
    const b = await bundle;
    assert.equal(b.byteLength, body);
    assert.equal(b.trailingBytes, body - head.length);
    await b.close();
    const growth = peak - before;
    if (process.env["CELLUCID_DEBUG"]) console.log(`RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    // Measured: ~40 MiB whatever the body size (32 MiB to 512 MiB: GC slack of client and server in one
    // process); buffering the body would grow by at least the body.
    assert.ok(growth < body / 2, `RSS grew by ${(growth / MiB).toFixed(1)} MiB while receiving ${body / MiB} MiB`);
  });
});

test("close() during an upload: the wait rejects CLOSED and the partial temp file is removed", async () => {
  await withTempDir(async (tempDir) => {
    const v = await startViewer(DATA, { tempDir, token: TOKEN });
    const { url, bundle } = await capture(v);
    // Start an upload that stalls after the magic, so a temp file exists.
    const req = http.request(url, { method: "POST", headers: { "Content-Type": "application/octet-stream", ...AUTH } });
    req.on("error", () => undefined);
    req.write(rawBundle([]));
    for (let i = 0; i < 100 && (await readdir(tempDir)).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await readdir(tempDir)).length, 1);
    await v.close();
    await assert.rejects(bundle, isCode("CLOSED"));
    assert.deepEqual(await readdir(tempDir), []);
  });
});
