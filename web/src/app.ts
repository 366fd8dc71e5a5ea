/**
 * The viewer: loads binary data from the server, draws it, turns lasso and
 * rectangle gestures into highlight groups, and keeps colours, selection and
 * state in step. DOM panels only talk to it and to ViewerState.
 */
import { missingMarkerOf } from "../../src/codecs/codes.js";
import type { ViewerApi, ViewerConfig } from "./api.js";
import { type ValueRange, colorValues, formatValue, valueRange } from "./continuous.js";
import { overlayHalos } from "./overlays.js";
import { PointGrid } from "./point-grid.js";
import { categoryRgba32, hexToRgba32, MISSING, SELECTED, UNCOLOURED } from "./palette.js";
import { type Projection, type TurnColumns, depthAxis, project, turnColumns } from "./projection.js";
import { MIN_SUBSET, SETTLE_MS, subsetOf, subsetSize } from "./lod.js";
import { pickRenderer } from "./pick-renderer.js";
import type { PointRenderer } from "./render.js";
import { SelectorPool } from "./selector.js";
import type { ViewSnapshot } from "./session-io.js";
import { type ViewerState, combineCells } from "./state.js";
import { CanvasInput, type SelectMode, type Tool } from "./ui/canvas-input.js";
import type { Controls, ControlsHost } from "./ui/controls.js";
import { HoverCard, type HoverHost } from "./ui/hover-card.js";
import { byId, formatCount, setStatus } from "./ui/dom.js";
import { View, boundsOf } from "./view.js";

/** How far (CSS pixels) from a cell the pointer may be and still be over it. */
const HOVER_RADIUS = 6;

export class App implements ControlsHost, HoverHost {
  readonly view = new View();
  readonly renderer: PointRenderer;
  /** Why the page draws with Canvas2D though it did not ask for it, or null. */
  readonly rendererNote: string | null;
  /** The renderer the page address asked for (`?renderer=`), or null. */
  readonly rendererWanted: string | null;
  readonly selector = new SelectorPool();
  /** The last polygon previewed while dragging: the release usually ends on it, and then takes its answer. */
  private lastPreview: { polygon: Float64Array; cells: Promise<Uint32Array> } | null = null;
  readonly input: CanvasInput;
  controls: Controls | null = null;
  readonly hover: HoverCard;
  /** Nearest-cell index of the current projection, built on the first hover. */
  private grid: PointGrid | null = null;
  /** The cell a click pinned (ringed on the plot), or −1. */
  pinned = -1;
  /** The pinned cell as a halo's cell list: one array while it stays pinned, so renderers keep the rims drawn under it. */
  private pinnedCells = new Uint32Array(0);
  /** Sorted copies of group cell lists, for membership tests on hover. */
  private readonly sortedCells = new WeakMap<Uint32Array, Uint32Array>();

