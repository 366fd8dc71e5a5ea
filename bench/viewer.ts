/**
 * Viewer page at 5M and 10M cells, in headless Chromium against the real
 * server (startViewer on a generated in-memory AnnData with a UMAP-like
 * embedding, a cluster column and a few genes), once with each renderer in
 * the same run: WebGL2 (`?renderer=webgl`; through SwiftShader here, no
 * GPU) and Canvas2D (`?renderer=canvas`). Per size and renderer:
 *   - page navigation → first frame with points;
 *   - frame time while panning and while zooming (median / p95 of the
 *     moving frames, level of detail on) and of the full still frame;
 *   - lasso, pointer release → group stored and drawn;
 *   - autosave of the 4-group session (worker);
 *   - getSessionBundle() round trip with 4 groups + 1 label field, right
 *     after a change and then with nothing changed (the session worker
 *     reuses unchanged chunks);
 *   - colour by a gene, key press → the gene's colours drawn;
 *   - the page's JS heap (and ArrayBuffer backing stores) after a GC.
 * `node dist/bench/viewer.js [5m|10m]…` runs it alone, at the sizes given.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { MemoryAnnData, startViewer, type Viewer } from "../src/node/index.js";
import { browserSkipReason, drawLasso, launchChromium, starPolygon } from "../test/viewer-browser.js";
import type { Section } from "./context.js";
import { seededRandom } from "./data.js";
import { Report, int, mb, ms } from "./report.js";

const N_VARS = 8;
const CLUSTERS = 24;
const LASSOS = 4;
/** Beyond this full-frame time the lasso, capture and gene rows are not measured (see measure()). */
const FULL_FRAME_LIMIT_MS = 1000;

interface Size {
  label: string;
  nObs: number;
  target: { firstDrawMs: number; frameMs: number; frameP95Ms: number; selectionMs: number; captureMs: number; geneMs: number; heapMB: number };
}

const SIZES: Size[] = [
  { label: "5M", nObs: 5_000_000, target: { firstDrawMs: 1500, frameMs: 16, frameP95Ms: 33, selectionMs: 150, captureMs: 500, geneMs: 300, heapMB: 400 } },
  { label: "10M", nObs: 10_000_000, target: { firstDrawMs: 3000, frameMs: 33, frameP95Ms: 66, selectionMs: 300, captureMs: 1000, geneMs: 600, heapMB: 700 } },
];

const RENDERERS = [
  { kind: "webgl2", name: "WebGL2", query: "&renderer=webgl" },
  { kind: "canvas2d", name: "Canvas2D", query: "&renderer=canvas" },
] as const;

/** Gaussian blobs of varied size and spread, like a UMAP of many cell types; gene g rises along a direction of its own. */
function generate(nObs: number): MemoryAnnData {
  const random = seededRandom(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: CLUSTERS }, () => [random() * 30 - 15, random() * 30 - 15, 0.4 + random() * 1.6] as const);
  const umap = new Float32Array(nObs * 2);
  const codes = new Int8Array(nObs);
  const X = new Float32Array(nObs * N_VARS);
  for (let i = 0; i < nObs; i++) {
    const k = Math.floor(random() ** 1.5 * CLUSTERS);
    const [cx, cy, s] = centres[k]!;
    const x = cx + gauss() * s, y = cy + gauss() * s;
    umap[2 * i] = x;
    umap[2 * i + 1] = y;
    codes[i] = k;
    for (let g = 0; g < N_VARS; g++) X[i * N_VARS + g] = Math.max(0, Math.cos(g) * x + Math.sin(g) * y + gauss());
  }
  return new MemoryAnnData({
    name: `generated-${nObs}.h5ad`,
    obs: { index: Array.from({ length: nObs }, (_, i) => `cell${i}`), columns: { cluster: { kind: "categorical", codes, categories: Array.from({ length: CLUSTERS }, (_, k) => `c${k}`), ordered: false } } },
    var: { index: Array.from({ length: N_VARS }, (_, i) => `GENE${i}`) },
    X: { shape: [nObs, N_VARS], data: X },
    obsm: { X_umap: { shape: [nObs, 2], data: umap } },
  });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const median = (xs: number[]): number => quantile(xs, 0.5);

/** Frames the page drew while the view moved, one per input step (`step` moves the view by real mouse or wheel). */
async function movingFrames(page: Page, steps: number, step: (k: number) => Promise<void>): Promise<{ moving: number[]; points: number }> {
  const moving: number[] = [];
  let points = 0;
  let seen = await page.evaluate(() => window.cellucidViewer!.frameCounts.lod);
  for (let k = 0; k < steps; k++) {
    await step(k);
    await page.evaluate(() => new Promise(requestAnimationFrame));
    const f = await page.evaluate(() => ({ lod: window.cellucidViewer!.frameCounts.lod, last: window.cellucidViewer!.lastFrame }));
    if (f.lod > seen && f.last.lod) {
      moving.push(f.last.ms);
      points = f.last.points;
    }
    seen = f.lod;
  }
  return { moving, points };
}

