/**
 * Pointer interaction on the overlay canvas: wheel zoom, drag to pan, lasso
 * and rectangle drawing. The path is drawn on the overlay only, so drawing a
 * lasso over 1M points never redraws the points. Esc cancels a drag; Shift
 * at release adds the cells to the selection, Alt removes them from it.
 */
import { rectanglePolygon } from "../selection.js";
import type { View } from "../view.js";

export type Tool = "pan" | "lasso" | "rectangle";
/** What a gesture does with the cells it encloses: a new selection (and group), or a change to the current selection. */
export type SelectMode = "new" | "add" | "subtract";

export interface InputHandlers {
  redraw(): void;
  /** A finished lasso/rectangle in data coordinates; `t0` is performance.now() at pointer release. */
  onPolygon(polygon: Float64Array, type: "lasso" | "rectangle", t0: number, mode: SelectMode): void;
  /** The polygon being drawn (data coordinates), for a live preview; null when the drag ended or was cancelled. */
  onPreview(polygon: Float64Array | null): void;
  /** The pointer over the plot with no button down (canvas CSS pixels); null when it left or a drag began. */
  onHover(at: { x: number; y: number } | null): void;
  /** A press and release without moving (any tool). */
  onClick(x: number, y: number): void;
}

/** A press that moves less than this (CSS pixels) before release is a click. */
const CLICK_SLOP = 4;

export class CanvasInput {
  tool: Tool = "pan";
  /** The path being drawn, in canvas CSS pixels. */
  private path: number[] = [];
  private drag: { x: number; y: number } | null = null;
  private pressedAt: { x: number; y: number } | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly overlay: HTMLCanvasElement, private readonly view: View, private readonly h: InputHandlers) {
    this.ctx = overlay.getContext("2d")!;
    overlay.addEventListener("wheel", (ev) => this.wheel(ev), { passive: false });
    overlay.addEventListener("pointerdown", (ev) => this.down(ev));
    overlay.addEventListener("pointermove", (ev) => this.move(ev));
    overlay.addEventListener("pointerup", (ev) => this.up(ev));
    overlay.addEventListener("pointercancel", () => this.cancel());
    overlay.addEventListener("pointerleave", () => this.h.onHover(null));
    window.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.drag) {
        ev.preventDefault();
        this.cancel();
      }
    });
  }

  get dragging(): boolean {
    return this.drag !== null;
  }

  /** Ends a drag without selecting anything. */
  cancel(): void {
    this.reset();
    this.h.onPreview(null);
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
    this.pressedAt = { x, y };
    this.path = [x, y];
    this.h.onHover(null);
  }

  private move(ev: PointerEvent): void {
    const [x, y] = this.local(ev);
    if (!this.drag) return this.h.onHover({ x, y });
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
    const poly = this.polygon(this.tool, this.path);
    if (poly) this.h.onPreview(poly);
  }

  /** The drawn path as a data-space polygon, or null while it encloses nothing. */
  private polygon(tool: Tool, path: number[]): Float64Array | null {
    if (tool === "rectangle") {
      if (path.length < 4) return null;
      const [x0, y0] = this.view.toData(path[0]!, path[1]!);
      const [x1, y1] = this.view.toData(path[2]!, path[3]!);
      return x0 !== x1 && y0 !== y1 ? rectanglePolygon(x0, y0, x1, y1) : null;
    }
    if (path.length < 6) return null;
    const poly = new Float64Array(path.length);
    for (let i = 0; i < path.length; i += 2) {
      const [dx, dy] = this.view.toData(path[i]!, path[i + 1]!);
      poly[i] = dx;
      poly[i + 1] = dy;
    }
    return poly;
  }

  private up(ev: PointerEvent): void {
    if (!this.drag) return;
    const t0 = performance.now();
    const [x, y] = this.local(ev);
    const tool = this.tool;
    const path = this.path;
    const pressed = this.pressedAt;
    this.reset();
    if (pressed && Math.hypot(x - pressed.x, y - pressed.y) < CLICK_SLOP) {
      this.h.onPreview(null);
      return this.h.onClick(x, y);
    }
    if (tool === "pan") return;
    if (tool === "rectangle") path.splice(2, 2, x, y);
    else if (path[path.length - 2] !== x || path[path.length - 1] !== y) path.push(x, y);
    const poly = this.polygon(tool, path);
    const mode: SelectMode = ev.shiftKey ? "add" : ev.altKey ? "subtract" : "new";
    if (poly) this.h.onPolygon(poly, tool, t0, mode);
    else this.h.onPreview(null);
  }

  private reset(): void {
    this.drag = null;
    this.pressedAt = null;
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
