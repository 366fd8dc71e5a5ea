/**
 * Points drawn with WebGL2. Positions go to the GPU once per projection and
 * colours once per colouring (compared by identity and `colorsVersion`);
 * panning and zooming only change uniforms. Draw orders, subsets and halo
 * cell lists are index buffers kept while the same arrays are drawn.
 *
 * It draws the pixels the Canvas2D renderer draws: square points of the same
 * size snapped to the same device pixels, halos first in their colours, then
 * the points in draw order, exact colours (no blending, no antialiasing).
 */
import { orderByRank } from "./continuous.js";
import { pointSize, rimSize } from "./point-size.js";
import type { Layer } from "./layer.js";
import { BG, type PointRenderer, fitToElement } from "./render.js";
import type { View } from "./view.js";

const VERTEX = `#version 300 es
layout(location = 0) in float a_x;
layout(location = 1) in float a_y;
layout(location = 2) in vec4 a_color;
layout(location = 3) in float a_z;
uniform bool u_turn;
uniform vec3 u_turnCentre;
/** cos and sin of yaw, then of pitch. */
uniform vec4 u_turnTrig;
uniform vec2 u_centre;
uniform float u_k;
uniform vec2 u_size;
uniform float u_point;
uniform vec4 u_rim;
out vec4 v_color;
void main() {
  vec2 d = vec2(a_x, a_y);
  if (u_turn) {
    // As projection.ts turns them: yaw about the vertical, then pitch about the horizontal, around the centre.
    vec3 q = vec3(a_x, a_y, a_z) - u_turnCentre;
    float x1 = q.x * u_turnTrig.x + q.z * u_turnTrig.y;
    float z1 = q.z * u_turnTrig.x - q.x * u_turnTrig.y;
    d = vec2(x1 + u_turnCentre.x, q.y * u_turnTrig.z - z1 * u_turnTrig.w + u_turnCentre.y);
  }
  // Device pixels from the top left, as the Canvas2D loop computes them, snapped the same way:
  // the pixel under the point, squares of odd size centred on it, of even size a half pixel up-left.
  vec2 p = vec2((d.x - u_centre.x) * u_k + 0.5 * u_size.x, 0.5 * u_size.y - (d.y - u_centre.y) * u_k);
  p = floor(p) + (mod(u_point, 2.0) == 1.0 ? 0.5 : 0.0);
  bool hidden = a_color.a == 0.0 || isnan(d.x) || isnan(d.y);
  gl_Position = hidden ? vec4(2.0, 2.0, 2.0, 1.0) : vec4(p.x / u_size.x * 2.0 - 1.0, 1.0 - p.y / u_size.y * 2.0, 0.0, 1.0);
  gl_PointSize = u_point;
  v_color = u_rim.a > 0.0 ? u_rim : a_color;
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in vec4 v_color;
out vec4 o_color;
void main() { o_color = v_color; }`;

interface Uploaded {
  buffer: WebGLBuffer;
  /** Frame it was last drawn in; buffers a full frame did not draw are freed after it. */
  frame: number;
}

export class WebGLRenderer implements PointRenderer {
  readonly kind = "webgl2";
  lastFrameMs = 0;
  lastPoints = 0;
  readonly lastRedrew = true;
  private readonly gl: WebGL2RenderingContext;
  private program!: WebGLProgram;
  private vao!: WebGLVertexArrayObject;
  private uniforms!: Record<"centre" | "k" | "size" | "point" | "rim" | "turn" | "turnCentre" | "turnTrig", WebGLUniformLocation | null>;
  private xBuffer!: WebGLBuffer;
  private yBuffer!: WebGLBuffer;
  private zBuffer!: WebGLBuffer;
  private zs: Float32Array | null = null;
  private colorBuffer!: WebGLBuffer;
  private xs: Float32Array | null = null;
  private ys: Float32Array | null = null;
  private colors: Uint32Array | null = null;
  private colorsVersion = -1;
  private indices = new Map<Uint32Array, Uploaded>();
  /** Draw orders made from a rank (the GPU draws in list order), per list drawn (null: all cells), for the current rank. */
  private orders: { rank: Uint16Array | null; byList: Map<Uint32Array | null, Uint32Array> } = { rank: null, byList: new Map() };
  private frame = 0;
  private lost = false;
  private readonly probe = new Uint8Array(4);

