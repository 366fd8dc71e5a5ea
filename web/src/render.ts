/**
 * A point renderer's interface, the choice between the two renderers, and the
 * Canvas2D one: pixel loops (pixel-frame.ts) into one ImageData, kept as the fallback where
 * WebGL2 is missing (and selectable with `?renderer=canvas`). The WebGL2 one
 * (render-gl.ts) draws the same layer to the same pixels.
 */
import type { Layer } from "./layer.js";
import { PixelFrame } from "./pixel-frame.js";
import { BACKGROUND, hexToRgba32 } from "./palette.js";
import type { View } from "./view.js";

export type RendererKind = "webgl2" | "canvas2d";

export interface PointRenderer {
  readonly kind: RendererKind;
  readonly canvas: HTMLCanvasElement;
  /** Wall time of the last draw, until its pixels were done (the GPU included). */
  readonly lastFrameMs: number;
  /** Points drawn in the last frame (halos not counted). */
  readonly lastPoints: number;
  /** The last frame drew its points anew (not reused from the frame before): only such frames tell how long points take. */
  readonly lastRedrew: boolean;
  draw(view: View, layer: Layer | null): void;
}

export const BG = hexToRgba32(BACKGROUND);

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
  private readonly frame = new PixelFrame();
  private readonly ctx: CanvasRenderingContext2D;
  lastFrameMs = 0;
  lastPoints = 0;
  lastRedrew = true;

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
    }
    const words = this.words!;
    this.lastPoints = 0;
    if (layer) {
      const k = view.scale * dpr;
      this.lastPoints = this.frame.draw(words, BG, { W, H, k, tx: W / 2 - view.cx * k, ty: H / 2 + view.cy * k, dpr }, layer);
      this.lastRedrew = this.frame.redrew;
    } else words.fill(BG);
    this.ctx.putImageData(this.image, 0, 0);
    this.lastFrameMs = performance.now() - t0;
  }
}
