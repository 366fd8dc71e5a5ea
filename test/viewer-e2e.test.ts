/**
 * The viewer page end to end in real headless Chromium against the real
 * server (startViewer) and the example dataset: lasso → highlight group →
 * label → Save State / capture → apply → exactly the cells inside the drawn
 * polygon; Load State round trip and fingerprint refusal; a screenshot that
 * shows points; server messages with a wrong token are ignored.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import {
  CellucidSessionBundle, MemoryAnnData, applyCellucidSessionToAnnData, applySessionToFile, createSessionWriter, openAnnData, startViewer, validateBundle,
  type Column, type Viewer,
} from "../src/node/index.js";
import { decodePng, drawLasso, insidePolygon, launchChromium, openViewerPage, starPolygon } from "./viewer-browser.js";

const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));

function boolTrue(c: Column): number[] {
  assert.equal(c.kind, "bool");
  const out: number[] = [];
  c.values.forEach((v, i) => v && out.push(i));
  return out;
}

/** The cell indices whose category is `name`, from a categorical column. */
function cellsWithCategory(c: Column, name: string): number[] {
  assert.equal(c.kind, "categorical");
  const code = c.categories.indexOf(name);
  assert.ok(code >= 0, `category ${name} in ${c.categories.join(", ")}`);
  const out: number[] = [];
  c.codes.forEach((v, i) => Number(v) === code && out.push(i));
  return out;
}

