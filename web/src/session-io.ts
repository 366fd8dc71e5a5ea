/**
 * The viewer state to and from a `.cellucid-session`, through the project's
 * own core (SessionWriter / CellucidSessionBundle). Save State writes a
 * canonical bundle, one the current web app loads and `apply` reads, unless
 * the session holds what the app cannot load (gene fields, chunks of other
 * contributors) and the person chose to keep it: then a permissive bundle
 * for this tool and Python (`canonical: false`). Autosaves are always
 * permissive: they must keep everything.
 */
import { missingMarkerOf } from "../../src/codecs/codes.js";
import { CellucidSessionBundle } from "../../src/bundle/bundle.js";
import { GROUP_BINDING_KEYS, U16_FROM_CATEGORIES } from "../../src/bundle/canonical.js";
import { mismatchReasons } from "../../src/bundle/mismatch.js";
import { controlProblem } from "../../src/bundle/webapp-core-state.js";
import type { EncodedChunkCache } from "../../src/bundle/chunk-cache.js";
import { SessionWriter } from "../../src/bundle/writer.js";
import type { CellOrder } from "../../src/chunks/cell-order.js";
import { chunkRole, userDefinedCodesId } from "../../src/chunks/ids.js";
import type { GzipCodec } from "../../src/codecs/gzip.js";
import type { ViewerConfig } from "./api.js";
import { type EmbeddingLoader, cellOrderMismatch, viewerCellOrder } from "./cell-order.js";
import { type CarriedContent, type Group, type LabelField, type Page, type ViewerState, fieldCodes, newId, nextAppId } from "./state.js";

/** What a bundle is written from: plain data, so a worker can write it too. */
export type SessionData = Pick<ViewerState, "pages" | "activePageId" | "fields" | "activeFieldId" | "carried">;

export function sessionData(state: ViewerState): SessionData {
  return { pages: state.pages, activePageId: state.activePageId, fields: state.fields, activeFieldId: state.activeFieldId, carried: state.carried };
}

/**
 * The `core/state` control in which canonical bundles this page saved before
 * carried its view settings; read on Load, no longer written: the app refuses
 * a control its page does not have. Permissive saves keep the view as the
 * whole `core/state`.
 */
const VIEW_CONTROL = "cellucid-session-view";

/** Chunks of the web app's own state that this page carries from Load to Save unchanged. */
const CARRIED_ROLES = new Set(["dockable-layout", "analysis-windows", "cinematic-camera", "analysis-artifact"]);

/** View settings found in the `core/state` of bundles this page saved before: restored on Load. */
export interface ViewSnapshot {
  embedding: string | null;
  axes: [number, number];
  rotation: { yaw: number; pitch: number };
  colorBy: string | null;
  camera: { cx: number; cy: number; scale: number };
}

/**
 * The codes the canonical writer takes: the page's own when their width is the app's for
 * that many categories (the missing markers then agree), else with -1 for missing.
 * The permissive layout stores the codes as they are.
 */
const canonicalCodes = new WeakMap<Uint8Array | Uint16Array, Int32Array>();

/** One per codes array (arrays never change), so that a chunk cache knows the field again. */
function codesForApp(codes: Uint8Array | Uint16Array, categories: number): Uint8Array | Uint16Array | Int32Array {
  if (codes instanceof Uint16Array === categories >= U16_FROM_CATEGORIES) return codes;
  let out = canonicalCodes.get(codes);
  if (!out) {
    const marker = missingMarkerOf(codes);
    out = new Int32Array(codes.length);
    for (let i = 0; i < codes.length; i++) out[i] = codes[i] === marker ? -1 : codes[i]!;
    canonicalCodes.set(codes, out);
  }
  return out;
}

/**
 * `canonical`: the web app's layout, without what it cannot load; otherwise
 * everything, in SPEC's permissive layout. `cache`: chunks of earlier
 * bundles, reused for groups and fields whose arrays are the same objects.
 */
