/**
 * Which renderer draws the points: WebGL2 where the browser has it, else
 * Canvas2D. `?renderer=canvas` (or `webgl`) in the page address asks for
 * one; asking for WebGL2 where it is missing still gets Canvas2D, and the
 * reason is kept for the status line.
 */
import { CanvasRenderer, type PointRenderer } from "./render.js";
import { WebGLRenderer } from "./render-gl.js";

export function pickRenderer(canvas: HTMLCanvasElement, wanted: string | null, onRestored: () => void): { renderer: PointRenderer; note: string | null } {
  if (wanted === "canvas") return { renderer: new CanvasRenderer(canvas), note: null };
  try {
    return { renderer: new WebGLRenderer(canvas, onRestored), note: null };
  } catch (err) {
    // A canvas that handed out a WebGL context cannot give a 2D one: draw on a fresh one in its place.
    const fresh = canvas.cloneNode(false) as HTMLCanvasElement;
    canvas.replaceWith(fresh);
    return { renderer: new CanvasRenderer(fresh), note: `Drawing with Canvas2D: ${(err as Error).message}` };
  }
}
