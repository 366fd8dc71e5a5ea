/**
 * The card that tells which cell is under the pointer: its obs name, its
 * value in the current colouring and the groups it belongs to. Hover is
 * worked out at most once per frame; a click pins the card to a cell (it is
 * then ringed on the plot) until a click on empty space.
 */
import { byId, el } from "./dom.js";

export interface HoverHost {
  /** The visible cell under canvas CSS pixel (x, y), or −1. */
  cellAt(x: number, y: number): number;
  /** "CD3E: 2.31" / "cell_type: B cells", or null when colouring by nothing. */
  describeValue(cell: number): string | null;
  /** Labels of the groups (any page) holding the cell. */
  groupsOf(cell: number): string[];
  fetchObsNames(cells: number[]): Promise<string[]>;
  setPinned(cell: number): void;
}

export class HoverCard {
  private readonly card = byId("hover-card");
  private readonly names = new Map<number, string>();
  private queued: { x: number; y: number } | null = null;
  private frame = false;
  private shown = -1;
  pinned = -1;

  constructor(private readonly host: HoverHost) {}

  /** Pointer at canvas CSS pixel (x, y); null: it left the plot or started dragging. */
  hover(at: { x: number; y: number } | null): void {
    if (this.pinned >= 0) return;
    this.queued = at;
    if (this.frame) return;
    this.frame = true;
    requestAnimationFrame(() => {
      this.frame = false;
      const q = this.queued;
      this.show(q ? this.host.cellAt(q.x, q.y) : -1, q);
    });
  }

  click(x: number, y: number): void {
    const cell = this.host.cellAt(x, y);
    this.pinned = cell;
    this.host.setPinned(cell);
    this.show(cell, { x, y });
  }

  /** The data under the card changed (colouring, groups): rewrite it for the same cell. */
  refresh(): void {
    if (this.shown >= 0) this.fill(this.shown);
  }

  private show(cell: number, at: { x: number; y: number } | null): void {
    this.shown = cell;
    this.card.hidden = cell < 0;
    if (cell < 0 || !at) return;
    this.card.classList.toggle("pinned", this.pinned === cell);
    // Beside the pointer, flipped to stay inside the plot.
    const plot = this.card.parentElement!;
    const left = at.x + 14 + 260 > plot.clientWidth ? at.x - 14 - 260 : at.x + 14;
    this.card.style.left = `${Math.max(0, left)}px`;
    this.card.style.top = `${Math.max(0, Math.min(at.y + 14, plot.clientHeight - 90))}px`;
    this.fill(cell);
  }

  private fill(cell: number): void {
    const name = this.names.get(cell);
    const value = this.host.describeValue(cell);
    const groups = this.host.groupsOf(cell);
    const title = el("div", { className: "hover-name", textContent: name ?? `cell #${cell}` });
    title.dataset.testid = "hover-name";
    const lines: HTMLElement[] = [title];
    if (value !== null) lines.push(el("div", { textContent: value, dataset: { testid: "hover-value" } }));
    lines.push(el("div", { className: "hint", textContent: groups.length ? `Groups: ${groups.join(", ")}` : "In no group", dataset: { testid: "hover-groups" } }));
    if (this.pinned === cell) lines.push(el("div", { className: "hint", textContent: "Pinned: click empty space to unpin" }));
    this.card.replaceChildren(...lines);
    if (name === undefined) {
      this.host.fetchObsNames([cell]).then(
        ([n]) => {
          if (n === undefined) return;
          this.names.set(cell, n);
          if (this.shown === cell) this.fill(cell);
        },
        () => undefined, // The index number stays shown.
      );
    }
  }
}
