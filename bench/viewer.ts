/**
 * Viewer page on 1M cells, in headless Chromium against the real server
 * (startViewer on a generated in-memory AnnData with a UMAP-like embedding
 * and a cluster column):
 *   - page navigation → first frame with points (target ≤ 3 s);
 *   - lasso, pointer release → group stored and drawn on the plot (≤ 100 ms);
 *   - autosave of the 4-group session, encoded and uploaded by a worker off
 *     the page's thread and written by the server (≤ 300 ms);
 *   - capture round trip through viewer.getSessionBundle() (≤ 1 s), and the
 *     bundle's size, with one label field and the lasso groups in it.
 * Run alone with `node dist/bench/viewer.js`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { MemoryAnnData, startViewer, type Viewer } from "../src/node/index.js";
import { browserSkipReason, drawLasso, launchChromium, starPolygon } from "../test/viewer-browser.js";
import type { Section } from "./context.js";
import { seededRandom } from "./data.js";
import { Report, int, mb, ms } from "./report.js";

const N_OBS = 1_000_000;
const N_VARS = 2_000;
const CLUSTERS = 24;
const LASSOS = 4;
const TARGET = { firstDrawMs: 3000, selectionMs: 100, autosaveMs: 300, captureMs: 1000 };

function generatedAnnData(umap: Float32Array, codes: Int8Array): MemoryAnnData {
  return new MemoryAnnData({
    name: "generated-1m.h5ad",
    obs: { index: Array.from({ length: N_OBS }, (_, i) => `cell${i}`), columns: { cluster: { kind: "categorical", codes, categories: Array.from({ length: CLUSTERS }, (_, k) => `c${k}`), ordered: false } } },
    var: { index: Array.from({ length: N_VARS }, (_, i) => `gene${i}`) },
    obsm: { X_umap: { shape: [N_OBS, 2], data: umap } },
  });
}

/** Gaussian blobs of varied size and spread, like a UMAP of many cell types. */
function generate(): MemoryAnnData {
  const random = seededRandom(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: CLUSTERS }, () => [random() * 30 - 15, random() * 30 - 15, 0.4 + random() * 1.6] as const);
  const umap = new Float32Array(N_OBS * 2);
  const codes = new Int8Array(N_OBS);
  for (let i = 0; i < N_OBS; i++) {
    const k = Math.floor(random() ** 1.5 * CLUSTERS);
    const [cx, cy, s] = centres[k]!;
    umap[2 * i] = cx + gauss() * s;
    umap[2 * i + 1] = cy + gauss() * s;
    codes[i] = k;
  }
  return generatedAnnData(umap, codes);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export const viewerSection: Section = {
  title: "6. Viewer page, 1M cells (headless Chromium)",
  async run({ report }) {
    report.section(this.title, `${int(N_OBS)} cells × ${int(N_VARS)} genes, ${CLUSTERS} clusters, served by startViewer; Canvas2D pixel renderer, selection in a Web Worker`);
    const skip = browserSkipReason();
    if (skip) {
      report.note(`skipped: ${skip}`);
      return;
    }
    const store = generate();
    let viewer: Viewer | null = null;
    let browser: Browser | null = null;
    const autosaveDir = await mkdtemp(join(tmpdir(), "cellucid-bench-state-"));
    try {
      viewer = await startViewer(store, { datasetId: "generated-1m", autosaveDir });
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(60_000);

      const t0 = performance.now();
      await page.goto(viewer.url);
      await page.waitForFunction(() => window.cellucidViewer?.firstDrawMs != null, null, { polling: 20 });
      const wall = performance.now() - t0;
      await page.waitForFunction(() => window.cellucidViewer?.ready === true);
      const firstDrawMs = (await page.evaluate(() => window.cellucidViewer!.firstDrawMs))!;
      report.check("navigation → first drawn points (in-page clock)", ms(firstDrawMs, 0), `≤ ${TARGET.firstDrawMs} ms`, firstDrawMs <= TARGET.firstDrawMs);
      report.info("  goto() → first frame seen by the test", ms(wall, 0));

      // Frame time while zooming: what keeps interaction responsive.
      const box = (await page.locator("#points").boundingBox())!;
      const frames: number[] = [];
      for (let i = 0; i < 6; i++) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, i < 3 ? -120 : 120);
        await page.evaluate(() => new Promise(requestAnimationFrame));
        frames.push(await page.evaluate(() => window.cellucidViewer!.lastFrameMs));
      }
      report.info("  frame time while zooming (median of 6)", ms(median(frames)));

      await page.click("#tool-lasso");
      const times: number[] = [];
      const workerTimes: number[] = [];
      let selected = 0;
      for (let k = 0; k < LASSOS; k++) {
        // Long, jagged paths (80 vertices) like a hand-drawn lasso, over dense regions.
        const poly = starPolygon(box.x + box.width * (0.35 + 0.075 * k), box.y + box.height * 0.5, Math.min(box.width, box.height) * 0.3, 40);
        await drawLasso(page, poly);
        await page.evaluate(() => window.cellucidViewer!.settled());
        times.push((await page.evaluate(() => window.cellucidViewer!.lastSelectionMs))!);
        workerTimes.push(await page.evaluate(() => window.cellucidViewer!.lastWorkerMs));
        selected = await page.evaluate(() => window.cellucidViewer!.selection?.length ?? 0);
      }
      const sel = median(times);
      report.check(`lasso, release → group stored and drawn (median of ${LASSOS})`, ms(sel), `≤ ${TARGET.selectionMs} ms`, sel <= TARGET.selectionMs);
      report.info("  slowest lasso; cells in the last one", `${ms(Math.max(...times))}; ${int(selected)}`);
      report.info("  of which point-in-polygon in the worker (median)", ms(median(workerTimes)));
      report.info(`  frame time with the ${LASSOS} groups drawn around their cells`, ms(await page.evaluate(() => window.cellucidViewer!.lastFrameMs)));

      const saved = (await page.evaluate(() => window.cellucidViewer!.autosaveNow()))!;
      report.check(`autosave of the ${LASSOS}-group session (worker: encode + upload + atomic write)`, ms(saved.totalMs, 0), `≤ ${TARGET.autosaveMs} ms`, saved.totalMs <= TARGET.autosaveMs);
      report.info("  of which encoding in the worker; autosave size", `${ms(saved.encodeMs, 0)}; ${mb(saved.bytes, 2)}`);

      await page.fill("#field-name", "cell type");
      await page.click("#field-create");
      await page.fill("#category-name", "T cells");
      await page.click("#category-add");
      await page.click("#assign-btn");

      const captures: number[] = [];
      let bytes = 0;
      for (let k = 0; k < 3; k++) {
        const c0 = performance.now();
        const bundle = await viewer.getSessionBundle({ timeoutMs: 30_000 });
        captures.push(performance.now() - c0);
        bytes = bundle.byteLength;
        await bundle.close();
      }
      const cap = median(captures);
      const build = await page.evaluate(async () => {
        const t = performance.now();
        await window.cellucidViewer!.bundleBytes();
        return performance.now() - t;
      });
      report.check("capture round trip, getSessionBundle() (median of 3)", ms(cap, 0), `≤ ${TARGET.captureMs} ms`, cap <= TARGET.captureMs);
      report.info("  of which building the bundle in the page", ms(build, 0));
      report.info(`  bundle size (${LASSOS} lasso groups + 1 label field)`, mb(bytes, 2));
    } finally {
      await browser?.close().catch(() => undefined);
      await viewer?.close().catch(() => undefined);
      await rm(autosaveDir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = new Report();
  const t0 = performance.now();
  try {
    await viewerSection.run({ report, dir: "", children: undefined as never });
  } catch (err) {
    report.crash(viewerSection.title, err);
  }
  report.summary((performance.now() - t0) / 1000);
  process.exitCode = report.hasCrashes ? 1 : 0;
}
