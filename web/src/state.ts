/**
 * What the person builds in the viewer, independent of the DOM: highlight
 * pages of groups (cell index sets), user-defined label fields (one code per
 * cell; a cell nobody labelled holds the missing marker, as in the web app)
 * and the current selection. Pages and groups get the web app's ids
 * (`page_<n>`, `highlight_<n>`). Views subscribe to the kinds of change they draw.
 */
import type { UserDefinedFieldInput } from "../../src/bundle/writer.js";
import type { ChunkMeta } from "../../src/format/manifest.js";

export interface Group {
  id: string;
  label: string;
  /** How the cells were picked: "lasso", "rectangle", or what a loaded bundle said. */
  type: string;
  enabled: boolean;
  /** Sorted, unique cell indices. */
  cells: Uint32Array;
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

export type Change = "highlights" | "fields" | "selection";

/** The web app's missing markers: u8 codes hold at most 255 categories, u16 ones 65535. */
export const MISSING_U8 = 0xff;
export const MISSING_U16 = 0xffff;
const MAX_CATEGORIES = 0xffff;

export function missingMarker(codes: Uint8Array | Uint16Array): number {
  return codes instanceof Uint8Array ? MISSING_U8 : MISSING_U16;
}

/** Codes in the width `categories` needs, anything that is not a category becoming the missing marker. */
export function fieldCodes(codes: ArrayLike<number>, categories: number): Uint8Array | Uint16Array {
  const out = categories > MISSING_U8 - 1 ? new Uint16Array(codes.length) : new Uint8Array(codes.length);
  const marker = missingMarker(out);
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
  carried: CarriedContent = { fields: [], chunks: [] };
  /** The last lasso/rectangle result, or a group picked for labelling. */
  selection: Uint32Array | null = null;
  private readonly listeners = new Set<(c: Change) => void>();
  private labelCounter = 0;

  constructor(readonly nObs: number) {
    this.addPage("Page 1");
  }

  onChange(fn: (c: Change) => void): void {
    this.listeners.add(fn);
  }

  emit(c: Change): void {
    for (const fn of this.listeners) fn(c);
  }

  get activePage(): Page | null {
    return this.pages.find((p) => p.id === this.activePageId) ?? null;
  }

  addPage(name?: string): Page {
    const page: Page = { id: nextAppId("page_", this.pages.map((p) => p.id)), name: name?.trim() || `Page ${this.pages.length + 1}`, groups: [] };
    this.pages.push(page);
    this.activePageId = page.id;
    this.emit("highlights");
    return page;
  }

  setActivePage(id: string): void {
    if (this.pages.some((p) => p.id === id)) this.activePageId = id;
    this.emit("highlights");
  }

  renamePage(id: string, name: string): void {
    const page = this.pages.find((p) => p.id === id);
    if (page && name.trim()) page.name = name.trim();
    this.emit("highlights");
  }

  deletePage(id: string): void {
    this.pages = this.pages.filter((p) => p.id !== id);
    if (this.activePageId === id) this.activePageId = this.pages[0]?.id ?? null;
    this.emit("highlights");
  }

  /** A new group in the active page (one is created when there is none). */
  addGroup(cells: Uint32Array, type: string): Group {
    const page = this.activePage ?? this.addPage();
    const label = `${type === "rectangle" ? "Rectangle" : type === "lasso" ? "Lasso" : "Group"} ${++this.labelCounter}`;
    const group: Group = { id: nextAppId("highlight_", this.pages.flatMap((p) => p.groups.map((g) => g.id))), label, type, enabled: true, cells };
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
    if (g && label.trim()) g.label = label.trim();
    this.emit("highlights");
  }

  deleteGroup(id: string): void {
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
    field.categories.push(label);
    if (field.categories.length > MISSING_U8 && field.codes instanceof Uint8Array) field.codes = fieldCodes(field.codes, field.categories.length);
    this.emit("fields");
    return field.categories.length - 1;
  }

  /** Paints `cells` with category `code` (later assignments win, as in the web app). */
  assign(fieldId: string, code: number, cells: ArrayLike<number>): void {
    const field = this.requireField(fieldId);
    if (field.categories.length === 0) throw new Error(`add a category to '${field.key}' first`);
    if (!(code >= 0 && code < field.categories.length)) throw new Error(`no category ${code} in field '${field.key}'`);
    for (let j = 0; j < cells.length; j++) field.codes[cells[j]!] = code;
    this.emit("fields");
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

  /** Replaces everything with a restored session. */
  replace(pages: Page[], activePageId: string | null, fields: LabelField[], carried: CarriedContent = { fields: [], chunks: [] }): void {
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