describe("viewer page in Chromium", { timeout: 180_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;
  let dir: string;
  let umap: { xs: Float32Array; ys: Float32Array };
  let obsNames: string[];
  let varNames: string[];
  const pageErrors: string[] = [];
  const viewerErrors: string[] = [];
  // Filled by the lasso test, used by the later ones.
  let page: Page;
  let expected: number[] = [];
  let savedPath = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cellucid-viewer-e2e-"));
    const store = await openAnnData(DATASET);
    try {
      const m = await store.readObsm!("X_umap");
      const n = m.shape[0];
      umap = { xs: new Float32Array(n), ys: new Float32Array(n) };
      for (let i = 0; i < n; i++) {
        umap.xs[i] = m.data[i * m.shape[1]]!;
        umap.ys[i] = m.data[i * m.shape[1] + 1]!;
      }
      obsNames = await store.readIndex("obs");
      varNames = await store.readIndex("var");
    } finally {
      await store.close();
    }
    viewer = await startViewer(DATASET, { autosaveDir: false });
    viewer.on("error", (e) => viewerErrors.push(String(e.message)));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await viewer?.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("draws the UMAP and reports ready", async () => {
    page = await openViewerPage(browser, viewer.url, pageErrors);
    await viewer.waitForReady({ timeoutMs: 10_000 });
    assert.equal(await page.locator("#embedding-select").inputValue(), "X_umap");
    const info = await page.evaluate(() => ({ n: window.cellucidViewer!.embedding.xs.length, frame: window.cellucidViewer!.lastFrameMs }));
    assert.equal(info.n, obsNames.length);
    assert.ok(info.frame >= 0);
  });

  test("screenshot of the plot shows coloured points", async () => {
    const { width, height, pixels } = decodePng(await page.locator("#points").screenshot());
    let drawn = 0;
    const colours = new Map<number, number>();
    for (let i = 0; i < width * height; i++) {
      const r = pixels[i * 4]!, g = pixels[i * 4 + 1]!, b = pixels[i * 4 + 2]!;
      if (r === 255 && g === 255 && b === 255) continue;
      drawn++;
      const key = (r << 16) | (g << 8) | b;
      colours.set(key, (colours.get(key) ?? 0) + 1);
    }
    assert.ok(drawn > 5000, `only ${drawn} non-background pixels`);
    const common = [...colours.values()].filter((c) => c > 200).length;
    assert.ok(common >= 6, `expected several distinct category colours, got ${common}`);
  });

  test("lasso selects exactly the cells inside the polygon and makes a group", async () => {
    await page.click("#tool-lasso");
    const box = (await page.locator("#points").boundingBox())!;
    const poly = starPolygon(box.x + box.width / 2, box.y + box.height / 2, Math.min(box.width, box.height) * 0.33);
    await drawLasso(page, poly);
    await page.evaluate(() => window.cellucidViewer!.settled());
    const dataPoly = await page.evaluate((pts) => pts.map(([x, y]) => window.cellucidViewer!.screenToData(x, y)), poly);
    for (let i = 0; i < umap.xs.length; i++) if (insidePolygon(umap.xs[i]!, umap.ys[i]!, dataPoly)) expected.push(i);
    assert.ok(expected.length > 50 && expected.length < umap.xs.length, `polygon should cut the data (${expected.length} inside)`);

    const pages = await page.evaluate(() => window.cellucidViewer!.pages.map((p) => ({ ...p, groups: p.groups.map((g) => ({ ...g, cells: Array.from(g.cells) })) })));
    assert.equal(pages.length, 1);
    assert.equal(pages[0]!.groups.length, 1);
    assert.deepEqual(pages[0]!.groups[0]!.cells, expected);
    assert.equal(pages[0]!.groups[0]!.type, "lasso");
    assert.equal(await page.locator("#selection-count").textContent(), expected.length.toLocaleString("en-US"));
    assert.equal(await page.locator('[data-testid="group-count"]').first().textContent(), expected.length.toLocaleString("en-US"));
  });

  test("labels the selection, saves and captures bundles that apply to exactly those cells", async () => {
    await page.fill("#field-name", "manual type");
    await page.click("#field-create");
    await page.fill("#category-name", "T cells");
    await page.click("#category-add");
    assert.equal(await page.locator("#assign-source").inputValue(), "selection");
    await page.click("#assign-btn");
    const tRow = page.locator('[data-testid="category-row"][data-category="T cells"] [data-testid="category-count"]');
    assert.equal(await tRow.textContent(), expected.length.toLocaleString("en-US"));

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save-state")]);
    assert.equal(download.suggestedFilename(), "pbmc3k-demo.cellucid-session");
    savedPath = join(dir, download.suggestedFilename());
    await download.saveAs(savedPath);

    // (a) the downloaded file, applied to a copy of the .h5ad through the HDF5 store.
    const saved = await CellucidSessionBundle.open(savedPath);
    const out = join(dir, "applied.h5ad");
    try {
      // Canonical: the web app's fingerprint, with the cell order of the X_umap shown (the app's 2D embedding).
      assert.deepEqual(saved.datasetFingerprint, { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: obsNames.length, varCount: varNames.length, cellOrder: { dimension: 2, digest: "70cf7744e6f6b23a" } });
      assert.equal((await validateBundle(saved, { target: "webapp" })).errors.length, 0);
      const summary = await applySessionToFile(saved, DATASET, { output: out, datasetMismatch: "error" });
      assert.equal(summary.cellOrder.status, "verified");
      assert.equal(summary.highlights.length, 1);
      assert.equal(summary.fields.length, 1);
      const applied = await openAnnData(out);
      try {
        assert.deepEqual(boolTrue(await applied.readColumn("obs", summary.highlights[0]!.column)), expected);
        const label = await applied.readColumn("obs", summary.fields[0]!.column!);
        assert.equal(summary.fields[0]!.column, "manual_type");
        assert.deepEqual(cellsWithCategory(label, "T cells"), expected);
        // No invented "unassigned" category: cells nobody labelled are missing.
        assert.ok(label.kind === "categorical");
        if (label.kind === "categorical") {
          assert.deepEqual(label.categories, ["T cells"]);
          assert.equal([...label.codes].filter((c) => Number(c) === -1).length, obsNames.length - expected.length);
        }
      } finally {
        await applied.close();
      }
    } finally {
      await saved.close();
    }

    // (b) the same state captured from the running page, applied in memory.
    const captured = await viewer.getSessionBundle({ timeoutMs: 20_000 });
    try {
      const adata = new MemoryAnnData({ obs: { index: obsNames }, var: { index: varNames } });
      const { adata: result, summary } = await applyCellucidSessionToAnnData(captured, adata, { returnSummary: true, datasetMismatch: "error" });
      assert.deepEqual(boolTrue(result.column("obs", summary.highlights[0]!.column)!), expected);
      assert.deepEqual(cellsWithCategory(result.column("obs", "manual_type")!, "T cells"), expected);
      const meta = await captured.highlightsMeta();
      assert.equal(meta?.pages[0]?.highlightedGroups[0]?.cellCount, expected.length);
    } finally {
      await captured.close();
    }
  });

  test("Load State restores the saved groups and labels in a fresh page", async () => {
    const before = await page.evaluate(() => window.cellucidViewer!.pages.map((p) => ({ id: p.id, name: p.name, groups: p.groups.map((g) => ({ id: g.id, label: g.label, count: g.count })) })));
    const fresh = await openViewerPage(browser, viewer.url, pageErrors);
    try {
      await fresh.setInputFiles("#load-state", savedPath);
      await fresh.waitForFunction(() => document.getElementById("status")!.textContent!.startsWith("Loaded"));
      const after = await fresh.evaluate(() => window.cellucidViewer!.pages.map((p) => ({ id: p.id, name: p.name, groups: p.groups.map((g) => ({ id: g.id, label: g.label, count: g.count })) })));
      assert.deepEqual(after, before);
      const fields = await fresh.evaluate(() => window.cellucidViewer!.fields.map((f) => ({ key: f.key, categories: f.categories, labelled: Array.from(f.codes).flatMap((c, i) => (c === 0 ? [i] : [])) })));
      assert.deepEqual(fields, [{ key: "manual type", categories: ["T cells"], labelled: expected }]);
      assert.equal(await fresh.locator('[data-testid="group-count"]').first().textContent(), expected.length.toLocaleString("en-US"));
    } finally {
      await fresh.close();
    }
  });

  test("Load State of a canonical save leaves the page's view alone: the web app refuses a control its page does not have, so none carries ours", async () => {
    await page.selectOption("#embedding-select", "X_pca");
    await page.waitForFunction(() => window.cellucidViewer!.embedding.key === "X_pca");
    await page.selectOption("#axis-y", "2");
    await page.locator("#rotate-yaw").evaluate((el: HTMLInputElement) => { el.value = "30"; el.dispatchEvent(new Event("input")); });
    await page.waitForFunction(() => window.cellucidViewer!.embedding.projection.yaw === 30);
    const labelField = await page.evaluate(() => window.cellucidViewer!.fields[0]!.id);
    await page.selectOption("#color-select", `field:${labelField}`);
    const box = (await page.locator("#points").boundingBox())!;
    await page.mouse.move(box.x + box.width / 3, box.y + box.height / 3);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(() => window.cellucidViewer!.view.colorBy !== null && window.cellucidViewer!.view.colorBy.startsWith("field:"));
    const view = await page.evaluate(() => window.cellucidViewer!.view);
    assert.deepEqual([view.embedding, view.axes, view.rotation], ["X_pca", [0, 2], { yaw: 30, pitch: 0 }]);
    const bytes = await page.evaluate(async () => Array.from(await window.cellucidViewer!.bundleBytes()));

    const fresh = await openViewerPage(browser, viewer.url, pageErrors);
    try {
      assert.equal(await fresh.evaluate(() => window.cellucidViewer!.view.embedding), "X_umap");
      await fresh.setInputFiles("#load-state", { name: "view.cellucid-session", mimeType: "application/octet-stream", buffer: Buffer.from(bytes) });
      await fresh.waitForFunction(() => document.getElementById("status")!.textContent!.startsWith("Loaded"));
      const restored = await fresh.evaluate(() => window.cellucidViewer!.view);
      assert.deepEqual([restored.embedding, restored.rotation], ["X_umap", { yaw: 0, pitch: 0 }]);
      assert.notDeepEqual(restored, view);
    } finally {
      await fresh.close();
    }
  });

  test("Load State refuses a bundle made for another dataset", async () => {
    const writer = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "pbmc-demo", cellCount: 999, varCount: varNames.length } });
    writer.addHighlightPage({ id: "p", name: "other", groups: [{ id: "g", cells: [1, 2, 3] }] });
    const bytes = await writer.toBytes();
    const groupsBefore = await page.evaluate(() => window.cellucidViewer!.pages.flatMap((p) => p.groups.map((g) => g.id)));
    await page.setInputFiles("#load-state", { name: "other.cellucid-session", mimeType: "application/octet-stream", buffer: Buffer.from(bytes) });
    // The page holds work: Load State asks before replacing it.
    assert.match((await page.locator('[data-testid="dialog"]').textContent())!, /^Load other\.cellucid-session\? It replaces what you have now/);
    await page.click('[data-testid="dialog-yes"]');
    await page.waitForFunction(() => document.getElementById("status")!.textContent!.includes("Dataset fingerprint mismatch"));
    assert.match((await page.locator("#status").textContent())!, /Dataset fingerprint mismatch: cellCount 999 != n_obs 2638/);
    assert.equal(await page.locator("#status").getAttribute("class"), "error");
    assert.deepEqual(await page.evaluate(() => window.cellucidViewer!.pages.flatMap((p) => p.groups.map((g) => g.id))), groupsBefore);
  });

  test("viewer.loadSession pushes a bundle the page restores", async () => {
    const fresh = await openViewerPage(browser, viewer.url, pageErrors);
    try {
      await viewer.loadSession(await readFile(savedPath), { timeoutMs: 20_000 });
      await fresh.waitForFunction(() => window.cellucidViewer!.pages.some((p) => p.groups.length > 0));
      const counts = await fresh.evaluate(() => window.cellucidViewer!.pages.flatMap((p) => p.groups.map((g) => g.count)));
      assert.deepEqual(counts, [expected.length]);
    } finally {
      await fresh.close();
    }
  });

  test("messages with a wrong viewerToken are ignored and reported", async () => {
    const fresh = await (await browser.newContext()).newPage();
    try {
      const config = (await (await fetch(new URL("/_cellucid/config", viewer.url), { headers: { Authorization: `Bearer ${viewer.token}` } })).json()) as { viewerId: string };
      // Stand in for the server's message stream with a forged request.
      await fresh.route("**/_cellucid/messages*", (route) =>
        route.fulfill({
          status: 200,
          headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-store" },
          body: `retry: 600000\ndata: ${JSON.stringify({ type: "requestSessionBundle", viewerId: config.viewerId, viewerToken: "forged", requestId: "x" })}\n\n`,
        }),
      );
      const errorsBefore = viewerErrors.length;
      let uploads = 0;
      fresh.on("request", (r) => {
        if (r.url().includes("/_cellucid/session_bundle")) uploads++;
      });
      await fresh.goto(viewer.url);
      await fresh.waitForFunction(() => window.cellucidViewer?.ready === true);
      const deadline = Date.now() + 10_000;
      while (viewerErrors.length === errorsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(viewerErrors.slice(errorsBefore).join("\n"), /viewerId\/viewerToken do not match/);
      assert.equal(uploads, 0);
    } finally {
      await fresh.context().close();
    }
  });

  test("no page errors along the way; the refused bundle was reported to the program", () => {
    assert.deepEqual(pageErrors, []);
    const unexpected = viewerErrors.filter((m) => !/viewerToken do not match|Dataset fingerprint mismatch/.test(m));
    assert.deepEqual(unexpected, []);
    assert.ok(viewerErrors.some((m) => m.includes("Dataset fingerprint mismatch")));
  });
});
