/** View controls: embedding, axes and rotation, colour by, legend, tool buttons, fit. */
import type { ViewerConfig } from "../api.js";
import { categoryColor, labelColor, MISSING } from "../palette.js";
import type { ViewerState } from "../state.js";
import type { Tool } from "./canvas-input.js";
import { byId, el, guard, setOptions, swatch } from "./dom.js";

export interface ControlsHost {
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
}

const LEGEND_MAX = 40;

export class Controls {
  private readonly embedding = byId<HTMLSelectElement>("embedding-select");
  private readonly axisX = byId<HTMLSelectElement>("axis-x");
  private readonly axisY = byId<HTMLSelectElement>("axis-y");
  private readonly yaw = byId<HTMLInputElement>("rotate-yaw");
  private readonly pitch = byId<HTMLInputElement>("rotate-pitch");
  private rotateQueued = false;
  private readonly color = byId<HTMLSelectElement>("color-select");
  private readonly legend = byId<HTMLUListElement>("legend");

  constructor(private readonly host: ControlsHost) {
    const ds = host.config.dataset;
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
    const toolButtons = Array.from(document.querySelectorAll<HTMLButtonElement>(".tools button"));
    for (const b of toolButtons) {
      b.addEventListener("click", () => {
        for (const o of toolButtons) o.setAttribute("aria-pressed", String(o === b));
        host.setTool(b.dataset.tool as Tool);
      });
    }
    host.state.onChange((c) => {
      if (c === "fields") {
        this.renderColorOptions();
        this.renderLegend();
      }
    });
    this.renderColorOptions();
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
    for (const f of this.host.state.fields) opts.push({ value: `field:${f.id}`, text: `label: ${f.key}` });
    setOptions(this.color, opts, this.host.colorBy);
  }

  renderLegend(): void {
    const value = this.host.colorBy;
    let entries: { name: string; color: string }[] = [];
    if (value.startsWith("obs:")) {
      const cats = this.host.config.dataset.obsCategoricals.find((c) => `obs:${c.key}` === value)?.categories ?? [];
      entries = cats.map((name, i) => ({ name, color: categoryColor(i) }));
      entries.push({ name: "(missing)", color: MISSING });
    } else if (value.startsWith("field:")) {
      const f = this.host.state.fields.find((x) => `field:${x.id}` === value);
      entries = (f?.categories ?? []).map((name, i) => ({ name, color: labelColor(i) }));
    }
    const items = entries.slice(0, LEGEND_MAX).map((e) => el("li", {}, swatch(e.color), el("span", { textContent: e.name })));
    if (entries.length > LEGEND_MAX) items.push(el("li", { className: "empty", textContent: `… ${entries.length - LEGEND_MAX} more` }));
    this.legend.replaceChildren(...items);
  }
}
