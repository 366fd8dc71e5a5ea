/** The documented entry point, for AnnData held in memory (browser-ready). */
import type { CellucidSessionBundle } from "../bundle/bundle.js";
import type { MemoryAnnData } from "../anndata/memory.js";
import { type ApplyOptions, type ApplySummary, applySessionToStore } from "./apply.js";

export interface ApplyToMemoryOptions extends ApplyOptions {
  /** Modify `adata` itself instead of a copy (default false). */
  inplace?: boolean;
}

/**
 * Mirrors Python's apply_cellucid_session_to_anndata for an in-memory AnnData:
 * returns the (possibly copied) AnnData, plus the summary when asked.
 */
export async function applyCellucidSessionToAnnData(bundle: CellucidSessionBundle, adata: MemoryAnnData, options: ApplyToMemoryOptions & { returnSummary: true }): Promise<{ adata: MemoryAnnData; summary: ApplySummary }>;
export async function applyCellucidSessionToAnnData(bundle: CellucidSessionBundle, adata: MemoryAnnData, options?: ApplyToMemoryOptions & { returnSummary?: false }): Promise<MemoryAnnData>;
export async function applyCellucidSessionToAnnData(bundle: CellucidSessionBundle, adata: MemoryAnnData, options: ApplyToMemoryOptions & { returnSummary?: boolean } = {}): Promise<MemoryAnnData | { adata: MemoryAnnData; summary: ApplySummary }> {
  const target = options.inplace ? adata : adata.copy();
  const summary = await applySessionToStore(bundle, target, options);
  return options.returnSummary ? { adata: target, summary } : target;
}
