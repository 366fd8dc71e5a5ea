/**
 * What the writer needs to write bundles the current web app's Load State
 * accepts (WEBAPP.md): the app's shapes for groups and fields, its ids and
 * page colours, the neutral payloads of its singleton chunks, its chunk
 * order, and a typed refusal naming the rule when input cannot be written so.
 */
import { CellucidSessionError } from "../format/errors.js";
import type { ChunkMeta, DatasetFingerprint } from "../format/manifest.js";
import { type CellOrderDimension, parseCellOrder } from "../chunks/cell-order.js";
import { APP_CONTRIBUTOR_ORDER } from "../chunks/app-chunks.js";
import { APP_GROUP_TYPES, GROUP_ID, PAGE_COLOR, PAGE_ID } from "./webapp-shapes.js";

/** Writing input the app would refuse; the message names the rule (WEBAPP_*). */
export function notAppLoadable(rule: string, message: string): CellucidSessionError {
  return new CellucidSessionError("NOT_APP_LOADABLE", `${rule}: ${message} (the web app would refuse the bundle; pass canonical: false to write it anyway)`);
}

/** The app's fingerprint, exactly five keys; refused without a well-formed cellOrder. */
export function appFingerprint(fp: DatasetFingerprint | null | undefined): DatasetFingerprint {
  if (!fp) throw notAppLoadable("WEBAPP_FINGERPRINT", "a datasetFingerprint is required");
  const cellOrder = parseCellOrder(fp.cellOrder);
  if (fp.cellOrder === undefined) throw notAppLoadable("WEBAPP_NO_CELL_ORDER", "datasetFingerprint needs cellOrder {dimension, digest} (appCellOrder(store) computes it)");
  if (!cellOrder) throw notAppLoadable("WEBAPP_CELL_ORDER", "cellOrder must be exactly {dimension: 1, 2 or 3, digest: 16 lowercase hex characters}");
  for (const k of ["cellCount", "varCount"] as const)
    if (!Number.isSafeInteger(fp[k]) || fp[k]! < 0) throw notAppLoadable("WEBAPP_FINGERPRINT", `datasetFingerprint.${k} must be a non-negative integer`);
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return { sourceType: str(fp.sourceType), datasetId: str(fp.datasetId), cellCount: fp.cellCount!, varCount: fp.varCount!, cellOrder };
}

/** Page colours the app cycles through for new pages (Tableau 10). */
export const PAGE_COLORS: readonly string[] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Hands out `page_<n>` / `highlight_<n>` ids, honouring ones the caller already gave in that form. */
export class AppIds {
  private readonly used = new Set<string>();
  private next = 1;
  constructor(private readonly prefix: "page_" | "highlight_") {}

  take(given: string | undefined): string {
    const pattern = this.prefix === "page_" ? PAGE_ID : GROUP_ID;
    if (given !== undefined) {
      if (!pattern.test(given)) throw notAppLoadable("WEBAPP_HIGHLIGHT_IDS", `id '${given}' must be ${this.prefix}<n> (leave it out to have one assigned)`);
      if (this.used.has(given)) throw notAppLoadable("WEBAPP_HIGHLIGHT_IDS", `id '${given}' is used twice`);
      this.used.add(given);
      return given;
    }
    while (this.used.has(this.prefix + this.next)) this.next++;
    const id = this.prefix + this.next;
    this.used.add(id);
    return id;
  }
}

/** The app's group type for ours: a rectangle selection is a lasso-type group. */
export function appGroupType(type: string | undefined): string {
  const t = type === undefined || type === "rectangle" || type === "selection" ? "lasso" : type;
  if (!APP_GROUP_TYPES.includes(t)) throw notAppLoadable("WEBAPP_GROUP_TYPE", `group type '${type}' is not one of ${APP_GROUP_TYPES.join(", ")}`);
  return t;
}

export function appPageColor(color: string | undefined, index: number): string {
  if (color === undefined) return PAGE_COLORS[index % PAGE_COLORS.length]!;
  if (!PAGE_COLOR.test(color)) throw notAppLoadable("WEBAPP_PAGE_COLOR", `page colour '${color}' must be #rrggbb`);
  return color;
}

/** Keys a `category` / `range` group carries beyond the common five. */
export const GROUP_BINDING_KEYS: Record<string, readonly string[]> = {
  category: ["fieldKey", "fieldIndex", "fieldSource", "categoryIndex", "categoryName"],
  range: ["fieldKey", "fieldIndex", "fieldSource", "rangeMin", "rangeMax"],
};

/** A categorical field record with every key the app's field-overlays contributor writes. */
export function appFieldRecord(f: { id: string; key: string; source: "obs" | "var"; categories: unknown[]; codesLength: number; wide: boolean; isDeleted: boolean; isPurged: boolean }): Record<string, unknown> {
  return {
    id: f.id, source: f.source, kind: "category", key: f.key, isDeleted: f.isDeleted, isPurged: f.isPurged,
    sourceField: null, operation: null, createdAt: null,
    categories: f.categories, codesLength: f.codesLength, codesType: f.wide ? "Uint16Array" : "Uint8Array",
    centroidsByDim: {}, normalizedDims: [], sourcePages: [],
    overlapStrategy: "first", overlapLabel: null, intersectionLabels: null, uncoveredLabel: null,
  };
}

/** The app stores a field's codes as u16 from 255 categories on: 255 is u8's missing marker. */
export const U16_FROM_CATEGORIES = 255;

export interface NeutralOptions {
  dimension: CellOrderDimension;
  activeField: { key: string; source: "obs" | "var" } | null;
}

/** A camera looking at the normalised embedding from the front: the app's neutral start. */
function neutralCamera(): Record<string, unknown> {
  return {
    navigationMode: "orbit",
    orbit: { radius: 3, targetRadius: 3, theta: 0, phi: Math.PI / 2, target: [0, 0, 0] },
    freefly: { position: [0, 0, 3], yaw: 0, pitch: 0 },
  };
}

/** `core/state` in the app's shape, with nothing chosen but the dimension and the active field. */
export function neutralCoreState(o: NeutralOptions, uiControls: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    camera: neutralCamera(),
    liveDimensionLevel: o.dimension,
    uiControls,
    filters: {},
    activeFields: o.activeField ? { activeFieldKey: o.activeField.key, activeFieldSource: o.activeField.source } : { activeFieldKey: null, activeFieldSource: null },
    multiview: { layout: { mode: "single", activeId: "live", liveViewHidden: false }, camerasLocked: true, liveCameraState: neutralCamera(), snapshots: [] },
  };
}

/** The other singletons' payloads for a freshly opened dataset: no panels, windows, camera path or cached artifacts. */
export const NEUTRAL_PAYLOADS: Record<string, unknown> = {
  "ui/dockable-layout": { panels: [] },
  "analysis/windows": { windows: [] },
  "cinematic/camera": {
    defaultSpeed: "30", easing: "ease-in-out", keyframes: [], loopBackKeyframeId: null, loopPlayback: false,
    navigationMode: "orbit", nextIndex: 1, positionMethod: "catmull-rom", rotationMethod: "slerp",
  },
};

/** Stable sort into the app's order: eager before lazy, then contributor order; insertion order within. */
export function appChunkOrder<T extends { meta: ChunkMeta }>(chunks: T[]): T[] {
  const rank = (c: T) => (c.meta.priority === "lazy" ? 100 : 0) + APP_CONTRIBUTOR_ORDER.indexOf(String(c.meta.contributorId));
  return chunks.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c);
}
