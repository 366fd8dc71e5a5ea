/** Highlight pages and their groups: add, rename, delete, with cell counts. */
import type { ViewerState } from "../state.js";
import { byId, el, formatCount, guard, setOptions } from "./dom.js";

export class HighlightsPanel {
  private readonly pageSelect = byId<HTMLSelectElement>("page-select");
  private readonly pageName = byId<HTMLInputElement>("page-name");
  private readonly list = byId<HTMLUListElement>("group-list");

  constructor(private readonly state: ViewerState) {
    this.pageSelect.addEventListener("change", () => state.setActivePage(this.pageSelect.value));
    byId("page-add").addEventListener("click", guard(() => void state.addPage(this.pageName.value)));
    byId("page-rename").addEventListener("click", guard(() => {
      const page = state.activePage;
      if (!page) throw new Error("no page to rename");
      if (!this.pageName.value.trim()) throw new Error("type the new page name first");
      state.renamePage(page.id, this.pageName.value);
    }));
    byId("page-delete").addEventListener("click", guard(() => {
      const page = state.activePage;
      if (page) state.deletePage(page.id);
    }));
    state.onChange((c) => c === "highlights" && this.render());
    this.render();
  }

  render(): void {
    const s = this.state;
    setOptions(this.pageSelect, s.pages.map((p) => ({ value: p.id, text: `${p.name} (${p.groups.length})` })), s.activePageId);
    byId<HTMLButtonElement>("page-delete").disabled = !s.activePage;
    byId<HTMLButtonElement>("page-rename").disabled = !s.activePage;
    const page = s.activePage;
    if (!page || page.groups.length === 0) {
      this.list.replaceChildren(el("li", { className: "empty", textContent: page ? "No groups yet: lasso or rectangle some cells." : "No page: make one, or select cells." }));
      return;
    }
    this.list.replaceChildren(...page.groups.map((g) => {
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
      del.addEventListener("click", () => s.deleteGroup(g.id));
      const count = el("span", { className: "count", textContent: formatCount(g.cells.length) });
      count.dataset.testid = "group-count";
      return el("li", { dataset: { groupId: g.id, testid: "group-row" } }, label, count, show, del);
    }));
  }
}
