/**
 * The viewer never loses work, in real Chromium with real mouse and keyboard
 * against the real server: capture asks the tab the person used; autosave
 * survives a reload and a restarted server; undo/redo; Esc and tiny drags
 * make no group; labels follow the web app (no invented category: unlabelled
 * cells are NaN in Python anndata after apply); a web-app field whose
 * category 0 is real is drawn in that category's colour.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { CellucidSessionBundle, ViewerError, applySessionToFile, createSessionWriter, embeddingCellOrderDigest, openAnnData, startViewer, validateBundle } from "../src/node/index.js";
import { python } from "./python.js";
import { decodePng, drawLasso, launchChromium, openViewerPage, starPolygon } from "./viewer-browser.js";

const DATASET = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));

/** A lasso around the middle of the plot, in page pixels. */
async function lassoMiddle(page: Page, r = 120): Promise<void> {
  const box = (await page.locator("#overlay").boundingBox())!;
  await page.click('[data-testid="tool-lasso"]');
  await drawLasso(page, starPolygon(Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2), r));
  await page.evaluate(() => window.cellucidViewer!.settled());
}

/** A canonical bundle with nothing in it, for this dataset. */
async function emptySession(): Promise<Uint8Array> {
  const store = await openAnnData(DATASET);
  const umap = await store.readObsm!("X_umap");
  const fp = { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: store.nObs, varCount: store.nVars, cellOrder: { dimension: 2 as const, digest: embeddingCellOrderDigest(umap.data, store.nObs, 2, "python") } };
  await store.close();
  return createSessionWriter({ datasetFingerprint: fp }).toBytes();
}

const groupCount = (page: Page) => page.evaluate(() => window.cellucidViewer!.pages.reduce((n, p) => n + p.groups.length, 0));
const autosaved = (page: Page) => page.waitForFunction(() => window.cellucidViewer!.unsaved === false, undefined, { timeout: 10_000 });

