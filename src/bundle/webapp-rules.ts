/**
 * `validate --target webapp`: the rules of the current Cellucid web app's
 * Load State (WEBAPP.md; the app's `session-serializer.js`,
 * `session-context.js`, `published-default.js` and contributors), each
 * failure named, so a bundle made outside the app is known to load before a
 * user tries. `core/state` is checked as far as its rules do not depend on
 * the app's live page (webapp-core-state.ts); the payloads of the other
 * view-state chunks (layout, windows, camera) are checked as JSON only.
 */
import { parseCellOrder } from "../chunks/cell-order.js";
import {
  APP_CONTRIBUTOR_ORDER,
  APP_PROFILE_KEYS,
  APP_SINGLETON_PROFILES,
  ANALYSIS_ARTIFACTS_PREFIX,
  CACHE_INVENTORY_ID,
  CORE_STATE_ID,
  highlightCellsLabel,
  singletonProfile,
  userDefinedCodesLabel,
} from "../chunks/app-chunks.js";
import { FIELD_OVERLAYS_ID, HIGHLIGHTS_META_ID, HIGHLIGHT_CELLS_PREFIX, USER_DEFINED_CODES_PREFIX } from "../chunks/ids.js";
import { CellucidSessionError } from "../format/errors.js";
import type { ChunkMeta } from "../format/manifest.js";
import type { ChunkFrame } from "../format/framing.js";
import { parseJsonBytes } from "../codecs/json.js";
import type { CellucidSessionBundle } from "./bundle.js";
import type { ValidationIssue } from "./validation-issue.js";
import { checkCoreState } from "./webapp-core-state.js";
import { gzipMemberProblem, strictCodesProblem, strictIndexSetProblem } from "./webapp-payloads.js";
import { type AppFieldRef, type AppGroupRef, type Issue, checkFieldOverlays, checkHighlightsMeta, exactKeys, isRecord } from "./webapp-shapes.js";

const MANIFEST_KEYS = ["createdAt", "datasetFingerprint", "chunks"];
const FINGERPRINT_KEYS = ["sourceType", "datasetId", "cellCount", "varCount", "cellOrder"];
const CHUNK_KEYS = ["id", "contributorId", "priority", "kind", "codec", "label", "datasetDependent", "storedBytes", "uncompressedBytes"];

