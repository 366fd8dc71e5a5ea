/**
 * The two point renderers in real Chromium (WebGL2 through SwiftShader,
 * asked for with ?renderer=webgl, and Canvas2D: by default on a software
 * WebGL2 like this one, forced by ?renderer=canvas, or where WebGL2 is missing), with
 * real mouse and keyboard: known cells drawn at their pixels in their
 * categorical and gene colours, a highlight group's rim, a range group,
 * the lasso, a 3D embedding turned with the keyboard (on the GPU with
 * WebGL2), the same pictures from both renderers, and level of detail
 * while panning with the full frame back once the view is still.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { MemoryAnnData, startViewer, type Viewer } from "../src/node/index.js";
import { decodePng, drawLasso, insidePolygon, launchChromium, openViewerPage, pixelColor } from "./viewer-browser.js";

const SIDE = 30;
const N = SIDE * SIDE;
const GENES = ["CD3D", "CD3E", "MS4A1"];
const CD3E = 1;
/** The first three category colours and the first group colour (palette.ts), as the page draws them. */
const CATEGORY = ["#1f77b4", "#ff7f0e", "#2ca02c"];
const GROUP0 = "#e6194b";
const WHITE = "#ffffff";

/** Cells on a 30×30 grid: category = column mod 3; CD3E rises left to right; a 3D embedding tilts the grid in depth. */
function gridStore(): MemoryAnnData {
  const umap = new Float32Array(N * 2);
  const sheet = new Float32Array(N * 3);
  const X = new Float32Array(N * GENES.length);
  const codes = new Int8Array(N);
  for (let i = 0; i < N; i++) {
    const col = i % SIDE, row = Math.floor(i / SIDE);
    umap[2 * i] = col;
    umap[2 * i + 1] = row;
    X[i * GENES.length + CD3E] = col;
    codes[i] = col % 3;
    sheet.set([col, row, row - col], 3 * i);
  }
  return new MemoryAnnData({
    obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`), columns: { band: { kind: "categorical", codes, categories: ["a", "b", "c"], ordered: false } } },
    var: { index: GENES },
    X: { shape: [N, GENES.length], data: X },
    obsm: { X_umap: { shape: [N, 2], data: umap }, X_sheet: { shape: [N, 3], data: sheet } },
  });
}

async function screenAt(page: Page, col: number, row: number): Promise<[number, number]> {
  const [x, y] = await page.evaluate(([c, r]) => window.cellucidViewer!.dataToScreen(c!, r!), [col, row]);
  return [Math.floor(x), Math.floor(y)];
}

/** The colour on screen `dx` pixels right of grid cell (col, row), as "#rrggbb". */
async function colorAt(page: Page, col: number, row: number, dx = 0): Promise<string> {
  const [x, y] = await screenAt(page, col, row);
  return pixelColor(page, x + dx, y);
}

async function nextFrame(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function plotPixels(page: Page): Promise<Uint8Array> {
  const box = (await page.locator("#points").boundingBox())!;
  const hud = (await page.locator("#hud").boundingBox())!;
  return decodePng(await page.screenshot({ clip: { x: box.x, y: box.y, width: box.width, height: hud.y - box.y } })).pixels;
}

const RENDERERS = [
  { kind: "webgl2", query: "&renderer=webgl" },
  { kind: "canvas2d", query: "&renderer=canvas" },
] as const;

describe("WebGL2 and Canvas2D renderers", { timeout: 240_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;
  const errors: string[] = [];
  /** Each renderer's plot as the page opens (fitted view, categorical colours), without the HUD line at its foot, compared after. */
  const pictures = new Map<string, Uint8Array>();
  /** The same, for the 3D embedding turned by 30°. */
  const turned = new Map<string, Uint8Array>();

  before(async () => {
    browser = await launchChromium();
    viewer = await startViewer(gridStore(), { autosaveDir: false });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await viewer?.close();
    assert.deepEqual(errors, []);
  });

  for (const { kind, query } of RENDERERS) {
    test(`${kind}: categories, a gene, a lasso group's rim and a range group drawn at the cells' pixels`, async () => {
      const page = await openViewerPage(browser, viewer.url + query, errors);
      try {
        assert.equal(await page.evaluate(() => window.cellucidViewer!.renderer), kind);
        assert.match((await page.textContent("#hud"))!, kind === "webgl2" ? /WebGL2/ : /Canvas2D/);
        pictures.set(kind, await plotPixels(page));
        for (const [col, row] of [[0, 0], [1, 7], [2, 29], [29, 13]] as const) assert.equal(await colorAt(page, col, row), CATEGORY[col % 3], `cell (${col}, ${row})`);
        // Between cells: the background (cells are ~25 px apart, 3 px wide).
        assert.equal(await colorAt(page, 10, 10, 8), WHITE);

        // A lasso around the middle of the grid makes a group; its cells get a rim in the group colour, others none.
        await page.click('[data-testid="tool-lasso"]');
        const [x0, y0] = await screenAt(page, 9.5, 19.5);
        const [x1, y1] = await screenAt(page, 19.5, 9.5);
        const poly: [number, number][] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        await drawLasso(page, poly);
        await page.evaluate(() => window.cellucidViewer!.settled());
        const cells = await page.evaluate(() => Array.from(window.cellucidViewer!.pages[0]!.groups[0]!.cells));
        const expected: number[] = [];
        for (let i = 0; i < N; i++) {
          const [sx, sy] = await page.evaluate(([c, r]) => window.cellucidViewer!.dataToScreen(c!, r!), [i % SIDE, Math.floor(i / SIDE)]);
          if (insidePolygon(sx, sy, poly)) expected.push(i);
        }
        assert.deepEqual(cells.sort((a, b) => a - b), expected);
        assert.equal(expected.length, 100);
        await nextFrame(page);
        assert.equal(await colorAt(page, 12, 12, 2), GROUP0, "rim right of a grouped cell");
        assert.equal(await colorAt(page, 12, 12), CATEGORY[0], "the grouped cell keeps its colour");
        assert.equal(await colorAt(page, 3, 3, 2), WHITE, "no rim outside the group");

        // Colour by a gene through the search: dark at the left column, light at the right.
        await page.click('[data-testid="gene-search"]');
        await page.keyboard.type("CD3E");
        await page.waitForSelector('[data-testid="gene-result"]');
        await page.keyboard.press("Enter");
        await page.waitForFunction((v) => window.cellucidViewer!.view.colorBy === v, `gene:${CD3E}`);
        await nextFrame(page);
        assert.equal(await colorAt(page, 0, 3), "#440154");
        assert.equal(await colorAt(page, SIDE - 1, 3), "#fde725");
        assert.equal(await colorAt(page, 12, 12, 2), GROUP0, "the group rim stays under a new colouring");

        // A range group from typed bounds: the cells of columns 25-29 get the second group colour's rim.
        await page.fill('[data-testid="range-min"]', "25");
        await page.fill('[data-testid="range-max"]', "29");
        await page.click('[data-testid="range-group"]');
        await page.waitForFunction(() => window.cellucidViewer!.pages[0]!.groups.length === 2);
        await nextFrame(page);
        assert.equal(await colorAt(page, 27, 5, 2), "#3cb44b");
        assert.equal(await colorAt(page, 22, 5, 2), WHITE);

      } finally {
        await page.close();
      }
    });
  }

  for (const { kind, query } of RENDERERS) {
    test(`${kind}: a 3D embedding turned with the keyboard draws each cell where its turned coordinates put it`, async () => {
      const page = await openViewerPage(browser, viewer.url + query, errors);
      try {
        await page.locator('[data-testid="embedding-select"]').selectOption("X_sheet");
        await page.waitForFunction(() => window.cellucidViewer!.embedding.key === "X_sheet");
        await page.focus('[data-testid="rotate-yaw"]');
        for (let k = 0; k < 30; k++) await page.keyboard.press("ArrowRight");
        await page.waitForFunction(() => window.cellucidViewer!.view.rotation.yaw === 30);
        await page.waitForFunction(() => !window.cellucidViewer!.lastFrame.lod);
        await nextFrame(page);
        // The projection the lasso and hover use (computed on the CPU) agrees with what is drawn.
        for (const i of [0, 29, 31 * 15, N - 30, N - 1]) {
          const [x, y] = await page.evaluate((c) => window.cellucidViewer!.dataToScreen(window.cellucidViewer!.embedding.xs[c]!, window.cellucidViewer!.embedding.ys[c]!), i);
          assert.equal(await pixelColor(page, x, y), CATEGORY[(i % SIDE) % 3], `cell ${i}`);
        }
        // Turned 30° about the vertical: x = 0.866·col + 0.5·(row − col) around the centre, so the grid is sheared.
        const xs = await page.evaluate(() => [window.cellucidViewer!.embedding.xs[0]!, window.cellucidViewer!.embedding.xs[30 * 29]!]);
        assert.ok(Math.abs(xs[1]! - xs[0]! - 29 * 0.5) < 1e-3, `x of the top-left cell moved by ${xs[1]! - xs[0]!}`);
        turned.set(kind, await plotPixels(page));
      } finally {
        await page.close();
      }
    });
  }

  test("both renderers draw the same pictures, flat and turned (a pixel or two off where float precision rounds differently)", () => {
    for (const [name, set] of [["flat", pictures], ["turned", turned]] as const) samePicture(name, set);
  });

  function samePicture(name: string, set: Map<string, Uint8Array>): void {
    const gl = set.get("webgl2"), cv = set.get("canvas2d");
    assert.ok(gl && cv && gl.length === cv.length, `both ${name} pictures taken at the same size`);
    let drawn = 0, differ = 0;
    for (let i = 0; i < gl.length; i += 4) {
      const same = gl[i] === cv[i] && gl[i + 1] === cv[i + 1] && gl[i + 2] === cv[i + 2];
      if (cv[i] !== 255 || cv[i + 1] !== 255 || cv[i + 2] !== 255) drawn++;
      if (!same) differ++;
    }
    // 900 cells of 3×3 pixels.
    assert.ok(drawn >= N * 9, `${name}: ${drawn} drawn pixels`);
    assert.ok(differ <= drawn * 0.02, `${name}: ${differ} of ${drawn} drawn pixels differ`);
  }

  for (const { kind, query } of RENDERERS) {
    test(`${kind}: panning draws a subset of the cells (level of detail), the full frame returns once the view is still`, async () => {
      const page = await openViewerPage(browser, viewer.url + query + "&lod=300", errors);
      try {
        const before = await page.evaluate(() => window.cellucidViewer!.frameCounts);
        const [cx, cy] = await screenAt(page, 15, 15);
        await page.mouse.move(cx, cy);
        await page.mouse.down();
        for (let k = 1; k <= 10; k++) {
          await page.mouse.move(cx + 8 * k, cy + 3 * k);
          await nextFrame(page);
        }
        const during = await page.evaluate(() => ({ counts: window.cellucidViewer!.frameCounts, last: window.cellucidViewer!.lastFrame }));
        await page.mouse.up();
        assert.ok(during.counts.lod > before.lod, `moving frames: ${JSON.stringify(during.counts)}`);
        await page.waitForFunction((n) => !window.cellucidViewer!.lastFrame.lod && window.cellucidViewer!.lastFrame.points === n, N);
        // The view moved by the drag: cell (15, 15) is now 80 px right and 30 px down, drawn in full.
        const [nx, ny] = await screenAt(page, 15, 15);
        assert.deepEqual([nx - cx, ny - cy], [80, 30]);
        assert.equal(await colorAt(page, 15, 15), CATEGORY[0]);
        const after = await page.evaluate(() => window.cellucidViewer!.frameCounts);
        assert.ok(after.full > during.counts.full, "a full frame after the drag");
        // A moving frame drew about 300 of the 900 cells (the stratified subset), never all.
        if (during.last.lod) assert.ok(during.last.points > 250 && during.last.points < 350, `${during.last.points} points`);
      } finally {
        await page.close();
      }
    });
  }

  test("on a software WebGL2 (SwiftShader here) the page draws with Canvas2D by default; the HUD says why", async () => {
    const page = await openViewerPage(browser, viewer.url, errors);
    try {
      assert.equal(await page.evaluate(() => window.cellucidViewer!.renderer), "canvas2d");
      assert.match((await page.getAttribute("#hud", "title"))!, /software rasterizer \(.*SwiftShader.*\).*\?renderer=webgl/);
      assert.match((await page.textContent("#hud"))!, /Canvas2D/);
    } finally {
      await page.close();
    }
  });

  test("a browser without WebGL2 draws with Canvas2D even when WebGL2 is asked for, and says so", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
      await page.addInitScript(() => {
        const original = HTMLCanvasElement.prototype.getContext;
        HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, options?: unknown) {
          return type === "webgl2" ? null : original.call(this, type as "2d", options as CanvasRenderingContext2DSettings);
        } as typeof original;
      });
      await page.goto(viewer.url + "&renderer=webgl");
      await page.waitForFunction(() => window.cellucidViewer?.ready === true);
      assert.equal(await page.evaluate(() => window.cellucidViewer!.renderer), "canvas2d");
      assert.match((await page.textContent("#status"))!, /Drawing with Canvas2D: WebGL2 is not available/);
      assert.equal(await colorAt(page, 4, 4), CATEGORY[1]);
    } finally {
      await page.close();
    }
  });
});
