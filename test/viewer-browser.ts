/**
 * Helpers for the viewer's browser tests: headless Chromium through
 * playwright-core (never a downloaded browser), a PNG decoder for screenshot
 * checks, and an independent even-odd point-in-polygon for expected sets.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";

/** Viewers started by the browser tests autosave into a temp state folder, never the user's own (and never each other's between runs). */
const stateHome = mkdtempSync(join(tmpdir(), "cellucid-state-"));
process.env["XDG_STATE_HOME"] = stateHome;
process.once("exit", () => rmSync(stateHome, { recursive: true, force: true }));

export const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Why browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/** Browser tests never skip: a missing Chromium fails them with how to install it. */
export function launchChromium(): Promise<Browser> {
  const missing = browserSkipReason();
  if (missing) return Promise.reject(new Error(`Chromium is required for the viewer tests: ${missing}`));
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // WebGL2 through SwiftShader (ANGLE on a CPU Vulkan): the page's default renderer runs here, with no GPU.
    args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 30_000,
  });
}

/** Opens the viewer and waits until it has drawn its data; page errors fail loudly in `errors`. */
export async function openViewerPage(browser: Browser, url: string, errors: string[] = []): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.cellucidViewer?.ready === true);
  return page;
}

/** Even-odd rule, written independently of the page's banded implementation. */
export function insidePolygon(x: number, y: number, poly: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A star-shaped, non-convex polygon in integer page pixels (mouse events carry integer coordinates). */
export function starPolygon(cx: number, cy: number, r: number, points = 9): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < points * 2; k++) {
    const a = (Math.PI * k) / points + 0.2;
    const rr = k % 2 === 0 ? r : r * 0.55;
    out.push([Math.round(cx + rr * Math.cos(a)), Math.round(cy + rr * Math.sin(a))]);
  }
  return out;
}

/** Drags a lasso through the vertices with real mouse events. */
export async function drawLasso(page: Page, poly: [number, number][]): Promise<void> {
  await page.mouse.move(poly[0]![0], poly[0]![1]);
  await page.mouse.down();
  for (const [x, y] of poly.slice(1)) await page.mouse.move(x, y);
  await page.mouse.up();
}

/** The colour on screen at page pixel (x, y), as "#rrggbb", from a 1-pixel screenshot. */
export async function pixelColor(page: Page, x: number, y: number): Promise<string> {
  const png = decodePng(await page.screenshot({ clip: { x: Math.floor(x), y: Math.floor(y), width: 1, height: 1 } }));
  return "#" + Array.from(png.pixels.subarray(0, 3), (v) => v.toString(16).padStart(2, "0")).join("");
}

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  pixels: Uint8Array;
}

/** Minimal PNG reader for screenshots: 8-bit RGB/RGBA, not interlaced. */
export function decodePng(png: Uint8Array): DecodedPng {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0, height = 0, colorType = 0;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = dv.getUint32(at + 8);
      height = dv.getUint32(at + 12);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("only 8-bit non-interlaced PNGs are supported");
      colorType = data[9]!;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!channels) throw new Error(`unsupported PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? rows.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels]! : 0, b = prev[i]!, c = i >= channels ? prev[i - channels]! : 0;
      let v = src[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = v & 0xff;
    }
  }
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < 3; ch++) pixels[i * 4 + ch] = rows[i * channels + ch]!;
    pixels[i * 4 + 3] = channels === 4 ? rows[i * 4 + 3]! : 255;
  }
  return { width, height, pixels };
}