export async function writeSession(state: SessionData, config: Pick<ViewerConfig, "dataset">, view: ViewSnapshot, cellOrder: CellOrder, canonical: boolean, gzip?: GzipCodec, cache?: EncodedChunkCache): Promise<Blob> {
  const fp = config.dataset.fingerprint;
  // A field nobody gave a category has nothing to keep, and the app has no field without categories.
  const fields = state.fields.filter((f) => f.categories.length > 0);
  const writer = new SessionWriter({
    canonical,
    ...(gzip && { gzip }),
    ...(cache && { cache }),
    datasetFingerprint: { sourceType: fp.sourceType, datasetId: fp.datasetId, cellCount: config.dataset.nObs, varCount: config.dataset.nVars, cellOrder },
    activeFieldId: fields.some((f) => f.id === state.activeFieldId) ? state.activeFieldId : null,
    ...(canonical && state.carried.uiControls && { uiControls: state.carried.uiControls }),
  });
  for (const page of state.pages) {
    // The app has no empty groups; a group without cells has nothing to save.
    const groups = page.groups.filter((g) => g.cells.length > 0);
    writer.addHighlightPage({ id: page.id, name: page.name, groups: groups.map((g) => ({ ...g.binding, id: g.id, label: g.label, type: g.type, enabled: g.enabled, cells: g.cells })) }, { active: page.id === state.activePageId });
  }
  for (const f of fields) writer.addUserDefinedField({ id: f.id, key: f.key, source: "obs", categories: [...f.categories], codes: canonical ? codesForApp(f.codes, f.categories.length) : f.codes });
  for (const f of state.carried.fields) if (!state.fields.some((x) => x.id === f.id) && (!canonical || f.source !== "var")) writer.addUserDefinedField(f);
  for (const { id, meta, value } of state.carried.chunks) {
    if (canonical && chunkRole(id) === "unknown") continue;
    if (meta.kind === "json") writer.addJsonChunk(id, value, { label: meta.label });
    else writer.addBinaryChunk(id, value as Uint8Array, { label: meta.label });
  }
  // Permissive bundles have no app control record: the view settings are the whole `core/state`.
  if (!canonical && !state.carried.chunks.some((c) => c.id === "core/state"))
    writer.addJsonChunk("core/state", { viewer: "cellucid-session", ...view, ...(state.carried.uiControls && { uiControls: state.carried.uiControls }) });
  return writer.toBlob();
}


export async function buildBundle(state: ViewerState, config: ViewerConfig, view: ViewSnapshot, load: EmbeddingLoader, canonical = true): Promise<Blob> {
  return writeSession(sessionData(state), config, view, await viewerCellOrder(config, view, load), canonical);
}

export class FingerprintMismatchError extends Error {
  constructor(readonly reasons: string[]) {
    super(`Dataset fingerprint mismatch: ${reasons.join("; ")}`);
    this.name = "FingerprintMismatchError";
  }
}

export interface RestoreResult {
  /** The view settings this page saved, when the bundle has them (another viewer's `core/state` is left alone). */
  view: ViewSnapshot | null;
  pages: number;
  groups: number;
  fields: number;
  warnings: string[];
}

/**
 * Reads highlights and obs label fields from a bundle into `state`, replacing
 * what was there. A bundle made on another dataset is refused before anything
 * changes: its cell indices would point at the wrong cells.
 */
export async function restoreBundle(source: Blob | Uint8Array, state: ViewerState, config: ViewerConfig, name = "session", load?: EmbeddingLoader): Promise<RestoreResult> {
  const bundle = source instanceof Blob ? await CellucidSessionBundle.fromBlob(source, { name }) : await CellucidSessionBundle.fromBytes(source, { name });
  const { nObs, nVars, fingerprint } = config.dataset;
  const reasons = mismatchReasons(bundle, { nObs, nVars }, fingerprint.datasetId);
  // Like the web app, the cell order is checked before anything changes: saved indices would mark other cells.
  const order = bundle.cellOrder;
  if (!reasons.length && order && load) {
    const reason = await cellOrderMismatch(config, order, load);
    if (reason) reasons.push(reason);
  }
  if (reasons.length) throw new FingerprintMismatchError(reasons);

  const warnings: string[] = [];
  const meta = await bundle.highlightsMeta();
  const pages: Page[] = [];
  // Ids become chunk ids on the next save, which takes only the app's page_<n> / highlight_<n>, once each:
  // other ids and repeats get fresh ones.
  const seen = new Set<string>();
  const appId = (id: string, prefix: "page_" | "highlight_"): string => {
    const fresh = seen.has(id) || !new RegExp(`^${prefix}[1-9]\\d*$`).test(id);
    const out = fresh ? nextAppId(prefix, seen) : id;
    seen.add(out);
    return out;
  };
  for (const page of await bundle.highlightPages({ nObs })) {
    const groups: Group[] = page.groups.map((g) => {
      const group: Group = { id: appId(g.id, "highlight_"), label: g.label, type: g.type ?? "lasso", enabled: g.enabled, cells: g.cells };
      // A range or category group keeps its tie to the app's field, so saving it again loads in the app.
      const keys = GROUP_BINDING_KEYS[group.type];
      if (keys) group.binding = Object.fromEntries(keys.map((k) => [k, g.meta[k]]));
      return group;
    });
    pages.push({ id: appId(page.id, "page_"), name: page.name ?? page.id, groups });
  }

  const fields: LabelField[] = [];
  const carried: CarriedContent = { fields: [], chunks: [], notForApp: [] };
  const fieldIds = new Set<string>();
  const fieldId = (id: string): string => (fieldIds.has(id) || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,179}$/.test(id) ? newId("udf") : (fieldIds.add(id), id));
  for (const f of await bundle.userDefinedFields()) {
    if (f.kind !== "category" || !bundle.hasChunk(userDefinedCodesId(f.id))) continue;
    try {
      // The web app's codes are one per cell: a gene field (one code per gene) is kept as it is, for this tool and Python.
      if (f.source === "var") {
        const { codes } = await bundle.readUserDefinedCodes(f, { expectedLength: nVars });
        carried.fields.push({ id: f.id, key: f.key ?? f.id, source: "var", categories: (f.categories ?? []).map(String), codes, isDeleted: f.isDeleted === true, isPurged: f.isPurged === true });
        carried.notForApp.push(`gene field '${f.key ?? f.id}'`);
        continue;
      }
      const { codes } = await bundle.readUserDefinedCodes(f, { expectedLength: nObs });
      const categories = (f.categories ?? []).map(String);
      const field = { id: fieldId(f.id), key: f.key ?? f.id, categories, codes: fieldCodes(codes, categories.length) };
      // This viewer shows live label fields; deleted ones are only carried to the next save.
      if (f.isDeleted) carried.fields.push({ ...field, source: "obs", isDeleted: true, isPurged: f.isPurged === true, codes: field.codes });
      else fields.push(field);
    } catch (err) {
      warnings.push(`label field '${f.key ?? f.id}' skipped: ${(err as Error).message}`);
    }
  }
  // The app's own view state (panels, analysis windows, camera path, cached artifacts) goes back out as it came in;
  // so do chunks of contributors the app does not know, though only in a bundle for this tool (the app refuses them).
  for (const id of bundle.listChunkIds()) {
    const role = chunkRole(id);
    if (!CARRIED_ROLES.has(role) && role !== "unknown") continue;
    carried.chunks.push({ id, meta: bundle.getChunkMeta(id), value: await bundle.decodeChunk(id) });
    if (role === "unknown") carried.notForApp.push(`chunk '${id}'`);
  }
  const coreState = bundle.hasChunk("core/state") ? await bundle.decodeChunk("core/state").catch(() => null) : null;
  const uiControls = appUiControls(coreState);
  if (uiControls) carried.uiControls = uiControls;
  state.replace(pages, pages.find((p, i) => meta?.pages[i]?.id === meta?.activePageId)?.id ?? null, fields, carried);
  const view = parseViewSnapshot(coreState);
  return { view, pages: pages.length, groups: pages.reduce((n, p) => n + p.groups.length, 0), fields: fields.length, warnings };
}