async function stillFrame(page: Page, nObs: number): Promise<number> {
  await page.waitForFunction((n) => !window.cellucidViewer!.lastFrame.lod && window.cellucidViewer!.lastFrame.points === n, nObs, { polling: 50 });
  return page.evaluate(() => window.cellucidViewer!.lastFrame.ms);
}

async function measure(report: Report, browser: Browser, viewer: Viewer, size: Size, r: (typeof RENDERERS)[number]): Promise<void> {
  const T = size.target;
  const tag = `${size.label} ${r.name}`;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    page.setDefaultTimeout(180_000);
    await page.goto(viewer.url + r.query);
    await page.waitForFunction(() => window.cellucidViewer?.firstDrawMs != null, null, { polling: 20 });
    await page.waitForFunction(() => window.cellucidViewer?.ready === true);
    const kind = await page.evaluate(() => window.cellucidViewer!.renderer);
    if (kind !== r.kind) throw new Error(`the page drew with ${kind}, not ${r.kind}`);
    const firstDrawMs = (await page.evaluate(() => window.cellucidViewer!.firstDrawMs))!;
    report.check(`${tag}: navigation → first drawn points`, ms(firstDrawMs, 0), `≤ ${T.firstDrawMs} ms`, firstDrawMs <= T.firstDrawMs);
    const full = await stillFrame(page, size.nObs);

    const box = (await page.locator("#points").boundingBox())!;
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    const pan = await movingFrames(page, 40, (k) => page.mouse.move(cx + 6 * (k + 1), cy + 3 * (k + 1)));
    await page.mouse.up();
    await stillFrame(page, size.nObs);
    await page.mouse.move(cx, cy);
    const zoom = await movingFrames(page, 30, (k) => page.mouse.wheel(0, k < 15 ? -60 : 60));
    const still = await stillFrame(page, size.nObs);
    const frames = [...pan.moving, ...zoom.moving];
    if (frames.length === 0) throw new Error("no frame was drawn while the view moved");
    const med = median(frames), p95 = quantile(frames, 0.95);
    report.check(`${tag}: pan/zoom frame, median / p95 (${frames.length} frames)`, `${ms(med)} / ${ms(p95)}`, `≤ ${T.frameMs} / ${T.frameP95Ms} ms`, med <= T.frameMs && p95 <= T.frameP95Ms);
    report.info(`  points drawn while moving; full still frame`, `${int(Math.max(pan.points, zoom.points))}; ${ms(Math.max(full, still))}`);
    await page.click("#fit-view");
    await stillFrame(page, size.nObs);
    const slowest = Math.max(full, still);
    if (slowest > FULL_FRAME_LIMIT_MS) {
      // Every lasso, label and colouring ends in full frames: at seconds each, the rest would take many minutes and say only that.
      report.note(`${tag}: lasso, capture and gene colouring not measured: a full frame takes ${ms(slowest, 0)} (a software rasterizer; the page uses Canvas2D there unless asked)`);
      await heapRow(report, page, tag, T.heapMB);
      return;
    }

    await page.click("#tool-lasso");
    const times: number[] = [];
    let selected = 0;
    for (let k = 0; k < LASSOS; k++) {
      const poly = starPolygon(box.x + box.width * (0.35 + 0.075 * k), box.y + box.height * 0.5, Math.min(box.width, box.height) * 0.3, 40);
      await drawLasso(page, poly);
      await page.evaluate(() => window.cellucidViewer!.settled());
      times.push((await page.evaluate(() => window.cellucidViewer!.lastSelectionMs))!);
      selected = await page.evaluate(() => window.cellucidViewer!.selection?.length ?? 0);
    }
    const sel = median(times);
    report.check(`${tag}: lasso, release → group drawn (median of ${LASSOS})`, ms(sel), `≤ ${T.selectionMs} ms`, sel <= T.selectionMs);
    report.info(`  cells in the last lasso; frame with the ${LASSOS} groups`, `${int(selected)}; ${ms(await page.evaluate(() => window.cellucidViewer!.lastFrameMs))}`);
    report.info("  of which point-in-polygon in the selection workers (last lasso, slower half)", ms(await page.evaluate(() => window.cellucidViewer!.lastWorkerMs)));

    const saved = (await page.evaluate(() => window.cellucidViewer!.autosaveNow()))!;
    report.info(`  autosave of the ${LASSOS} groups (worker; size)`, `${ms(saved.totalMs, 0)}; ${mb(saved.bytes, 2)}`);

    await page.fill("#field-name", "cell type");
    await page.click("#field-create");
    await page.fill("#category-name", "T cells");
    await page.click("#category-add");
    await page.click("#assign-btn");
    // The first capture follows a change (the new field); the next two find nothing changed.
    const captures: number[] = [];
    const encodes: string[] = [];
    let bytes = 0;
    for (let k = 0; k < 3; k++) {
      const c0 = performance.now();
      const bundle = await viewer.getSessionBundle({ timeoutMs: 60_000 });
      captures.push(performance.now() - c0);
      bytes = bundle.byteLength;
      await bundle.close();
      const e = (await page.evaluate(() => window.cellucidViewer!.lastEncode))!;
      encodes.push(`${ms(e.encodeMs, 0)} (${e.encoded} new, ${e.reused} reused)`);
    }
    const cap = captures[0]!;
    report.check(`${tag}: getSessionBundle(), ${LASSOS} groups + 1 field, after a change`, ms(cap, 0), `≤ ${T.captureMs} ms`, cap <= T.captureMs);
    report.info("  then with nothing changed (median of 2)", ms(median(captures.slice(1)), 0));
    report.info("  of which the worker's encode, per capture (group / field chunks)", encodes.join("; "));
    report.info("  bundle size", mb(bytes, 2));

    // A gene never shown before on this page: fetched, scaled, ordered, uploaded and drawn.
    await page.click('[data-testid="gene-search"]');
    await page.keyboard.type(`GENE${RENDERERS.indexOf(r) + 1}`);
    await page.waitForSelector('[data-testid="gene-result"]');
    const before = await page.evaluate(() => window.cellucidViewer!.frameCounts.full);
    const g0 = performance.now();
    await page.keyboard.press("Enter");
    await page.waitForFunction((b) => window.cellucidViewer!.view.colorBy?.startsWith("gene:") && window.cellucidViewer!.frameCounts.full > b, before, { polling: "raf" });
    const gene = performance.now() - g0;
    report.check(`${tag}: colour by a gene, key press → drawn`, ms(gene, 0), `≤ ${T.geneMs} ms`, gene <= T.geneMs);

    await heapRow(report, page, tag, T.heapMB);
  } finally {
    await page.close();
  }
}

