/**
 * Pointer interaction on the overlay canvas: wheel zoom, drag to pan, lasso
 * and rectangle drawing. The path is drawn on the overlay only, so drawing a
 * lasso over 1M points never redraws the points.
 */
import { rectanglePolygon } from "../selection.js";
import type { View } from "../view.js";

export type Tool = "pan" | "lasso" | "rectangle";

export interface InputHandlers {
  redraw(): void;
  /** A finished lasso/rectangle in data coordinates; `t0` is performance.now() at pointer release. */
  onPolygon(polygon: Float64Array, type: "lasso" | "rectangle", t0: number): void;
}

export class CanvasInput {
  tool: Tool = "pan";
  /** The path being drawn, in canvas CSS pixels. */
  private path: number[] = [];
  private drag: { x: number; y: number } | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly overlay: HTMLCanvasElement, private readonly view: View, private readonly h: InputHandlers) {
    this.ctx = overlay.getContext("2d")!;
    overlay.addEventListener("wheel", (ev) => this.wheel(ev), { passive: false });
    overlay.addEventListener("pointerdown", (ev) => this.down(ev));
    overlay.addEventListener("pointermove", (ev) => this.move(ev));
    overlay.addEventListener("pointerup", (ev) => this.up(ev));
    overlay.addEventListener("pointercancel", () => this.reset());
  }

  setTool(tool: Tool): void {
    this.tool = tool;
    this.overlay.classList.toggle("drawing", tool !== "pan");
    this.reset();
  }

  private local(ev: MouseEvent): [number, number] {
    const r = this.overlay.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }

  private wheel(ev: WheelEvent): void {
    ev.preventDefault();
    const [x, y] = this.local(ev);
    // deltaMode 1 = lines (Firefox); scale so one notch is a comparable step.
    const delta = ev.deltaMode === 1 ? ev.deltaY * 40 : ev.deltaY;
    this.view.zoomAt(x, y, Math.exp(-delta * 0.0015));
    this.h.redraw();
  }

  private down(ev: PointerEvent): void {
    if (ev.button !== 0) return;
    this.overlay.setPointerCapture(ev.pointerId);
    const [x, y] = this.local(ev);
    this.drag = { x, y };
    this.path = [x, y];
  }

  private move(ev: PointerEvent): void {
    if (!this.drag) return;
    const [x, y] = this.local(ev);
    if (this.tool === "pan") {
      this.view.panBy(x - this.drag.x, y - this.drag.y);
      this.drag = { x, y };
      this.h.redraw();
      return;
    }
    if (this.tool === "lasso") {
      const n = this.path.length;
      if (this.path[n - 2] !== x || this.path[n - 1] !== y) this.path.push(x, y);
    } else this.path = [this.path[0]!, this.path[1]!, x, y];
    this.drawPath();
  }

  private up(ev: PointerEvent): void {
    if (!this.drag) return;
    const t0 = performance.now();
    const [x, y] = this.local(ev);
    const tool = this.tool;
    const path = this.path;
    this.reset();
    if (tool === "pan") return;
    if (tool === "rectangle") {
      const [x0, y0] = this.view.toData(path[0]!, path[1]!);
      const [x1, y1] = this.view.toData(x, y);
      if (x0 !== x1 && y0 !== y1) this.h.onPolygon(rectanglePolygon(x0, y0, x1, y1), "rectangle", t0);
      return;
    }
    const n = path.length;
    if (path[n - 2] !== x || path[n - 1] !== y) path.push(x, y);
    if (path.length < 6) return;
    const poly = new Float64Array(path.length);
    for (let i = 0; i < path.length; i += 2) {
      const [dx, dy] = this.view.toData(path[i]!, path[i + 1]!);
      poly[i] = dx;
      poly[i + 1] = dy;
    }
    this.h.onPolygon(poly, "lasso", t0);
  }

  private reset(): void {
    this.drag = null;
    this.path = [];
    this.clearOverlay();
  }

  private clearOverlay(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(this.overlay.clientWidth * dpr), h = Math.round(this.overlay.clientHeight * dpr);
    if (this.overlay.width !== w || this.overlay.height !== h) {
      this.overlay.width = w;
      this.overlay.height = h;
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.ctx.clearRect(0, 0, this.overlay.clientWidth, this.overlay.clientHeight);
  }

  private drawPath(): void {
    this.clearOverlay();
    const p = this.path;
    if (p.length < 4) return;
    const c = this.ctx;
    c.beginPath();
    if (this.tool === "rectangle") c.rect(p[0]!, p[1]!, p[2]! - p[0]!, p[3]! - p[1]!);
    else {
      c.moveTo(p[0]!, p[1]!);
      for (let i = 2; i < p.length; i += 2) c.lineTo(p[i]!, p[i + 1]!);
      c.closePath();
    }
    c.fillStyle = "rgba(31, 78, 137, 0.12)";
    c.fill();
    c.strokeStyle = "#1f4e89";
    c.lineWidth = 1.5;
    c.stroke();
  }
}
