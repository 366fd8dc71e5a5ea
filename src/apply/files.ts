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
import { type ApplyOptions, type ApplySummary, applySessionToStore } from "./apply.js";

export interface ApplyFileOptions extends ApplyOptions {
  /** Append to `input` itself. */
  inplace?: boolean;
  /** Where the result goes when not in place. */
  output?: string;
  /** Replace an existing output. */
  force?: boolean;
}

export async function applySessionToFile(bundle: CellucidSessionBundle, input: string, opts: ApplyFileOptions = {}): Promise<ApplySummary> {
  const format = await detectAnnDataFormat(input);
  if (opts.dryRun) return withStore(input, "r", (s) => applySessionToStore(bundle, s, opts));
  if (opts.inplace) {
    if (opts.output && resolve(opts.output) !== resolve(input)) throw new AnnDataError("IO", "give either an output path or inplace, not both");
    // Plan on a read-only handle first: a failing apply must not leave the store half-written.
    await withStore(input, "r", (s) => applySessionToStore(bundle, s, { ...opts, dryRun: true, onWarning: undefined }));
    return withStore(input, "r+", (s) => applySessionToStore(bundle, s, opts));
  }
  const output = opts.output;
  if (!output) throw new AnnDataError("IO", "an output path is needed unless applying in place");
  if (resolve(output) === resolve(input)) throw new AnnDataError("IO", `output ${output} is the input; use inplace to modify it`);
  if (!opts.force && (await stat(output).then(() => true, () => false))) throw new AnnDataError("IO", `output ${output} already exists (use force to replace it)`);

  // Fail fast (conflict, mismatch, corrupt chunk) before copying a possibly huge store.
  await withStore(input, "r", (s) => applySessionToStore(bundle, s, { ...opts, dryRun: true, onWarning: undefined }));
  const tmp = tempPathFor(output);
  try {
    if (format === "zarr") await cp(input, tmp, { recursive: true, errorOnExist: true });
    else await copyFile(input, tmp, constants.COPYFILE_FICLONE);
    const summary = await withStore(tmp, "r+", (s) => applySessionToStore(bundle, s, opts));
    if (opts.force) await rm(output, { recursive: true, force: true });
    await rename(tmp, output);
    return summary;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function withStore<T>(path: string, mode: "r" | "r+", fn: (s: Awaited<ReturnType<typeof openAnnData>>) => Promise<T>): Promise<T> {
  const store = await openAnnData(path, { mode });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}