describe("the viewer keeps the person's work", { timeout: 240_000 }, () => {
  let browser: Browser;
  let dir: string;
  const errors: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cellucid-viewer-work-"));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    assert.deepEqual(errors, []);
  });

  test("with two tabs open, capture asks the tab the person used; none used: NO_INTERACTED_PAGE; { page } picks one", async () => {
    const viewer = await startViewer(DATASET, { autosaveDir: false });
    try {
      const a = await openViewerPage(browser, viewer.url, errors);
      const b = await openViewerPage(browser, viewer.url, errors);
      await assert.rejects(viewer.getSessionBundle({ timeoutMs: 5000 }), (e: unknown) => e instanceof ViewerError && e.code === "NO_INTERACTED_PAGE");
      const [ta, tb] = await Promise.all([a.evaluate(() => window.cellucidViewer!.tabId), b.evaluate(() => window.cellucidViewer!.tabId)]);
      await lassoMiddle(b);
      assert.equal(await groupCount(b), 1);
      // The interaction event is posted as the person clicks: wait until the server has it.
      for (let i = 0; i < 100 && viewer.pages()[0]?.id !== tb; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(viewer.pages().map((p) => p.id), [tb, ta]);
      assert.ok(viewer.pages()[0]!.lastInteraction instanceof Date);
      for (let k = 0; k < 3; k++) {
        const captured = await viewer.getSessionBundle({ timeoutMs: 20_000 });
        assert.equal((await captured.highlightPages())[0]!.groups.length, 1, `capture ${k} comes from the used tab`);
        await captured.close();
      }
      const fromA = await viewer.getSessionBundle({ page: ta, timeoutMs: 20_000 });
      assert.equal((await fromA.highlightPages())[0]?.groups.length ?? 0, 0);
      await fromA.close();
      await assert.rejects(viewer.getSessionBundle({ page: "no-such-tab" }), (e: unknown) => e instanceof ViewerError && e.code === "UNKNOWN_PAGE");
      await a.close();
      await b.close();
    } finally {
      await viewer.close();
    }
  });

  test("autosave: a change survives a reload and a restarted server, with a notice; start fresh sets it aside and undo brings the work back", async () => {
    const autosaveDir = join(dir, "state");
    let viewer = await startViewer(DATASET, { autosaveDir });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      await lassoMiddle(page);
      const cells = await page.evaluate(() => Array.from(window.cellucidViewer!.pages[0]!.groups[0]!.cells));
      assert.ok(cells.length > 10);
      await autosaved(page);
      assert.deepEqual(await readdir(autosaveDir), [viewer.autosavePath!.split("/").pop()]);
      await page.reload();
      await page.waitForFunction(() => window.cellucidViewer?.ready === true);
      assert.deepEqual(await page.evaluate(() => Array.from(window.cellucidViewer!.pages[0]!.groups[0]!.cells)), cells);
      assert.match((await page.locator('[data-testid="notice"]').textContent())!, /Restored your unsaved work from the autosave/);
      await page.close();
      await viewer.close();

      viewer = await startViewer(DATASET, { autosaveDir });
      const again = await openViewerPage(browser, viewer.url, errors);
      assert.deepEqual(await again.evaluate(() => Array.from(window.cellucidViewer!.pages[0]!.groups[0]!.cells)), cells);
      await again.click('[data-testid="notice-start-fresh"]');
      await again.waitForFunction(() => window.cellucidViewer!.pages.every((p) => p.groups.length === 0));
      assert.ok((await readdir(autosaveDir)).some((f) => f.endsWith(".previous.cellucid-session")), "the old autosave is set aside, not deleted");
      await again.keyboard.press("Control+z");
      await again.keyboard.press("Control+z");
      assert.equal(await groupCount(again), 1);
      await autosaved(again);
      await again.close();
      await viewer.close();

      // A bundle given with --session wins over the autosave, and the notice says so and offers the autosave.
      viewer = await startViewer(DATASET, { autosaveDir, session: await emptySession() });
      const third = await openViewerPage(browser, viewer.url, errors);
      assert.equal(await groupCount(third), 0);
      assert.match((await third.locator('[data-testid="notice"]').textContent())!, /Opened the session given with --session: it wins over this dataset's autosave/);
      await third.click('[data-testid="notice-restore"]');
      await third.waitForFunction(() => window.cellucidViewer!.pages.some((p) => p.groups.length === 1));
      await third.close();
    } finally {
      await viewer.close();
    }
  });

  test("while a change is not yet safe the page cancels beforeunload (the browser then asks before closing); once autosaved it does not", async () => {
    const viewer = await startViewer(DATASET, { autosaveDir: join(dir, "unload-state") });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      // Headless Chromium closes without showing its native prompt, so the page's answer to the event is checked.
      const warns = () => page.evaluate(() => {
        const ev = new Event("beforeunload", { cancelable: true });
        window.dispatchEvent(ev);
        return ev.defaultPrevented;
      });
      assert.equal(await warns(), false, "nothing made yet");
      await lassoMiddle(page);
      assert.equal(await warns(), true);
      await autosaved(page);
      assert.equal(await warns(), false);
      await page.close();
    } finally {
      await viewer.close();
    }
  });

  test("Save State over a gene field and a foreign chunk asks: keep them (bundle for this tool) or leave them out (web-app bundle)", async () => {
    const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: 2638, varCount: 1838 } });
    w.addUserDefinedField({ id: "genes", key: "markers", source: "var", categories: ["m"], codes: new Uint8Array(1838) });
    w.addJsonChunk("plugins/notes", { note: 1 }, { contributorId: "notes" });
    const viewer = await startViewer(DATASET, { autosaveDir: false, session: await w.toBytes() });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      assert.match((await page.locator('[data-testid="status-text"]').textContent())!, /Kept, though the web app cannot load it: gene field 'markers', chunk 'plugins\/notes'/);
      const save = async (choice: "keep" | "drop"): Promise<CellucidSessionBundle> => {
        const download = page.waitForEvent("download");
        await page.click('[data-testid="save-state"]');
        assert.match((await page.locator('[data-testid="dialog"]').textContent())!, /gene field 'markers', chunk 'plugins\/notes'/);
        await page.click(`[data-testid="dialog-${choice}"]`);
        const path = join(dir, `${choice}.cellucid-session`);
        await (await download).saveAs(path);
        return CellucidSessionBundle.open(path);
      };
      const kept = await save("keep");
      assert.deepEqual((await kept.userDefinedFields()).map((f) => [f.key, f.source]), [["markers", "var"]]);
      assert.deepEqual(await kept.decodeChunk("plugins/notes"), { note: 1 });
      await kept.close();
      const dropped = await save("drop");
      assert.deepEqual((await validateBundle(dropped, { target: "webapp" })).errors, []);
      assert.equal(dropped.hasChunk("plugins/notes"), false);
      await dropped.close();
      await page.close();
    } finally {
      await viewer.close();
    }
  });

  test("undo/redo by keys and buttons; Esc during a drag, a tiny drag and a lasso around no cell make no group; delete asks first", async () => {
    const viewer = await startViewer(DATASET, { autosaveDir: false });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      await lassoMiddle(page);
      assert.equal(await groupCount(page), 1);
      await page.keyboard.press("Control+z");
      assert.equal(await groupCount(page), 0);
      await page.keyboard.press("Control+Shift+z");
      assert.equal(await groupCount(page), 1);
      await page.click('[data-testid="undo"]');
      assert.equal(await groupCount(page), 0);
      await page.keyboard.press("Control+y");
      assert.equal(await groupCount(page), 1);
      // The enabled toggle hides the group from the plot, and is undone like everything else.
      const enabled = () => page.evaluate(() => window.cellucidViewer!.pages[0]!.groups[0]!.enabled);
      await page.click('[data-testid="group-enabled"]');
      assert.equal(await enabled(), false);
      await page.click('[data-testid="undo"]');
      assert.equal(await enabled(), true);

      const box = (await page.locator("#overlay").boundingBox())!;
      const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
      await page.mouse.move(cx - 100, cy - 100);
      await page.mouse.down();
      for (const [x, y] of [[cx + 100, cy - 100], [cx + 100, cy + 100], [cx - 100, cy + 100]] as const) await page.mouse.move(x, y, { steps: 4 });
      // The cells inside are previewed while dragging.
      await page.waitForFunction(() => /^[\d,]+ cells$/.test(document.querySelector('[data-testid="preview-count"]')!.textContent!));
      await page.keyboard.press("Escape");
      await page.mouse.up();
      assert.equal(await page.locator('[data-testid="preview-count"]').textContent(), "");
      await page.mouse.move(cx, cy);
      await page.mouse.down();
      await page.mouse.move(cx + 1, cy + 1);
      await page.mouse.up();
      // A corner of the plot, outside every cell.
      await drawLasso(page, [[Math.round(box.x + 5), Math.round(box.y + 5)], [Math.round(box.x + 25), Math.round(box.y + 5)], [Math.round(box.x + 25), Math.round(box.y + 25)], [Math.round(box.x + 5), Math.round(box.y + 25)]]);
      await page.evaluate(() => window.cellucidViewer!.settled());
      assert.equal(await groupCount(page), 1);

      // Shift adds to the selection, Alt takes away from it; neither makes a group.
      const first = await page.evaluate(() => Array.from(window.cellucidViewer!.selection!));
      await page.keyboard.down("Shift");
      await drawLasso(page, starPolygon(Math.round(cx + 150), Math.round(cy), 80));
      await page.keyboard.up("Shift");
      await page.evaluate(() => window.cellucidViewer!.settled());
      const grown = await page.evaluate(() => Array.from(window.cellucidViewer!.selection!));
      assert.ok(grown.length > first.length && first.every((c) => grown.includes(c)), `${grown.length} > ${first.length}`);
      await page.keyboard.down("Alt");
      await drawLasso(page, starPolygon(Math.round(cx + 150), Math.round(cy), 80));
      await page.keyboard.up("Alt");
      await page.evaluate(() => window.cellucidViewer!.settled());
      const added = grown.filter((c) => !first.includes(c));
      const shrunk = await page.evaluate(() => Array.from(window.cellucidViewer!.selection!));
      assert.ok(shrunk.every((c) => first.includes(c)) && !added.some((c) => shrunk.includes(c)), "Alt took the lassoed cells away again");
      assert.equal(await groupCount(page), 1);

      await page.click('[data-testid="group-delete"]');
      await page.click('[data-testid="dialog-no"]');
      assert.equal(await groupCount(page), 1, "cancelled: nothing deleted");
      await page.click('[data-testid="group-delete"]');
      await page.keyboard.press("Enter");
      assert.equal(await groupCount(page), 0);
      await page.close();
    } finally {
      await viewer.close();
    }
  });

  test("legend: counts with missing cells, click hides, double-click isolates, + makes a group; errors show in view at 1400×900", async () => {
    const viewer = await startViewer(DATASET, { autosaveDir: false });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      await page.setViewportSize({ width: 1400, height: 900 });
      const rows = page.locator('[data-testid="legend-row"]');
      const counts = (await page.locator('[data-testid="legend-count"]').allTextContents()).map((t) => Number(t.replace(/,/g, "")));
      assert.equal(counts.reduce((a, b) => a + b, 0), 2638, "every cell is in one row, missing ones included");
      assert.ok((await rows.count()) >= 8);
      await rows.nth(1).click();
      assert.deepEqual(await page.evaluate(() => window.cellucidViewer!.hiddenCategories), [1]);
      await rows.nth(1).click();
      await rows.nth(2).dblclick();
      const hidden = await page.evaluate(() => window.cellucidViewer!.hiddenCategories.sort((a, b) => a - b));
      assert.ok(!hidden.includes(2) && hidden.length === (await rows.count()) - 1, `only category 2 shown (hidden: ${hidden})`);
      await page.click('[data-testid="legend-show-all"]');
      assert.deepEqual(await page.evaluate(() => window.cellucidViewer!.hiddenCategories), []);
      await rows.nth(3).locator('[data-testid="legend-select"]').click();
      const groups = await page.evaluate(() => window.cellucidViewer!.pages[0]!.groups.map((g) => ({ label: g.label, count: g.count })));
      assert.deepEqual(groups, [{ label: (await rows.nth(3).getAttribute("data-category"))!, count: counts[3]! }]);

      // An error is shown in a bar fixed inside the window, whatever the panel's scroll.
      await page.click('[data-testid="assign-btn"]');
      const bar = (await page.locator('[data-testid="status"]').boundingBox())!;
      assert.match((await page.locator('[data-testid="status-text"]').textContent())!, /create a label field first/);
      assert.ok(bar.y >= 0 && bar.y + bar.height <= 900, `status bar at y=${bar.y}`);
      await page.keyboard.press("?");
      assert.equal(await page.locator('[data-testid="help"]').isVisible(), true);
      await page.keyboard.press("Escape");
      assert.equal(await page.locator('[data-testid="help"]').isVisible(), false);
      await page.close();
    } finally {
      await viewer.close();
    }
  });

  test("a new field + assign, captured and applied to an .h5ad: unlabelled cells are NaN in anndata, the categories are only the user's", async () => {
    const viewer = await startViewer(DATASET, { autosaveDir: false });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      await lassoMiddle(page);
      const labelled = await page.evaluate(() => window.cellucidViewer!.pages[0]!.groups[0]!.count);
      await page.fill('[data-testid="field-name"]', "my types");
      await page.keyboard.press("Enter");
      await page.fill('[data-testid="category-name"]', "T");
      await page.keyboard.press("Enter");
      assert.match((await page.locator('[data-testid="assign-hint"]').textContent())!, /none has another label yet/);
      await page.click('[data-testid="assign-btn"]');
      await page.waitForFunction(() => window.cellucidViewer!.fields[0]?.codes.some((c) => c === 0));
      const captured = await viewer.getSessionBundle({ timeoutMs: 20_000 });
      const out = join(dir, "applied.h5ad");
      try {
        await applySessionToFile(captured, DATASET, { output: out, datasetMismatch: "error" });
      } finally {
        await captured.close();
      }
      const r = await python<{ categories: string[]; nan: number; n: number }>(
        "import anndata, json, sys; a = anndata.read_h5ad(sys.argv[1]); c = a.obs['my_types']; print(json.dumps({'categories': [str(x) for x in c.cat.categories], 'nan': int(c.isna().sum()), 'n': a.n_obs}))",
        out,
      );
      assert.deepEqual(r.categories, ["T"]);
      assert.equal(r.nan, r.n - labelled);
      await page.close();
    } finally {
      await viewer.close();
    }
  });

  test("a web-app bundle's field whose category 0 is real is drawn in category 0's colour, with a legend row and count", async () => {
    const store = await openAnnData(DATASET);
    const umap = await store.readObsm!("X_umap");
    const n = store.nObs, nVars = store.nVars;
    await store.close();
    const w = createSessionWriter({ datasetFingerprint: { sourceType: "local-user", datasetId: "pbmc3k-demo", cellCount: n, varCount: nVars, cellOrder: { dimension: 2, digest: embeddingCellOrderDigest(umap.data, n, umap.shape[1], "python") } } });
    w.addUserDefinedField({ id: "cell_type_app", key: "cell type", source: "obs", categories: ["T", "B"], codes: new Int32Array(n) });
    const viewer = await startViewer(DATASET, { autosaveDir: false, session: await w.toBytes() });
    try {
      const page = await openViewerPage(browser, viewer.url, errors);
      await page.selectOption('[data-testid="color-select"]', "field:cell_type_app");
      const rows = await page.locator('[data-testid="legend-row"]').allTextContents();
      assert.equal(rows.length, 2, "T and B; no missing row as no cell is missing");
      assert.match(rows[0]!, new RegExp(`^T${n.toLocaleString("en-US")}`));
      // The canvas without the frame-time line in its corner (its anti-aliased text has greys of its own).
      const box = (await page.locator("#points").boundingBox())!;
      const png = decodePng(await page.screenshot({ clip: { x: box.x, y: box.y, width: box.width, height: box.height - 30 } }));
      let blue = 0, grey = 0;
      for (let i = 0; i < png.width * png.height; i++) {
        const [r, g, b] = [png.pixels[i * 4]!, png.pixels[i * 4 + 1]!, png.pixels[i * 4 + 2]!];
        if (Math.abs(r - 0x1f) < 6 && Math.abs(g - 0x77) < 6 && Math.abs(b - 0xb4) < 6) blue++;
        if (r === 0xd0 && g === 0xd0 && b === 0xd0) grey++;
      }
      assert.ok(blue > 1000, `category 0 colour drawn (${blue} px)`);
      assert.equal(grey, 0, "nothing drawn as missing");
      await page.close();
    } finally {
      await viewer.close();
    }
  });
});