/** The app's refusals (errors), and what it refuses that no bundle made outside the app can know to avoid (warnings). */
export async function webappIssues(bundle: CellucidSessionBundle): Promise<{ errors: ValidationIssue[]; warnings: ValidationIssue[] }> {
  const source = bundle.sourceName;
  const issues: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const issue = (code: string, chunkId: string | null, message: string): ValidationIssue => ({ code: `WEBAPP_${code}`, chunkId, message: `${source}${chunkId ? `, chunk '${chunkId}'` : ""}: ${message}` });
  const add: Issue = (code, chunkId, message) => issues.push(issue(code, chunkId, message));

  const m = bundle.manifest as Record<string, unknown>;
  const extra = exactKeys(m, MANIFEST_KEYS);
  if (extra) add("MANIFEST_KEYS", null, `the manifest must have exactly the keys ${MANIFEST_KEYS.join(", ")} (${extra})`);
  if (typeof m["createdAt"] !== "string" || !isCanonicalIso(m["createdAt"])) add("CREATED_AT", null, "createdAt must be a canonical ISO timestamp (as Date.toISOString writes it)");
  checkFingerprint(m["datasetFingerprint"], add);

  const frames = bundle.index.frames;
  const metas = frames.map((f) => f.meta);
  checkChunkEntries(metas, add);
  if (bundle.trailingBytes > 0) add("TRAILING_BYTES", null, `${bundle.trailingBytes} bytes after the last chunk`);

  // Payloads: sizes and gzip members of every chunk. The JSON chunks are read first (they are small and
  // say how to check the binary ones); each binary payload is then checked as it is read and dropped.
  const payloadOf = async (f: ChunkFrame): Promise<Uint8Array | null> => {
    const id = f.meta.id;
    let payload: Uint8Array;
    try {
      payload = await bundle.readChunkPayload(id);
    } catch (err) {
      if (err instanceof CellucidSessionError) return null; // plain validation reports it
      throw err;
    }
    if (f.meta.uncompressedBytes !== payload.length) add("UNCOMPRESSED_BYTES", id, `uncompressedBytes ${String(f.meta.uncompressedBytes)} is not the payload's ${payload.length} bytes`);
    if (f.meta.codec === "gzip") {
      const problem = gzipMemberProblem(await bundle.readChunkBytes(id), payload.length);
      if (problem) add("GZIP_MEMBER", id, problem);
    } else if (f.meta.codec === "none" && f.meta.storedBytes !== payload.length) add("UNCOMPRESSED_BYTES", id, "codec none needs storedBytes equal to uncompressedBytes");
    return payload;
  };
  const json = new Map<string, unknown>();
  for (const f of frames) {
    if (f.meta.kind !== "json") continue;
    const payload = await payloadOf(f);
    if (!payload) continue;
    try {
      const value = parseJsonBytes(payload);
      const bad = jsonProblem(value, "payload");
      if (bad) add("JSON", f.meta.id, bad);
      json.set(f.meta.id, value);
    } catch {
      // not strict UTF-8 JSON: plain validation reports CHUNK_JSON
    }
  }

  const { cellCount } = bundle.counts;
  const metaById = new Map(metas.map((x) => [x.id, x]));
  const groups = new Map<string, AppGroupRef>();
  for (const g of checkHighlightsMeta(json.get(HIGHLIGHTS_META_ID), bundle.hasChunk(HIGHLIGHTS_META_ID), add)) {
    const id = HIGHLIGHT_CELLS_PREFIX + g.id;
    groups.set(id, g);
    const meta = metaById.get(id);
    if (!meta) add("GROUP_CELLS", HIGHLIGHTS_META_ID, `highlight group '${g.id}' has no ${id} chunk (the app has no empty groups)`);
    else if (meta.label !== highlightCellsLabel(g.label)) add("CHUNK_LABEL", id, `label must be '${highlightCellsLabel(g.label)}'`);
  }
  const fields = checkFieldOverlays(json.get(FIELD_OVERLAYS_ID), bundle.hasChunk(FIELD_OVERLAYS_ID), cellCount, add);
  const fieldByChunk = new Map<string, AppFieldRef>();
  for (const f of fields) {
    const id = USER_DEFINED_CODES_PREFIX + f.id;
    fieldByChunk.set(id, f);
    const meta = metaById.get(id);
    if (!meta) {
      if (f.codesLength > 0) add("FIELD_CODES", FIELD_OVERLAYS_ID, `categorical field '${f.id}' has no ${id} chunk`);
    } else if (meta.label !== userDefinedCodesLabel(f.key)) add("CHUNK_LABEL", id, `label must be '${userDefinedCodesLabel(f.key)}'`);
  }

  for (const f of frames) {
    if (f.meta.kind === "json") continue;
    const id = f.meta.id;
    const payload = await payloadOf(f);
    if (!payload) continue;
    const group = groups.get(id);
    const field = fieldByChunk.get(id);
    if (group) {
      const counted = { count: -1 };
      const problem = strictIndexSetProblem(payload, cellCount, counted);
      if (problem) add("INDICES", id, problem);
      else if (counted.count !== group.cellCount) add("GROUP_CELLS", id, `holds ${counted.count} cells but the group declares cellCount ${group.cellCount}`);
    } else if (field) {
      const wide = payload[0] === 1 || payload[0] === 3;
      if (wide !== (field.codesType === "Uint16Array")) add("FIELD_CODES", id, `codes are stored as ${wide ? "u16" : "u8"} but the field declares ${field.codesType}`);
      const problem = strictCodesProblem(payload, field.categories, field.codesLength);
      if (problem) add("CODES", id, problem);
    }
  }

  const groupOrder = [...groups.keys()];
  const cellChunks = metas.filter((x) => x.id.startsWith(HIGHLIGHT_CELLS_PREFIX)).map((x) => x.id);
  for (const id of cellChunks) if (!groups.has(id)) add("GROUP_CELLS", id, "no highlight group declares this cells chunk");
  if (cellChunks.join("\n") !== groupOrder.filter((id) => metaById.has(id)).join("\n"))
    add("CHUNK_ORDER", null, "highlights/cells chunks must follow the order of the groups in highlights/meta");

  const declared = fields.map((f) => USER_DEFINED_CODES_PREFIX + f.id);
  for (const meta of metas.filter((x) => x.id.startsWith(USER_DEFINED_CODES_PREFIX))) if (!declared.includes(meta.id)) add("FIELD_CODES", meta.id, "no categorical field declares this codes chunk");
  for (const priority of ["eager", "lazy"]) {
    const got = metas.filter((x) => x.id.startsWith(USER_DEFINED_CODES_PREFIX) && x.priority === priority).map((x) => x.id);
    if (got.join("\n") !== declared.filter((id) => got.includes(id)).join("\n")) add("CHUNK_ORDER", null, `${priority} user-defined codes chunks must follow the field order of core/field-overlays`);
  }

  checkCacheInventory(json.get(CACHE_INVENTORY_ID), metas, add);
  if (json.has(CORE_STATE_ID))
    checkCoreState(json.get(CORE_STATE_ID), add, (missing) =>
      warnings.push(issue("UI_CONTROLS_INCOMPLETE", CORE_STATE_ID, `uiControls lacks ${missing.join(", ")}: the app compares uiControls with every control of its page and refuses a session that lacks one (see the README's web app limits)`)));
  return { errors: issues, warnings };
}