  embeddingKey: string | null = null;
  embeddingData: Float32Array | null = null;
  dims = 0;
  axes: [number, number] = [0, 1];
  rotation = { yaw: 0, pitch: 0 };
  /** The drawn coordinates: of the current rotation once `stale` is false (see `xs`). */
  private shownXs = new Float32Array(0);
  private shownYs = new Float32Array(0);
  /** The rotation changed since shownXs/shownYs were projected (WebGL2 turns on the GPU; the CPU catches up when needed). */
  private stale = false;
  /** The columns WebGL2 turns a 3D+ embedding with, for the current axes. */
  private turn: TurnColumns | null = null;
  colorBy = "";
  colors = new Uint32Array(0);
  /** The current colouring when it is continuous (a numeric obs column, "num:key", or a gene, "gene:index[:layer]"). */
  continuous: { label: string; values: Float32Array; range: ValueRange } | null = null;
  /** Draw rank of a continuous colouring (high values on top), made with its colours; null draws in index order. */
  private rank: Uint16Array | null = null;
  /** Percentiles the continuous scale is clipped at. */
  clip: [number, number] = [1, 99];
  /** Loaded continuous columns; genes beyond the last few are dropped (each is 4 bytes per cell). */
  private readonly valueCache = new Map<string, Float32Array>();
  /** var names, loaded on first use of the gene search. */
  varNames: string[] | null = null;
  /** Legend entries hidden per colouring ("obs:key" / "field:id"): category indices, -1 for missing. */
  readonly hidden = new Map<string, Set<number>>();
  /** Cells inside the lasso being drawn, before release. */
  preview: Uint32Array | null = null;
  private previewBusy = false;
  private previewNext: Float64Array | null | undefined = undefined;
  private readonly obsCodes = new Map<string, Int32Array>();
  private drawQueued = false;
  /** Bumped when `colors` is rewritten in place. */
  private colorsVersion = 0;
  /** Until when (performance.now()) the view counts as moving: frames before it draw the subset. */
  private movingUntil = 0;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Cells a moving frame draws: fixed by `?lod=N` (0: never a subset), else sized from the last full frame. */
  private readonly lodFixed: number | null;
  private lodSize = Infinity;
  /** The subset of the cells (and of big halos) for the current size. */
  private subset: { n: number; size: number; cells: Uint32Array } | null = null;
  private turnAxes: [number, number] | null = null;
  private turnData: Float32Array | null = null;
  private readonly haloSubsets = new WeakMap<Uint32Array, { size: number; cells: Uint32Array }>();
  /** What the last frame drew: a subset while moving, or everything. */
  lastFrame = { lod: false, points: 0, ms: 0 };
  /** Frames drawn with points, moving (a subset) and full. */
  readonly frameCounts = { lod: 0, full: 0 };
  /** performance.now() of the first frame with points (navigation start is 0). */
  firstDrawAt: number | null = null;
  /** Pointer release to selection stored, for the last lasso/rectangle. */
  lastSelectionMs: number | null = null;
  lastPolygon: Float64Array | null = null;
  private selectionJob: Promise<void> = Promise.resolve();

  constructor(readonly config: ViewerConfig, readonly state: ViewerState, readonly api: ViewerApi) {
    const params = new URLSearchParams(location.search);
    this.rendererWanted = params.get("renderer");
    const picked = pickRenderer(byId<HTMLCanvasElement>("points"), this.rendererWanted, () => this.requestDraw());
    this.renderer = picked.renderer;
    this.rendererNote = picked.note;
    const lod = params.get("lod");
    this.lodFixed = lod !== null && /^\d+$/.test(lod) ? Number(lod) : null;
    this.input = new CanvasInput(byId<HTMLCanvasElement>("overlay"), this.view, {
      redraw: () => this.moved(),
      onPolygon: (poly, type, t0, mode) => this.select(poly, type, t0, mode),
      onPreview: (poly) => this.previewPolygon(poly),
      onHover: (at) => this.hover.hover(at),
      onClick: (x, y) => this.hover.click(x, y),
    });
    this.hover = new HoverCard(this);
    state.onChange((c) => {
      if (c === "selection" || c === "highlights") this.requestDraw();
      if (c === "highlights" || c === "fields") this.hover.refresh();
      if (c === "fields" && this.colorBy.startsWith("field:")) {
        // A deleted field cannot colour anything any more.
        if (!state.fields.some((f) => `field:${f.id}` === this.colorBy)) this.colorBy = "";
        this.recolor();
      }
    });
    new ResizeObserver(() => this.requestDraw()).observe(byId("plot"));
  }

  async setEmbedding(key: string): Promise<void> {
    const info = this.config.dataset.embeddings.find((e) => e.key === key);
    if (!info) throw new Error(`no embedding '${key}'`);
    setStatus(`Loading ${key}…`);
    const data = await this.api.fetchEmbedding(key, this.config.dataset.nObs, info.dims);
    this.embeddingKey = key;
    this.embeddingData = data;
    this.dims = info.dims;
    this.setAxes(0, 1);
    setStatus("");
  }

