/**
 * Applying a bundle to AnnData files (Node). With `inplace`, columns are
 * appended to the given store. Otherwise the store is copied to a temp path
 * beside the output, applied there, and renamed into place: the source is
 * never touched and no half-written output is ever left.
 */
import { constants } from "node:fs";
import { copyFile, cp, rename, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { CellucidSessionBundle } from "../bundle/bundle.js";
import { AnnDataError } from "../anndata/model.js";
import { detectAnnDataFormat, openAnnData } from "../anndata/open.js";
import { tempPathFor } from "../node/atomic.js";
import { type ApplyOptions, type ApplySummary, planApply } from "./apply.js";

export interface ApplyFileOptions extends Omit<ApplyOptions, "reference"> {
  /** The .h5ad / .zarr the session was made on, when `input` is a subset, superset or reordering of it (opened read-only). */
  reference?: string;
  /** Append to `input` itself. */
  inplace?: boolean;
  /** Where the result goes when not in place. */
  output?: string;
  /** Replace an existing output. */
  force?: boolean;
}

export async function applySessionToFile(bundle: CellucidSessionBundle, input: string, opts: ApplyFileOptions = {}): Promise<ApplySummary> {
  const format = await detectAnnDataFormat(input);
  const output = opts.inplace ? input : opts.output;
  if (!opts.dryRun) {
    if (opts.inplace && opts.output && resolve(opts.output) !== resolve(input)) throw new AnnDataError("IO", "give either an output path or inplace, not both");
    if (!output) throw new AnnDataError("IO", "an output path is needed unless applying in place");
    if (!opts.inplace && resolve(output) === resolve(input)) throw new AnnDataError("IO", `output ${output} is the input; use inplace to modify it`);
    if (!opts.inplace && !opts.force && (await stat(output).then(() => true, () => false))) throw new AnnDataError("IO", `output ${output} already exists (use force to replace it)`);
  }
  if (opts.dryRun || opts.inplace) {
    // Plan on a read-only handle: a failing apply (conflict, mismatch, corrupt chunk) writes nothing.
    const plan = await withStore(input, "r", (s) => planWithReference(bundle, s, opts));
    if (opts.inplace && !opts.dryRun) await withStore(input, "r+", (s) => plan.commit(s));
    return plan.summary;
  }
  const dest = output!;
  const tmp = tempPathFor(dest);
  // The copy (kernel work) runs while the bundle is decoded and planned
  // (JavaScript work) on a read-only handle of the source. A failing plan
  // waits for the copy and removes it: the output never appears.
  const copying = format === "zarr"
    ? cp(input, tmp, { recursive: true, errorOnExist: true, force: false })
    // EXCL: the temp path is new; without it libuv truncates the target, and ext4 then flushes it on close.
    : copyFile(input, tmp, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  try {
    const planning = withStore(input, "r", (s) => planWithReference(bundle, s, opts));
    const [plan] = await Promise.all([planning, copying]);
    await withStore(tmp, "r+", (s) => plan.commit(s));
    if (opts.force) await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
    return plan.summary;
  } catch (err) {
    await copying.catch(() => undefined);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

function planWithReference(bundle: CellucidSessionBundle, store: Awaited<ReturnType<typeof openAnnData>>, opts: ApplyFileOptions) {
  const { reference, ...rest } = opts;
  if (!reference) return planApply(bundle, store, rest);
  return withStore(reference, "r", (ref) => planApply(bundle, store, { ...rest, reference: ref }));
}

async function withStore<T>(path: string, mode: "r" | "r+", fn: (s: Awaited<ReturnType<typeof openAnnData>>) => Promise<T>): Promise<T> {
  const store = await openAnnData(path, { mode });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