function isCanonicalIso(s: string): boolean {
  const t = Date.parse(s);
  return Number.isFinite(t) && new Date(t).toISOString() === s;
}

function checkFingerprint(fp: unknown, add: Issue): void {
  if (!isRecord(fp)) return add("FINGERPRINT", null, "datasetFingerprint must be an object");
  if (!("cellOrder" in fp))
    return add("NO_CELL_ORDER", null, "datasetFingerprint has no cellOrder: the app refuses a session saved before it recorded which cells a selection contains");
  const extra = exactKeys(fp, FINGERPRINT_KEYS);
  if (extra) add("FINGERPRINT", null, `datasetFingerprint must have exactly the keys ${FINGERPRINT_KEYS.join(", ")} (${extra})`);
  for (const k of ["sourceType", "datasetId"]) if (fp[k] !== null && typeof fp[k] !== "string") add("FINGERPRINT", null, `datasetFingerprint.${k} must be a string or null`);
  for (const k of ["cellCount", "varCount"]) if (!Number.isSafeInteger(fp[k]) || (fp[k] as number) < 0) add("FINGERPRINT", null, `datasetFingerprint.${k} must be a non-negative integer`);
  if (!parseCellOrder(fp["cellOrder"])) add("CELL_ORDER", null, "cellOrder must be exactly {dimension: 1, 2 or 3, digest: 16 lowercase hex characters}");
}

