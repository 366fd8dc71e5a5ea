/**
 * What a point renderer draws, the choice between the two renderers, and the
 * Canvas2D one: a pixel loop into one ImageData, kept as the fallback where
 * WebGL2 is missing (and selectable with `?renderer=canvas`). The WebGL2 one
 * (render-gl.ts) draws the same layer to the same pixels.
 */
import type { Halo } from "./overlays.js";
import { BACKGROUND, hexToRgba32 } from "./palette.js";
import type { TurnColumns } from "./projection.js";
import type { View } from "./view.js";

export interface Layer {
  xs: Float32Array;
  ys: Float32Array;
  /** A 3D embedding's columns and rotation, for a renderer that turns the points itself (then xs, ys may lag behind). */
  turn?: (TurnColumns & { yaw: number; pitch: number }) | null;
  /** One RGBA word per point; 0 = hidden (not drawn). */
  colors: Uint32Array;
  /** Changes whenever `colors` is rewritten in place (renderers that copy the colours compare it). */
  colorsVersion: number;
  /**
   * Draw rank per point: a higher rank is drawn over a lower one, points of
   * one rank in index order (later on top). Absent: index order.
   */
  rank?: Uint16Array | null;
  /** While the view moves: the only points drawn (a fixed sample, in index order); null draws all. */
  subset?: Uint32Array | null;
  /** Rims drawn under the points, in order (later ones on top): the cells keep their own colour inside. */
  halos: Halo[];
}

export type RendererKind = "webgl2" | "canvas2d";

export interface PointRenderer {
  readonly kind: RendererKind;
  readonly canvas: HTMLCanvasElement;
  /** Wall time of the last draw, until its pixels were done (the GPU included). */
  readonly lastFrameMs: number;
  /** Points drawn in the last frame (halos not counted). */
  readonly lastPoints: number;
  draw(view: View, layer: Layer | null): void;
}

export const BG = hexToRgba32(BACKGROUND);

/** Dense data gets 1-pixel points (overdraw hides nothing more); sparse data bigger ones, to stay visible. */
export function pointSize(n: number, dpr: number): number {
  const css = n > 300_000 ? 1 : n > 30_000 ? 2 : 3;
  return Math.max(1, Math.round(css * dpr));
}

/** Halo rims are this much wider than the points, on every side. */
export function rimSize(size: number, dpr: number): number {
  return size + 2 * Math.max(1, Math.round(dpr));
}

/** Matches the backing store to the element's CSS size; returns the device pixel ratio used. */
export function fitToElement(canvas: HTMLCanvasElement): number {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  return dpr;
}

export class CanvasRenderer implements PointRenderer {
  readonly kind = "canvas2d";
  private image: ImageData | null = null;
  private words: Uint32Array | null = null;
  /** Per pixel, the rank of the point drawn there (ranked layers only). */
  private depth: Uint16Array | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  lastFrameMs = 0;
  lastPoints = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("this browser cannot draw on a canvas");
    this.ctx = ctx;
  }

  draw(view: View, layer: Layer | null): void {
    const t0 = performance.now();
    const dpr = fitToElement(this.canvas);
    const W = this.canvas.width, H = this.canvas.height;
    if (!this.image || this.image.width !== W || this.image.height !== H) {
      this.image = this.ctx.createImageData(W, H);
      this.words = new Uint32Array(this.image.data.buffer);
      this.depth = null;
    }
    const words = this.words!;
    words.fill(BG);
    this.lastPoints = 0;
    if (layer) {
      const k = view.scale * dpr;
      const tx = W / 2 - view.cx * k;
      const ty = H / 2 + view.cy * k;
      // A subset is drawn with the points of a dataset its size (bigger when smaller), so the picture keeps its density.
      const size = pointSize(layer.subset ? layer.subset.length : layer.xs.length, dpr);
      const { xs, ys, colors } = layer;
      const list = layer.subset ?? null;
      const rank = layer.rank ?? null;
      const count = list ? list.length : xs.length;
      const rim = rimSize(size, dpr);
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
      if (rank) {
        // By rank, without visiting the cells in that order (a gather that costs several times the draw): a depth test per pixel.
        const depth = (this.depth ??= new Uint16Array(W * H));
        depth.fill(0);
        for (let j = 0; j < count; j++) {
          const i = list ? list[j]! : j;
          const c = colors[i]!;
          if (c === 0) continue;
          const r = rank[i]!;
          const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
          if (size === 1) {
            if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
            const o = (py | 0) * W + (px | 0);
            if (r >= depth[o]!) {
              depth[o] = r;
              words[o] = c;
            }
          } else this.square(words, W, H, px, py, size, c, depth, r);
        }
      } else if (size === 1) {
        for (let j = 0; j < count; j++) {
          const i = list ? list[j]! : j;
          const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
          // Negated comparisons also drop NaN coordinates.
          if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
          const c = colors[i]!;
          if (c !== 0) words[(py | 0) * W + (px | 0)] = c;
        }
      } else {
        for (let j = 0; j < count; j++) {
          const i = list ? list[j]! : j;
          if (colors[i] !== 0) this.square(words, W, H, xs[i]! * k + tx, ty - ys[i]! * k, size, colors[i]!);
        }
      }
      this.lastPoints = count;
    }
    this.ctx.putImageData(this.image!, 0, 0);
    this.lastFrameMs = performance.now() - t0;
  }

  /** A square of `size` pixels; with `depth`, only over pixels holding no higher rank than `rank`. */
  private square(words: Uint32Array, W: number, H: number, px: number, py: number, size: number, color: number, depth: Uint16Array | null = null, rank = 0): void {
    if (!(px > -size && px < W + size && py > -size && py < H + size)) return;
    const half = size >> 1;
    const x0 = Math.max(0, Math.floor(px) - half), x1 = Math.min(W, Math.floor(px) - half + size);
    const y0 = Math.max(0, Math.floor(py) - half), y1 = Math.min(H, Math.floor(py) - half + size);
    for (let y = y0; y < y1; y++) {
      const row = y * W;
      for (let x = x0; x < x1; x++) {
        if (depth) {
          if (rank < depth[row + x]!) continue;
          depth[row + x] = rank;
        }
        words[row + x] = color;
      }
    }
  }
}
