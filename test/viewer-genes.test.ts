/**
 * Colouring by genes and continuous obs columns, in real Chromium with real
 * keyboard and mouse against the real server: the gene search (prefix before
 * substring), a gene's colours on screen at known low and high cells, a
 * layer, the clip, missing values in grey, numeric obs columns, and a store
 * that cannot read X answering 501 with a message the page shows.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { MemoryAnnData, applySessionToStore, startViewer, validateBundle, type AnnDataStore, type Viewer, type XReadOptions } from "../src/node/index.js";
import { fileURLToPath } from "node:url";
import { python } from "./python.js";
import { request } from "./server-client.js";
import { launchChromium, openViewerPage, pixelColor } from "./viewer-browser.js";

const SIDE = 30;
const N = SIDE * SIDE;
const GENES = ["CD3D", "CD3E", ...Array.from({ length: 3000 }, (_, i) => `GENE${String(i).padStart(4, "0")}`), "XCD3"];
const CD3E = 1;

/** Cells on a 30×30 grid; CD3E rises left to right (its "counts" layer right to left); obs "score" rises bottom to top, missing in column 0. */
function gridStore(): MemoryAnnData {
  const umap = new Float32Array(N * 2);
  const X = new Float32Array(N * GENES.length);
  const counts = new Float32Array(N * GENES.length);
  const score = new Float64Array(N);
  const nGenes = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const col = i % SIDE, row = Math.floor(i / SIDE);
    umap[2 * i] = col;
    umap[2 * i + 1] = row;
    X[i * GENES.length + CD3E] = col;
    counts[i * GENES.length + CD3E] = SIDE - 1 - col;
    score[i] = col === 0 ? NaN : row / 10;
    nGenes[i] = 100 + row;
  }
  return new MemoryAnnData({
    obs: { index: Array.from({ length: N }, (_, i) => `cell${i}`), columns: { score: { kind: "numeric", values: score }, n_genes: { kind: "numeric", values: nGenes } } },
    var: { index: GENES },
    X: { shape: [N, GENES.length], data: X },
    layers: { counts: { shape: [N, GENES.length], data: counts } },
    obsm: { X_umap: { shape: [N, 2], data: umap } },
  });
}

/** The viewer's drawn colour of the cell at grid (col, row), as "#rrggbb". */
async function cellColor(page: Page, col: number, row: number): Promise<string> {
  const [x, y] = await page.evaluate(([c, r]) => window.cellucidViewer!.dataToScreen(c!, r!), [col, row]);
  return pixelColor(page, x, y);
}

async function searchAndPick(page: Page, query: string): Promise<string[]> {
  await page.click('[data-testid="gene-search"]');
  await page.keyboard.type(query);
  await page.waitForSelector('[data-testid="gene-result"]');
  return page.locator('[data-testid="gene-result"]').allTextContents();
}

