/**
 * The viewer's tools in real headless Chromium: a web-app bundle loaded at
 * start, rectangle selection, zoom and pan keeping selections exact, page and
 * group management, labelling a highlight group, 3D+ embeddings shown by two
 * chosen axes, colouring by a label field.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { CellucidSessionBundle, openAnnData, startViewer, validateBundle, type Viewer, type ViewerEventMap } from "../src/node/index.js";
import { drawLasso, insidePolygon, launchChromium, openViewerPage, starPolygon } from "./viewer-browser.js";
import { project } from "../web/src/projection.js";

const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));
const SESSION = fileURLToPath(new URL("../../examples/pbmc-demo.cellucid-session", import.meta.url));

type Pt = [number, number];

interface PageSummary {
  name: string;
  active: boolean;
  groups: { id: string; label: string; type: string; count: number }[];
}

function summary(page: Page): Promise<PageSummary[]> {
  return page.evaluate(() => window.cellucidViewer!.pages.map((p) => ({ name: p.name, active: p.active, groups: p.groups.map((g) => ({ id: g.id, label: g.label, type: g.type, count: g.count })) })));
}

function lastGroupCells(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const groups = window.cellucidViewer!.pages.find((p) => p.active)!.groups;
    return Array.from(groups[groups.length - 1]!.cells);
  });
}

describe("viewer tools in Chromium", { timeout: 180_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;
  let page: Page;
  let coords: { data: Float32Array; dims: number }[] = [];
  const errors: string[] = [];
  const highlightEvents: ViewerEventMap["highlights"][] = [];

  /** Cells of the shown embedding columns inside a page-pixel polygon, computed in Node. */
  async function expectedInside(poly: Pt[], which: number, axes: Pt = [0, 1]): Promise<number[]> {
    const dataPoly = await page.evaluate((pts) => pts.map(([x, y]) => window.cellucidViewer!.screenToData(x, y)), poly);
    const { data, dims } = coords[which]!;
    const out: number[] = [];
    for (let i = 0; i < data.length / dims; i++) if (insidePolygon(data[i * dims + axes[0]]!, data[i * dims + axes[1]]!, dataPoly)) out.push(i);
    return out;
  }

  async function plotBox(): Promise<{ x: number; y: number; width: number; height: number }> {
    return (await page.locator("#points").boundingBox())!;
  }

  before(async () => {
    const store = await openAnnData(DATASET);
    try {
      for (const key of ["X_umap", "X_pca"]) {
        const m = await store.readObsm!(key);
        coords.push({ data: Float32Array.from(m.data), dims: m.shape[1] });
      }
    } finally {
      await store.close();
    }
    // The dataset records uns["dataset_id"] = "pbmc3k-demo", the id the example bundle was written for.
    viewer = await startViewer(DATASET, { session: SESSION, autosaveDir: false });
    viewer.on("error", (e) => errors.push(`viewer error event: ${e.message}`));
    viewer.on("highlights", (e) => highlightEvents.push(e));
    browser = await launchChromium();
    page = await openViewerPage(browser, viewer.url, errors);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await viewer?.close().catch(() => undefined);
  });

  test("a bundle written by the web app is restored at start", async () => {
    const pages = await summary(page);
    assert.deepEqual(pages.map((p) => [p.name, p.active]), [["T cells", true], ["Myeloid", false]]);
    assert.deepEqual(pages.flatMap((p) => p.groups.map((g) => [g.label, g.count])), [
      ["CD4 T (lasso)", 441], ["CD8 T", 340], ["CD14+ Mono", 289], ["Dendritic", 167],
    ]);
    // Deleted fields are not shown.
    assert.deepEqual(await page.evaluate(() => window.cellucidViewer!.fields.map((f) => f.key)), ["cell type (manual)", "QC flag"]);
    assert.equal(await page.locator('[data-testid="group-row"]').count(), 2);
  });

  test("Load → capture loses nothing the page does not edit: deleted fields, the app's own state chunks; the capture is canonical", async () => {
    const captured = await viewer.getSessionBundle({ timeoutMs: 30_000 });
    const original = await CellucidSessionBundle.open(SESSION);
    try {
      for (const id of ["user-defined/codes/udf-old", "ui/dockable-layout", "analysis/windows", "cinematic/camera"]) {
        assert.ok(captured.hasChunk(id), `${id} kept`);
        assert.deepEqual(await captured.decodeChunk(id), await original.decodeChunk(id), `${id} unchanged`);
      }
      const fields = (await captured.userDefinedFields()).map((f) => [f.key, f.source, f.isDeleted === true]);
      assert.deepEqual(fields, [["cell type (manual)", "obs", false], ["QC flag", "obs", false], ["old labels", "obs", true]]);
      assert.deepEqual(captured.cellOrder, original.cellOrder);
      assert.deepEqual((await validateBundle(captured, { target: "webapp" })).errors, []);
    } finally {
      await original.close();
      await captured.close();
    }
  });

  test("rectangle selection adds a rectangle group with exactly the cells inside", async () => {
    await page.click("#tool-rect");
    const b = await plotBox();
    const a: Pt = [Math.round(b.x + b.width * 0.3), Math.round(b.y + b.height * 0.25)];
    const c: Pt = [Math.round(b.x + b.width * 0.6), Math.round(b.y + b.height * 0.7)];
    await drawLasso(page, [a, [c[0], a[1]], c]);
    await page.evaluate(() => window.cellucidViewer!.settled());
    const expected = await expectedInside([a, [c[0], a[1]], c, [a[0], c[1]]], 0);
    assert.ok(expected.length > 20);
    assert.deepEqual(await lastGroupCells(page), expected);
    const groups = (await summary(page))[0]!.groups;
    assert.equal(groups[groups.length - 1]!.type, "rectangle");
  });

  test("after zooming and panning, a lasso still selects exactly what is drawn", async () => {
    const b = await plotBox();
    const before = await page.evaluate(([x, y]) => window.cellucidViewer!.screenToData(x, y), [b.x + 400, b.y + 300] as Pt);
    await page.mouse.move(b.x + 400, b.y + 300);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(([x, y, bx, by]) => {
      const [dx, dy] = window.cellucidViewer!.screenToData(x!, y!);
      return Math.abs(dx - bx!) < 1e-9 && Math.abs(dy - by!) < 1e-9 && window.cellucidViewer!.dataToScreen(dx, dy)[0] === x;
    }, [b.x + 400, b.y + 300, before[0], before[1]]);
    await page.click("#tool-pan");
    const probe = await page.evaluate(([x, y]) => window.cellucidViewer!.screenToData(x, y), [b.x + 300, b.y + 300] as Pt);
    await drawLasso(page, [[b.x + 300, b.y + 300], [b.x + 360, b.y + 260]]);
    const moved = await page.evaluate(([x, y]) => window.cellucidViewer!.dataToScreen(x, y), probe);
    assert.ok(Math.abs(moved[0] - (b.x + 360)) < 1e-6 && Math.abs(moved[1] - (b.y + 260)) < 1e-6, `pan moved the data with the mouse (${moved})`);

    await page.click("#tool-lasso");
    const poly = starPolygon(b.x + b.width / 2, b.y + b.height / 2, 180, 7);
    await drawLasso(page, poly);
    await page.evaluate(() => window.cellucidViewer!.settled());
    const expected = await expectedInside(poly, 0);
    assert.ok(expected.length > 0);
    assert.deepEqual(await lastGroupCells(page), expected);
    await page.click("#fit-view");
  });

  test("groups and pages: rename, delete, new page receives new selections", async () => {
    const row = page.locator('[data-testid="group-row"]').first();
    await row.locator('[data-testid="group-label"]').fill("CD4 renamed");
    await row.locator('[data-testid="group-label"]').press("Tab");
    assert.equal((await summary(page))[0]!.groups[0]!.label, "CD4 renamed");
    const deadline = Date.now() + 5000;
    while (!highlightEvents.some((e) => e.pages[0]?.groups[0]?.label === "CD4 renamed") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    assert.ok(highlightEvents.some((e) => e.pages[0]?.groups[0]?.label === "CD4 renamed"), "the program got a highlights event with the new label");

    const countBefore = (await summary(page))[0]!.groups.length;
    await page.locator('[data-testid="group-row"]').nth(2).locator('[data-testid="group-delete"]').click();
    // Deleting asks first, in the page's own dialog.
    assert.match((await page.locator('[data-testid="dialog"]').textContent())!, /^Delete group '.+' \([\d,]+ cells\)\? Undo/);
    await page.click('[data-testid="dialog-yes"]');
    const afterDelete = (await summary(page))[0]!.groups;
    assert.equal(afterDelete.length, countBefore - 1);
    assert.ok(!afterDelete.some((g) => g.label === "Draft (empty)"));

    await page.fill("#page-name", "Mine");
    await page.click("#page-add");
    assert.equal(await page.locator('[data-testid="group-row"]').count(), 0);
    await page.click("#tool-rect");
    const b = await plotBox();
    await drawLasso(page, [[b.x + 200, b.y + 150], [b.x + 700, b.y + 650]]);
    await page.evaluate(() => window.cellucidViewer!.settled());
    let pages = await summary(page);
    assert.deepEqual(pages.map((p) => [p.name, p.active, p.groups.length]), [["T cells", false, countBefore - 1], ["Myeloid", false, 2], ["Mine", true, 1]]);

    await page.fill("#page-name", "Mine, renamed");
    await page.click("#page-rename");
    assert.equal((await summary(page))[2]!.name, "Mine, renamed");
    await page.click("#page-delete");
    await page.click('[data-testid="dialog-yes"]');
    pages = await summary(page);
    assert.deepEqual(pages.map((p) => p.name), ["T cells", "Myeloid"]);
    assert.equal(pages.filter((p) => p.active).length, 1);
  });

  test("a highlight group can be labelled, and colouring by the label field shows it", async () => {
    const pages = await summary(page);
    const mono = pages[1]!.groups.find((g) => g.label === "CD14+ Mono")!;
    await page.fill("#field-name", "myeloid calls");
    await page.click("#field-create");
    await page.fill("#category-name", "mono");
    await page.click("#category-add");
    await page.selectOption("#assign-source", mono.id);
    await page.click("#assign-btn");
    const field = await page.evaluate(() => {
      const f = window.cellucidViewer!.fields.find((x) => x.key === "myeloid calls")!;
      return { categories: f.categories, mono: Array.from(f.codes).flatMap((c, i) => (c === 0 ? [i] : [])) };
    });
    const monoCells = await page.evaluate((id) => Array.from(window.cellucidViewer!.pages.flatMap((p) => p.groups).find((g) => g.id === id)!.cells), mono.id);
    assert.deepEqual(field.categories, ["mono"]);
    assert.deepEqual(field.mono, monoCells);

    const fieldId = await page.locator("#field-select").inputValue();
    await page.selectOption("#color-select", `field:${fieldId}`);
    // Unlabelled cells are missing: their own legend row, no invented category.
    const rows = page.locator('[data-testid="legend-row"]');
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.category)), ["mono", "(missing)"]);
    const counts = await page.locator('[data-testid="legend-count"]').allTextContents();
    assert.deepEqual(counts.map((c) => Number(c.replace(/,/g, ""))), [monoCells.length, 2638 - monoCells.length]);
  });

  test("a 10-dimensional embedding is shown by two chosen axes, and lassos select on them", async () => {
    await page.selectOption("#embedding-select", "X_pca");
    await page.waitForFunction(() => window.cellucidViewer!.embedding.key === "X_pca");
    assert.equal(await page.locator("#axes-row").isVisible(), true);
    await page.selectOption("#axis-x", "2");
    await page.selectOption("#axis-y", "3");
    const shown = await page.evaluate(() => ({ axes: window.cellucidViewer!.embedding.axes, x: Array.from(window.cellucidViewer!.embedding.xs.slice(0, 5)), y: Array.from(window.cellucidViewer!.embedding.ys.slice(0, 5)) }));
    const pca = coords[1]!;
    assert.deepEqual(shown.axes, [2, 3]);
    assert.deepEqual(shown.x, [0, 1, 2, 3, 4].map((i) => pca.data[i * pca.dims + 2]));
    assert.deepEqual(shown.y, [0, 1, 2, 3, 4].map((i) => pca.data[i * pca.dims + 3]));

    await page.click("#tool-lasso");
    const b = await plotBox();
    const poly = starPolygon(b.x + b.width / 2, b.y + b.height / 2, 200, 6);
    await drawLasso(page, poly);
    await page.evaluate(() => window.cellucidViewer!.settled());
    const expected = await expectedInside(poly, 1, [2, 3]);
    assert.ok(expected.length > 0);
    assert.deepEqual(await lastGroupCells(page), expected);
  });

  test("a 3D view turned and tilted: the lasso selects what is shown", async () => {
    await page.selectOption("#embedding-select", "X_pca");
    await page.waitForFunction(() => window.cellucidViewer!.embedding.key === "X_pca");
    await page.selectOption("#axis-x", "0");
    await page.selectOption("#axis-y", "1");
    assert.equal(await page.locator("#rotate-row").isVisible(), true);
    await page.locator("#rotate-yaw").evaluate((el: HTMLInputElement) => { el.value = "40"; el.dispatchEvent(new Event("input")); });
    await page.locator("#rotate-pitch").evaluate((el: HTMLInputElement) => { el.value = "-25"; el.dispatchEvent(new Event("input")); });
    await page.waitForFunction(() => window.cellucidViewer!.embedding.projection.yaw === 40 && window.cellucidViewer!.embedding.projection.pitch === -25);
    const projection = await page.evaluate(() => window.cellucidViewer!.embedding.projection);
    assert.deepEqual(projection, { axes: [0, 1], depth: 2, yaw: 40, pitch: -25 });

    await page.click("#tool-lasso");
    const b = await plotBox();
    const poly = starPolygon(b.x + b.width * 0.45, b.y + b.height * 0.5, 180, 7);
    await drawLasso(page, poly);
    await page.evaluate(() => window.cellucidViewer!.settled());
    const dataPoly = await page.evaluate((pts) => pts.map(([x, y]) => window.cellucidViewer!.screenToData(x, y)), poly);
    const { data, dims } = coords[1]!;
    const { xs, ys } = project(data, dims, projection);
    const expected: number[] = [];
    for (let i = 0; i < xs.length; i++) if (insidePolygon(xs[i]!, ys[i]!, dataPoly)) expected.push(i);
    assert.ok(expected.length > 20, `${expected.length} cells inside`);
    assert.deepEqual(await lastGroupCells(page), expected);
    // Changing axes starts from an unturned view again.
    await page.selectOption("#axis-y", "2");
    assert.deepEqual(await page.evaluate(() => window.cellucidViewer!.embedding.projection), { axes: [0, 2], depth: 1, yaw: 0, pitch: 0 });
  });

  test("no page errors", () => {
    assert.deepEqual(errors, []);
  });
});
