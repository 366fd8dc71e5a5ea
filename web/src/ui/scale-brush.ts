/**
 * Range selection on the continuous legend: drag across the scale bar (or
 * type the bounds) and the cells whose value lies in [from, to] become a
 * group of the web app's `range` type. Dragging to either end of the bar
 * reaches the data's min / max, past the clip.
 */
import type { ValueRange } from "../continuous.js";
import { byId, guard } from "./dom.js";

export interface ScaleBrushHost {
  continuous: { range: ValueRange } | null;
  selectRange(a: number, b: number): Promise<Uint32Array | null>;
}

/** A drag shorter than this share of the bar is a click, not a range. */
const MIN_DRAG = 0.01;

export class ScaleBrush {
  private readonly bar = byId("scale-bar");
  private readonly brush = byId("scale-brush");
  private readonly from = byId<HTMLInputElement>("range-min");
  private readonly to = byId<HTMLInputElement>("range-max");
  private start: number | null = null;

  constructor(private readonly host: ScaleBrushHost) {
    this.bar.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0 || !host.continuous) return;
      this.bar.setPointerCapture(ev.pointerId);
      this.start = this.fraction(ev);
      this.show(this.start, this.start);
    });
    this.bar.addEventListener("pointermove", (ev) => {
      if (this.start !== null) this.show(this.start, this.fraction(ev));
    });
    this.bar.addEventListener("pointerup", guard(async () => {
      const start = this.start;
      this.start = null;
      const end = this.shownEnd;
      if (start === null || Math.abs(end - start) < MIN_DRAG) return this.hide();
      const a = this.valueAt(Math.min(start, end)), b = this.valueAt(Math.max(start, end));
      this.from.value = String(a);
      this.to.value = String(b);
      await host.selectRange(a, b);
    }));
    this.bar.addEventListener("pointercancel", () => {
      this.start = null;
      this.hide();
    });
    byId("range-group").addEventListener("click", guard(async () => {
      const a = Number(this.from.value), b = Number(this.to.value);
      if (this.from.value.trim() === "" || this.to.value.trim() === "" || !Number.isFinite(a) || !Number.isFinite(b)) throw new Error("Give both ends of the range as numbers");
      this.hide();
      await host.selectRange(a, b);
    }));
  }

  /** Called when the colouring changes: a brush over another scale means nothing. */
  reset(): void {
    this.hide();
    this.from.value = "";
    this.to.value = "";
  }

  private shownEnd = 0;

  private fraction(ev: PointerEvent): number {
    const r = this.bar.getBoundingClientRect();
    return Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
  }

  /** The bar spans [lo, hi]; its very ends reach the data's min and max. */
  private valueAt(f: number): number {
    const r = this.host.continuous!.range;
    if (f <= 0) return r.min;
    if (f >= 1) return r.max;
    return Number((r.lo + f * (r.hi - r.lo)).toPrecision(4));
  }

  private show(a: number, b: number): void {
    this.shownEnd = b;
    this.brush.hidden = false;
    this.brush.style.left = `${Math.min(a, b) * 100}%`;
    this.brush.style.width = `${Math.abs(b - a) * 100}%`;
  }

  private hide(): void {
    this.brush.hidden = true;
  }
}
