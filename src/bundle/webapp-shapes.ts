/**
 * The web app's shapes for `highlights/meta` and `core/field-overlays`
 * (WEBAPP.md; the app's highlights-meta and field-overlays contributors):
 * exact keys, `page_<n>` / `highlight_<n>` ids, page colours, group types,
 * no empty groups, field records, u8 codes for at most 255 categories. Used by
 * `validate --target webapp` and by the writer before it writes.
 */
export type Issue = (code: string, chunkId: string | null, message: string) => void;

export const APP_GROUP_TYPES: readonly string[] = ["annotation", "category", "combined", "knn", "lasso", "proximity", "range"];

const ROOT_KEYS = ["pages", "activePageId"];
const PAGE_KEYS = ["id", "name", "color", "highlightedGroups"];
const GROUP_KEYS = ["id", "type", "label", "enabled", "cellCount"];
const FIELD_BINDING_KEYS = ["fieldKey", "fieldIndex", "fieldSource"];
const GROUP_KEYS_BY_TYPE: Record<string, string[]> = {
  category: [...GROUP_KEYS, ...FIELD_BINDING_KEYS, "categoryIndex", "categoryName"],
  range: [...GROUP_KEYS, ...FIELD_BINDING_KEYS, "rangeMin", "rangeMax"],
};
const OVERLAY_KEYS = ["renames", "deletedFields", "userDefinedFields"];
const FIELD_COMMON_KEYS = ["id", "source", "kind", "key", "isDeleted", "isPurged", "sourceField", "operation", "createdAt"];
export const APP_CATEGORY_FIELD_KEYS: readonly string[] = [
  ...FIELD_COMMON_KEYS, "categories", "codesLength", "codesType", "centroidsByDim", "normalizedDims",
  "sourcePages", "overlapStrategy", "overlapLabel", "intersectionLabels", "uncoveredLabel",
];
const WIRE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,179}$/;

export const PAGE_ID = /^page_[1-9]\d*$/;
export const GROUP_ID = /^highlight_[1-9]\d*$/;
export const PAGE_COLOR = /^#[0-9a-fA-F]{6}$/;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** null when `o` has exactly `keys`, else what is missing and what is extra. */
export function exactKeys(o: Record<string, unknown>, keys: readonly string[]): string | null {
  const missing = keys.filter((k) => !(k in o));
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (!missing.length && !extra.length) return null;
  return [missing.length ? `missing ${missing.join(", ")}` : "", extra.length ? `extra ${extra.join(", ")}` : ""].filter(Boolean).join("; ");
}

export interface AppGroupRef {
  id: string;
  label: string;
  cellCount: number;
}

/** Checks `highlights/meta`; returns the groups (in page order) whose cells chunks are then checked. */
export function checkHighlightsMeta(value: unknown, present: boolean, add: Issue): AppGroupRef[] {
  const at = "highlights/meta";
  if (!present) return [];
  if (value === undefined) return [];
  const fail = (code: string, msg: string) => add(code, at, msg);
  if (!isRecord(value)) return fail("HIGHLIGHTS_SHAPE", "payload must be an object"), [];
  const extra = exactKeys(value, ROOT_KEYS);
  if (extra) fail("HIGHLIGHTS_SHAPE", `payload must have exactly the keys pages, activePageId (${extra})`);
  const pages = Array.isArray(value["pages"]) ? value["pages"] : [];
  if (!pages.length) fail("HIGHLIGHTS_SHAPE", "pages must be a non-empty array");
  const pageIds = new Set<string>();
  const groupIds = new Set<string>();
  const groups: AppGroupRef[] = [];
  pages.forEach((p, i) => {
    const where = `pages[${i}]`;
    if (!isRecord(p)) return fail("HIGHLIGHTS_SHAPE", `${where} must be an object`);
    const pe = exactKeys(p, PAGE_KEYS);
    if (pe) fail("HIGHLIGHTS_SHAPE", `${where} must have exactly the keys ${PAGE_KEYS.join(", ")} (${pe})`);
    if (typeof p["id"] !== "string" || !PAGE_ID.test(p["id"])) fail("HIGHLIGHT_IDS", `${where}.id ${JSON.stringify(p["id"])} must be page_<n>`);
    else if (pageIds.has(p["id"])) fail("HIGHLIGHT_IDS", `page id '${p["id"]}' appears twice`);
    else pageIds.add(p["id"]);
    if (typeof p["name"] !== "string" || p["name"] === "") fail("HIGHLIGHTS_SHAPE", `${where}.name must be a non-empty string`);
    if (typeof p["color"] !== "string" || !PAGE_COLOR.test(p["color"])) fail("PAGE_COLOR", `${where}.color ${JSON.stringify(p["color"])} must be #rrggbb`);
    const list = Array.isArray(p["highlightedGroups"]) ? p["highlightedGroups"] : (fail("HIGHLIGHTS_SHAPE", `${where}.highlightedGroups must be an array`), []);
    list.forEach((g, j) => {
      const gw = `${where}.highlightedGroups[${j}]`;
      if (!isRecord(g)) return fail("HIGHLIGHTS_SHAPE", `${gw} must be an object`);
      const type = String(g["type"]);
      if (!APP_GROUP_TYPES.includes(type)) fail("GROUP_TYPE", `${gw}.type '${type}' is not one of ${APP_GROUP_TYPES.join(", ")}`);
      const keys = GROUP_KEYS_BY_TYPE[type] ?? GROUP_KEYS;
      const ge = exactKeys(g, keys);
      if (ge) fail("HIGHLIGHTS_SHAPE", `${gw} (${type}) must have exactly the keys ${keys.join(", ")} (${ge})`);
      const id = g["id"];
      if (typeof id !== "string" || !GROUP_ID.test(id)) fail("HIGHLIGHT_IDS", `${gw}.id ${JSON.stringify(id)} must be highlight_<n>`);
      else if (groupIds.has(id)) fail("HIGHLIGHT_IDS", `group id '${id}' appears twice`);
      if (typeof g["label"] !== "string" || g["label"] === "") fail("HIGHLIGHTS_SHAPE", `${gw}.label must be a non-empty string`);
      if (typeof g["enabled"] !== "boolean") fail("HIGHLIGHTS_SHAPE", `${gw}.enabled must be true or false`);
      const n = g["cellCount"];
      if (!Number.isSafeInteger(n) || (n as number) < 1) fail("EMPTY_GROUP", `${gw} ('${String(g["label"])}') has cellCount ${String(n)}: the app has no empty groups`);
      if (typeof id === "string" && GROUP_ID.test(id) && !groupIds.has(id)) {
        groupIds.add(id);
        groups.push({ id, label: String(g["label"]), cellCount: Number(n) });
      }
    });
  });
  const active = value["activePageId"];
  if (typeof active !== "string" || !pageIds.has(active)) fail("HIGHLIGHT_IDS", `activePageId ${JSON.stringify(active)} must be the id of one of the pages`);
  return groups;
}

