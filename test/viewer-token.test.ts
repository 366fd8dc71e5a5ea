/**
 * The access token in real Chromium: the page takes it from its URL, clears
 * it from the address bar, sends it on every request and survives a reload;
 * without it (or with a wrong one) the page says what to do and gets nothing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Browser, Request } from "playwright-core";
import { startViewer, type Viewer } from "../src/node/index.js";
import { launchChromium } from "./viewer-browser.js";

const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));

describe("access token in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;

  before(async () => {
    viewer = await startViewer(DATASET, { autosaveDir: false });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await viewer?.close().catch(() => undefined);
  });

  test("the page sends the token on every request, clears it from the address bar, and a reload still works", async () => {
    const requests: Request[] = [];
    const p = await browser.newPage();
    p.setDefaultTimeout(20_000);
    const errors: string[] = [];
    p.on("pageerror", (e) => errors.push(e.message));
    p.on("request", (r) => {
      if (new URL(r.url()).pathname.startsWith("/_cellucid/")) requests.push(r);
    });
    try {
      await p.goto(viewer.url);
      await p.waitForFunction(() => window.cellucidViewer?.ready === true);
      assert.equal(new URL(p.url()).searchParams.get("token"), null, "the token left the address bar");
      assert.equal(await p.evaluate(() => sessionStorage.getItem("cellucid-viewer-token")), viewer.token);
      // A capture goes through the page's authenticated upload.
      const b = await viewer.getSessionBundle({ timeoutMs: 20_000 });
      assert.equal(b.datasetFingerprint?.cellCount, 2638);
      await b.close();

      await p.reload();
      await p.waitForFunction(() => window.cellucidViewer?.ready === true);
      assert.equal(new URL(p.url()).searchParams.get("token"), null);
      const paths = new Set(requests.map((r) => new URL(r.url()).pathname));
      for (const path of ["/_cellucid/config", "/_cellucid/obsm/X_umap", "/_cellucid/messages", "/_cellucid/events", "/_cellucid/session_bundle"]) assert.ok(paths.has(path), path);
      for (const r of requests) {
        const path = new URL(r.url()).pathname;
        if (path === "/_cellucid/messages") assert.equal(new URL(r.url()).searchParams.get("token"), viewer.token, path);
        else assert.equal((await r.allHeaders())["authorization"], `Bearer ${viewer.token}`, path);
      }
      assert.deepEqual(errors, []);
    } finally {
      await p.close();
    }
  });

  test("without the token, or with a wrong one, the page gets nothing and says how to open it", async () => {
    for (const url of [new URL(viewer.url).origin + "/", new URL(viewer.url).origin + "/?token=wrong-token-0123456789"]) {
      const context = await browser.newContext(); // fresh sessionStorage
      const page = await context.newPage();
      const answered: number[] = [];
      page.on("response", (r) => {
        if (new URL(r.url()).pathname.startsWith("/_cellucid/")) answered.push(r.status());
      });
      try {
        await page.goto(url);
        await page.waitForFunction(() => /access token/.test(document.getElementById("status")?.textContent ?? ""));
        const status = await page.locator("#status").textContent();
        assert.match(status ?? "", url.includes("?token=") ? /HTTP 401 \(Missing or wrong access token/ : /needs its access token.*\?token=/);
        assert.ok(answered.every((s) => s === 401), `answers: ${answered.join(", ")}`);
        assert.equal(await page.evaluate(() => window.cellucidViewer?.ready ?? false), false);
      } finally {
        await context.close();
      }
    }
  });
});
