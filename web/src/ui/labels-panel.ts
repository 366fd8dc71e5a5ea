/**
 * Labelling: user-defined categorical obs fields. Every cell starts
 * unlabelled (missing, as in the web app: there is no "unassigned"
 * category); assigning paints the current selection or a chosen highlight
 * group with a category.
 */
import { labelColor } from "../palette.js";
import type { ViewerState } from "../state.js";
import { byId, el, formatCount, guard, setOptions, setStatus, swatch } from "./dom.js";

export class LabelsPanel {
  private readonly fieldSelect = byId<HTMLSelectElement>("field-select");
  private readonly fieldName = byId<HTMLInputElement>("field-name");
  private readonly categoryName = byId<HTMLInputElement>("category-name");
  private readonly categoryList = byId<HTMLUListElement>("category-list");
  private readonly source = byId<HTMLSelectElement>("assign-source");
  private readonly target = byId<HTMLSelectElement>("assign-category");

  constructor(private readonly state: ViewerState) {
    this.fieldSelect.addEventListener("change", () => state.setActiveField(this.fieldSelect.value || null));
    byId("field-create").addEventListener("click", guard(() => {
      state.addField(this.fieldName.value);
      this.fieldName.value = "";
    }));
    byId("field-delete").addEventListener("click", guard(() => {
      const f = state.activeField;
      if (f) state.deleteField(f.id);
    }));
    byId("category-add").addEventListener("click", guard(() => {
      const f = state.activeField;
      if (!f) throw new Error("create a label field first");
      const code = state.addCategory(f.id, this.categoryName.value);
      this.categoryName.value = "";
      this.renderFields();
      this.target.value = String(code);
    }));
    byId("assign-btn").addEventListener("click", guard(() => this.assign()));
    state.onChange((c) => {
      if (c === "fields") this.renderFields();
      else this.renderSources();
    });
    this.renderFields();
    this.renderSources();
  }

  private assign(): void {
    const f = this.state.activeField;
    if (!f) throw new Error("create a label field first");
    const cells = this.source.value === "selection" ? this.state.selection : this.state.findGroup(this.source.value)?.cells;
    if (!cells || cells.length === 0) throw new Error("nothing to assign: select cells or pick a highlight group");
    const code = Number(this.target.value);
    this.state.assign(f.id, code, cells);
    setStatus(`${formatCount(cells.length)} cells labelled '${f.categories[code]}' in '${f.key}'`, "ok");
  }

  private renderFields(): void {
    const s = this.state;
    setOptions(this.fieldSelect, s.fields.map((f) => ({ value: f.id, text: f.key })), s.activeFieldId);
    byId<HTMLButtonElement>("field-delete").disabled = !s.activeField;
    const f = s.activeField;
    const keep = this.target.value;
    if (!f) {
      this.categoryList.replaceChildren(el("li", { className: "empty", textContent: "No label field: name one and create it." }));
      this.target.replaceChildren();
      return;
    }
    const counts = s.categoryCounts(f);
    this.categoryList.replaceChildren(...f.categories.map((name, i) => {
      const count = el("span", { className: "count", textContent: formatCount(counts[i]!) });
      count.dataset.testid = "category-count";
      return el("li", { dataset: { testid: "category-row", category: name } }, swatch(labelColor(i)), el("span", { textContent: name }), count);
    }));
    setOptions(this.target, f.categories.map((name, i) => ({ value: String(i), text: name })), keep);
    // Without a previous choice, point at the newest category: what people assign next.
    if (keep === "" || f.categories[Number(keep)] === undefined) this.target.value = String(f.categories.length - 1);
  }

  private renderSources(): void {
    const s = this.state;
    const options = [{ value: "selection", text: `Current selection (${formatCount(s.selection?.length ?? 0)})` }];
    for (const p of s.pages) for (const g of p.groups) options.push({ value: g.id, text: `${p.name} / ${g.label} (${formatCount(g.cells.length)})` });
    setOptions(this.source, options);
  }
}
