/**
 * View controls: embedding, axes and rotation, colour by, legend, tool
 * buttons, fit. The legend lists every category of the colouring with its
 * cell count, missing cells included; a click hides or shows a category, a
 * double-click shows it alone, + makes a group of its cells.
 */
import type { ViewerConfig } from "../api.js";
import { SCALE_CSS, type ValueRange, formatValue } from "../continuous.js";
import { categoryColor, MISSING } from "../palette.js";
import type { ViewerState } from "../state.js";
import type { Tool } from "./canvas-input.js";
import { byId, el, formatCount, guard, setOptions, setStatus, swatch } from "./dom.js";
import { ScaleBrush, type ScaleBrushHost } from "./scale-brush.js";

export interface ControlsHost extends ScaleBrushHost {
  readonly config: ViewerConfig;
  readonly state: ViewerState;
  embeddingKey: string | null;
  axes: [number, number];
  rotation: { yaw: number; pitch: number };
  colorBy: string;
  setEmbedding(key: string): Promise<void>;
  setAxes(x: number, y: number): void;
  setRotation(yaw: number, pitch: number): void;
  setColorBy(value: string): Promise<void>;
  setTool(tool: Tool): void;
  fit(): void;
  categoryCodes(): { categories: string[] } | null;
  continuous: { label: string; range: ValueRange } | null;
  clip: [number, number];
  setClip(low: number, high: number): void;
  categoryCounts(): number[];
  cellsOfCategory(code: number): Uint32Array;
  hiddenSet(): Set<number>;
  recolor(): void;
}

export class Controls {
  private readonly embedding = byId<HTMLSelectElement>("embedding-select");
  private readonly axisX = byId<HTMLSelectElement>("axis-x");
  private readonly axisY = byId<HTMLSelectElement>("axis-y");
  private readonly yaw = byId<HTMLInputElement>("rotate-yaw");
  private readonly pitch = byId<HTMLInputElement>("rotate-pitch");
  private rotateQueued = false;
  private readonly color = byId<HTMLSelectElement>("color-select");
  private readonly legend = byId<HTMLUListElement>("legend");
  private readonly brush: ScaleBrush;
  /** The colouring the scale legend was last drawn for (a new one clears the brush). */
  private scaleOf = "";

  constructor(private readonly host: ControlsHost) {
    const ds = host.config.dataset;
    this.brush = new ScaleBrush(host);
    setOptions(this.embedding, ds.embeddings.filter((e) => e.dims >= 2).map((e) => ({ value: e.key, text: `${e.key} (${e.dims}D)` })));
    this.embedding.addEventListener("change", guard(() => host.setEmbedding(this.embedding.value)));
    const axesChanged = guard(() => host.setAxes(Number(this.axisX.value), Number(this.axisY.value)));
    this.axisX.addEventListener("change", axesChanged);
    this.axisY.addEventListener("change", axesChanged);
    // Slider input arrives faster than frames: re-project at most once per frame.
    const rotate = () => {
      if (this.rotateQueued) return;
      this.rotateQueued = true;
      requestAnimationFrame(() => {
        this.rotateQueued = false;
        host.setRotation(Number(this.yaw.value), Number(this.pitch.value));
      });
    };
    this.yaw.addEventListener("input", rotate);
    this.pitch.addEventListener("input", rotate);
    this.color.addEventListener("change", guard(() => host.setColorBy(this.color.value)));
    byId("fit-view").addEventListener("click", () => host.fit());
    const clip = byId<HTMLSelectElement>("scale-clip");
    clip.addEventListener("change", () => {
      const [lo, hi] = clip.value.split(",").map(Number);
      host.setClip(lo!, hi!);
    });
    const toolButtons = Array.from(document.querySelectorAll<HTMLButtonElement>(".tools button"));
    for (const b of toolButtons) b.addEventListener("click", () => this.pickTool(b.dataset.tool as Tool));
    byId("legend-show-all").addEventListener("click", () => {
      host.hiddenSet().clear();
      host.recolor();
    });
    host.state.onChange((c) => {
      if (c === "fields") {
        this.renderColorOptions();
        this.renderLegend();
      }
    });
    this.renderColorOptions();
  }

  pickTool(tool: Tool): void {
    for (const o of Array.from(document.querySelectorAll<HTMLButtonElement>(".tools button"))) o.setAttribute("aria-pressed", String(o.dataset.tool === tool));
    this.host.setTool(tool);
  }