/** Waits until the page colours by `value` and has drawn a frame since. */
async function colorByIs(page: Page, value: string): Promise<void> {
  await page.waitForFunction((v) => window.cellucidViewer!.view.colorBy === v, value);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe("colour by genes and continuous values", { timeout: 180_000 }, () => {
  let browser: Browser;
  let viewer: Viewer;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    browser = await launchChromium();
    viewer = await startViewer(gridStore(), { autosaveDir: false });
    page = await openViewerPage(browser, viewer.url, errors);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await viewer?.close();
    assert.deepEqual(errors, []);
  });

  test("the gene search lists prefix matches before substring ones; Enter colours by the first; low cells dark, high cells light", async () => {
    assert.deepEqual(await searchAndPick(page, "cd3"), ["CD3D", "CD3E", "XCD3"]);
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await colorByIs(page, `gene:${CD3E}`);
    assert.equal(await page.inputValue('[data-testid="gene-search"]'), "CD3E");
    assert.equal(await page.textContent('[data-testid="scale-title"]'), "CD3E");
    assert.match((await page.textContent('[data-testid="scale-range"]'))!, /min 0 · max 29/);
    // Clipped at 1–99 %: the left column is at the scale's dark end, the right one at its light end.
    assert.equal(await cellColor(page, 0, 5), "#440154");
    assert.equal(await cellColor(page, SIDE - 1, 5), "#fde725");
    const mid = await cellColor(page, 15, 5);
    assert.notEqual(mid, "#440154");
    assert.notEqual(mid, "#fde725");
    await page.locator('[data-testid="gene-layer"]').selectOption({ label: "layer counts" });
    await colorByIs(page, `gene:${CD3E}:counts`);
    assert.equal(await cellColor(page, 0, 5), "#fde725");
    assert.equal(await cellColor(page, SIDE - 1, 5), "#440154");
    assert.equal(await page.textContent('[data-testid="scale-title"]'), "CD3E (counts)");
  });

  test("substring search finds a gene in the middle of 3,000; no match says so", async () => {
    await page.fill('[data-testid="gene-search"]', "");
    assert.deepEqual(await searchAndPick(page, "E2999"), ["GENE2999"]);
    await page.fill('[data-testid="gene-search"]', "");
    await page.keyboard.type("nope");
    await page.waitForSelector('#gene-results li.empty');
    assert.equal(await page.textContent("#gene-results"), "No gene matches");
  });

  test("a numeric obs column colours continuously, missing values grey; the clip changes the scale", async () => {
    await page.locator('[data-testid="color-select"]').selectOption("num:score");
    await colorByIs(page, "num:score");
    assert.match((await page.textContent('[data-testid="scale-range"]'))!, /min 0 · max 2\.9 · 30 cells without a value/);
    assert.equal(await cellColor(page, 0, 10), "#d0d0d0");
    assert.equal(await cellColor(page, 5, 0), "#440154");
    assert.equal(await cellColor(page, 5, SIDE - 1), "#fde725");
    // Clipped at 5–95 %, the second row is at the dark end too; with no clip it is not.
    await page.locator('[data-testid="scale-clip"]').selectOption("5,95");
    await page.waitForFunction(() => document.querySelector('[data-testid="scale-lo"]')!.textContent === "≤ 0.1");
    assert.equal(await cellColor(page, 5, 1), "#440154");
    await page.locator('[data-testid="scale-clip"]').selectOption("0,100");
    await page.waitForFunction(() => document.querySelector('[data-testid="scale-lo"]')!.textContent === "≤ 0");
    assert.notEqual(await cellColor(page, 5, 1), "#440154");
    await page.locator('[data-testid="color-select"]').selectOption("num:n_genes");
    await colorByIs(page, "num:n_genes");
    assert.match((await page.textContent('[data-testid="scale-range"]'))!, /^min 100 · max 129$/);
  });

  test("hover names the cell under the pointer, its value and its groups; a click pins it, a click on empty space unpins", async () => {
    const at = (col: number, row: number) => page.evaluate(([c, r]) => window.cellucidViewer!.dataToScreen(c!, r!), [col, row]);
    // A rectangle around columns 2–6 of rows 2–6 makes a group.
    await page.click('[data-testid="tool-rect"]');
    const [x0, y0] = await at(1.5, 6.5);
    const [x1, y1] = await at(6.5, 1.5);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2);
    await page.mouse.move(x1, y1);
    await page.mouse.up();
    await page.evaluate(() => window.cellucidViewer!.settled());
    const group = await page.evaluate(() => window.cellucidViewer!.pages[0]!.groups[0]!);
    assert.equal(group.count, 25);
    const card = page.locator('[data-testid="hover-card"]');
    const [hx, hy] = await at(4, 3);
    await page.mouse.move(hx + 1, hy + 1);
    await page.waitForFunction(() => document.querySelector('[data-testid="hover-name"]')?.textContent === "cell94");
    assert.equal(await card.locator('[data-testid="hover-value"]').textContent(), "n_genes: 103");
    assert.equal(await card.locator('[data-testid="hover-groups"]').textContent(), `Groups: ${group.label}`);
    const [ox, oy] = await at(20, 20);
    await page.mouse.move(ox, oy);
    await page.waitForFunction(() => document.querySelector('[data-testid="hover-name"]')?.textContent === "cell620");
    assert.equal(await card.locator('[data-testid="hover-groups"]').textContent(), "In no group");
    await page.mouse.click(ox, oy);
    const [fx, fy] = await at(25, 25);
    await page.mouse.move(fx, fy);
    await page.waitForTimeout(100);
    assert.equal(await card.locator('[data-testid="hover-name"]').textContent(), "cell620", "pinned: moving on does not change the card");
    assert.ok(await card.evaluate((e) => e.classList.contains("pinned")));
    // Empty space (between the grid's cells) unpins and hides the card.
    const [ex, ey] = await at(25.5, 25.5);
    await page.mouse.click(ex, ey);
    await page.waitForSelector('[data-testid="hover-card"]', { state: "hidden" });
    await page.click('[data-testid="tool-pan"]');
  });

  test("a brush on the legend makes a `range` group bound to the gene; apply turns it into the column value in [a, b]", async () => {
    await page.fill('[data-testid="gene-search"]', "");
    await searchAndPick(page, "CD3E");
    await page.keyboard.press("Enter");
    await colorByIs(page, `gene:${CD3E}:counts`);
    await page.locator('[data-testid="gene-layer"]').selectOption({ label: "X" });
    await colorByIs(page, `gene:${CD3E}`);
    const bar = (await page.locator('[data-testid="scale-bar"]').boundingBox())!;
    const y = bar.y + bar.height / 2;
    await page.mouse.move(bar.x + bar.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(bar.x + bar.width * 0.5, y);
    await page.mouse.move(bar.x + bar.width * 0.7, y);
    await page.mouse.up();
    await page.waitForFunction(() => window.cellucidViewer!.pages[0]!.groups.length === 2);
    const a = Number(await page.inputValue('[data-testid="range-min"]'));
    const b = Number(await page.inputValue('[data-testid="range-max"]'));
    assert.ok(a > 7 && a < 10 && b > 19 && b < 22, `brushed [${a}, ${b}]`);
    const expected = Array.from({ length: N }, (_, i) => i % SIDE >= a && i % SIDE <= b);
    const group = await page.evaluate(() => window.cellucidViewer!.pages[0]!.groups[1]!);
    assert.equal(group.type, "range");
    assert.equal(group.count, expected.filter(Boolean).length);
    // The same by typing the bounds, on a numeric obs column: cells without a value are never in a range.
    await page.locator('[data-testid="color-select"]').selectOption("num:score");
    await colorByIs(page, "num:score");
    await page.fill('[data-testid="range-min"]', "0");
    await page.fill('[data-testid="range-max"]', "0.5");
    await page.press('[data-testid="range-max"]', "Enter");
    await page.waitForFunction(() => window.cellucidViewer!.pages[0]!.groups.length === 3);
    assert.equal(await page.evaluate(() => window.cellucidViewer!.pages[0]!.groups[2]!.count), 6 * (SIDE - 1));

    const tabId = await page.evaluate(() => window.cellucidViewer!.tabId);
    const captured = await viewer.getSessionBundle({ page: tabId, timeoutMs: 20_000 });
    try {
      assert.deepEqual((await validateBundle(captured, { target: "webapp" })).errors, []);
      const groups = (await captured.highlightPages())[0]!.groups;
      const { id: _id, label: _label, cellCount: _count, ...gene } = groups[1]!.meta;
      assert.deepEqual(gene, { type: "range", enabled: true, fieldKey: "CD3E", fieldIndex: CD3E, fieldSource: "var", rangeMin: a, rangeMax: b });
      const { id: _i2, label: _l2, cellCount: _c2, ...score } = groups[2]!.meta;
      assert.deepEqual(score, { type: "range", enabled: true, fieldKey: "score", fieldIndex: 0, fieldSource: "obs", rangeMin: 0, rangeMax: 0.5 });
      const target = gridStore();
      const summary = await applySessionToStore(captured, target);
      const applied = summary.highlights.find((h) => h.groupId === groups[1]!.id)!;
      const column = await target.readColumn("obs", applied.column);
      assert.equal(column.kind, "bool");
      assert.deepEqual(Array.from(column.kind === "bool" ? column.values : [], Boolean), expected);
      const scoreColumn = await target.readColumn("obs", summary.highlights.find((h) => h.groupId === groups[2]!.id)!.column);
      assert.deepEqual(Array.from(scoreColumn.kind === "bool" ? scoreColumn.values : [], Boolean), Array.from({ length: N }, (_, i) => i % SIDE !== 0 && Math.floor(i / SIDE) / 10 <= 0.5));
    } finally {
      await captured.close();
    }
  });

  test("the numeric endpoints answer Float32 behind the token; a bad gene index is a 404", async () => {
    const values = await request(viewer, `/_cellucid/x/${CD3E}?layer=counts`);
    assert.equal(values.status, 200);
    const f = new Float32Array(values.body.buffer.slice(values.body.byteOffset, values.body.byteOffset + values.body.length));
    assert.deepEqual([f[0], f[SIDE - 1]], [SIDE - 1, 0]);
    assert.equal((await request(viewer, `/_cellucid/x/${CD3E}`, { token: null })).status, 401);
    assert.equal((await request(viewer, `/_cellucid/obs_values/score`, { token: null })).status, 401);
    assert.equal((await request(viewer, `/_cellucid/x/${GENES.length}`)).status, 404);
    assert.equal((await request(viewer, `/_cellucid/x/0?layer=nope`)).status, 404);
    assert.equal((await request(viewer, `/_cellucid/obs_values/nope`)).status, 404);
    const names = await request(viewer, "/_cellucid/obs_names?cells=5,0");
    assert.deepEqual(JSON.parse(names.body.toString()), { names: ["cell5", "cell0"] });
    assert.equal((await request(viewer, "/_cellucid/obs_names?cells=5", { token: null })).status, 401);
    assert.equal((await request(viewer, "/_cellucid/obs_names?cells=x")).status, 400);
    assert.equal((await request(viewer, `/_cellucid/obs_names?cells=${N}`)).status, 404);
  });
});