  /** Shows two columns of the embedding; 3D+ embeddings can then be turned (setRotation). */
  setAxes(x: number, y: number): void {
    if (!this.embeddingData) return;
    const d = this.dims;
    this.axes = [Math.min(x, d - 1), Math.min(y, d - 1)];
    this.rotation = { yaw: 0, pitch: 0 };
    this.reproject();
    this.controls?.renderEmbedding();
    this.fit();
  }

  /**
   * Turns a 3D+ embedding around its centre (degrees); the camera stays put.
   * WebGL2 turns the points with uniforms, and the projection the lasso,
   * hover and Canvas2D use is computed once the turning stops (or when one
   * of them needs it first).
   */
  setRotation(yaw: number, pitch: number): void {
    if (!this.embeddingData || this.dims < 3) return;
    this.rotation = { yaw, pitch };
    if (this.turn) this.stale = true;
    else this.reproject();
    this.moved();
  }

  /** Projected x of every cell under the current axes and rotation. */
  get xs(): Float32Array {
    this.catchUp();
    return this.shownXs;
  }

  get ys(): Float32Array {
    this.catchUp();
    return this.shownYs;
  }

  private catchUp(): void {
    if (this.stale) this.reproject();
  }

  projection(): Projection {
    return { axes: [...this.axes], depth: depthAxis(this.dims, this.axes), ...this.rotation };
  }

  private reproject(): void {
    const p = this.projection();
    const { xs, ys } = project(this.embeddingData!, this.dims, p);
    this.shownXs = xs;
    this.shownYs = ys;
    this.stale = false;
    const sameAxes = this.turn && this.turnAxes?.[0] === p.axes[0] && this.turnAxes[1] === p.axes[1] && this.turnData === this.embeddingData;
    if (!sameAxes) {
      this.turn = this.renderer.kind === "webgl2" && p.depth !== null ? turnColumns(this.embeddingData!, this.dims, p.axes, p.depth) : null;
      this.turnAxes = p.axes;
      this.turnData = this.embeddingData;
    }
    this.selector.setPoints(xs, ys);
    this.lastPreview = null;
    this.grid = null;
  }

  cellAt(x: number, y: number): number {
    if (this.xs.length === 0) return -1;
    this.grid ??= new PointGrid(this.xs, this.ys);
    const [dx, dy] = this.view.toData(x, y);
    const colors = this.colors;
    return this.grid.nearest(dx, dy, HOVER_RADIUS / this.view.scale, (i) => colors[i] !== 0);
  }

  describeValue(cell: number): string | null {
    if (this.continuous) return `${this.continuous.label}: ${formatValue(this.continuous.values[cell]!)}`;
    const cc = this.categoryCodes();
    if (!cc) return null;
    const c = cc.codes[cell]!;
    const label = this.colorBy.startsWith("field:") ? (this.state.fields.find((f) => `field:${f.id}` === this.colorBy)?.key ?? "") : this.colorBy.slice(4);
    return `${label}: ${c >= 0 && c < cc.categories.length ? cc.categories[c] : "(missing)"}`;
  }

  groupsOf(cell: number): string[] {
    const out: string[] = [];
    for (const page of this.state.pages)
      for (const g of page.groups) {
        let sorted = this.sortedCells.get(g.cells);
        if (!sorted) this.sortedCells.set(g.cells, (sorted = g.cells.slice().sort()));
        if (includesSorted(sorted, cell)) out.push(this.state.pages.length > 1 ? `${g.label} (${page.name})` : g.label);
      }
    return out;
  }

  fetchObsNames(cells: number[]): Promise<string[]> {
    return this.api.fetchObsNames(cells);
  }

  setPinned(cell: number): void {
    this.pinned = cell;
    this.pinnedCells = cell >= 0 ? Uint32Array.of(cell) : new Uint32Array(0);
    this.requestDraw();
  }

  fit(): void {
    this.view.resize(this.renderer.canvas.clientWidth, this.renderer.canvas.clientHeight);
    this.view.fit(boundsOf(this.xs, this.ys));
    this.requestDraw();
  }

