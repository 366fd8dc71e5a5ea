/**
 * Column naming exactly as applying a bundle does it (SPEC §6 steps 2–5):
 * safeKey, prefixes, and the conflict policy against existing columns and
 * columns added earlier in the same apply.
 */
import { CellucidSessionError } from "../format/errors.js";
import { type HighlightsMeta, listHighlightGroups } from "../chunks/highlights.js";
import { type FieldOverlays, type UserDefinedField, applicableFields, fieldSource } from "../chunks/user-defined.js";

export type ColumnConflictPolicy = "error" | "overwrite" | "suffix";

/** What a highlight column is named after: the group's id (the reference implementation) or its label. */
export type HighlightNames = "id" | "label";

export const DEFAULT_HIGHLIGHTS_PREFIX = "cellucid_highlight__";

/** SPEC §6.4: a column-safe version of a user's text. */
export function safeKey(s: string): string {
  let k = s.trim().replace(/[^0-9A-Za-z_]+/g, "_").replace(/__+/g, "_").replace(/^_+|_+$/g, "");
  if (k === "") k = "cellucid";
  if (/^[0-9]/.test(k)) k = "_" + k;
  return k;
}

/** Picks the final name of a new column and records it as taken. */
export class ColumnNamer {
  private readonly taken: Set<string>;
  private readonly reserved: Set<string>;
  /** `reserved`: names taken that even "overwrite" must not replace, such as the data frame's index. */
  constructor(existing: Iterable<string>, private readonly policy: ColumnConflictPolicy, reserved: Iterable<string> = []) {
    this.reserved = new Set(reserved);
    this.taken = new Set([...existing, ...this.reserved]);
  }
  claim(name: string): string {
    let final = name;
    if (this.taken.has(name)) {
      if (this.policy === "error") throw new CellucidSessionError("COLUMN_EXISTS", `Column already exists: ${name}`);
      if (this.policy === "suffix" || this.reserved.has(name)) {
        let n = 2;
        while (this.taken.has(`${name}__${n}`)) n++;
        final = `${name}__${n}`;
      }
    }
    this.taken.add(final);
    return final;
  }
}

export interface ColumnPlanOptions {
  addHighlights?: boolean;
  highlightsPrefix?: string;
  /** Default "id", as the reference names them; "label" names columns by safeKey(label), same conflict policy. */
  highlightNames?: HighlightNames;
  addUserDefinedFields?: boolean;
  userDefinedPrefix?: string;
  includeDeletedUserDefinedFields?: boolean;
  columnConflict?: ColumnConflictPolicy;
  existingObsColumns?: Iterable<string>;
  existingVarColumns?: Iterable<string>;
}

export interface PlannedHighlightColumn {
  column: string;
  groupId: string;
  label: string;
  pageId: string;
  pageName: string | null;
}

export interface PlannedFieldColumn {
  column: string;
  axis: "obs" | "var";
  field: UserDefinedField;
}

export interface ColumnPlan {
  highlights: PlannedHighlightColumn[];
  fields: PlannedFieldColumn[];
}

/**
 * The columns an apply would create, in order: every highlight group (pages,
 * then groups), then applicable user-defined fields. Fields that turn out to
 * be unusable (missing codes, wrong length) are dropped later by the caller;
 * names are claimed only for the ones kept, so callers claim through
 * `claimField`.
 */
export function planHighlightColumns(meta: HighlightsMeta | null, obs: ColumnNamer, opts: ColumnPlanOptions = {}): PlannedHighlightColumn[] {
  if (!meta || opts.addHighlights === false) return [];
  const prefix = opts.highlightsPrefix ?? DEFAULT_HIGHLIGHTS_PREFIX;
  return listHighlightGroups(meta).map(({ group, page }) => {
    const label = typeof group.label === "string" ? group.label : group.id;
    return {
      column: obs.claim(prefix + safeKey(opts.highlightNames === "label" ? label : group.id)),
      groupId: group.id,
      label,
      pageId: page.id,
      pageName: typeof page.name === "string" ? page.name : null,
    };
  });
}

export function fieldColumnBase(field: UserDefinedField, prefix = ""): string {
  const key = typeof field.key === "string" && field.key !== "" ? field.key : field.id;
  return prefix + safeKey(key);
}

export function candidateFields(overlays: FieldOverlays | null, opts: ColumnPlanOptions = {}): UserDefinedField[] {
  if (!overlays || opts.addUserDefinedFields === false) return [];
  return applicableFields(overlays, opts.includeDeletedUserDefinedFields ?? false);
}

export { fieldSource };
