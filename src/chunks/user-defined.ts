/** `core/field-overlays` and `user-defined/codes/<fieldId>` (SPEC §4). */
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
  fields.forEach((f, i) => {
    const field = s.object(f, `userDefinedFields[${i}]`);
    field["id"] = s.id(field["id"], `userDefinedFields[${i}].id`);
    s.optionalString(field["key"], `userDefinedFields[${i}].key`);
    const cats = s.optionalArray(field["categories"], `userDefinedFields[${i}].categories`);
    field["categories"] = cats.map((c) => (typeof c === "string" ? c : String(c)));
  });
  root["userDefinedFields"] = fields;
  return root as FieldOverlays;
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