  async setColorBy(value: string): Promise<void> {
    const nObs = this.config.dataset.nObs;
    if (value.startsWith("obs:") && !this.obsCodes.has(value)) {
      const key = value.slice(4);
      setStatus(`Loading ${key}…`);
      this.obsCodes.set(value, await this.api.fetchObsCodes(key, nObs));
      setStatus("");
    }
    let values: Float32Array | null = null;
    if (value.startsWith("num:") || value.startsWith("gene:")) {
      values = this.valueCache.get(value) ?? null;
      if (!values) {
        const label = await this.colorLabel(value);
        setStatus(`Loading ${label}…`);
        if (value.startsWith("num:")) values = await this.api.fetchObsValues(value.slice(4), nObs);
        else {
          const { index, layer } = parseGeneKey(value);
          values = await this.api.fetchGene(index, layer, label, nObs);
        }
        this.valueCache.set(value, values);
        const genes = [...this.valueCache.keys()].filter((k) => k.startsWith("gene:"));
        for (const old of genes.slice(0, Math.max(0, genes.length - 3))) this.valueCache.delete(old);
        setStatus("");
      }
    }
    this.colorBy = value;
    this.continuous = values && { label: await this.colorLabel(value), values, range: valueRange(values, this.clip[0], this.clip[1]) };
    this.recolor();
  }

  /**
   * Makes a group of the cells whose current continuous value lies in [a, b]
   * (type `range`, bound to its field as the web app binds it: an obs column,
   * or a gene as a var field). Null when no cell is in the range.
   */
  async selectRange(a: number, b: number): Promise<Uint32Array | null> {
    const c = this.continuous;
    if (!c) return null;
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const out: number[] = [];
    for (let i = 0; i < c.values.length; i++) {
      const v = c.values[i]!;
      if (v >= lo && v <= hi) out.push(i);
    }
    const range = `${formatValue(lo)} – ${formatValue(hi)}`;
    if (out.length === 0) {
      setStatus(`No cell has ${c.label} in ${range}: no group made`, "info");
      return null;
    }
    const cells = Uint32Array.from(out);
    const binding = this.colorBy.startsWith("gene:")
      ? { fieldKey: (await this.loadVarNames())[parseGeneKey(this.colorBy).index], fieldIndex: parseGeneKey(this.colorBy).index, fieldSource: "var" }
      : { fieldKey: this.colorBy.slice(4), fieldIndex: this.config.dataset.obsNumeric.find((n) => `num:${n.key}` === this.colorBy)?.index ?? -1, fieldSource: "obs" };
    this.state.setSelection(cells);
    this.state.addGroup(cells, "range", `${c.label} ${range}`, { ...binding, rangeMin: lo, rangeMax: hi });
    setStatus(`${formatCount(cells.length)} cells with ${c.label} in ${range} made a group in page '${this.state.activePage?.name ?? ""}'`, "ok");
    return cells;
  }

  /** Clips the continuous scale at other percentiles. */
  setClip(low: number, high: number): void {
    this.clip = [low, high];
    if (this.continuous) this.continuous.range = valueRange(this.continuous.values, low, high);
    this.recolor();
  }

  async loadVarNames(): Promise<string[]> {
    this.varNames ??= await this.api.fetchVarNames();
    return this.varNames;
  }

  colorByGene(index: number, layer: string | null): Promise<void> {
    return this.setColorBy(geneKey(index, layer));
  }

  /** What a colouring is called in the legend and messages. */
  async colorLabel(value: string): Promise<string> {
    if (!value.startsWith("gene:")) return value.replace(/^(obs|num):/, "");
    const { index, layer } = parseGeneKey(value);
    const name = (await this.loadVarNames())[index] ?? `gene #${index}`;
    return layer === null ? name : `${name} (${layer})`;
  }

  /**
   * The current colouring as one category index per cell (-1 = missing) and
   * its category names; null when colouring by nothing.
   */
  categoryCodes(): { codes: ArrayLike<number>; categories: string[]; missing: number } | null {
    const obs = this.obsCodes.get(this.colorBy);
    if (obs) return { codes: obs, categories: this.config.dataset.obsCategoricals.find((c) => `obs:${c.key}` === this.colorBy)?.categories ?? [], missing: -1 };
    const field = this.state.fields.find((f) => `field:${f.id}` === this.colorBy);
    return field ? { codes: field.codes, categories: field.categories, missing: missingMarkerOf(field.codes) } : null;
  }