  /** Syncs the selects with the host after it changed embedding or axes itself. */
  renderEmbedding(): void {
    const info = this.host.config.dataset.embeddings.find((e) => e.key === this.host.embeddingKey);
    if (info) this.embedding.value = info.key;
    const dims = info?.dims ?? 2;
    byId("axes-row").hidden = dims <= 2;
    const axes = Array.from({ length: dims }, (_, i) => ({ value: String(i), text: `${info?.key ?? ""}[${i}]` }));
    setOptions(this.axisX, axes, String(this.host.axes[0]));
    setOptions(this.axisY, axes, String(this.host.axes[1]));
    byId("rotate-row").hidden = dims < 3;
    this.yaw.value = String(this.host.rotation.yaw);
    this.pitch.value = String(this.host.rotation.pitch);
  }

  renderColorOptions(): void {
    const opts = [{ value: "", text: "(none)" }];
    for (const c of this.host.config.dataset.obsCategoricals) opts.push({ value: `obs:${c.key}`, text: c.key });
    for (const c of this.host.config.dataset.obsNumeric) opts.push({ value: `num:${c.key}`, text: `${c.key} (continuous)` });
    const gene = this.host.colorBy.startsWith("gene:") ? this.host.continuous : null;
    if (gene) opts.push({ value: this.host.colorBy, text: `gene: ${gene.label}` });
    for (const f of this.host.state.fields) opts.push({ value: `field:${f.id}`, text: `label: ${f.key}` });
    setOptions(this.color, opts, this.host.colorBy);
  }

  renderLegend(): void {
    this.renderScale();
    const h = this.host;
    const cc = h.categoryCodes();
    byId("legend-head").hidden = !cc;
    if (!cc) return void this.legend.replaceChildren();
    const counts = h.categoryCounts();
    const hidden = h.hiddenSet();
    const entries = cc.categories.map((name, i) => ({ code: i, name, color: categoryColor(i), count: counts[i]! }));
    // Missing cells get a row too (when there are any): they are drawn, in grey.
    if (counts[cc.categories.length]! > 0) entries.push({ code: -1, name: "(missing)", color: MISSING, count: counts[cc.categories.length]! });
    const all = entries.map((e) => e.code);
    this.legend.replaceChildren(...entries.map((e) => {
      const add = el("button", { type: "button", textContent: "+", title: `Make a group of the ${formatCount(e.count)} cells of ${e.name}` });
      add.dataset.testid = "legend-select";
      add.addEventListener("click", (ev) => {
        ev.stopPropagation();
        const cells = h.cellsOfCategory(e.code);
        if (cells.length === 0) return setStatus(`${e.name} has no cells: no group made`, "info");
        h.state.setSelection(cells);
        // A plain cell set to the web app ("lasso"): its category groups carry bindings to the app's own field list.
        h.state.addGroup(cells, "lasso", e.name);
        setStatus(`${formatCount(cells.length)} cells of ${e.name} made a group in page '${h.state.activePage?.name ?? ""}'`, "ok");
      });
      add.addEventListener("dblclick", (ev) => ev.stopPropagation());
      const count = el("span", { className: "count", textContent: formatCount(e.count) });
      count.dataset.testid = "legend-count";
      const li = el("li", { className: hidden.has(e.code) ? "hidden-cat" : "", title: "Click: hide/show · double-click: show only this" }, swatch(e.color), el("span", { className: "name", textContent: e.name }), count, add);
      li.dataset.testid = "legend-row";
      li.dataset.category = e.name;
      li.addEventListener("click", () => {
        if (hidden.has(e.code)) hidden.delete(e.code);
        else hidden.add(e.code);
        h.recolor();
      });
      li.addEventListener("dblclick", () => {
        const alone = all.every((c) => (c === e.code) !== hidden.has(c));
        hidden.clear();
        // The two clicks before the double-click toggled this one twice: it is shown again.
        if (!alone) for (const c of all) if (c !== e.code) hidden.add(c);
        h.recolor();
      });
      return li;
    }));
  }

  /** The continuous legend: the scale bar from the low to the high clip value, min/max and the missing cells. */
  private renderScale(): void {
    const c = this.host.continuous;
    byId("scale-legend").hidden = !c;
    if (this.scaleOf !== this.host.colorBy) this.brush.reset();
    this.scaleOf = this.host.colorBy;
    if (!c) return;
    const r = c.range;
    byId("scale-title").textContent = c.label;
    byId("scale-bar").style.background = SCALE_CSS;
    byId("scale-lo").textContent = `≤ ${formatValue(r.lo)}`;
    byId("scale-hi").textContent = `≥ ${formatValue(r.hi)}`;
    const missing = r.missing > 0 ? ` · ${formatCount(r.missing)} cells without a value (grey)` : "";
    byId("scale-range").textContent = Number.isNaN(r.min) ? `No cell has a value${missing}` : `min ${formatValue(r.min)} · max ${formatValue(r.max)}${missing}`;
    byId<HTMLSelectElement>("scale-clip").value = this.host.clip.join(",");
  }
}
