/**
 * Highlight pages and their groups: add, rename, delete (after asking),
 * enable/disable (enabled groups are drawn on the plot in their colour),
 * and new groups from the selection or from two groups combined.
 */
import { groupColor } from "../palette.js";
import type { ViewerState } from "../state.js";
import { confirmAction } from "./dialog.js";
import { byId, el, formatCount, guard, setOptions, setStatus, swatch } from "./dom.js";

export class HighlightsPanel {
  private readonly pageSelect = byId<HTMLSelectElement>("page-select");
  private readonly pageName = byId<HTMLInputElement>("page-name");
  private readonly list = byId<HTMLUListElement>("group-list");
  private readonly combineA = byId<HTMLSelectElement>("combine-a");
  private readonly combineB = byId<HTMLSelectElement>("combine-b");

  constructor(private readonly state: ViewerState) {
    this.pageSelect.addEventListener("change", () => state.setActivePage(this.pageSelect.value));
    byId("page-add").addEventListener("click", guard(() => {
      state.addPage(this.pageName.value);
      this.pageName.value = "";
    }));
    byId("page-rename").addEventListener("click", guard(() => {
      const page = state.activePage;
      if (!page) throw new Error("no page to rename");
      if (!this.pageName.value.trim()) throw new Error("type the new page name first");
      state.renamePage(page.id, this.pageName.value);
      this.pageName.value = "";
    }));
    byId("page-delete").addEventListener("click", guard(async () => {
      const page = state.activePage;
      if (!page) return;
      const cells = page.groups.reduce((n, g) => n + g.cells.length, 0);
      if (page.groups.length && !(await confirmAction(`Delete page '${page.name}' and its ${page.groups.length} groups (${formatCount(cells)} cell memberships)? Undo (Ctrl+Z) brings it back.`, "Delete page"))) return;
      state.deletePage(page.id);
      setStatus(`Deleted page '${page.name}'`, "ok");
    }));
    byId("group-selection").addEventListener("click", guard(() => this.groupSelection()));
    byId("combine-btn").addEventListener("click", guard(() => {
      const g = state.combineGroups(this.combineA.value, this.combineB.value, byId<HTMLSelectElement>("combine-op").value as "union" | "intersection" | "difference");
      setStatus(`New group '${g.label}': ${formatCount(g.cells.length)} cells`, "ok");
    }));
    state.onChange((c) => c === "highlights" && this.render());
    this.render();
  }

  groupSelection(): void {
    const sel = this.state.selection;
    if (!sel || sel.length === 0) throw new Error("nothing selected: lasso some cells first");
    const g = this.state.addGroup(sel, "lasso", `Selection ${formatCount(sel.length)}`);
    setStatus(`New group '${g.label}' in page '${this.state.activePage?.name ?? ""}'`, "ok");
  }

  render(): void {
    const s = this.state;
    setOptions(this.pageSelect, s.pages.map((p) => ({ value: p.id, text: `${p.name} (${p.groups.length})` })), s.activePageId);
    byId<HTMLButtonElement>("page-delete").disabled = !s.activePage;
    byId<HTMLButtonElement>("page-rename").disabled = !s.activePage;
    const all = s.pages.flatMap((p) => p.groups.map((g) => ({ value: g.id, text: `${p.name} / ${g.label} (${formatCount(g.cells.length)})` })));
    setOptions(this.combineA, all);
    setOptions(this.combineB, all, all[1]?.value);
    byId<HTMLButtonElement>("combine-btn").disabled = all.length < 2;
    const page = s.activePage;
    if (!page || page.groups.length === 0) {
      this.list.replaceChildren(el("li", { className: "empty", textContent: page ? "No groups yet: lasso or rectangle some cells." : "No page: make one, or select cells." }));
      return;
    }
    this.list.replaceChildren(...page.groups.map((g, i) => {
      const enabled = el("input", { type: "checkbox", checked: g.enabled, title: "Shown on the plot (and enabled in the saved session)" });
      enabled.setAttribute("aria-label", `Show group ${g.label}`);
      enabled.dataset.testid = "group-enabled";
      enabled.addEventListener("change", () => s.setGroupEnabled(g.id, enabled.checked));
      const label = el("input", { type: "text", value: g.label, title: `${g.type} · ${g.id}` });
      label.setAttribute("aria-label", "Group name");
      label.dataset.testid = "group-label";
      label.addEventListener("change", () => s.renameGroup(g.id, label.value));
      const show = el("button", { type: "button", textContent: "Select", title: "Make this group the current selection" });
      show.dataset.testid = "group-select";
      show.addEventListener("click", () => s.setSelection(g.cells));
      const del = el("button", { type: "button", textContent: "✕", title: "Delete group" });
      del.setAttribute("aria-label", `Delete group ${g.label}`);
      del.dataset.testid = "group-delete";
      del.addEventListener("click", guard(async () => {
        if (!(await confirmAction(`Delete group '${g.label}' (${formatCount(g.cells.length)} cells)? Undo (Ctrl+Z) brings it back.`, "Delete group"))) return;
        s.deleteGroup(g.id);
        setStatus(`Deleted group '${g.label}'`, "ok");
      }));
      const count = el("span", { className: "count", textContent: formatCount(g.cells.length) });
      count.dataset.testid = "group-count";
      return el("li", { dataset: { groupId: g.id, testid: "group-row" } }, enabled, swatch(groupColor(i)), label, count, show, del);
    }));
  }
}
