/** `highlights/meta` (group shells, organised in pages) and `highlights/cells/<groupId>` (SPEC §4). */
import { type Json, ShapeChecker } from "./shape.js";
import { HIGHLIGHTS_META_ID } from "./ids.js";

export interface HighlightGroupMeta extends Json {
  id: string;
  type?: string;
  label?: string;
  cellCount?: number;
  enabled?: boolean;
}

export interface HighlightPageMeta extends Json {
  id: string;
  name?: string;
  color?: string;
  highlightedGroups: HighlightGroupMeta[];
}

export interface HighlightsMeta extends Json {
  pages: HighlightPageMeta[];
  activePageId?: string | null;
  activePageName?: string | null;
}

/** One group with its page, as applying a bundle walks them: pages, then groups, in order. */
export interface HighlightGroupRef {
  group: HighlightGroupMeta;
  page: HighlightPageMeta;
}

export function parseHighlightsMeta(value: unknown, source?: string): HighlightsMeta {
  const s = new ShapeChecker(HIGHLIGHTS_META_ID, source);
  const root = s.object(value, "highlights/meta");
  const pages = s.optionalArray(root["pages"], "pages");
  pages.forEach((p, i) => {
    const page = s.object(p, `pages[${i}]`);
    page["id"] = s.id(page["id"], `pages[${i}].id`);
    s.optionalString(page["name"], `pages[${i}].name`);
    const groups = s.optionalArray(page["highlightedGroups"], `pages[${i}].highlightedGroups`);
    page["highlightedGroups"] = groups;
    groups.forEach((g, j) => {
      const group = s.object(g, `pages[${i}].highlightedGroups[${j}]`);
      group["id"] = s.id(group["id"], `pages[${i}].highlightedGroups[${j}].id`);
    });
  });
  root["pages"] = pages;
  return root as HighlightsMeta;
}

export function listHighlightGroups(meta: HighlightsMeta): HighlightGroupRef[] {
  const out: HighlightGroupRef[] = [];
  for (const page of meta.pages) for (const group of page.highlightedGroups) out.push({ group, page });
  return out;
}