  /** Cells per category of the current colouring, with the missing ones last. */
  categoryCounts(): number[] {
    const cc = this.categoryCodes();
    if (!cc) return [];
    const counts = new Array<number>(cc.categories.length + 1).fill(0);
    const k = cc.categories.length;
    for (let i = 0; i < cc.codes.length; i++) {
      const c = cc.codes[i]!;
      counts[c >= 0 && c < k ? c : k]!++;
    }
    return counts;
  }

  /** The cells of category `code` (-1: missing) of the current colouring. */
  cellsOfCategory(code: number): Uint32Array {
    const cc = this.categoryCodes();
    if (!cc) return new Uint32Array(0);
    const k = cc.categories.length;
    const out: number[] = [];
    for (let i = 0; i < cc.codes.length; i++) {
      const c = cc.codes[i]!;
      if ((c >= 0 && c < k ? c : -1) === code) out.push(i);
    }
    return Uint32Array.from(out);
  }

  hiddenSet(): Set<number> {
    let set = this.hidden.get(this.colorBy);
    if (!set) this.hidden.set(this.colorBy, (set = new Set()));
    return set;
  }

  /** One colour word per cell, recomputed only when the colouring changes, never per frame. Hidden categories get 0 (not drawn). */
  recolor(): void {
    const n = this.config.dataset.nObs;
    const colors = this.colors.length === n ? this.colors : new Uint32Array(n);
    const cc = this.categoryCodes();
    if (cc) {
      // Any code that names a category is one (code 0 included); everything else is missing, drawn grey.
      const k = cc.categories.length;
      const hidden = this.hiddenSet();
      const lut = Uint32Array.from({ length: k }, (_, i) => (hidden.has(i) ? 0 : categoryRgba32(i)));
      const missing = hidden.has(-1) ? 0 : hexToRgba32(MISSING);
      for (let i = 0; i < n; i++) {
        const c = cc.codes[i]!;
        colors[i] = c >= 0 && c < k ? lut[c]! : missing;
      }
    } else if (this.continuous) {
      // A new rank array (never rewritten in place): renderers key what they derive from it on its identity.
      const rank = new Uint16Array(n);
      colorValues(this.continuous.values, this.continuous.range, hexToRgba32(MISSING), colors, rank);
      this.rank = rank;
    } else colors.fill(hexToRgba32(UNCOLOURED));
    if (!this.continuous) this.rank = null;
    this.colors = colors;
    this.colorsVersion++;
    this.controls?.renderColorOptions();
    this.controls?.renderLegend();
    this.hover.refresh();
    this.requestDraw();
  }

  setTool(tool: Tool): void {
    this.input.setTool(tool);
  }

  requestDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      this.drawNow();
    });
  }

  /** The view was panned or zoomed: moving frames until it has been still for SETTLE_MS, then a full one. */
  moved(): void {
    this.movingUntil = performance.now() + SETTLE_MS;
    if (this.settleTimer === null) this.settleTimer = setTimeout(() => this.settle(), SETTLE_MS);
    this.requestDraw();
  }

  private settle(): void {
    const left = this.movingUntil - performance.now();
    this.settleTimer = left > 0 ? setTimeout(() => this.settle(), left) : null;
    if (left > 0) return;
    this.catchUp();
    this.requestDraw();
  }

  get moving(): boolean {
    return performance.now() < this.movingUntil;
  }

  drawNow(): void {
    this.view.resize(this.renderer.canvas.clientWidth, this.renderer.canvas.clientHeight);
    // WebGL2 turns a 3D embedding itself: the projected coordinates may lag while it turns.
    const turn = this.turn ? { ...this.turn, yaw: this.rotation.yaw, pitch: this.rotation.pitch } : null;
    if (!turn) this.catchUp();
    const n = this.shownXs.length;
    const hasPoints = n > 0 && this.colors.length === n;
    let halos = overlayHalos(this.state, this.preview);
    if (this.pinned >= 0 && this.pinned < n) halos.push({ cells: this.pinnedCells, color: hexToRgba32(SELECTED), transient: true });
    const size = this.lodFixed ?? this.lodSize;
    const lod = hasPoints && this.moving && size > 0 && size < n;
    let subset: Uint32Array | null = null;
    if (lod) {
      subset = this.subsetFor(n, size);
      halos = halos.map((h) => (h.cells.length > MIN_SUBSET ? { ...h, cells: this.haloSubset(h.cells, n, size) } : h));
    }
    this.renderer.draw(this.view, hasPoints ? { xs: this.shownXs, ys: this.shownYs, turn, colors: this.colors, colorsVersion: this.colorsVersion, rank: this.rank, subset, halos } : null);
    const ms = this.renderer.lastFrameMs;
    // A frame that reused its points says nothing of what drawing them takes.
    if (hasPoints && !lod && this.renderer.lastRedrew) this.lodSize = subsetSize(n, ms);
    this.lastFrame = { lod, points: this.renderer.lastPoints, ms };
    if (hasPoints) this.frameCounts[lod ? "lod" : "full"]++;
    if (hasPoints && this.firstDrawAt === null) this.firstDrawAt = performance.now();
    const what = lod ? `${formatCount(this.renderer.lastPoints)} of ${formatCount(n)} cells while moving` : `${formatCount(n)} cells`;
    const hud = byId("hud");
    hud.textContent = `${what} · ${ms.toFixed(1)} ms/frame · ${this.renderer.kind === "webgl2" ? "WebGL2" : "Canvas2D"}`;
    hud.title = this.rendererNote ?? "";
  }

  private subsetFor(n: number, size: number): Uint32Array {
    const s = this.subset;
    if (s && s.n === n && s.size === size) return s.cells;
    // In index order: the renderer draws it by rank, as it does all the cells.
    const cells = subsetOf(n, null, size / n);
    this.subset = { n, size, cells };
    return cells;
  }

  private haloSubset(cells: Uint32Array, n: number, size: number): Uint32Array {
    const s = this.haloSubsets.get(cells);
    if (s && s.size === size) return s.cells;
    const sub = subsetOf(n, cells, size / n);
    this.haloSubsets.set(cells, { size, cells: sub });
    return sub;
  }

  /**
   * The live preview: at most one polygon in the worker at a time; while it
   * runs, only the newest path waits, so a fast drag never queues up work.
   */
  private previewPolygon(polygon: Float64Array | null): void {
    if (polygon === null) {
      this.previewNext = undefined;
      this.preview = null;
      byId("preview-count").textContent = "";
      this.requestDraw();
      return;
    }
    if (this.previewBusy) {
      this.previewNext = polygon;
      return;
    }
    this.previewBusy = true;
    this.catchUp();
    const cells = this.selector.select(polygon, true);
    this.lastPreview = { polygon, cells };
    void cells.then(
      (cells) => {
        this.previewBusy = false;
        if (this.input.dragging) {
          this.preview = cells;
          byId("preview-count").textContent = `${formatCount(cells.length)} cells`;
          // Drawing the lasso is a moving picture too: previews draw the subset, the release the full frame.
          this.moved();
        }
        const next = this.previewNext;
        this.previewNext = undefined;
        if (next) this.previewPolygon(next);
      },
      () => (this.previewBusy = false),
    );
  }

  /**
   * Selections run one after another, so groups are added in the order they
   * were drawn. A plain gesture selects and makes a group; Shift / Alt change
   * the selection only (make a group of it with "Group selection"). A gesture
   * around no cell changes nothing.
   */
  private select(polygon: Float64Array, type: "lasso" | "rectangle", t0: number, mode: SelectMode = "new"): void {
    this.lastPolygon = polygon;
    this.catchUp();
    const preview = this.lastPreview;
    this.previewPolygon(null);
    this.selectionJob = this.selectionJob.then(async () => {
      try {
        const cells = await (preview && samePolygon(preview.polygon, polygon) ? preview.cells : this.selector.select(polygon));
        if (mode !== "new") {
          const current = this.state.selection ?? new Uint32Array(0);
          const next = combineCells(current, cells, mode === "add" ? "union" : "difference");
          this.state.setSelection(next);
          this.lastSelectionMs = performance.now() - t0;
          setStatus(`Selection: ${formatCount(next.length)} cells (${mode === "add" ? "added" : "removed"} ${formatCount(cells.length)}); press G or "Group selection" to make it a group`, "ok");
          return;
        }
        if (cells.length === 0) {
          this.lastSelectionMs = performance.now() - t0;
          setStatus(`The ${type} enclosed no cell: no group made`, "info");
          return;
        }
        this.state.setSelection(cells);
        this.state.addGroup(cells, type);
        this.movingUntil = 0;
        this.drawNow();
        this.lastSelectionMs = performance.now() - t0;
        this.api.event("selection", { count: cells.length, tool: type });
        setStatus(`${formatCount(cells.length)} cells selected (${type}); added to page '${this.state.activePage?.name ?? ""}'`, "ok");
      } catch (err) {
        setStatus(`Selection failed: ${(err as Error).message}`, "error");
        this.api.event("error", { message: `selection failed: ${(err as Error).message}` });
      }
    });
  }

  /** Waits for selections still running in the worker (tests and captures want settled state). */
  settled(): Promise<void> {
    return this.selectionJob;
  }

  /** Back to the view a saved session was made in, as far as this dataset still has it. */
  async applySnapshot(v: ViewSnapshot): Promise<void> {
    const embedding = this.config.dataset.embeddings.find((e) => e.key === v.embedding && e.dims >= 2);
    if (!embedding) return;
    if (this.embeddingKey !== embedding.key) await this.setEmbedding(embedding.key);
    // Axes and turn together, then one projection (not one per setting).
    if (v.axes[0] < this.dims && v.axes[1] < this.dims) this.axes = [v.axes[0], v.axes[1]];
    this.rotation = this.dims >= 3 ? { ...v.rotation } : { yaw: 0, pitch: 0 };
    this.reproject();
    const colors = [...this.config.dataset.obsCategoricals.map((c) => `obs:${c.key}`), ...this.config.dataset.obsNumeric.map((c) => `num:${c.key}`), ...this.state.fields.map((f) => `field:${f.id}`)];
    const gene = v.colorBy?.startsWith("gene:") && this.config.dataset.x.readable ? parseGeneKey(v.colorBy) : null;
    const geneOk = gene !== null && gene.index < this.config.dataset.nVars && (gene.layer === null || this.config.dataset.x.layers.includes(gene.layer));
    if (v.colorBy !== null && (colors.includes(v.colorBy) || geneOk)) await this.setColorBy(v.colorBy);
    this.view.cx = v.camera.cx;
    this.view.cy = v.camera.cy;
    this.view.scale = v.camera.scale;
    this.controls?.renderEmbedding();
    this.requestDraw();
  }

  snapshot(): ViewSnapshot {
    return { embedding: this.embeddingKey, axes: [...this.axes], rotation: { ...this.rotation }, colorBy: this.colorBy || null, camera: { cx: this.view.cx, cy: this.view.cy, scale: this.view.scale } };
  }
}

/** "gene:12" → X column 12; "gene:12:counts" → column 12 of layer "counts". */
export function geneKey(index: number, layer: string | null): string {
  return layer === null ? `gene:${index}` : `gene:${index}:${layer}`;
}

function parseGeneKey(value: string): { index: number; layer: string | null } {
  const rest = value.slice(5);
  const colon = rest.indexOf(":");
  return colon < 0 ? { index: Number(rest), layer: null } : { index: Number(rest.slice(0, colon)), layer: rest.slice(colon + 1) };
}

function includesSorted(a: Uint32Array, v: number): boolean {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < a.length && a[lo] === v;
}

function samePolygon(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
