/**
 * Which renderer draws the points: WebGL2 where the browser has it on a
 * GPU, else Canvas2D. A software WebGL2 (SwiftShader, llvmpipe: what Chrome
 * uses without a GPU, e.g. headless or in a VM) draws points ~100× slower
 * than the Canvas2D pixel loop (5M points: ~4 s against ~0.1 s), so there
 * Canvas2D is used too. `?renderer=webgl` asks for WebGL2 even then,
 * `?renderer=canvas` for Canvas2D; a WebGL2 that cannot be had still gets
 * Canvas2D, with the reason kept for the status line.
 */
import { CanvasRenderer, type PointRenderer } from "./render.js";
import { WebGLRenderer } from "./render-gl.js";

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The software rasterizer behind this browser's WebGL2 (from a throwaway context), or null for a GPU or no WebGL2. */
export function softwareWebGL(): string | null {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return null;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return SOFTWARE.test(name) ? name : null;
}

export function pickRenderer(canvas: HTMLCanvasElement, wanted: string | null, onRestored: () => void): { renderer: PointRenderer; note: string | null } {
  if (wanted === "canvas") return { renderer: new CanvasRenderer(canvas), note: null };
  if (wanted !== "webgl") {
    const software = softwareWebGL();
    if (software) return { renderer: new CanvasRenderer(canvas), note: `Drawing with Canvas2D: this browser's WebGL2 is a software rasterizer (${software}), slower than Canvas2D; add ?renderer=webgl to the address to use it anyway` };
  }
  try {
    return { renderer: new WebGLRenderer(canvas, onRestored), note: null };
  } catch (err) {
    // A canvas that handed out a WebGL context cannot give a 2D one: draw on a fresh one in its place.
    const fresh = canvas.cloneNode(false) as HTMLCanvasElement;
    canvas.replaceWith(fresh);
    return { renderer: new CanvasRenderer(fresh), note: `Drawing with Canvas2D: ${(err as Error).message}` };
  }
}
