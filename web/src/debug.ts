/**
 * `window.cellucidViewer`: a small read-mostly hook for tests and benchmarks
 * (coordinates, data, groups, timings). Not an API for anything else.
 */
import type { App } from "./app.js";
import type { Autosaver } from "./autosave.js";
import type { Projection } from "./projection.js";
import type { RendererKind } from "./render.js";
import type { SessionEncoder } from "./session-encoder.js";
import type { ViewSnapshot } from "./session-io.js";

export interface DebugHook {
  ready: boolean;
  /** Data → page CSS pixels (what page.mouse expects). */
  dataToScreen(x: number, y: number): [number, number];
  /** Page CSS pixels → data coordinates, exactly as the lasso converts its path. */
  screenToData(px: number, py: number): [number, number];
  readonly embedding: { key: string | null; dims: number; axes: [number, number]; projection: Projection; xs: Float32Array; ys: Float32Array; data: Float32Array | null };
  readonly pages: { id: string; name: string; active: boolean; groups: { id: string; label: string; type: string; enabled: boolean; count: number; cells: Uint32Array }[] }[];
  readonly fields: { id: string; key: string; categories: string[]; codes: Uint8Array | Uint16Array }[];
  readonly selection: Uint32Array | null;
  /** What Save State records of the view (embedding, axes, rotation, colour, camera). */
  readonly view: ViewSnapshot;
  readonly lastFrameMs: number;
  /** What draws the points: "webgl2", or "canvas2d" (forced by ?renderer=canvas, or WebGL2 missing). */
  readonly renderer: RendererKind;
  /** The last frame: a subset while the view moved (lod), the points it drew, its time. */
  readonly lastFrame: { lod: boolean; points: number; ms: number };
  /** Frames drawn with points so far: moving ones (a subset) and full ones. */
  readonly frameCounts: { lod: number; full: number };
  readonly firstDrawMs: number | null;
  readonly lastSelectionMs: number | null;
  /** Of which the worker's point-in-polygon time. */
  readonly lastWorkerMs: number;
  readonly lastPolygon: Float64Array | null;
  /** Resolves once running selections have been stored. */
  settled(): Promise<void>;
  /** The bundle the page would save, as bytes. */
  bundleBytes(): Promise<Uint8Array>;
  /** The session worker's last bundle (Save State, capture or autosave): its time and group / field chunks encoded anew or reused. */
  readonly lastEncode: SessionEncoder["last"];
  /** This tab's id, as viewer.pages() lists it. */
  readonly tabId: string;
  /** Changes not yet autosaved (or saved to a file). */
  readonly unsaved: boolean;
  /** Autosaves now; resolves with the worker's timings once the server has it. */
  autosaveNow(): Promise<Autosaver["last"]>;
  /** Hidden legend entries of the current colouring. */
  readonly hiddenCategories: number[];
}

declare global {
  interface Window {
    cellucidViewer?: DebugHook;
  }
}

export function installDebugHook(app: App, bundle: () => Promise<Blob>, autosaver: Autosaver, encoder: SessionEncoder, tabId: string): DebugHook {
  const origin = (): DOMRect => app.renderer.canvas.getBoundingClientRect();
  const hook: DebugHook = {
    ready: false,
    dataToScreen(x, y) {
      const [px, py] = app.view.toScreen(x, y);
      const r = origin();
      return [px + r.left + window.scrollX, py + r.top + window.scrollY];
    },
    screenToData(px, py) {
      const r = origin();
      return app.view.toData(px - r.left - window.scrollX, py - r.top - window.scrollY);
    },
    get view() {
      return app.snapshot();
    },
    get embedding() {
      return { key: app.embeddingKey, dims: app.dims, axes: app.axes, projection: app.projection(), xs: app.xs, ys: app.ys, data: app.embeddingData };
    },
    get pages() {
      return app.state.pages.map((p) => ({
        id: p.id,
        name: p.name,
        active: p.id === app.state.activePageId,
        groups: p.groups.map((g) => ({ id: g.id, label: g.label, type: g.type, enabled: g.enabled, count: g.cells.length, cells: g.cells })),
      }));
    },
    get fields() {
      return app.state.fields.map((f) => ({ id: f.id, key: f.key, categories: f.categories, codes: f.codes }));
    },
    get selection() {
      return app.state.selection;
    },
    get lastFrameMs() {
      return app.renderer.lastFrameMs;
    },
    get renderer() {
      return app.renderer.kind;
    },
    get lastFrame() {
      return app.lastFrame;
    },
    get frameCounts() {
      return { ...app.frameCounts };
    },
    get firstDrawMs() {
      return app.firstDrawAt;
    },
    get lastSelectionMs() {
      return app.lastSelectionMs;
    },
    get lastWorkerMs() {
      return app.selector.lastWorkerMs;
    },
    get lastPolygon() {
      return app.lastPolygon;
    },
    settled: () => app.settled(),
    tabId,
    get unsaved() {
      return autosaver.unsaved;
    },
    autosaveNow: async () => {
      await autosaver.flush();
      return autosaver.last;
    },
    get hiddenCategories() {
      return [...app.hiddenSet()];
    },
    get lastEncode() {
      return encoder.last;
    },
    bundleBytes: async () => new Uint8Array(await (await bundle()).arrayBuffer()),
  };
  window.cellucidViewer = hook;
  return hook;
}
