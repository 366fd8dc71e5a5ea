/**
 * Labelling: user-defined categorical obs fields. Every cell starts
 * unlabelled (missing, as in the web app: there is no "unassigned"
 * category); assigning paints the current selection or a chosen highlight
 * group with a category, all of it or only its unlabelled cells, and says
 * beforehand how many labelled cells it would overwrite.
 */
import { MISSING, categoryColor } from "../palette.js";
import type { ViewerState } from "../state.js";
import { confirmAction } from "./dialog.js";
import { byId, el, formatCount, guard, setOptions, setStatus, swatch } from "./dom.js";

export class LabelsPanel {
  private readonly fieldSelect = byId<HTMLSelectElement>("field-select");
  private readonly fieldName = byId<HTMLInputElement>("field-name");
  private readonly categoryName = byId<HTMLInputElement>("category-name");
  private readonly categoryList = byId<HTMLUListElement>("category-list");
  private readonly source = byId<HTMLSelectElement>("assign-source");
  private readonly target = byId<HTMLSelectElement>("assign-category");
  private readonly onlyUnlabelled = byId<HTMLInputElement>("assign-only-unlabelled");
  private readonly hint = byId("assign-hint");

  constructor(private readonly state: ViewerState) {
    this.fieldSelect.addEventListener("change", () => state.setActiveField(this.fieldSelect.value || null));
    byId("field-create").addEventListener("click", guard(() => {
      state.addField(this.fieldName.value);
      this.fieldName.value = "";
    }));
    byId("field-delete").addEventListener("click", guard(async () => {
      const f = state.activeField;
      if (!f) return;
      const labelled = f.codes.length - state.missingCount(f);
      if (!(await confirmAction(`Delete label field '${f.key}' (${f.categories.length} categories, ${formatCount(labelled)} labelled cells)? Undo (Ctrl+Z) brings it back.`, "Delete field"))) return;
      state.deleteField(f.id);
      setStatus(`Deleted label field '${f.key}'`, "ok");
    }));
    for (const c of [this.source, this.target, this.onlyUnlabelled]) c.addEventListener("change", () => this.renderHint());
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
      if (c === "history") return;
      if (c === "fields") this.renderFields();
      else this.renderSources();
      this.renderHint();
    });
    this.renderFields();
    this.renderSources();
  }

  private sourceCells(): Uint32Array | null {
    return this.source.value === "selection" ? this.state.selection : (this.state.findGroup(this.source.value)?.cells ?? null);
  }

  private assign(): void {
    const f = this.state.activeField;
    if (!f) throw new Error("create a label field first");
    const cells = this.sourceCells();
    if (!cells || cells.length === 0) throw new Error("nothing to assign: select cells or pick a highlight group");
    const code = Number(this.target.value);
    const only = this.onlyUnlabelled.checked;
    const overwritten = only ? 0 : this.state.overwriteCount(f.id, code, cells);
    const changed = this.state.assign(f.id, code, cells, { onlyUnlabelled: only });
    setStatus(`${formatCount(changed)} cells labelled '${f.categories[code]}' in '${f.key}'${overwritten ? ` (${formatCount(overwritten)} had another label)` : ""}${only && changed < cells.length ? `; ${formatCount(cells.length - changed)} already labelled or already '${f.categories[code]}' were left alone` : ""}`, "ok");
  }

  /** What Assign would do, before it is pressed. */
  private renderHint(): void {
    const f = this.state.activeField;
    const cells = this.sourceCells();
    const code = Number(this.target.value);
    if (!f || !cells || cells.length === 0 || !(code >= 0 && code < f.categories.length)) return void (this.hint.textContent = "");
    const over = this.state.overwriteCount(f.id, code, cells);
    this.hint.textContent = this.onlyUnlabelled.checked
      ? `Labels only the unlabelled of these ${formatCount(cells.length)} cells; ${formatCount(over)} labelled ones stay as they are.`
      : over
        ? `Would overwrite the label of ${formatCount(over)} of these ${formatCount(cells.length)} cells (tick "only cells without a label" to keep them).`
        : `Labels ${formatCount(cells.length)} cells; none has another label yet.`;
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
    const rows = f.categories.map((name, i) => {
      const count = el("span", { className: "count", textContent: formatCount(counts[i]!) });
      count.dataset.testid = "category-count";
      return el("li", { dataset: { testid: "category-row", category: name } }, swatch(categoryColor(i)), el("span", { textContent: name }), count);
    });
    const missing = el("span", { className: "count", textContent: formatCount(s.missingCount(f)) });
    missing.dataset.testid = "category-missing-count";
    rows.push(el("li", { className: "empty" }, swatch(MISSING), el("span", { textContent: "(no label)" }), missing));
    this.categoryList.replaceChildren(...rows);
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