export interface AppFieldRef {
  id: string;
  key: string;
  categories: number;
  codesLength: number;
  codesType: string;
}

/** Checks `core/field-overlays`; returns the categorical fields whose codes chunks are then checked. */
export function checkFieldOverlays(value: unknown, present: boolean, cellCount: number | null, add: Issue): AppFieldRef[] {
  const at = "core/field-overlays";
  if (!present || value === undefined) return [];
  const fail = (code: string, msg: string) => add(code, at, msg);
  if (!isRecord(value)) return fail("OVERLAYS_SHAPE", "payload must be an object"), [];
  const extra = exactKeys(value, OVERLAY_KEYS);
  if (extra) fail("OVERLAYS_SHAPE", `payload must have exactly the keys ${OVERLAY_KEYS.join(", ")} (${extra})`);
  const renames = value["renames"];
  if (!isRecord(renames) || exactKeys(renames, ["fields", "categories"]) || !isRecord(renames["fields"]) || !isRecord(renames["categories"]))
    fail("OVERLAYS_SHAPE", "renames must be exactly {fields: {}, categories: {}}");
  const deleted = value["deletedFields"];
  if (!isRecord(deleted) || exactKeys(deleted, ["deleted", "purged"]) || !Array.isArray(deleted["deleted"]) || !Array.isArray(deleted["purged"]))
    fail("OVERLAYS_SHAPE", "deletedFields must be exactly {deleted: [], purged: []}");
  const fields = Array.isArray(value["userDefinedFields"]) ? value["userDefinedFields"] : [];
  const out: AppFieldRef[] = [];
  fields.forEach((f, i) => {
    const where = `userDefinedFields[${i}]`;
    if (!isRecord(f)) return fail("OVERLAYS_SHAPE", `${where} must be an object`);
    const kind = f["kind"];
    const keys = kind === "category" ? APP_CATEGORY_FIELD_KEYS : FIELD_COMMON_KEYS;
    const fe = exactKeys(f, keys);
    if (fe) fail("OVERLAYS_SHAPE", `${where} (${String(kind)}) must have exactly the app's field keys (${fe})`);
    if (kind !== "category" && kind !== "continuous") fail("OVERLAYS_SHAPE", `${where}.kind must be category or continuous`);
    if (typeof f["id"] !== "string" || !WIRE_ID.test(f["id"])) fail("FIELD_ID", `${where}.id ${JSON.stringify(f["id"])} must be letters, digits, '.', '_' or '-' (at most 180)`);
    if (f["source"] !== "obs" && f["source"] !== "var") fail("OVERLAYS_SHAPE", `${where}.source must be obs or var`);
    const key = f["key"];
    if (typeof key !== "string" || key === "" || key.trim() !== key || key.includes(":")) fail("OVERLAYS_SHAPE", `${where}.key must be a non-empty string without ':' or surrounding spaces`);
    if (typeof f["isDeleted"] !== "boolean" || typeof f["isPurged"] !== "boolean") fail("OVERLAYS_SHAPE", `${where}.isDeleted and isPurged must be true or false`);
    if (kind !== "category") return;
    const cats = Array.isArray(f["categories"]) ? f["categories"] : [];
    if (!cats.length || !cats.every((c) => typeof c === "string" || typeof c === "boolean" || (typeof c === "number" && Number.isFinite(c))))
      fail("OVERLAYS_SHAPE", `${where}.categories must be a non-empty array of strings, numbers or booleans`);
    const codesType = String(f["codesType"]);
    if (codesType !== "Uint8Array" && codesType !== "Uint16Array") fail("OVERLAYS_SHAPE", `${where}.codesType must be Uint8Array or Uint16Array`);
    if (codesType === "Uint8Array" && cats.length > 255) fail("U8_CATEGORIES", `${where} has ${cats.length} categories in u8 codes, whose 255 is the missing marker: more than 255 categories need Uint16Array`);
    const length = f["codesLength"];
    if (!Number.isSafeInteger(length) || (cellCount !== null && length !== cellCount)) fail("FIELD_CODES", `${where}.codesLength ${String(length)} must be the cell count ${String(cellCount)} (the app's codes are one per cell)`);
    if (typeof f["id"] === "string") out.push({ id: f["id"], key: String(key), categories: cats.length, codesLength: Number(length), codesType });
  });
  return out;
}
