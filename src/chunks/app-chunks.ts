/**
 * The Cellucid web app's chunk families (WEBAPP.md; the app's
 * `published-default.js` and `contributors/*.js`): their ids, their fixed
 * manifest profiles, the contributor order its Load State enforces, and the
 * neutral payloads it writes for a freshly opened dataset.
 */
import type { ChunkMeta } from "../format/manifest.js";

/** Roles of the app's own state chunks: known, kept, nothing to apply. */
export type AppStateRole = "core-state" | "dockable-layout" | "analysis-windows" | "cinematic-camera" | "cache-inventory" | "analysis-artifact";

export const CORE_STATE_ID = "core/state";
export const DOCKABLE_LAYOUT_ID = "ui/dockable-layout";
export const ANALYSIS_WINDOWS_ID = "analysis/windows";
export const CINEMATIC_CAMERA_ID = "cinematic/camera";
export const CACHE_INVENTORY_ID = "analysis/cache-inventory";
export const ANALYSIS_ARTIFACTS_PREFIX = "analysis/artifacts/";

const STATE_ROLE_BY_ID: Record<string, AppStateRole> = {
  [CORE_STATE_ID]: "core-state",
  [DOCKABLE_LAYOUT_ID]: "dockable-layout",
  [ANALYSIS_WINDOWS_ID]: "analysis-windows",
  [CINEMATIC_CAMERA_ID]: "cinematic-camera",
  [CACHE_INVENTORY_ID]: "cache-inventory",
};

export function appStateRole(id: string): AppStateRole | null {
  return STATE_ROLE_BY_ID[id] ?? (id.startsWith(ANALYSIS_ARTIFACTS_PREFIX) ? "analysis-artifact" : null);
}

/** The app's registered contributors, in the order its Load State requires within eager and within lazy chunks. */
export const APP_CONTRIBUTOR_ORDER: readonly string[] = [
  "field-overlays",
  "user-defined-codes",
  "cinematic-camera",
  "core-state",
  "dockable-layout",
  "analysis-windows",
  "highlights-meta",
  "highlights-cells",
  "analysis-artifacts",
];

export type ChunkProfile = Required<Pick<ChunkMeta, "id" | "contributorId" | "priority" | "kind" | "codec" | "label" | "datasetDependent">>;

const profile = (id: string, contributorId: string, label: string, datasetDependent = true): ChunkProfile =>
  ({ id, contributorId, priority: "eager", kind: "json", codec: "gzip", label, datasetDependent });

/** Every singleton chunk a current Save State writes, with its fixed profile; Load State requires each. */
export const APP_SINGLETON_PROFILES: readonly ChunkProfile[] = [
  profile("core/field-overlays", "field-overlays", "Field overlays"),
  profile(CORE_STATE_ID, "core-state", "Core state"),
  profile(DOCKABLE_LAYOUT_ID, "dockable-layout", "Floating panels", false),
  profile(ANALYSIS_WINDOWS_ID, "analysis-windows", "Analysis windows"),
  profile("highlights/meta", "highlights-meta", "Highlight metadata"),
  profile(CACHE_INVENTORY_ID, "analysis-artifacts", "Analysis cache inventory"),
  profile(CINEMATIC_CAMERA_ID, "cinematic-camera", "Cinematic camera path"),
];

export const APP_PROFILE_KEYS = ["id", "contributorId", "priority", "kind", "codec", "label", "datasetDependent"] as const;

export function singletonProfile(id: string): ChunkProfile | undefined {
  return APP_SINGLETON_PROFILES.find((p) => p.id === id);
}

/** Labels the app gives its per-group and per-field chunks (the Python bridge checks them too). */
export const highlightCellsLabel = (groupLabel: string): string => `Highlight cells: ${groupLabel}`;
export const userDefinedCodesLabel = (fieldKey: string): string => `User-defined codes: ${fieldKey}`;
