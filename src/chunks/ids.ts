/** The chunk ids this library understands (SPEC §4); anything else is kept and listed, never an error. */
import { type AppStateRole, appStateRole } from "./app-chunks.js";

export const HIGHLIGHTS_META_ID = "highlights/meta";
export const HIGHLIGHT_CELLS_PREFIX = "highlights/cells/";
export const FIELD_OVERLAYS_ID = "core/field-overlays";
export const USER_DEFINED_CODES_PREFIX = "user-defined/codes/";

/** The web app's own state chunks have their family as role: known, kept, decodable, nothing to apply. */
export type ChunkRole = "highlights-meta" | "highlight-cells" | "field-overlays" | "user-defined-codes" | AppStateRole | "unknown";

export function highlightCellsId(groupId: string): string {
  return HIGHLIGHT_CELLS_PREFIX + groupId;
}

export function userDefinedCodesId(fieldId: string): string {
  return USER_DEFINED_CODES_PREFIX + fieldId;
}

export function chunkRole(id: string): ChunkRole {
  if (id === HIGHLIGHTS_META_ID) return "highlights-meta";
  if (id.startsWith(HIGHLIGHT_CELLS_PREFIX)) return "highlight-cells";
  if (id === FIELD_OVERLAYS_ID) return "field-overlays";
  if (id.startsWith(USER_DEFINED_CODES_PREFIX)) return "user-defined-codes";
  return appStateRole(id) ?? "unknown";
}
