/**
 * The viewer state to and from a `.cellucid-session`, through the project's
 * own core (SessionWriter / CellucidSessionBundle), so the page writes exactly
 * what the web app writes and what `apply` reads.
 */
import { CellucidSessionBundle, SessionWriter, chunkRole, mismatchReasons, userDefinedCodesId } from "../../src/index.js";
import type { ViewerConfig } from "./api.js";
import { type CarriedContent, type Group, type LabelField, type Page, type ViewerState, newId } from "./state.js";

/** View settings stored in `core/state`: restored by this page on Load; nothing else applies them. */
export interface ViewSnapshot {
  embedding: string | null;
  axes: [number, number];
  rotation: { yaw: number; pitch: number };
  colorBy: string | null;
  camera: { cx: number; cy: number; scale: number };
}

export function buildBundle(state: ViewerState, config: ViewerConfig, view: ViewSnapshot): Promise<Blob> {
  const fp = config.dataset.fingerprint;
  const writer = new SessionWriter({
    datasetFingerprint: { ...fp },
    dataSource: { sourceType: fp.sourceType, datasetId: fp.datasetId, userPath: null },
    summary: { app: "cellucid-session viewer", pages: state.pages.length, fields: state.fields.length },
  });
  writer.addJsonChunk("core/state", { viewer: "cellucid-session", ...view }, { contributorId: "core-state", label: "Viewer state" });
  for (const page of state.pages) {
    writer.addHighlightPage(
      { id: page.id, name: page.name, groups: page.groups.map((g) => ({ id: g.id, label: g.label, type: g.type, enabled: g.enabled, cells: g.cells })) },
      { active: page.id === state.activePageId },
    );
  }
  for (const f of state.fields) writer.addUserDefinedField({ id: f.id, key: f.key, source: "obs", categories: [...f.categories], codes: f.codes });
  for (const f of state.carried.fields) if (!state.fields.some((x) => x.id === f.id)) writer.addUserDefinedField(f);
  for (const { id, meta, value } of state.carried.chunks) {
    const opts = {
      contributorId: meta.contributorId,
      priority: meta.priority === "lazy" ? ("lazy" as const) : ("eager" as const),
      label: meta.label,
      datasetDependent: meta.datasetDependent,
      dependsOn: meta.dependsOn,
      codec: meta.codec === "none" ? ("none" as const) : ("gzip" as const),
    };
    if (meta.kind === "json") writer.addJsonChunk(id, value, opts);
    else writer.addBinaryChunk(id, value as Uint8Array, opts);
  }
  return writer.toBlob();
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
export async function restoreBundle(source: Blob | Uint8Array, state: ViewerState, config: ViewerConfig, name = "session"): Promise<RestoreResult> {
  const bundle = source instanceof Blob ? await CellucidSessionBundle.fromBlob(source, { name }) : await CellucidSessionBundle.fromBytes(source, { name });
  const { nObs, nVars, fingerprint } = config.dataset;
  const reasons = mismatchReasons(bundle, { nObs, nVars }, fingerprint.datasetId);
  if (reasons.length) throw new FingerprintMismatchError(reasons);

  const warnings: string[] = [];
  const meta = await bundle.highlightsMeta();
  const pages: Page[] = [];
  // Ids become chunk ids on the next save, where a repeat would be refused: give repeats fresh ones.
  const seen = new Set<string>();
  const unique = (id: string, prefix: string): string => (seen.has(`${prefix}:${id}`) ? newId(prefix) : (seen.add(`${prefix}:${id}`), id));
  for (const page of await bundle.highlightPages({ nObs })) {
    const groups: Group[] = page.groups.map((g) => ({ id: unique(g.id, "grp"), label: g.label, type: g.type ?? "selection", enabled: g.enabled, cells: g.cells }));
    pages.push({ id: page.id, name: page.name ?? page.id, groups });
  }

  const fields: LabelField[] = [];
  const carried: CarriedContent = { fields: [], chunks: [] };
  for (const f of await bundle.userDefinedFields()) {
    // This viewer labels cells only; gene fields and deleted fields are not shown, only carried.
    if (f.kind !== "category" || f.source === "var" || f.isDeleted) {
      if (f.kind !== "category" || !bundle.hasChunk(userDefinedCodesId(f.id))) continue;
      try {
        const { codes } = await bundle.readUserDefinedCodes(f, { expectedLength: f.source === "var" ? nVars : nObs });
        carried.fields.push({ ...f, id: unique(f.id, "udf"), key: f.key ?? f.id, source: f.source === "var" ? "var" : "obs", categories: [...(f.categories ?? [])], codes: codes.slice() });
      } catch (err) {
        warnings.push(`field '${f.key ?? f.id}' dropped: ${(err as Error).message}`);
      }
      continue;
    }
    try {
      const { codes } = await bundle.readUserDefinedCodes(f, { expectedLength: nObs });
      fields.push({ id: unique(f.id, "udf"), key: f.key ?? f.id, categories: [...(f.categories ?? [])], codes: codes.slice() });
    } catch (err) {
      warnings.push(`label field '${f.key ?? f.id}' skipped: ${(err as Error).message}`);
    }
  }
  // Chunks of other contributors (analysis windows, layouts, ...) go back out as they came in.
  for (const id of bundle.listChunkIds()) {
    const role = chunkRole(id);
    if (role !== "core-state" && role !== "highlights-meta" && role !== "highlight-cells" && role !== "field-overlays" && role !== "user-defined-codes") carried.chunks.push({ id, meta: bundle.getChunkMeta(id), value: await bundle.decodeChunk(id) });
  }
  state.replace(pages, meta?.activePageId ?? null, fields, carried);
  const view = bundle.hasChunk("core/state") ? parseViewSnapshot(await bundle.decodeChunk("core/state").catch(() => null)) : null;
  return { view, pages: pages.length, groups: pages.reduce((n, p) => n + p.groups.length, 0), fields: fields.length, warnings };
}

/** Our own `core/state`, checked field by field: a hand-edited or foreign one yields null, never a broken view. */
function parseViewSnapshot(v: unknown): ViewSnapshot | null {
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
