/**
 * The viewer's access token, over real HTTP on 127.0.0.1: every route but the
 * page shell refuses requests without it or with a wrong one, a forged upload
 * never reaches getSessionBundle(), and error answers carry no server path.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CellucidSessionBundle, startViewer, type Viewer } from "../src/node/index.js";
import { ROUTES } from "../src/server/routes.js";
import { EXAMPLE, ROOT, jsonChunk, rawBundle, withTempDir } from "./helpers.js";
import { python } from "./python.js";
import { type Reply, type RequestOptions, connectPage, json, request } from "./server-client.js";

const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");

/** A concrete request target for each protected route (prefix routes get an entry that exists). */
function targetOf(v: Viewer, path: string): string {
  if (path === "/_cellucid/obsm/") return "/_cellucid/obsm/X_umap";
  if (path === "/_cellucid/obs/") return "/_cellucid/obs/cell_type";
  if (path === "/_cellucid/obs_values/") return "/_cellucid/obs_values/n_genes";
  if (path === "/_cellucid/obs_names") return "/_cellucid/obs_names?cells=0";
  if (path === "/_cellucid/x/") return "/_cellucid/x/0";
  if (path === "/_cellucid/session" || path === "/_cellucid/messages") return `${path}?viewerId=${v.viewerId}&requestId=initial`;
  if (path === "/_cellucid/session_bundle") return `${path}?viewerId=${v.viewerId}&requestId=nope`;
  return path;
}

function bodyOf(method: string, path: string): string | undefined {
  if (method !== "POST") return undefined;
  return path === "/_cellucid/events" ? JSON.stringify({ type: "ready" }) : "CELLUCID-SESSION";
}

function assertRefused(r: Reply, v: Viewer, what: string): void {
  assert.equal(r.status, 401, what);
  if (!what.startsWith("HEAD")) assert.equal(json(r).code, "UNAUTHORIZED", what);
  assert.match(String(r.headers["www-authenticate"]), /^Bearer/, what);
  const text = r.body.toString();
  for (const secret of [v.viewerId, v.token, "pbmc", "2638"]) assert.ok(!text.includes(secret), `${what} leaks ${secret}`);
  assert.equal(r.headers["x-cellucid-shape"], undefined, what);
}

test("every route but the page shell refuses a missing or wrong token (401), and answers with the right one", async () => {
  const v = await startViewer(DATA, { session: EXAMPLE });
  try {
    const wrongSameLength = v.token.slice(0, -1) + (v.token.endsWith("A") ? "B" : "A");
    const protectedRoutes = ROUTES.filter((r) => !r.open);
    assert.deepEqual(ROUTES.filter((r) => r.open).map((r) => r.path), ["/", "/index.html", "/assets/"]);
    assert.ok(protectedRoutes.length >= 7);
    for (const route of protectedRoutes) {
      for (const method of route.methods) {
        const path = targetOf(v, route.path);
        const body = bodyOf(method, route.path);
        const headers = { "Content-Type": "application/octet-stream" };
        const tries: { what: string; target?: string; opts: RequestOptions }[] = [
          { what: "no token", opts: { token: null } },
          { what: "wrong token, same length", opts: { token: wrongSameLength } },
          { what: "wrong token, other length", opts: { token: "x".repeat(16) } },
          { what: "the token as Basic credentials", opts: { token: null, headers: { Authorization: `Basic ${v.token}` } } },
          { what: "an empty Bearer", opts: { token: null, headers: { Authorization: "Bearer " } } },
        ];
        // Only the message stream takes ?token= (EventSource cannot send headers).
        const sep = path.includes("?") ? "&" : "?";
        if (route.path !== "/_cellucid/messages") tries.push({ what: "the right token as a query parameter", target: `${path}${sep}token=${v.token}`, opts: { token: null } });
        else tries.push({ what: "a wrong query token", target: `${path}${sep}token=${wrongSameLength}`, opts: { token: null } });
        for (const { what, target, opts } of tries) {
          const r = await request(v, target ?? path, { method, body, ...opts, headers: { ...headers, ...opts.headers } });
          assertRefused(r, v, `${method} ${route.path}: ${what}`);
        }
        if (route.path === "/_cellucid/messages") continue; // a stream: checked below
        const ok = await request(v, path, { method, body, headers });
        assert.notEqual(ok.status, 401, `${method} ${route.path} with the token`);
        assert.ok(ok.status < 500, `${method} ${route.path} with the token: ${ok.status}`);
      }
    }
    // The stream with the token, as a header and (as EventSource sends it) as ?token=.
    for (const queryToken of [false, true]) {
      const page = await connectPage(v, { queryToken });
      assert.equal(page.status, 200);
      page.close();
    }
    // The page shell loads without the token but holds nothing of the dataset or the viewer.
    const shell = await request(v, "/", { token: null });
    assert.equal(shell.status, 200);
    for (const secret of [v.viewerId, v.token, "pbmc"]) assert.ok(!shell.body.toString().includes(secret));
    assert.equal((await request(v, "/assets/main.js", { token: null })).status, 200);
  } finally {
    await v.close();
  }
});