describe("a store that cannot read X", { timeout: 60_000 }, () => {
  test("answers 501 X_NOT_READABLE and the page says genes cannot colour cells", async () => {
    const base = gridStore();
    // The same data, seen through a store without readXColumn (as a store for an encoding not read yet would be).
    const store: AnnDataStore = Object.create(base, { readXColumn: { value: undefined } }) as AnnDataStore;
    const browser = await launchChromium();
    const viewer = await startViewer(store, { autosaveDir: false });
    try {
      const reply = await request(viewer, "/_cellucid/x/0");
      assert.equal(reply.status, 501);
      assert.equal(JSON.parse(reply.body.toString()).code, "X_NOT_READABLE");
      const page = await openViewerPage(browser, viewer.url);
      assert.equal(await page.isDisabled('[data-testid="gene-search"]'), true);
      assert.match((await page.textContent('[data-testid="gene-hint"]'))!, /cannot read its expression matrix/);
    } finally {
      await browser.close();
      await viewer.close();
    }
  });
});

describe("continuous obs from a real .h5ad", { timeout: 60_000 }, () => {
  test("numeric columns are told from their HDF5 metadata and their values equal Python anndata's", async () => {
    const file = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));
    const viewer = await startViewer(file, { autosaveDir: false });
    try {
      const config = JSON.parse((await request(viewer, "/_cellucid/config")).body.toString());
      const expected = await python<{ numeric: string[]; total: number[]; n_genes: number[] }>(
        "import sys, json, anndata as ad, numpy as np; a = ad.read_h5ad(sys.argv[1]); " +
          "print(json.dumps({'numeric': [c for c in a.obs.columns if isinstance(a.obs[c].dtype, np.dtype) and a.obs[c].dtype.kind in 'iuf'], " +
          "'total': a.obs['total_counts'].astype('float32').astype(float).tolist(), 'n_genes': a.obs['n_genes'].astype(float).tolist()}))",
        file,
      );
      assert.deepEqual(config.dataset.obsNumeric.map((c: { key: string }) => c.key), expected.numeric);
      for (const [key, want] of [["total_counts", expected.total], ["n_genes", expected.n_genes]] as const) {
        const body = (await request(viewer, `/_cellucid/obs_values/${key}`)).body;
        const got = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
        assert.deepEqual(Array.from(got), want, key);
      }
    } finally {
      await viewer.close();
    }
  });
});

