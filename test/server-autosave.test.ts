/**
 * The autosave endpoints on the real server: token required, body bounded,
 * only a readable bundle replaces the old autosave (which is never left
 * half-written), the identity key separates datasets, start fresh sets the
 * autosave aside, a --session viewer sets the old one aside before its first
 * autosave, and the XDG default folder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { startViewer } from "../src/node/index.js";
import { defaultAutosaveDir } from "../src/server/autosave.js";
import { EXAMPLE, ROOT, rawBundle, withTempDir } from "./helpers.js";
import { json, request } from "./server-client.js";

const DATA = join(ROOT, "examples", "pbmc-demo.h5ad");
const OCTETS = { "Content-Type": "application/octet-stream" };

test("autosave: token required, bounded, only a bundle replaces it, atomic; config reports it; discard sets it aside", async () => {
  const file = await readFile(EXAMPLE);
  await withTempDir(async (dir) => {
    const v = await startViewer(DATA, { autosaveDir: dir, maxUploadBytes: file.length + 10 });
    try {
      assert.equal(json(await request(v, "/_cellucid/config")).autosave.saved, null);
      assert.equal((await request(v, "/_cellucid/autosave")).status, 404);
      assert.equal((await request(v, "/_cellucid/autosave", { method: "POST", body: file, headers: OCTETS, token: null })).status, 401);
      const ok = await request(v, "/_cellucid/autosave", { method: "POST", body: file, headers: OCTETS });
      assert.equal(ok.status, 200);
      assert.equal(json(ok).bytes, file.length);
      assert.deepEqual(await readdir(dir), [v.autosavePath!.split("/").pop()]);
      assert.ok((await request(v, "/_cellucid/autosave")).body.equals(file));
      assert.equal(json(await request(v, "/_cellucid/config")).autosave.saved.bytes, file.length);

      // Refused bodies leave the last good autosave in place and no temp file behind.
      const tooBig = await request(v, "/_cellucid/autosave", { method: "POST", body: Buffer.concat([file, Buffer.alloc(100)]), headers: OCTETS });
      assert.equal(tooBig.status, 413);
      assert.equal((await request(v, "/_cellucid/autosave", { method: "POST", body: "not a bundle at all", headers: OCTETS })).status, 400);
      const truncated = rawBundle([]).subarray(0, 20);
      assert.equal((await request(v, "/_cellucid/autosave", { method: "POST", body: truncated, headers: OCTETS })).status, 400);
      assert.ok((await readFile(v.autosavePath!)).equals(file));
      assert.deepEqual(await readdir(dir), [v.autosavePath!.split("/").pop()]);

      assert.equal((await request(v, "/_cellucid/autosave/discard", { method: "POST" })).status, 204);
      assert.equal((await request(v, "/_cellucid/autosave")).status, 404);
      assert.ok((await readFile(v.autosavePath!.replace(/\.cellucid-session$/, ".previous.cellucid-session"))).equals(file));
      assert.equal((await request(v, "/_cellucid/autosave", { method: "POST", body: file, headers: OCTETS })).status, 200);
    } finally {
      await v.close();
    }

    // The same data again finds the same file; a --session viewer sets it aside before writing its own.
    const again = await startViewer(DATA, { autosaveDir: dir, session: EXAMPLE });
    try {
      assert.equal(again.autosavePath, v.autosavePath);
      const other = rawBundle([]);
      assert.equal((await request(again, "/_cellucid/autosave", { method: "POST", body: other, headers: OCTETS })).status, 200);
      assert.ok((await readFile(again.autosavePath!)).equals(other));
      assert.ok((await readFile(again.autosavePath!.replace(/\.cellucid-session$/, ".previous.cellucid-session"))).equals(file), "the autosave the --session bundle won over is kept");
    } finally {
      await again.close();
    }
    const off = await startViewer(DATA, { autosaveDir: false });
    try {
      assert.equal(off.autosavePath, null);
      assert.deepEqual(json(await request(off, "/_cellucid/config")).autosave, { enabled: false, saved: null });
      assert.equal((await request(off, "/_cellucid/autosave", { method: "POST", body: file, headers: OCTETS })).status, 404);
    } finally {
      await off.close();
    }
  });
});

test("the default autosave folder follows XDG_STATE_HOME, else ~/.local/state", () => {
  assert.equal(defaultAutosaveDir({ XDG_STATE_HOME: "/x/state" }), "/x/state/cellucid-session");
  assert.match(defaultAutosaveDir({}), /\/\.local\/state\/cellucid-session$/);
  assert.match(defaultAutosaveDir({ XDG_STATE_HOME: "relative/ignored" }), /\/\.local\/state\/cellucid-session$/, "a relative XDG_STATE_HOME is ignored, as the spec says");
});