test("a forged upload without the token is refused, does not use up the request, and getSessionBundle() returns the page's bundle", async () => {
  const real = await readFile(EXAMPLE);
  const forged = rawBundle([jsonChunk("forged/chunk", { evil: true })]);
  await withTempDir(async (tempDir) => {
    const v = await startViewer(DATA, { tempDir });
    try {
      // Without the token nobody hears the program's requests.
      const eavesdropper = await connectPage(v, { token: null });
      assert.equal(eavesdropper.status, 401);
      eavesdropper.close();

      const page = await connectPage(v);
      const captured = v.getSessionBundle({ timeoutMs: 10_000 });
      const msg = await page.next();
      assert.equal(msg["type"], "requestSessionBundle");
      // The attacker is granted the ids (the strongest position short of the token).
      const path = `/_cellucid/session_bundle?viewerId=${v.viewerId}&requestId=${msg["requestId"]}`;
      const headers = { "Content-Type": "application/octet-stream" };
      for (const token of [null, "forged-token-0123456789", v.token.slice(1)]) {
        const r = await request(v, path, { method: "POST", body: forged, headers, token });
        assertRefused(r, v, `forged upload with token ${token}`);
      }
      assert.equal((await request(v, `${path}&token=${v.token}`, { method: "POST", body: forged, headers, token: null })).status, 401);
      assert.deepEqual(await readdir(tempDir), [], "a refused upload writes nothing");

      const up = await request(v, path, { method: "POST", body: real, headers });
      assert.equal(up.status, 200);
      const b = await captured;
      try {
        assert.ok(!b.hasChunk("forged/chunk"));
        assert.equal(b.byteLength, real.length);
        assert.deepEqual(b.listChunkIds(), (await CellucidSessionBundle.fromBytes(real)).listChunkIds());
      } finally {
        await b.close();
      }
      page.close();
    } finally {
      await v.close();
    }
  });
});

test("a fixed token (startViewer's `token` option) is used as given; a malformed one is refused up front", async () => {
  const token = "embedding-program-token-42";
  const v = await startViewer(DATA, { token });
  try {
    assert.equal(v.token, token);
    assert.equal(new URL(v.url).searchParams.get("token"), token);
    assert.equal((await request(v, "/_cellucid/config")).status, 200);
    assert.equal((await request(v, "/_cellucid/config", { token: "embedding-program-token-43" })).status, 401);
  } finally {
    await v.close();
  }
  for (const bad of ["short", "has space in it 0123", "x".repeat(513), "semicolon;0123456789"])
    await assert.rejects(startViewer(DATA, { token: bad }), /token must be 16 to 512 characters/);
  // Two viewers never share a generated token.
  const [a, b] = [await startViewer(DATA), await startViewer(DATA)];
  try {
    assert.notEqual(a.token, b.token);
    assert.match(a.token, /^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    assert.equal((await request(a, "/_cellucid/config", { token: b.token })).status, 401);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("error answers name no server path: an unreadable embedding is DATA_READ_ERROR, the details go to the log", async () => {
  await withTempDir(async (dir) => {
    const zarr = join(dir, "leak.zarr");
    await python("import anndata, sys; anndata.read_h5ad(sys.argv[1]).write_zarr(sys.argv[2]); print('{}')", DATA, zarr);
    const chunks = (await readdir(join(zarr, "obsm", "X_umap"))).filter((f) => !f.startsWith("."));
    assert.ok(chunks.length > 0);
    for (const c of chunks) await writeFile(join(zarr, "obsm", "X_umap", c), "this is not a compressed chunk");
    const log: string[] = [];
    const v = await startViewer(zarr, { log: (line) => log.push(line) });
    try {
      const r = await request(v, "/_cellucid/obsm/X_umap");
      assert.equal(r.status, 500);
      assert.deepEqual(json(r), { error: "Could not read the dataset", code: "DATA_READ_ERROR" });
      assert.ok(!r.body.toString().includes(dir));
      assert.equal(log.length, 1);
      assert.match(log[0]!, /X_umap/);
      assert.ok(log[0]!.includes(dir), "the log names the file");
      // The rest of the dataset still answers.
      assert.equal((await request(v, "/_cellucid/obsm/X_pca")).status, 200);
      // Every other error answer is {error, code} without a path either.
      for (const [path, method] of [["/_cellucid/obsm/nope", "GET"], ["/_cellucid/obs/nope", "GET"], ["/nope", "GET"], ["/_cellucid/config", "DELETE"], ["/_cellucid/events", "POST"]] as const) {
        const e = await request(v, path, { method, body: method === "POST" ? "{not json" : undefined });
        assert.ok(e.status >= 400, path);
        const body = json(e);
        assert.deepEqual(Object.keys(body).sort(), ["code", "error"], path);
        assert.ok(!e.body.toString().includes(dir) && !/\/(tmp|work|home)\//.test(e.body.toString()), path);
      }
    } finally {
      await v.close();
    }
  });
});
