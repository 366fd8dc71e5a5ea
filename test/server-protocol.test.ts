/**
 * The viewer server's HTTP contract, over real HTTP against the example
 * dataset. The test plays the page: it reads the SSE stream and posts events.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openAnnData, startViewer, ViewerError, type Viewer } from "../src/node/index.js";
import { EXAMPLE, ROOT, withTempDir } from "./helpers.js";
import { connectPage, json, request } from "./server-client.js";

const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");

async function withViewer(opts: Parameters<typeof startViewer>[1], fn: (v: Viewer) => Promise<void>): Promise<void> {
  const v = await startViewer(DATA, opts);
  try {
    await fn(v);
  } finally {
    await v.close();
  }
}

test("config describes the dataset; obsm and obs serve Float32 / Int32 arrays equal to the store's", async () => {
  const store = await openAnnData(DATA);
  try {
    await withViewer({}, async (v) => {
      assert.match(v.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
      assert.equal(new URL(v.url).searchParams.get("token"), v.token);
      const cfg = json(await request(v, "/_cellucid/config"));
      assert.equal(cfg.viewerId, v.viewerId);
      assert.match(cfg.viewerToken, /^[0-9a-f]{48}$/);
      assert.deepEqual(cfg.dataset.fingerprint, { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: 2638, varCount: 1838 });
      assert.equal(cfg.dataset.name, "pbmc-demo.h5ad");
      assert.deepEqual(cfg.dataset.embeddings, [{ key: "X_pca", dims: 10 }, { key: "X_umap", dims: 2 }]);
      assert.deepEqual(cfg.dataset.obsCategoricals.map((c: { key: string }) => c.key), ["leiden", "cell_type", "is_doublet"]);
      assert.deepEqual(cfg.dataset.obsCategoricals[2].categories, ["False", "True"]);
      assert.equal(cfg.dataset.hasSession, false);

      for (const { key, dims } of cfg.dataset.embeddings) assert.deepEqual(store.obsmShape!(key), [2638, dims]);
      assert.equal(store.obsmShape!("no_such_entry"), null);
      for (const { key, dims } of cfg.dataset.embeddings) {
        const r = await request(v, `/_cellucid/obsm/${key}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers["content-type"], "application/octet-stream");
        assert.equal(r.headers["x-cellucid-shape"], `2638,${dims}`);
        assert.equal(r.body.length, 2638 * dims * 4);
        const got = new Float32Array(r.body.buffer.slice(r.body.byteOffset, r.body.byteOffset + r.body.length));
        assert.deepEqual(got, Float32Array.from((await store.readObsm!(key)).data));
      }
      const ct = await request(v, "/_cellucid/obs/cell_type");
      const col = await store.readColumn("obs", "cell_type");
      assert.equal(col.kind, "categorical");
      assert.deepEqual(new Int32Array(ct.body.buffer.slice(ct.body.byteOffset, ct.body.byteOffset + ct.body.length)), Int32Array.from(col.kind === "categorical" ? col.codes : [], Number));
      const dbl = await request(v, "/_cellucid/obs/is_doublet");
      assert.equal(dbl.body.length, 2638 * 4);
      for (const [path, status] of [["/_cellucid/obsm/X_nope", 404], ["/_cellucid/obs/n_genes", 404], ["/_cellucid/obs/%E0%A4%A", 404], ["/nope", 404]] as const) {
        const r = await request(v, path);
        assert.equal(r.status, status, path);
        assert.equal(typeof json(r).error, "string");
      }
      const wrong = await request(v, "/_cellucid/config", { method: "DELETE" });
      assert.equal(wrong.status, 405);
      assert.ok(!wrong.body.toString().includes("at "), "no stack traces");
    });
  } finally {
    await store.close();
  }
});

test("Host guard: foreign Host headers get 403 (DNS rebinding); localhost is fine; foreign Origin on POST is 403", async () => {
  await withViewer({}, async (v) => {
    const port = new URL(v.url).port;
    // No Host at all: Node's own HTTP/1.1 parser refuses it (400) before we see it.
    assert.equal((await request(v, "/_cellucid/config", { headers: { Host: "" } })).status, 400);
    for (const host of ["evil.example:" + port, "127.0.0.1:1", "localhost.evil.example:" + port, "127.0.0.1", `[::2]:${port}`]) {
      const r = await request(v, "/_cellucid/config", { headers: { Host: host } });
      assert.equal(r.status, 403, host);
      assert.deepEqual(json(r), { error: "Host not allowed", code: "HOST_NOT_ALLOWED" });
    }
    assert.equal((await request(v, "/_cellucid/config", { headers: { Host: `localhost:${port}` } })).status, 200);
    const ev = JSON.stringify({ viewerId: v.viewerId, type: "ready" });
    const foreign = await request(v, "/_cellucid/events", { method: "POST", body: ev, headers: { Origin: "http://evil.example", "Content-Type": "application/json" } });
    assert.equal(foreign.status, 403);
    const same = await request(v, "/_cellucid/events", { method: "POST", body: ev, headers: { Origin: new URL(v.url).origin, "Content-Type": "application/json" } });
    assert.equal(same.status, 204);
  });
});

test("static page: index and assets served with no-store; traversal, hidden names and symlinks are 404; missing build is 503", async () => {
  await withTempDir(async (dir) => {
    const web = join(dir, "web");
    await mkdir(join(web, "assets"), { recursive: true });
    await writeFile(join(web, "index.html"), "<!doctype html><title>viewer</title>");
    await writeFile(join(web, "assets", "main.js"), "console.log(1)");
    await writeFile(join(web, "assets", "style.css"), "body{}");
    await writeFile(join(web, "secret.txt"), "secret");
    await writeFile(join(dir, "package.json"), "{}");
    await symlink(join(web, "secret.txt"), join(web, "assets", "link.js"));
    await withViewer({ webDir: web }, async (v) => {
      for (const p of ["/", "/index.html"]) {
        const r = await request(v, p);
        assert.equal(r.status, 200);
        assert.match(String(r.headers["content-type"]), /^text\/html/);
        assert.equal(r.headers["cache-control"], "no-store");
      }
      const js = await request(v, "/assets/main.js");
      assert.equal(js.status, 200);
      assert.match(String(js.headers["content-type"]), /^text\/javascript/);
      assert.equal(js.headers["cache-control"], "no-store");
      assert.equal(js.body.toString(), "console.log(1)");
      assert.match(String((await request(v, "/assets/style.css")).headers["content-type"]), /^text\/css/);
      for (const p of ["/assets/../package.json", "/assets/%2e%2e%2fpackage.json", "/assets/..%2f..%2fpackage.json", "/assets/..%2fsecret.txt", "/assets/..", "/assets/.", "/assets/", "/assets/link.js", "/assets/nope.js", "/secret.txt", "/assets/main.js/x", "/assets/%00main.js"]) {
        const r = await request(v, p);
        assert.equal(r.status, 404, p);
        assert.ok(!r.body.toString().includes("secret"), p);
      }
    });
    await withViewer({ webDir: join(dir, "empty") }, async (v) => {
      const r = await request(v, "/");
      assert.equal(r.status, 503);
      assert.match(r.body.toString(), /viewer page not built: run npm run build/);
    });
  });
});

test("SSE: messages carry viewerId and the token; unknown viewerId is 404; loadSession and the initial session are downloadable", async () => {
  const file = await readFile(EXAMPLE);
  await withViewer({ session: EXAMPLE }, async (v) => {
    const cfg = json(await request(v, "/_cellucid/config"));
    assert.equal(cfg.dataset.hasSession, true);
    assert.equal((await request(v, "/_cellucid/messages?viewerId=nope")).status, 404);
    const initial = await request(v, `/_cellucid/session?viewerId=${v.viewerId}&requestId=initial`);
    assert.equal(initial.status, 200);
    assert.ok(initial.body.equals(file));
    assert.equal((await request(v, `/_cellucid/session?viewerId=${v.viewerId}&requestId=nope`)).status, 404);
    assert.equal((await request(v, `/_cellucid/session?viewerId=nope&requestId=initial`)).status, 404);

    const page = await connectPage(v);
    try {
      assert.equal(page.status, 200);
      assert.match(String(page.headers["content-type"]), /^text\/event-stream/);
      const loaded = v.loadSession(new Uint8Array(file));
      const msg = await page.next();
      assert.deepEqual(Object.keys(msg).sort(), ["requestId", "type", "viewerId", "viewerToken"]);
      assert.equal(msg["type"], "loadSession");
      assert.equal(msg["viewerId"], v.viewerId);
      assert.equal(msg["viewerToken"], cfg.viewerToken);
      const got = await request(v, `/_cellucid/session?viewerId=${v.viewerId}&requestId=${msg["requestId"]}`);
      assert.ok(got.body.equals(file));
      await loaded; // resolves once the page has the bytes

      const capture = v.getSessionBundle({ timeoutMs: 5000 });
      const req = await page.next();
      assert.equal(req["type"], "requestSessionBundle");
      assert.equal(req["viewerToken"], cfg.viewerToken);
      const up = await request(v, `/_cellucid/session_bundle?viewerId=${v.viewerId}&requestId=${req["requestId"]}`, { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      assert.equal(up.status, 200);
      const b = await capture;
      assert.equal(b.manifest.chunks.length, 14);
      await b.close();
    } finally {
      page.close();
    }
    await assert.rejects(v.loadSession(new Uint8Array([1, 2, 3])), /invalid MAGIC header/);
    await assert.rejects(v.loadSession(EXAMPLE, { timeoutMs: 100 }), (e: unknown) => e instanceof ViewerError && e.code === "NOT_CONNECTED");
  });
});

test("events: listeners get what the page posts; bad viewerId 404, oversized 413, bad JSON 400; waitForReady", async () => {
  await withViewer({}, async (v) => {
    const post = (body: string) => request(v, "/_cellucid/events", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    // Nobody connected at all: NOT_CONNECTED (a connected page that never gets ready: TIMEOUT).
    await assert.rejects(v.waitForReady({ timeoutMs: 50 }), (e: unknown) => e instanceof ViewerError && e.code === "NOT_CONNECTED");
    const seen: unknown[] = [];
    const off = v.on("selection", (e) => seen.push(e.count));
    const ready = v.waitForReady({ timeoutMs: 5000 });
    assert.equal((await post(JSON.stringify({ viewerId: v.viewerId, type: "ready" }))).status, 204);
    await ready;
    await v.waitForReady({ timeoutMs: 1 }); // already ready
    assert.equal((await post(JSON.stringify({ viewerId: v.viewerId, type: "selection", count: 42 }))).status, 204);
    off();
    await post(JSON.stringify({ viewerId: v.viewerId, type: "selection", count: 7 }));
    assert.deepEqual(seen, [42]);
    const highlights: unknown[] = [];
    v.on("highlights", (e) => highlights.push(e.pages));
    const pages = [{ id: "p", name: "P", groups: [{ id: "g", label: "G", count: 3 }] }];
    await post(JSON.stringify({ viewerId: v.viewerId, type: "highlights", pages }));
    assert.deepEqual(highlights, [pages]);

    // A throwing listener is reported as a process warning, not as a failed request.
    const warned = new Promise((resolve) => process.once("warning", resolve));
    v.on("boom", () => {
      throw new Error("listener bug");
    });
    assert.equal((await post(JSON.stringify({ viewerId: v.viewerId, type: "boom" }))).status, 204);
    assert.match(String(await warned), /listener bug/);

    const unknown = await post(JSON.stringify({ viewerId: "nope", type: "ready" }));
    assert.equal(unknown.status, 404);
    assert.equal(typeof json(unknown).error, "string");
    const big = await post(JSON.stringify({ viewerId: v.viewerId, type: "error", message: "x".repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal((await post("{not json")).status, 400);
    assert.equal((await post(JSON.stringify({ viewerId: v.viewerId }))).status, 400);
    assert.equal((await request(v, "/_cellucid/events")).status, 405);
  });
});

test("close() rejects pending waits with CLOSED and frees the port", async () => {
  const v = await startViewer(DATA);
  const ready = v.waitForReady({ timeoutMs: 60_000 });
  const capture = v.getSessionBundle({ timeoutMs: 60_000 });
  await v.close();
  await v.close(); // idempotent
  const closed = (e: unknown) => e instanceof ViewerError && e.code === "CLOSED";
  for (const p of [ready, capture, v.getSessionBundle(), v.waitForReady(), v.loadSession(EXAMPLE)]) await assert.rejects(p, closed);
  await assert.rejects(request(v, "/_cellucid/config"));
});