/**
 * The app's control record of a `core/state` the app saved, kept for the next
 * canonical save so that it loads in that app again; null when any entry is
 * one the app would refuse (this page's own old view control among them).
 */
function appUiControls(state: unknown): Record<string, unknown> | null {
  if (!state || typeof state !== "object") return null;
  const controls = (state as Record<string, unknown>)["uiControls"];
  if (!controls || typeof controls !== "object" || Array.isArray(controls)) return null;
  const entries = Object.entries(controls as Record<string, unknown>);
  if (!entries.length || entries.some(([id, record]) => id === VIEW_CONTROL || controlProblem(id, record) !== null)) return null;
  return { ...(controls as Record<string, unknown>) };
}

/**
 * Our view settings: in `core/state`'s controls (canonical bundles), or the
 * whole `core/state` of bundles this page wrote before; checked field by
 * field, so a hand-edited or foreign one yields null, never a broken view.
 */
function parseViewSnapshot(state: unknown): ViewSnapshot | null {
  if (!state || typeof state !== "object") return null;
  const control = ((state as Record<string, unknown>)["uiControls"] as Record<string, { value?: unknown }> | undefined)?.[VIEW_CONTROL];
  let v: unknown = state;
  if (control && typeof control.value === "string") {
    try {
      v = JSON.parse(control.value);
    } catch {
      return null;
    }
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
  const axes = o["axes"], rotation = o["rotation"] as Record<string, unknown> | undefined, camera = o["camera"] as Record<string, unknown> | undefined;
  if (o["viewer"] !== "cellucid-session" || (o["embedding"] !== null && typeof o["embedding"] !== "string")) return null;
  if (!Array.isArray(axes) || axes.length !== 2 || !axes.every((a) => Number.isInteger(a) && a >= 0)) return null;
  if (!camera || !num(camera["cx"]) || !num(camera["cy"]) || !num(camera["scale"]) || camera["scale"] <= 0) return null;
  return {
    embedding: o["embedding"] as string | null,
    axes: [axes[0] as number, axes[1] as number],
    rotation: rotation && num(rotation["yaw"]) && num(rotation["pitch"]) ? { yaw: rotation["yaw"], pitch: rotation["pitch"] } : { yaw: 0, pitch: 0 },
    colorBy: typeof o["colorBy"] === "string" ? o["colorBy"] : null,
    camera: { cx: camera["cx"], cy: camera["cy"], scale: camera["scale"] },
  };
}
