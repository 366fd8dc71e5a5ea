/**
 * The Node flavour of CellucidSessionBundle: opens files, saves atomically,
 * inflates with zlib, and applies itself to AnnData files (which is why it
 * sits in the apply layer, above the Node adapters it uses).
 */
import { resolve } from "node:path";
import { CellucidSessionBundle as CoreBundle, type BundleOpenOptions } from "../bundle/bundle.js";
import type { BundleIndex } from "../format/framing.js";
import type { ByteSource } from "../format/source.js";
import type { GzipCodec } from "../codecs/gzip.js";
import { indexBundle } from "../format/framing.js";
import { copyFileAtomically, writePartsAtomically } from "../platform/node/atomic.js";
import { fileSource } from "../platform/node/file-source.js";
import { zlibGzip } from "../platform/node/zlib-gzip.js";
import type { ApplyFileOptions } from "./files.js";
import type { ApplySummary } from "./apply.js";
import type { MemoryAnnData } from "../anndata/memory.js";
import type { ApplyToMemoryOptions } from "./anndata.js";

export class CellucidSessionBundle extends CoreBundle {
  /** Set when the bundle was opened from a file. */
  readonly path: string | null;

  constructor(source: ByteSource, index: BundleIndex, gzip?: GzipCodec, path: string | null = null) {
    super(source, index, gzip ?? zlibGzip);
    this.path = path;
  }

  /** Reads the magic, the manifest and each chunk's frame header; payloads stay on disk until asked for. */
  static async open(path: string, opts: BundleOpenOptions = {}): Promise<CellucidSessionBundle> {
    const source = await fileSource(path);
    try {
      return new CellucidSessionBundle(source, await indexBundle(source), opts.gzip, resolve(path));
    } catch (err) {
      await source.close?.();
      throw err;
    }
  }

  /**
   * Applies this bundle to an AnnData: an in-memory MemoryAnnData (returns the
   * possibly copied AnnData), or a path to a .h5ad / .zarr (returns the path of
   * the result: `output`, or the input with `inplace`).
   */
  async applyToAnnData(adata: MemoryAnnData, options?: ApplyToMemoryOptions): Promise<MemoryAnnData>;
  async applyToAnnData(adata: string, options: ApplyFileOptions): Promise<string>;
  async applyToAnnData(adata: MemoryAnnData | string, options: ApplyToMemoryOptions | ApplyFileOptions = {}): Promise<MemoryAnnData | string> {
    return (await this.applyWithSummary(adata as never, options as never)).adata;
  }

  /** Same as applyToAnnData, with the summary of what was added. */
  async applyWithSummary(adata: MemoryAnnData, options?: ApplyToMemoryOptions): Promise<{ adata: MemoryAnnData; summary: ApplySummary }>;
  async applyWithSummary(adata: string, options: ApplyFileOptions): Promise<{ adata: string; summary: ApplySummary }>;
  async applyWithSummary(adata: MemoryAnnData | string, options: ApplyToMemoryOptions | ApplyFileOptions = {}): Promise<{ adata: MemoryAnnData | string; summary: ApplySummary }> {
    if (typeof adata === "string") {
      const { applySessionToFile } = await import("./files.js");
      const opts = options as ApplyFileOptions;
      const summary = await applySessionToFile(this, adata, opts);
      return { adata: opts.inplace || opts.dryRun ? adata : opts.output!, summary };
    }
    const { applyCellucidSessionToAnnData } = await import("./anndata.js");
    return applyCellucidSessionToAnnData(this, adata, { ...(options as ApplyToMemoryOptions), returnSummary: true });
  }

  /** Writes a copy of the bundle to `dest` (temp file + rename). */
  async save(dest: string): Promise<void> {
    if (this.path) {
      if (resolve(dest) === this.path) return;
      await copyFileAtomically(this.path, dest);
      return;
    }
    const stream = this.stream();
    await writePartsAtomically(dest, stream as unknown as AsyncIterable<Uint8Array>);
  }
}
