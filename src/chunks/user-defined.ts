/** `core/field-overlays` and `user-defined/codes/<fieldId>` (SPEC §4). */
import { formatError } from "../format/errors.js";
import {
  MAX_CATEGORIES_PER_BUNDLE,
  MAX_CATEGORIES_PER_FIELD,
  MAX_CATEGORY_BYTES_PER_BUNDLE,
  MAX_CATEGORY_BYTES_PER_FIELD,
} from "../format/limits.js";
import { FIELD_OVERLAYS_ID } from "./ids.js";
import { type Json, ShapeChecker } from "./shape.js";

export interface UserDefinedField extends Json {
  id: string;
  source: "obs" | "var" | string;
  kind: "category" | "continuous" | string;
  key?: string;
  categories?: string[];
  codesLength?: number;
  codesType?: "Uint8Array" | "Uint16Array" | string;
  isDeleted?: boolean;
  isPurged?: boolean;
}

export interface FieldOverlays extends Json {
  renames?: unknown;
  deletedFields?: unknown;
  userDefinedFields: UserDefinedField[];
}

export function parseFieldOverlays(value: unknown, source?: string): FieldOverlays {
  const s = new ShapeChecker(FIELD_OVERLAYS_ID, source);
  const root = s.object(value, "core/field-overlays");
  const fields = s.optionalArray(root["userDefinedFields"], "userDefinedFields");
  const totals = { count: 0, bytes: 0 };
  fields.forEach((f, i) => {
    const field = s.object(f, `userDefinedFields[${i}]`);
    field["id"] = s.id(field["id"], `userDefinedFields[${i}].id`);
    s.optionalString(field["key"], `userDefinedFields[${i}].key`);
    const cats = s.optionalArray(field["categories"], `userDefinedFields[${i}].categories`);
    field["categories"] = checkCategories(cats, String(field["key"] ?? field["id"]), totals, source);
  });
  root["userDefinedFields"] = fields;
  return root as FieldOverlays;
}

/**
 * The categories as strings, under the per-field and per-bundle caps (count
 * and UTF-8 bytes): every store turns them into a category column, so their
 * cost must stay proportional to a bounded amount of text.
 */
function checkCategories(cats: unknown[], field: string, totals: { count: number; bytes: number }, source?: string): string[] {
  const ctx = { source, chunkId: FIELD_OVERLAYS_ID };
  if (cats.length > MAX_CATEGORIES_PER_FIELD)
    throw formatError("TOO_MANY_CATEGORIES", `field '${field}' has ${cats.length} categories, over the limit of ${MAX_CATEGORIES_PER_FIELD} per field`, ctx);
  totals.count += cats.length;
  if (totals.count > MAX_CATEGORIES_PER_BUNDLE)
    throw formatError("TOO_MANY_CATEGORIES", `the fields have more than ${MAX_CATEGORIES_PER_BUNDLE} categories in all, over the limit per bundle`, ctx);
  let bytes = 0;
  const out = cats.map((c) => {
    const text = typeof c === "string" ? c : String(c);
    bytes += utf8Length(text);
    return text;
  });
  if (bytes > MAX_CATEGORY_BYTES_PER_FIELD)
    throw formatError("CATEGORIES_TOO_LARGE", `field '${field}' has ${bytes} bytes of category text, over the limit of ${MAX_CATEGORY_BYTES_PER_FIELD} per field`, ctx);
  totals.bytes += bytes;
  if (totals.bytes > MAX_CATEGORY_BYTES_PER_BUNDLE)
    throw formatError("CATEGORIES_TOO_LARGE", `the fields have more than ${MAX_CATEGORY_BYTES_PER_BUNDLE} bytes of category text in all, over the limit per bundle`, ctx);
  return out;
}

/** UTF-8 length of a string without encoding it (a lone surrogate counts as the 3 bytes of U+FFFD). */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // the pair is 4 bytes, counted 2 already
      i++;
    } else n += 2;
  }
  return n;
}

/** Fields that applying a bundle turns into columns: categorical ones, deleted ones only when asked. */
export function applicableFields(overlays: FieldOverlays, includeDeleted: boolean): UserDefinedField[] {
  return overlays.userDefinedFields.filter((f) => f.kind === "category" && (includeDeleted || !f.isDeleted));
}

export function fieldSource(field: UserDefinedField): "obs" | "var" {
  return field.source === "var" ? "var" : "obs";
}

/** The category text of a code, or null when it is outside the categories (missing). */
export function categoryOf(field: UserDefinedField, code: number): string | null {
  const cats = field.categories ?? [];
  return code < cats.length ? cats[code]! : null;
}
