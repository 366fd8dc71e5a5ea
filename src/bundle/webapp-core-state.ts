/**
 * `core/state` as the current web app's Load State checks it (its
 * core-state contributor and UI-control serializer), as far as the rules do
 * not depend on the app's live page: the payload's six keys, the dimension,
 * the active field, the multiview record, and each recorded control's shape.
 *
 * What cannot be checked here: the app compares `uiControls` with the
 * complete set of controls its page has when the session is loaded (every
 * `input`, `select` and accordion section of the sidebar and floating panels
 * that is not skipped or owned by another contributor) and refuses any
 * difference; that set is the app's DOM, not a published list. Its
 * session-owned accordion sections are known (the app's own layout tests
 * name them), so a `uiControls` without them is reported as incomplete.
 */
import { CORE_STATE_ID } from "../chunks/app-chunks.js";
import { type Issue, exactKeys, isRecord } from "./webapp-shapes.js";

export const CORE_STATE_KEYS: readonly string[] = ["camera", "liveDimensionLevel", "uiControls", "filters", "activeFields", "multiview"];
const ACTIVE_FIELDS_KEYS = ["activeFieldKey", "activeFieldSource"];
/** Control types the app records (a search input is recorded as text; accordion sections as details). */
const CONTROL_TYPES = ["checkbox", "range", "number", "color", "text", "select", "details"];
/** Controls the app saves through their own contributors, never among uiControls. */
const DOMAIN_OWNED_CONTROLS = [
  "navigation-mode", "categorical-field", "continuous-field", "outlier-filter", "gene-expression-search",
  "dimension-select", "dataset-select", "pointer-lock", "remote-server-url", "github-repo-url",
];
const ACCORDION_PREFIX = "accordion:";
/** Accordion sections of the current app's sidebar that sessions record (named by the app's dockable-panel session tests). */
export const KNOWN_SESSION_ACCORDIONS: readonly string[] = ["visualization-section", "coloring-filtering-section", "compare-views-section"];
const LOWERCASE_HEX = /^#[0-9a-f]{6}$/;

/** Issues of a `core/state` payload; `incomplete` is told when uiControls lacks controls the current app is known to have. */
export function checkCoreState(value: unknown, add: Issue, incomplete: (missing: string[]) => void): void {
  const fail = (message: string) => add("CORE_STATE", CORE_STATE_ID, message);
  if (!isRecord(value)) return fail("must be a JSON object");
  const keys = exactKeys(value, CORE_STATE_KEYS);
  if (keys) fail(`must have exactly the keys ${CORE_STATE_KEYS.join(", ")} (${keys})`);
  const dim = value["liveDimensionLevel"];
  if (!Number.isSafeInteger(dim) || (dim as number) < 1 || (dim as number) > 3) fail("liveDimensionLevel must be 1, 2 or 3");
  if (!isRecord(value["camera"])) fail("camera must be an object");
  if (!isRecord(value["filters"])) fail("filters must be an object");
  checkActiveFields(value["activeFields"], fail);
  const controls = value["uiControls"];
  if (!isRecord(controls)) return fail("uiControls must be an object");
  for (const [id, record] of Object.entries(controls)) {
    const problem = controlProblem(id, record);
    if (problem) fail(`uiControls '${id}': ${problem}`);
  }
  const missing = KNOWN_SESSION_ACCORDIONS.map((s) => ACCORDION_PREFIX + s).filter((k) => !(k in controls));
  if (missing.length) incomplete(missing);
  const multiview = value["multiview"];
  if (!isRecord(multiview) || !isRecord(multiview["layout"]) || typeof multiview["camerasLocked"] !== "boolean" || !isRecord(multiview["liveCameraState"]) || !Array.isArray(multiview["snapshots"]))
    return fail("multiview must hold layout {…}, camerasLocked (true or false), liveCameraState {…} and snapshots […]");
  const renderMode = controls["render-mode"];
  if (isRecord(renderMode) && renderMode["value"] === "smoke" && multiview["snapshots"].length > 0)
    fail("a smoke-mode session cannot hold kept multiview snapshots");
}

function checkActiveFields(v: unknown, fail: (message: string) => void): void {
  if (!isRecord(v) || exactKeys(v, ACTIVE_FIELDS_KEYS)) return fail(`activeFields must have exactly the keys ${ACTIVE_FIELDS_KEYS.join(", ")}`);
  const key = v["activeFieldKey"];
  const source = v["activeFieldSource"];
  if (source === null ? key !== null : (source !== "obs" && source !== "var") || typeof key !== "string" || key === "")
    fail("activeFields must be {activeFieldKey: null, activeFieldSource: null} or name a field with source 'obs' or 'var'");
}

/** What the app's serializer refuses in one recorded control, or null. */
export function controlProblem(id: string, record: unknown): string | null {
  const accordion = id.startsWith(ACCORDION_PREFIX);
  const domId = accordion ? id.slice(ACCORDION_PREFIX.length) : id;
  if (domId === "" || domId !== domId.trim()) return "is not a stable DOM id";
  if (!accordion && DOMAIN_OWNED_CONTROLS.includes(id)) return "is saved by its own contributor, never among uiControls";
  if (!isRecord(record)) return "must be an object";
  const type = record["type"];
  if (typeof type !== "string" || !CONTROL_TYPES.includes(type)) return `type must be one of ${CONTROL_TYPES.join(", ")}`;
  if (accordion !== (type === "details")) return accordion ? "an accordion section is recorded as type details" : "only accordion:<id> entries are of type details";
  if (type === "checkbox" || type === "details") {
    const flag = type === "checkbox" ? "checked" : "open";
    if (exactKeys(record, ["type", flag]) || typeof record[flag] !== "boolean") return `must be exactly {type, ${flag}: true or false}`;
    return null;
  }
  const value = record["value"];
  if (exactKeys(record, ["type", "value"]) || typeof value !== "string") return "must be exactly {type, value: a string}";
  if ((type === "range" || type === "number") && (value === "" || !Number.isFinite(Number(value)))) return "value must be a finite number as text";
  if (type === "color" && !LOWERCASE_HEX.test(value)) return "value must be a lowercase #rrggbb colour";
  if (id === "render-mode" && value !== "points" && value !== "smoke") return "render mode must be 'points' or 'smoke'";
  return null;
}
