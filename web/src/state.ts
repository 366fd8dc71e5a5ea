/**
 * What the person builds in the viewer, independent of the DOM: highlight
 * pages of groups (cell index sets), user-defined label fields (one code per
 * cell; a cell nobody labelled holds the missing marker, as in the web app)
 * and the current selection. Pages and groups get the web app's ids
 * (`page_<n>`, `highlight_<n>`). Views subscribe to the kinds of change they draw.
 *
 * Every change to the session goes through a method here that first records
 * the state for undo. Recorded states share cell and code arrays with the
 * live one, so nothing may change such an array in place: assigning labels
 * writes a new codes array.
 */
import type { UserDefinedFieldInput } from "../../src/bundle/writer.js";
import type { ChunkMeta } from "../../src/format/manifest.js";
import { MISSING_U16, MISSING_U8, missingMarkerOf } from "../../src/codecs/codes.js";

export interface Group {
  id: string;
  label: string;
  /** How the cells were picked: "lasso", "rectangle", or what a loaded bundle said. */
  type: string;
  enabled: boolean;
  /** Sorted, unique cell indices. */
  cells: Uint32Array;
  /** What ties a `range` / `category` group to its field in the web app (fieldKey, fieldIndex, fieldSource, rangeMin, …). */
  binding?: Record<string, unknown>;
}

export interface Page {
  id: string;
  name: string;
  groups: Group[];
}

export interface LabelField {
  id: string;
  key: string;
  categories: string[];
  /** Category indices; MISSING_U8 / MISSING_U16 (by the array's width) for a cell nobody labelled. */
  codes: Uint8Array | Uint16Array;
}

export type Change = "highlights" | "fields" | "selection" | "history";

/** u16 codes hold at most 65535 categories: the last value is the missing marker. */
const MAX_CATEGORIES = MISSING_U16;

/** Codes in the width `categories` needs, anything that is not a category becoming the missing marker. */
export function fieldCodes(codes: ArrayLike<number>, categories: number): Uint8Array | Uint16Array {
  const out = categories > MISSING_U8 - 1 ? new Uint16Array(codes.length) : new Uint8Array(codes.length);
  const marker = missingMarkerOf(out);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i]! < categories ? codes[i]! : marker;
  return out;
}

/** The next free `<prefix><n>` among `taken`. */
export function nextAppId(prefix: "page_" | "highlight_", taken: Iterable<string>): string {
  let max = 0;
  for (const id of taken) if (id.startsWith(prefix)) max = Math.max(max, Number(id.slice(prefix.length)) || 0);
  return `${prefix}${max + 1}`;
}