async function heapRow(report: Report, page: Page, tag: string, targetMB: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number; backingStorageSize?: number };
  const total = heap.usedSize + (heap.backingStorageSize ?? 0);
  report.check(`${tag}: page JS heap + ArrayBuffers after GC`, mb(total, 0), `≤ ${targetMB} MB`, total / 1e6 <= targetMB);
  report.info("  of which ArrayBuffer backing stores", heap.backingStorageSize === undefined ? "not reported" : mb(heap.backingStorageSize, 0));
  await cdp.detach();
}

function sizesFrom(args: string[]): Size[] {
  const asked = args.map((a) => a.toUpperCase()).filter((a) => SIZES.some((s) => s.label === a));
  return asked.length ? SIZES.filter((s) => asked.includes(s.label)) : SIZES;
}

export const viewerSection: Section = {
  title: "6. Viewer page, 5M and 10M cells, WebGL2 and Canvas2D (headless Chromium)",
  async run({ report }) {
    await runSizes(report, SIZES, this.title);
  },
};

async function runSizes(report: Report, sizes: Size[], title: string): Promise<void> {
  report.section(title, `${CLUSTERS} clusters, ${N_VARS} genes, served by startViewer; WebGL2 through SwiftShader (CPU, no GPU); selection in a Web Worker; moving frames draw the level-of-detail subset`);
  const skip = browserSkipReason();
  if (skip) {
    report.note(`skipped: ${skip}`);
    return;
  }
  for (const size of sizes) {
    let viewer: Viewer | null = null;
    let browser: Browser | null = null;
    const autosaveDir = await mkdtemp(join(tmpdir(), "cellucid-bench-state-"));
    try {
      viewer = await startViewer(generate(size.nObs), { datasetId: `generated-${size.label}`, autosaveDir });
      browser = await launchChromium();
      for (const r of RENDERERS) {
        try {
          await measure(report, browser, viewer, size, r);
        } catch (err) {
          report.crash(`${title}: ${size.label} ${r.name}`, err);
        }
      }
    } finally {
      await browser?.close().catch(() => undefined);
      await viewer?.close().catch(() => undefined);
      await rm(autosaveDir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = new Report();
  const t0 = performance.now();
  try {
    await runSizes(report, sizesFrom(process.argv.slice(2)), viewerSection.title);
  } catch (err) {
    report.crash(viewerSection.title, err);
  }
  report.summary((performance.now() - t0) / 1000);
  process.exitCode = report.hasCrashes ? 1 : 0;
}