function checkChunkEntries(metas: ChunkMeta[], add: Issue): void {
  const order = new Map(APP_CONTRIBUTOR_ORDER.map((c, i) => [c, i]));
  const last = { eager: -1, lazy: -1 };
  let sawLazy = false;
  let sawOverlays = false;
  for (const meta of metas) {
    const id = meta.id;
    const extra = exactKeys(meta as Record<string, unknown>, CHUNK_KEYS);
    if (extra) add("CHUNK_KEYS", id, `a chunk entry must have exactly the keys ${CHUNK_KEYS.join(", ")} (${extra})`);
    const contributor = String(meta.contributorId);
    const index = order.get(contributor);
    if (index === undefined) add("UNKNOWN_CONTRIBUTOR", id, `contributor '${contributor}' is not one the app registers; the app refuses the whole bundle`);
    if (meta.priority !== "eager" && meta.priority !== "lazy") add("CHUNK_KEYS", id, "priority must be eager or lazy");
    if (meta.kind !== "json" && meta.kind !== "binary") add("CHUNK_KEYS", id, "kind must be json or binary");
    if (meta.codec !== "none" && meta.codec !== "gzip") add("CHUNK_KEYS", id, "codec must be none or gzip");
    if (typeof meta.label !== "string" || meta.label === "") add("CHUNK_KEYS", id, "label must be a non-empty string");
    if (typeof meta.datasetDependent !== "boolean") add("CHUNK_KEYS", id, "datasetDependent must be true or false");
    checkProfile(meta, contributor, add);
    if (id === FIELD_OVERLAYS_ID) sawOverlays = true;
    if (contributor === "user-defined-codes" && !sawOverlays) add("CHUNK_ORDER", id, "user-defined codes chunks need the core/field-overlays chunk before them");
    const priority = meta.priority === "lazy" ? "lazy" : "eager";
    if (priority === "lazy") sawLazy = true;
    else if (sawLazy) add("CHUNK_ORDER", id, "eager chunks must precede lazy chunks");
    if (index !== undefined) {
      if (index < last[priority]) add("CHUNK_ORDER", id, `${priority} chunks must follow the app's contributor order (${APP_CONTRIBUTOR_ORDER.join(", ")})`);
      last[priority] = Math.max(last[priority], index);
    }
  }
  const ids = new Set(metas.map((x) => x.id));
  for (const p of APP_SINGLETON_PROFILES) if (!ids.has(p.id)) add("MISSING_SINGLETON", null, `the app requires the singleton chunk '${p.id}' in every session`);
}

function checkProfile(meta: ChunkMeta, contributor: string, add: Issue): void {
  const byId = singletonProfile(meta.id);
  const byContributor = contributor === "analysis-artifacts" ? undefined : APP_SINGLETON_PROFILES.find((p) => p.contributorId === contributor);
  const expected = byId ?? byContributor;
  if (expected) {
    const wrong = APP_PROFILE_KEYS.filter((k) => meta[k] !== expected[k]);
    if (wrong.length) add("CHUNK_PROFILE", meta.id, `must match the app's chunk '${expected.id}' (${wrong.map((k) => `${k} ${JSON.stringify(expected[k])}`).join(", ")})`);
    return;
  }
  const family = meta.id.startsWith(USER_DEFINED_CODES_PREFIX) ? "codes" : meta.id.startsWith(HIGHLIGHT_CELLS_PREFIX) || meta.id.startsWith(ANALYSIS_ARTIFACTS_PREFIX) ? "lazy" : null;
  if (family && (meta.kind !== "binary" || meta.codec !== "gzip" || meta.datasetDependent !== true || (family === "lazy" && meta.priority !== "lazy")))
    add("CHUNK_PROFILE", meta.id, `must be ${family === "lazy" ? "lazy, " : ""}binary, gzip and dataset-dependent`);
  if (contributor === "analysis-artifacts" && meta.priority === "eager") add("CHUNK_PROFILE", meta.id, `the only eager analysis-artifacts chunk is '${CACHE_INVENTORY_ID}'`);
}

function checkCacheInventory(value: unknown, metas: ChunkMeta[], add: Issue): void {
  if (value === undefined) return;
  const ids = isRecord(value) && !exactKeys(value, ["artifactIds"]) && Array.isArray(value["artifactIds"]) ? value["artifactIds"] : null;
  if (!ids || !ids.every((x) => typeof x === "string")) return add("CACHE_INVENTORY", CACHE_INVENTORY_ID, "payload must be exactly {artifactIds: [chunk ids]}");
  const artifacts = metas.filter((x) => x.id.startsWith(ANALYSIS_ARTIFACTS_PREFIX)).map((x) => x.id);
  if (artifacts.join("\n") !== ids.join("\n")) add("CACHE_INVENTORY", CACHE_INVENTORY_ID, "artifactIds must list the analysis/artifacts chunks exactly, in file order");
}

/** The app's JSON reader refuses empty property names and non-finite numbers. */
function jsonProblem(value: unknown, path: string): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = jsonProblem(value[i], `${path}[${i}]`);
      if (p) return p;
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === "") return `${path} has an empty property name`;
      const p = jsonProblem(v, `${path}.${k}`);
      if (p) return p;
    }
  }
  return null;
}