export function newId(prefix: string): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return `${prefix}-${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;
}

export interface CarriedContent {
  fields: UserDefinedFieldInput[];
  chunks: { id: string; meta: ChunkMeta; value: unknown }[];
  /** What of the above the current web app cannot load (gene fields, chunks of contributors it does not know), by name. */
  notForApp: string[];
  /**
   * The app's record of its sidebar controls, from a `core/state` the app saved: the app loads a
   * session only when this lists exactly the controls of its page, which only the app knows.
   */
  uiControls?: Record<string, unknown>;
}

export const NOTHING_CARRIED: CarriedContent = { fields: [], chunks: [], notForApp: [] };

interface Snapshot {
  pages: Page[];
  activePageId: string | null;
  fields: LabelField[];
  activeFieldId: string | null;
  carried: CarriedContent;
  labelCounter: number;
}

/** How many steps Undo goes back. */
const UNDO_DEPTH = 100;

/** Sorted unique union / intersection / difference of sorted unique index lists. */
export function combineCells(a: Uint32Array, b: Uint32Array, op: "union" | "intersection" | "difference"): Uint32Array {
  const out = new Uint32Array(op === "union" ? a.length + b.length : a.length);
  let i = 0, j = 0, n = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity, y = j < b.length ? b[j]! : Infinity;
    const inA = x <= y, inB = y <= x, v = Math.min(x, y);
    if (op === "union" || (op === "intersection" && inA && inB) || (op === "difference" && inA && !inB)) out[n++] = v;
    if (inA) i++;
    if (inB) j++;
  }
  return out.slice(0, n);
}

export class ViewerState {
  pages: Page[] = [];
  activePageId: string | null = null;
  fields: LabelField[] = [];
  activeFieldId: string | null = null;
  /**
   * What a loaded bundle held that this page does not edit (gene fields,
   * deleted fields, other contributors' chunks): written back unchanged on
   * Save, so Load → Save loses nothing.
   */
  carried: CarriedContent = NOTHING_CARRIED;
  /** The last lasso/rectangle result, or a group picked for labelling. */
  selection: Uint32Array | null = null;
  private readonly listeners = new Set<(c: Change) => void>();
  private labelCounter = 0;
  private readonly undoStack: Snapshot[] = [];
  private readonly redoStack: Snapshot[] = [];
  /** Goes up with every change to the session (autosave and "unsaved" compare against it). */
  revision = 0;

  constructor(readonly nObs: number) {
    this.addPage("Page 1");
    this.undoStack.length = 0;
    this.revision = 0;
  }

  /** After the page restored its session on opening: there is nothing to undo to. */
  clearHistory(): void {
    this.undoStack.length = 0;
    this.redoStack.length = 0;
    this.emit("history");
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  private snapshot(): Snapshot {
    return {
      pages: this.pages.map((p) => ({ ...p, groups: p.groups.map((g) => ({ ...g })) })),
      activePageId: this.activePageId,
      fields: this.fields.map((f) => ({ ...f, categories: [...f.categories] })),
      activeFieldId: this.activeFieldId,
      carried: this.carried,
      labelCounter: this.labelCounter,
    };
  }

  /** Called by every session-changing method before it changes anything. */
  private record(): void {
    this.undoStack.push(this.snapshot());
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
    this.redoStack.length = 0;
    this.revision++;
  }

  private restore(s: Snapshot): void {
    this.pages = s.pages;
    this.activePageId = s.activePageId;
    this.fields = s.fields;
    this.activeFieldId = s.activeFieldId;
    this.carried = s.carried;
    this.labelCounter = s.labelCounter;
    this.revision++;
    this.emit("highlights");
    this.emit("fields");
  }

  undo(): boolean {
    const s = this.undoStack.pop();
    if (!s) return false;
    this.redoStack.push(this.snapshot());
    this.restore(s);
    return true;
  }

  redo(): boolean {
    const s = this.redoStack.pop();
    if (!s) return false;
    this.undoStack.push(this.snapshot());
    this.restore(s);
    return true;
  }

  /** Nothing carried that the current web app cannot load: captures are then canonical bundles (otherwise they keep it all). */
  get appLoadable(): boolean {
    return this.carried.notForApp.length === 0;
  }

  /** Nothing made yet: no group, no label field, nothing carried (a fresh page). */
  get isEmpty(): boolean {
    return this.pages.every((p) => p.groups.length === 0) && this.fields.length === 0 && this.carried.fields.length === 0 && this.carried.chunks.length === 0;
  }

  onChange(fn: (c: Change) => void): void {
    this.listeners.add(fn);
  }

  emit(c: Change): void {
    for (const fn of this.listeners) fn(c);
    if (c !== "selection" && c !== "history") for (const fn of this.listeners) fn("history");
  }

  get activePage(): Page | null {
    return this.pages.find((p) => p.id === this.activePageId) ?? null;
  }

  addPage(name?: string): Page {
    this.record();
    const page: Page = { id: nextAppId("page_", this.pages.map((p) => p.id)), name: name?.trim() || `Page ${this.pages.length + 1}`, groups: [] };
    this.pages.push(page);
    this.activePageId = page.id;
    this.emit("highlights");
    return page;
  }

  setActivePage(id: string): void {
    if (this.pages.some((p) => p.id === id) && id !== this.activePageId) {
      this.record();
      this.activePageId = id;
    }
    this.emit("highlights");
  }

  renamePage(id: string, name: string): void {
    const page = this.pages.find((p) => p.id === id);
    if (page && name.trim() && name.trim() !== page.name) {
      this.record();
      page.name = name.trim();
    }
    this.emit("highlights");
  }

  deletePage(id: string): void {
    this.record();
    this.pages = this.pages.filter((p) => p.id !== id);
    if (this.activePageId === id) this.activePageId = this.pages[0]?.id ?? null;
    this.emit("highlights");
  }

  /** A new group in the active page (one is created when there is none); `label` defaults to "<Tool> <n>". */
  addGroup(cells: Uint32Array, type: string, label?: string, binding?: Record<string, unknown>): Group {
    const page = this.activePage ?? this.addPage();
    this.record();
    ++this.labelCounter;
    label ||= `${type === "rectangle" ? "Rectangle" : type === "lasso" ? "Lasso" : "Group"} ${this.labelCounter}`;
    const group: Group = { id: nextAppId("highlight_", this.pages.flatMap((p) => p.groups.map((g) => g.id))), label, type, enabled: true, cells };
    if (binding) group.binding = binding;
    page.groups.push(group);
    this.emit("highlights");
    return group;
  }

  findGroup(id: string): Group | null {
    for (const p of this.pages) for (const g of p.groups) if (g.id === id) return g;
    return null;
  }

  renameGroup(id: string, label: string): void {
    const g = this.findGroup(id);
    if (g && label.trim() && label.trim() !== g.label) {
      this.record();
      g.label = label.trim();
    }
    this.emit("highlights");
  }

  setGroupEnabled(id: string, enabled: boolean): void {
    const g = this.findGroup(id);
    if (!g || g.enabled === enabled) return;
    this.record();
    g.enabled = enabled;
    this.emit("highlights");
  }

  /** A new group from two groups' cells; refused when the result has no cell (the app has no empty groups). */
  combineGroups(aId: string, bId: string, op: "union" | "intersection" | "difference"): Group {
    const a = this.findGroup(aId), b = this.findGroup(bId);
    if (!a || !b) throw new Error("pick two groups to combine");
    const cells = combineCells(a.cells, b.cells, op);
    const sign = op === "union" ? "∪" : op === "intersection" ? "∩" : "−";
    if (cells.length === 0) throw new Error(`${a.label} ${sign} ${b.label} has no cells: no group made`);
    return this.addGroup(cells, "combined", `${a.label} ${sign} ${b.label}`);
  }

  deleteGroup(id: string): void {
    this.record();
    for (const p of this.pages) p.groups = p.groups.filter((g) => g.id !== id);
    this.emit("highlights");
  }

  setSelection(cells: Uint32Array | null): void {
    this.selection = cells;
    this.emit("selection");
  }

  get activeField(): LabelField | null {
    return this.fields.find((f) => f.id === this.activeFieldId) ?? null;
  }

  addField(key: string): LabelField {
    const field: LabelField = { id: newId("udf"), key: key.trim(), categories: [], codes: new Uint8Array(this.nObs).fill(MISSING_U8) };
    if (!field.key) throw new Error("give the field a name");
    if (this.fields.some((f) => f.key === field.key)) throw new Error(`a field named '${field.key}' already exists`);
    this.record();
    this.fields.push(field);
    this.activeFieldId = field.id;
    this.emit("fields");
    return field;
  }

  setActiveField(id: string | null): void {
    this.activeFieldId = id;
    this.emit("fields");
  }

  deleteField(id: string): void {
    this.record();
    this.fields = this.fields.filter((f) => f.id !== id);
    if (this.activeFieldId === id) this.activeFieldId = this.fields[0]?.id ?? null;
    this.emit("fields");
  }

  /** Index of the category, added when new; codes widen to 16 bits from the 256th category on (255 is u8's missing marker). */
  addCategory(fieldId: string, name: string): number {
    const field = this.requireField(fieldId);
    const label = name.trim();
    if (!label) throw new Error("give the category a name");
    const existing = field.categories.indexOf(label);
    if (existing >= 0) return existing;
    if (field.categories.length >= MAX_CATEGORIES) throw new Error(`a field holds at most ${MAX_CATEGORIES} categories`);
    this.record();
    field.categories.push(label);
    if (field.categories.length > MISSING_U8 && field.codes instanceof Uint8Array) field.codes = fieldCodes(field.codes, field.categories.length);
    this.emit("fields");
    return field.categories.length - 1;
  }

  /**
   * Paints `cells` with category `code` (later assignments win, as in the web
   * app), or only those still unlabelled; returns how many cells changed.
   */
  assign(fieldId: string, code: number, cells: ArrayLike<number>, opts: { onlyUnlabelled?: boolean } = {}): number {
    const field = this.requireField(fieldId);
    if (field.categories.length === 0) throw new Error(`add a category to '${field.key}' first`);
    if (!(code >= 0 && code < field.categories.length)) throw new Error(`no category ${code} in field '${field.key}'`);
    this.record();
    // A new array: the undo history still holds the old one.
    const codes = field.codes.slice();
    const marker = missingMarkerOf(codes);
    let changed = 0;
    for (let j = 0; j < cells.length; j++) {
      const i = cells[j]!;
      if (opts.onlyUnlabelled && codes[i] !== marker) continue;
      if (codes[i] !== code) changed++;
      codes[i] = code;
    }
    field.codes = codes;
    this.emit("fields");
    return changed;
  }

  /** How many of `cells` already hold a label other than `code` (what an assignment would overwrite). */
  overwriteCount(fieldId: string, code: number, cells: ArrayLike<number>): number {
    const field = this.requireField(fieldId);
    const marker = missingMarkerOf(field.codes);
    let n = 0;
    for (let j = 0; j < cells.length; j++) {
      const c = field.codes[cells[j]!]!;
      if (c !== marker && c !== code) n++;
    }
    return n;
  }

  /** Cells that hold the missing marker in a field. */
  missingCount(field: LabelField): number {
    const marker = missingMarkerOf(field.codes);
    let n = 0;
    for (let i = 0; i < field.codes.length; i++) if (field.codes[i] === marker) n++;
    return n;
  }

  /** Cells per category of a field. */
  categoryCounts(field: LabelField): number[] {
    const counts = new Array<number>(field.categories.length).fill(0);
    for (let i = 0; i < field.codes.length; i++) {
      const c = field.codes[i]!;
      if (c < counts.length) counts[c]!++;
    }
    return counts;
  }

  /** Replaces everything with a restored session (undoable like any other change). */
  replace(pages: Page[], activePageId: string | null, fields: LabelField[], carried: CarriedContent = NOTHING_CARRIED): void {
    this.record();
    this.carried = carried;
    this.pages = pages;
    this.activePageId = pages.some((p) => p.id === activePageId) ? activePageId : (pages[0]?.id ?? null);
    this.fields = fields;
    this.activeFieldId = fields[0]?.id ?? null;
    this.selection = null;
    this.emit("highlights");
    this.emit("fields");
    this.emit("selection");
  }

  private requireField(id: string): LabelField {
    const f = this.fields.find((x) => x.id === id);
    if (!f) throw new Error(`no label field ${id}`);
    return f;
  }
}
