/**
 * A bundle built by hand to the current web app's Load State rules (WEBAPP.md
 * and the app's session code), as editable parts, so tests can break one rule
 * at a time. Assembled byte by byte, without this project's writer.
 */
import { gzipSync } from "node:zlib";
import { MAGIC, encodeIndexSet } from "../src/index.js";
import { concatBytes } from "../src/format/source.js";
import { u32 } from "./helpers.js";

const enc = new TextEncoder();

export interface AppChunk {
  meta: Record<string, unknown>;
  /** JSON value or binary payload. */
  value: unknown;
  /** Replace the stored bytes (after gzip). */
  stored?: Uint8Array;
}

export interface AppParts {
  manifest: Record<string, unknown>;
  fingerprint: Record<string, unknown>;
  chunks: AppChunk[];
  trailing?: Uint8Array;
}

const N = 10;

function chunk(id: string, contributorId: string, label: string, value: unknown, extra: Record<string, unknown> = {}): AppChunk {
  const binary = value instanceof Uint8Array;
  return { meta: { id, contributorId, priority: "eager", kind: binary ? "binary" : "json", codec: "gzip", label, datasetDependent: true, ...extra }, value };
}

const field = (id: string, key: string, categories: unknown[]) => ({
  id, source: "obs", kind: "category", key, isDeleted: false, isPurged: false, sourceField: null, operation: null, createdAt: null,
  categories, codesLength: N, codesType: "Uint8Array", centroidsByDim: {}, normalizedDims: [], sourcePages: [],
  overlapStrategy: "first", overlapLabel: null, intersectionLabels: null, uncoveredLabel: null,
});

/**
 * `core/state` as the app's core-state contributor writes it: the six keys,
 * and a uiControls record with one control of each kind the app records,
 * including the accordion sections the current app is known to have.
 */
function coreState(): Record<string, unknown> {
  const camera = { navigationMode: "orbit" };
  return {
    camera,
    liveDimensionLevel: 2,
    uiControls: {
      "accordion:visualization-section": { type: "details", open: true },
      "accordion:coloring-filtering-section": { type: "details", open: true },
      "accordion:compare-views-section": { type: "details", open: false },
      "render-mode": { type: "select", value: "points" },
      "point-size": { type: "range", value: "0" },
      "hp-lod-enabled": { type: "checkbox", checked: false },
      "connectivity-color": { type: "color", value: "#4a4a4a" },
    },
    filters: {},
    activeFields: { activeFieldKey: "cell type", activeFieldSource: "obs" },
    multiview: { layout: { mode: "single", activeId: "live" }, camerasLocked: true, liveCameraState: camera, snapshots: [] },
  };
}

/** Two fields (one eager, one lazy), one page with two groups, and every singleton. */
export function appParts(): AppParts {
  return {
    manifest: { createdAt: "2026-11-20T14:03:12.000Z" },
    fingerprint: { sourceType: "local-user", datasetId: "demo", cellCount: N, varCount: 5, cellOrder: { dimension: 2, digest: "0123456789abcdef" } },
    chunks: [
      chunk("core/field-overlays", "field-overlays", "Field overlays", {
        renames: { fields: {}, categories: {} },
        deletedFields: { deleted: [], purged: [] },
        userDefinedFields: [field("cell_type", "cell type", ["T", "B"]), field("qc", "qc", [true, false])],
      }),
      chunk("user-defined/codes/cell_type", "user-defined-codes", "User-defined codes: cell type", Uint8Array.from([2, N, 3, 0, 4, 1, 3, 0xff, 0x01, 3])),
      chunk("cinematic/camera", "cinematic-camera", "Cinematic camera path", { keyframes: [] }),
      chunk("core/state", "core-state", "Core state", coreState()),
      chunk("ui/dockable-layout", "dockable-layout", "Floating panels", { panels: [] }, { datasetDependent: false }),
      chunk("analysis/windows", "analysis-windows", "Analysis windows", { windows: [] }),
      chunk("highlights/meta", "highlights-meta", "Highlight metadata", {
        pages: [{ id: "page_1", name: "Page 1", color: "#1f77b4", highlightedGroups: [
          { id: "highlight_1", type: "lasso", label: "tip", enabled: true, cellCount: 3 },
          { id: "highlight_2", type: "category", label: "T cells", enabled: true, cellCount: 2, fieldKey: "cell type", fieldIndex: 0, fieldSource: "obs", categoryIndex: 0, categoryName: "T" },
        ] }],
        activePageId: "page_1",
      }),
      chunk("analysis/cache-inventory", "analysis-artifacts", "Analysis cache inventory", { artifactIds: [] }),
      chunk("user-defined/codes/qc", "user-defined-codes", "User-defined codes: qc", Uint8Array.from([0, N, 0, 1, 0, 1, 0, 1, 0, 1, 0, 255]), { priority: "lazy" }),
      chunk("highlights/cells/highlight_1", "highlights-cells", "Highlight cells: tip", encodeIndexSet([1, 2, 7]), { priority: "lazy" }),
      chunk("highlights/cells/highlight_2", "highlights-cells", "Highlight cells: T cells", encodeIndexSet([0, 3]), { priority: "lazy" }),
    ],
  };
}

export function assemble(parts: AppParts): Uint8Array {
  const frames: Uint8Array[] = [];
  const metas = parts.chunks.map((c) => {
    const payload = c.value instanceof Uint8Array ? c.value : enc.encode(JSON.stringify(c.value));
    const stored = c.stored ?? (c.meta["codec"] === "gzip" ? new Uint8Array(gzipSync(payload)) : payload);
    frames.push(u32(stored.length), stored);
    return { storedBytes: stored.length, uncompressedBytes: payload.length, ...c.meta };
  });
  const manifest = enc.encode(JSON.stringify({ ...parts.manifest, datasetFingerprint: parts.fingerprint, chunks: metas }));
  return concatBytes([MAGIC, u32(manifest.length), manifest, ...frames, ...(parts.trailing ? [parts.trailing] : [])]);
}

export function find(parts: AppParts, id: string): AppChunk {
  const c = parts.chunks.find((x) => x.meta["id"] === id);
  if (!c) throw new Error(`no chunk ${id} in the fixture`);
  return c;
}
