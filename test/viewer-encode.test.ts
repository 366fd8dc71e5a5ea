/**
 * The session worker, in real Chromium against the real server: Save State
 * and captures (autosaves too: viewer-work.test.ts) are encoded off the
 * page's thread (the page keeps drawing frames meanwhile), and a bundle
 * after one change encodes only that change, reusing the other groups' and
 * the field's chunks, while still holding every group and field and passing
 * the web app's checks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { CellucidSessionBundle, MemoryAnnData, startViewer, validateBundle, type Viewer } from "../src/node/index.js";
import { drawLasso, launchChromium, openViewerPage, starPolygon } from "./viewer-browser.js";

const N = 1_000_000;

/** Two overlapping blobs of cells, deterministic. */
function dataset(): MemoryAnnData {
  const umap = new Float32Array(N * 2);
  let s = 12345;
  const random = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < N; i++) {
    const r = Math.sqrt(random()) * 10, a = random() * 2 * Math.PI;
    umap[2 * i] = r * Math.cos(a) + (i % 2 ? 3 : -3);
    umap[2 * i + 1] = r * Math.sin(a);
  }
  return new MemoryAnnData({
    name: "generated-1m.h5ad",
    obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`), columns: { half: { kind: "categorical", codes: Int8Array.from({ length: N }, (_, i) => i % 2), categories: ["a", "b"], ordered: false } } },
    var: { index: ["G0"] },
    X: { shape: [N, 1], data: new Float32Array(N) },
    obsm: { X_umap: { shape: [N, 2], data: umap } },
  });
}

const stats = (page: Page) => page.evaluate(() => window.cellucidViewer!.lastEncode);

/** A lasso at fraction `fx` across the plot: each makes a group of some hundred thousand cells. */
async function lasso(page: Page, fx: number): Promise<void> {
  const box = (await page.locator("#overlay").boundingBox())!;
  await drawLasso(page, starPolygon(Math.round(box.x + box.width * fx), Math.round(box.y + box.height / 2), Math.round(box.height * 0.3), 12));
  await page.evaluate(() => window.cellucidViewer!.settled());
}

/** The groups and fields a bundle holds, to compare with what the page has. */
async function contents(bundle: CellucidSessionBundle) {
  const pages = await bundle.highlightPages({ nObs: N });
  const fields = [];
  for (const f of await bundle.userDefinedFields()) fields.push({ key: f.key, codes: Array.from((await bundle.readUserDefinedCodes(f, { expectedLength: N })).codes, (c) => (c === 255 || c === -1 ? -1 : c)) });
  return { groups: pages.flatMap((p) => p.groups.map((g) => ({ label: g.label, cells: Array.from(g.cells) }))), fields };
}

async function pageContents(page: Page) {
  const { groups, fields } = await page.evaluate(() => ({
    groups: window.cellucidViewer!.pages.flatMap((p) => p.groups.map((g) => ({ label: g.label, cells: Array.from(g.cells) }))),
    fields: window.cellucidViewer!.fields.map((f) => ({ key: f.key, codes: Array.from(f.codes) })),
  }));
  return { groups, fields: fields.map((f) => ({ key: f.key, codes: f.codes.map((c) => (c === 255 ? -1 : c)) })) };
}

describe("session worker: off the page's thread, incremental", { timeout: 300_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    // No autosave here: it would encode in the same worker at moments of its own, and the counts below are per bundle
    // (viewer-work.test.ts covers autosaves, which take the same path).
    viewer = await startViewer(dataset(), { datasetId: "generated-1m", autosaveDir: false });
    page = await openViewerPage(browser, viewer.url, errors);
    page.setDefaultTimeout(60_000);
    await page.click('[data-testid="tool-lasso"]');
    for (const fx of [0.35, 0.5, 0.65]) await lasso(page, fx);
    await page.fill("#field-name", "cell type");
    await page.click("#field-create");
    await page.fill("#category-name", "T cells");
    await page.click("#category-add");
    await page.click("#assign-btn");
    await page.evaluate(() => window.cellucidViewer!.settled());
  });

  after(async () => {
    await page?.close().catch(() => undefined);
    await viewer?.close();
    await browser?.close().catch(() => undefined);
    assert.deepEqual(errors, []);
  });

  test("the page keeps drawing frames while the worker encodes a bundle of 3 large groups and a field", async () => {
    const { ticks, encoded } = await page.evaluate(async () => {
      let ticks = 0;
      let on = true;
      const tick = () => {
        ticks++;
        if (on) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const bytes = await window.cellucidViewer!.bundleBytes();
      on = false;
      return { ticks, encoded: bytes.length > 0 ? window.cellucidViewer!.lastEncode : null };
    });
    // The page's thread only posts the arrays; frames go on while the worker sorts, encodes and deflates.
    assert.ok(ticks >= 2, `requestAnimationFrame ran ${ticks} times during the encode`);
    assert.equal(encoded?.encoded, 4, "a first bundle encodes the 3 groups and the field");
  });

  test("a capture after one more group encodes only that group; it holds everything and the web app loads it", async () => {
    let captured = await viewer.getSessionBundle({ timeoutMs: 60_000 });
    assert.deepEqual({ ...(await stats(page)), encodeMs: 0 }, { encodeMs: 0, encoded: 0, reused: 4 }, "nothing changed: every chunk reused");
    await captured.close();

    await lasso(page, 0.45);
    captured = await viewer.getSessionBundle({ timeoutMs: 60_000 });
    assert.deepEqual({ ...(await stats(page)), encodeMs: 0 }, { encodeMs: 0, encoded: 1, reused: 4 }, "only the new group encoded");
    try {
      const held = await contents(captured);
      assert.equal(held.groups.length, 4);
      assert.deepEqual(held, await pageContents(page));
      assert.deepEqual((await validateBundle(captured, { target: "webapp" })).errors, []);
    } finally {
      await captured.close();
    }
  });

  test("Save State goes through the same worker and holds the same session", async () => {
    const download = page.waitForEvent("download");
    await page.click("#save-state");
    const saved = await CellucidSessionBundle.fromBytes(await readFile((await (await download).path())!));
    assert.deepEqual(await contents(saved), await pageContents(page));
    assert.deepEqual((await validateBundle(saved, { target: "webapp" })).errors, []);
    assert.equal((await stats(page))?.encoded, 0, "Save State after the capture: nothing to encode again");
  });
});
