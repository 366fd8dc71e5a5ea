/** SPEC §6.1 fingerprint check, shared by apply, export and the viewer page (browser-ready). */
import type { CellucidSessionBundle } from "./bundle.js";

/** SPEC §6.1: why the bundle does not match this AnnData (empty when it does). */
export function mismatchReasons(bundle: CellucidSessionBundle, store: { nObs: number; nVars: number }, expectedDatasetId: string | null): string[] {
  const reasons: string[] = [];
  const { cellCount, varCount } = bundle.counts;
  if (cellCount !== null && cellCount !== store.nObs) reasons.push(`cellCount ${cellCount} != n_obs ${store.nObs}`);
  if (varCount !== null && varCount !== store.nVars) reasons.push(`varCount ${varCount} != n_vars ${store.nVars}`);
  const id = bundle.datasetFingerprint?.datasetId;
  if (expectedDatasetId !== null && typeof id === "string" && id !== expectedDatasetId)
    reasons.push(`datasetId '${id}' != expected '${expectedDatasetId}'`);
  return reasons;
}