  /** Throws when the browser has no WebGL2 (the caller falls back to Canvas2D). */
  constructor(readonly canvas: HTMLCanvasElement, onRestored: () => void) {
    const gl = canvas.getContext("webgl2", { alpha: false, antialias: false, depth: false, stencil: false, preserveDrawingBuffer: true, powerPreference: "high-performance" });
    if (!gl) throw new Error("WebGL2 is not available");
    this.gl = gl;
    this.setup();
    // A lost context (GPU reset, too many contexts) draws nothing until restored; then everything is uploaded again.
    canvas.addEventListener("webglcontextlost", (ev) => {
      ev.preventDefault();
      this.lost = true;
    });
    canvas.addEventListener("webglcontextrestored", () => {
      this.lost = false;
      this.xs = this.ys = this.zs = this.colors = null;
      this.indices = new Map();
      this.setup();
      onRestored();
    });
  }

  private setup(): void {
    const gl = this.gl;
    const shader = (type: number, source: string): WebGLShader => {
      const s = gl.createShader(type)!;
      gl.shaderSource(s, source);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS) && !gl.isContextLost()) throw new Error(`WebGL2 shader: ${gl.getShaderInfoLog(s)}`);
      return s;
    };
    const program = gl.createProgram()!;
    gl.attachShader(program, shader(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, shader(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) throw new Error(`WebGL2 program: ${gl.getProgramInfoLog(program)}`);
    this.program = program;
    const at = (name: string) => gl.getUniformLocation(program, name);
    this.uniforms = {
      centre: at("u_centre"), k: at("u_k"), size: at("u_size"), point: at("u_point"), rim: at("u_rim"),
      turn: at("u_turn"), turnCentre: at("u_turnCentre"), turnTrig: at("u_turnTrig"),
    };
    this.vao = gl.createVertexArray()!;
    gl.bindVertexArray(this.vao);
    const attribute = (location: number, size: number, type: number, normalized: boolean): WebGLBuffer => {
      const b = gl.createBuffer()!;
      gl.bindBuffer(gl.ARRAY_BUFFER, b);
      gl.enableVertexAttribArray(location);
      gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
      return b;
    };
    this.xBuffer = attribute(0, 1, gl.FLOAT, false);
    this.yBuffer = attribute(1, 1, gl.FLOAT, false);
    // RGBA words are bytes R, G, B, A in memory (little-endian), read as normalized vec4.
    this.colorBuffer = attribute(2, 4, gl.UNSIGNED_BYTE, true);
    this.zBuffer = attribute(3, 1, gl.FLOAT, false);
    gl.disable(gl.BLEND);
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.DITHER);
  }

  draw(view: View, layer: Layer | null): void {
    const t0 = performance.now();
    const gl = this.gl;
    const dpr = fitToElement(this.canvas);
    const W = this.canvas.width, H = this.canvas.height;
    this.frame++;
    this.lastPoints = 0;
    if (this.lost) return;
    gl.viewport(0, 0, W, H);
    gl.clearColor((BG & 0xff) / 255, ((BG >>> 8) & 0xff) / 255, ((BG >>> 16) & 0xff) / 255, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (layer) {
      this.upload(layer);
      gl.useProgram(this.program);
      gl.bindVertexArray(this.vao);
      const u = this.uniforms;
      gl.uniform2f(u.centre, view.cx, view.cy);
      gl.uniform1f(u.k, view.scale * dpr);
      gl.uniform2f(u.size, W, H);
      // Unturned, the columns are drawn as they are (the same float arithmetic as Canvas2D, so the same pixels).
      const turn = layer.turn && (layer.turn.yaw !== 0 || layer.turn.pitch !== 0) ? layer.turn : null;
      gl.uniform1i(u.turn, turn ? 1 : 0);
      // Flat embeddings have no depth column: a constant stands in for it.
      if (layer.turn) gl.enableVertexAttribArray(3);
      else {
        gl.disableVertexAttribArray(3);
        gl.vertexAttrib1f(3, 0);
      }
      if (turn) {
        const yaw = (turn.yaw * Math.PI) / 180, pitch = (turn.pitch * Math.PI) / 180;
        gl.uniform3f(u.turnCentre, ...turn.centre);
        gl.uniform4f(u.turnTrig, Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch));
      }
      // A subset is drawn with the points of a dataset its size (bigger when smaller), so the picture keeps its density.
      const size = pointSize(layer.subset ? layer.subset.length : layer.xs.length, dpr);
      gl.uniform1f(u.point, rimSize(size, dpr));
      for (const halo of layer.halos) {
        const c = halo.color;
        gl.uniform4f(u.rim, (c & 0xff) / 255, ((c >>> 8) & 0xff) / 255, ((c >>> 16) & 0xff) / 255, 1);
        this.drawList(halo.cells);
      }
      gl.uniform1f(u.point, size);
      gl.uniform4f(u.rim, 0, 0, 0, 0);
      const list = layer.rank ? this.ordered(layer.rank, layer.subset ?? null) : (layer.subset ?? null);
      if (list) this.drawList(list);
      else gl.drawArrays(gl.POINTS, 0, layer.xs.length);
      this.lastPoints = list ? list.length : layer.xs.length;
    }
    // Full frames free the lists they did not draw; moving frames keep them (the full draw order and group lists come back when the view is still).
    if (!layer?.subset)
      for (const [cells, up] of this.indices)
        if (up.frame !== this.frame) {
          gl.deleteBuffer(up.buffer);
          this.indices.delete(cells);
        }
    // Reading one pixel waits for the GPU: the frame time then counts the drawing, not just its submission.
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.probe);
    this.lastFrameMs = performance.now() - t0;
  }

  private upload(layer: Layer): void {
    const gl = this.gl;
    // A turned embedding is drawn from its columns (the z column only then); a flat one from xs, ys.
    const xs = layer.turn?.x ?? layer.xs, ys = layer.turn?.y ?? layer.ys, zs = layer.turn?.z ?? null;
    if (xs !== this.xs) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.xBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, xs, gl.STATIC_DRAW);
      this.xs = xs;
    }
    if (ys !== this.ys) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.yBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, ys, gl.STATIC_DRAW);
      this.ys = ys;
    }
    if (zs && zs !== this.zs) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.zBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, zs, gl.STATIC_DRAW);
      this.zs = zs;
    }
    if (layer.colors !== this.colors || layer.colorsVersion !== this.colorsVersion) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
      const bytes = new Uint8Array(layer.colors.buffer, layer.colors.byteOffset, layer.colors.byteLength);
      if (layer.colors.length === this.colors?.length) gl.bufferSubData(gl.ARRAY_BUFFER, 0, bytes);
      else gl.bufferData(gl.ARRAY_BUFFER, bytes, gl.DYNAMIC_DRAW);
      this.colors = layer.colors;
      this.colorsVersion = layer.colorsVersion;
    }
  }

  /** `list` (all cells when null) in draw order by `rank`, kept while the rank is. */
  private ordered(rank: Uint16Array, list: Uint32Array | null): Uint32Array {
    if (this.orders.rank !== rank) this.orders = { rank, byList: new Map() };
    let order = this.orders.byList.get(list);
    if (!order) this.orders.byList.set(list, (order = orderByRank(rank, list)));
    return order;
  }

  /** Draws the points listed in `cells` (an index buffer uploaded on first use). */
  private drawList(cells: Uint32Array): void {
    if (cells.length === 0) return;
    const gl = this.gl;
    let up = this.indices.get(cells);
    if (!up) {
      up = { buffer: gl.createBuffer()!, frame: this.frame };
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, up.buffer);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, cells, gl.STATIC_DRAW);
      this.indices.set(cells, up);
    } else gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, up.buffer);
    up.frame = this.frame;
    gl.drawElements(gl.POINTS, cells.length, gl.UNSIGNED_INT, 0);
  }
}
