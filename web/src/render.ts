/**
 * Points drawn with a Canvas2D pixel loop into one ImageData. Chosen over
 * WebGL because it behaves the same everywhere, including headless Chromium
 * with --disable-gpu (where WebGL falls back to a slow software rasterizer):
 * 1M points are one tight loop of integer stores, ~10-30 ms a frame.
 */
import type { Halo } from "./overlays.js";
import { BACKGROUND, hexToRgba32 } from "./palette.js";
import type { View } from "./view.js";

export interface Layer {
  xs: Float32Array;
  ys: Float32Array;
  /** One RGBA word per point; 0 = hidden (not drawn). */
  colors: Uint32Array;
  /** The order to draw points in (later on top); index order when absent. */
  order?: Uint32Array | null;
  /** Rims drawn under the points, in order (later ones on top): the cells keep their own colour inside. */
  halos: Halo[];
}

const BG = hexToRgba32(BACKGROUND);

/** Dense data gets 1-pixel points (overdraw hides nothing more); sparse data bigger ones, to stay visible. */
export function pointSize(n: number, dpr: number): number {
  const css = n > 300_000 ? 1 : n > 30_000 ? 2 : 3;
  return Math.max(1, Math.round(css * dpr));
}

export class PointRenderer {
  private image: ImageData | null = null;
  private words: Uint32Array | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  lastFrameMs = 0;
  frames = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
  }

  /** Matches the backing store to the element's CSS size; returns the device pixel ratio used. */
  fitToElement(): number {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    if (!this.image || this.image.width !== w || this.image.height !== h) {
      this.image = this.ctx.createImageData(w, h);
      this.words = new Uint32Array(this.image.data.buffer);
    }
    return dpr;
  }

  draw(view: View, layer: Layer | null): void {
    const t0 = performance.now();
    const dpr = this.fitToElement();
    const words = this.words!;
    words.fill(BG);
    if (layer) {
      const W = this.canvas.width, H = this.canvas.height;
      const k = view.scale * dpr;
      const tx = W / 2 - view.cx * k;
      const ty = H / 2 + view.cy * k;
      const size = pointSize(layer.xs.length, dpr);
      const { xs, ys, colors } = layer;
      const order = layer.order ?? null;
      const rim = size + 2 * Math.max(1, Math.round(dpr));
      for (const halo of layer.halos) {
        const cells = halo.cells, color = halo.color;
        if (rim === 3) {
          // The common dense case (1-pixel points, no HiDPI), inlined: 3×3 stores per cell, no call.
          for (let j = 0; j < cells.length; j++) {
            const i = cells[j]!;
            if (colors[i] === 0) continue;
            const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
            if (!(px >= 1 && px < W - 1 && py >= 1 && py < H - 1)) continue;
            const o = (py | 0) * W + (px | 0);
            words[o - W - 1] = words[o - W] = words[o - W + 1] = color;
            words[o - 1] = words[o] = words[o + 1] = color;
            words[o + W - 1] = words[o + W] = words[o + W + 1] = color;
          }
        } else {
          for (let j = 0; j < cells.length; j++) {
            const i = cells[j]!;
            if (colors[i] !== 0) this.square(words, W, H, xs[i]! * k + tx, ty - ys[i]! * k, rim, color);
          }
        }
      }
      if (size === 1) {
        for (let j = 0; j < xs.length; j++) {
          const i = order ? order[j]! : j;
          const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
          // Negated comparisons also drop NaN coordinates.
          if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
          const c = colors[i]!;
          if (c !== 0) words[(py | 0) * W + (px | 0)] = c;
        }
      } else {
        for (let j = 0; j < xs.length; j++) {
          const i = order ? order[j]! : j;
          if (colors[i] !== 0) this.square(words, W, H, xs[i]! * k + tx, ty - ys[i]! * k, size, colors[i]!);
        }
      }
    }
    this.ctx.putImageData(this.image!, 0, 0);
    this.lastFrameMs = performance.now() - t0;
    this.frames++;
  }

  private square(words: Uint32Array, W: number, H: number, px: number, py: number, size: number, color: number): void {
    if (!(px > -size && px < W + size && py > -size && py < H + size)) return;
    const half = size >> 1;
    const x0 = Math.max(0, Math.floor(px) - half), x1 = Math.min(W, Math.floor(px) - half + size);
    const y0 = Math.max(0, Math.floor(py) - half), y1 = Math.min(H, Math.floor(py) - half + size);
    for (let y = y0; y < y1; y++) {
      const row = y * W;
      for (let x = x0; x < x1; x++) words[row + x] = color;
    }
  }
}