describe("gene colouring details", { timeout: 90_000 }, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
  });

  test("a one-time index build reports progress on the page, and is cached beside the autosaves", async () => {
    const base = gridStore();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const seen: (string | undefined)[] = [];
    const store: AnnDataStore = Object.create(base, {
      readXColumn: {
        value: async (i: number, opts: XReadOptions = {}) => {
          seen.push(opts.cacheDir);
          opts.onProgress?.(1, 2);
          await released;
          opts.onProgress?.(2, 2);
          return base.readXColumn(i, opts);
        },
      },
    }) as AnnDataStore;
    const autosaveDir = await mkdtemp(join(tmpdir(), "cellucid-genes-"));
    const viewer = await startViewer(store, { autosaveDir });
    try {
      const page = await openViewerPage(browser, viewer.url);
      await searchAndPick(page, "CD3E");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.getElementById("status-text")!.textContent === "Indexing the expression matrix for gene colouring (once per file): 50 %");
      release();
      await colorByIs(page, `gene:${CD3E}`);
      assert.deepEqual(seen, [join(autosaveDir, "x-index")]);
    } finally {
      release();
      await viewer.close();
      await rm(autosaveDir, { recursive: true, force: true });
    }
  });

  test("high values are drawn over low ones at the same place", async () => {
    // Cell 0 (high) and cell 1 (low) share a position; in index order cell 1 would cover cell 0.
    const umap = new Float32Array([5, 5, 5, 5, 0, 0, 10, 10]);
    const store = new MemoryAnnData({
      obs: { index: ["hi", "lo", "a", "b"] },
      var: { index: ["G"] },
      X: { shape: [4, 1], data: new Float32Array([9, 0, 0, 9]) },
      obsm: { X_umap: { shape: [4, 2], data: umap } },
    });
    const viewer = await startViewer(store, { autosaveDir: false });
    try {
      const page = await openViewerPage(browser, viewer.url);
      await searchAndPick(page, "g");
      await page.keyboard.press("Enter");
      await colorByIs(page, "gene:0");
      assert.equal(await cellColor(page, 5, 5), "#fde725");
      assert.equal(await cellColor(page, 0, 0), "#440154");
    } finally {
      await viewer.close();
    }
  });
});

test("the gene route on a real .h5ad (CSR X, written by Python anndata): the values Python anndata reads, behind the token", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cellucid-genes-h5ad-"));
  const data = fileURLToPath(new URL("../../examples/pbmc-demo.h5ad", import.meta.url));
  const v = await startViewer(data, { autosaveDir: dir });
  try {
    const genes = [0, 5, 1837];
    const expected = await python<number[][]>(`
import sys, json, anndata, numpy as np
a = anndata.read_h5ad(sys.argv[1])
out = []
for g in json.loads(sys.argv[2]):
    c = a.X[:, g]
    c = c.toarray().ravel() if hasattr(c, "toarray") else np.asarray(c).ravel()
    out.append([float(x) for x in c.astype(np.float32)])
print(json.dumps(out))
`, data, JSON.stringify(genes));
    for (const [i, g] of genes.entries()) {
      const r = await request(v, `/_cellucid/x/${g}`);
      assert.equal(r.status, 200);
      const got = new Float32Array(Uint8Array.from(r.body).buffer);
      assert.deepEqual([...got], expected[i]);
    }
    assert.equal((await request(v, "/_cellucid/x/5", { token: null })).status, 401);
  } finally {
    await v.close();
    await rm(dir, { recursive: true, force: true });
  }
});
