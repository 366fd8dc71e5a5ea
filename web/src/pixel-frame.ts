/**
 * The Canvas2D renderer's pixels: points and halo rims drawn as RGBA words
 * into two layers, then composed (a point over a rim over the background),
 * the same picture as drawing the rims first and the points over them.
 *
 * A full frame keeps its layers: the next full frame of the same cells, view
 * and colours (the frame a lasso's release draws, a redraw after a panel
 * change) reuses the points as they are, and when the rims only gained
 * groups at the end (a new group is the last one) draws just those; a new
 * colouring that hides no cell keeps the rims. A lasso
 * over 5M cells then costs its one new rim, not every cell and every rim
 * again. Moving frames (a subset while the view moves) draw into layers of
 * their own, leaving the full frame's for when the view is still again.
 * Transient rims (the selection, a preview, the pinned cell; always the
 * last halos) get a layer of their own over the groups' rims: a preview
 * shown in a full frame and gone at the release does not make every
 * group's rim be drawn again.
 */
import type { Halo } from "./overlays.js";
import { pointSize, rimSize } from "./point-size.js";
import type { Layer } from "./layer.js";

/** Where cells land: pixel = (x·k + tx, ty − y·k) in a W×H frame. */
export interface Placement {
  W: number;
  H: number;
  k: number;
  tx: number;
  ty: number;
  dpr: number;
}

interface Drawn {
  placement: Placement;
  xs: Float32Array;
  ys: Float32Array;
  colors: Uint32Array;
  colorsVersion: number;
  rank: Uint16Array | null;
  subset: Uint32Array | null;
  /** The lasting rims in the halo layer, in the order drawn. */
  halos: Halo[];
  /** The transient rims in their layer. */
  transient: Halo[];
  /** Cells hidden (colour 0), which get no rim. */
  hidden: number;
}

class Layers {
  /** 0 where no point / rim is. */
  readonly points: Uint32Array;
  readonly halos: Uint32Array;
  /** Made when a transient rim is first drawn. */
  transient: Uint32Array | null = null;
  drawn: Drawn | null = null;

  constructor(pixels: number) {
    this.points = new Uint32Array(pixels);
    this.halos = new Uint32Array(pixels);
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  return a.W === b.W && a.H === b.H && a.k === b.k && a.tx === b.tx && a.ty === b.ty && a.dpr === b.dpr;
}

export class PixelFrame {
  private kept: Layers | null = null;
  private moving: Layers | null = null;
  /** Per pixel, the rank of the point drawn there (ranked layers only). */
  private depth: Uint16Array | null = null;
  /** The last frame drew its points (false: the kept ones were still right). */
  redrew = true;
  /** Rims the last frame drew (the others were kept). */
  rimsDrawn = 0;

  /** Draws `layer` into `words` (W×H RGBA words, background `bg`); returns how many points it drew. */
  draw(words: Uint32Array, bg: number, p: Placement, layer: Layer): number {
    const pixels = p.W * p.H;
    const subset = layer.subset ?? null;
    let target = subset ? this.moving : this.kept;
    if (!target || target.points.length !== pixels) target = new Layers(pixels);
    if (subset) this.moving = target;
    else this.kept = target;
    const was = target.drawn;
    const samePlace = was !== null && samePlacement(was.placement, p) && was.xs === layer.xs && was.ys === layer.ys && was.subset === subset;
    const sameColours = was !== null && was.colors === layer.colors && was.colorsVersion === layer.colorsVersion;
    const hidden = sameColours ? was.hidden : countZeros(layer.colors);
    const samePoints = samePlace && sameColours && was.rank === (layer.rank ?? null);
    const count = subset ? subset.length : layer.xs.length;
    if (!samePoints) this.drawPoints(target.points, p, layer, subset);
    this.redrew = !samePoints;
    // Rims depend on where the cells are and which are hidden: a new colouring that hides nothing, as before, leaves them.
    const sameRims = samePlace && (sameColours || (was.hidden === 0 && hidden === 0));
    // Everything from the first transient rim on is transient: the order of the rims is the order they cover each other.
    let split = layer.halos.findIndex((h) => h.transient === true);
    if (split < 0) split = layer.halos.length;
    const lasting = layer.halos.slice(0, split), transient = layer.halos.slice(split);
    // The rims drawn stay when only new ones follow them.
    const from = sameRims && keptPrefix(was.halos, lasting) === was.halos.length ? was.halos.length : 0;
    if (from === 0) target.halos.fill(0);
    for (let h = from; h < lasting.length; h++) this.drawHalo(target.halos, p, layer, lasting[h]!, count);
    this.rimsDrawn = lasting.length - from;
    const keepTransient = sameRims && was.transient.length === transient.length && keptPrefix(was.transient, transient) === transient.length;
    if (!keepTransient && transient.length) {
      const layerOf = target.transient?.length === pixels ? target.transient : (target.transient = new Uint32Array(pixels));
      layerOf.fill(0);
      for (const h of transient) this.drawHalo(layerOf, p, layer, h, count);
      this.rimsDrawn += transient.length;
    }
    target.drawn = { placement: { ...p }, xs: layer.xs, ys: layer.ys, colors: layer.colors, colorsVersion: layer.colorsVersion, rank: layer.rank ?? null, subset, halos: lasting, transient, hidden };

    const points = target.points, halos = target.halos;
    if (transient.length) {
      const over = target.transient!;
      for (let o = 0; o < pixels; o++) {
        const c = points[o]!;
        words[o] = c !== 0 ? c : over[o]! !== 0 ? over[o]! : halos[o]! !== 0 ? halos[o]! : bg;
      }
    } else {
      for (let o = 0; o < pixels; o++) {
        const c = points[o]!;
        words[o] = c !== 0 ? c : halos[o]! !== 0 ? halos[o]! : bg;
      }
    }
    return count;
  }

  private drawPoints(out: Uint32Array, p: Placement, layer: Layer, list: Uint32Array | null): void {
    const { W, H, k, tx, ty } = p;
    const { xs, ys, colors } = layer;
    const rank = layer.rank ?? null;
    const count = list ? list.length : xs.length;
    // A subset is drawn with the points of a dataset its size (bigger when smaller), so the picture keeps its density.
    const size = pointSize(count, p.dpr);
    out.fill(0);
    if (rank) {
      // By rank, without visiting the cells in that order (a gather that costs several times the draw): a depth test per pixel.
      const depth = this.depth?.length === W * H ? this.depth : (this.depth = new Uint16Array(W * H));
      depth.fill(0);
      for (let j = 0; j < count; j++) {
        const i = list ? list[j]! : j;
        const c = colors[i]!;
        if (c === 0) continue;
        const r = rank[i]!;
        const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
        if (size === 1) {
          if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
          const o = (py | 0) * W + (px | 0);
          if (r >= depth[o]!) {
            depth[o] = r;
            out[o] = c;
          }
        } else square(out, W, H, px, py, size, c, depth, r);
      }
    } else if (size === 1) {
      for (let j = 0; j < count; j++) {
        const i = list ? list[j]! : j;
        const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
        // Negated comparisons also drop NaN coordinates.
        if (!(px >= 0 && px < W && py >= 0 && py < H)) continue;
        const c = colors[i]!;
        if (c !== 0) out[(py | 0) * W + (px | 0)] = c;
      }
    } else {
      for (let j = 0; j < count; j++) {
        const i = list ? list[j]! : j;
        if (colors[i] !== 0) square(out, W, H, xs[i]! * k + tx, ty - ys[i]! * k, size, colors[i]!);
      }
    }
  }

  private drawHalo(out: Uint32Array, p: Placement, layer: Layer, halo: Halo, drawnCount: number): void {
    const { W, H, k, tx, ty } = p;
    const { xs, ys, colors } = layer;
    const rim = rimSize(pointSize(drawnCount, p.dpr), p.dpr);
    const cells = halo.cells, color = halo.color;
    if (rim === 3) {
      // The common dense case (1-pixel points, no HiDPI), inlined: 3×3 stores per cell, no call.
      for (let j = 0; j < cells.length; j++) {
        const i = cells[j]!;
        if (colors[i] === 0) continue;
        const px = xs[i]! * k + tx, py = ty - ys[i]! * k;
        if (!(px >= 1 && px < W - 1 && py >= 1 && py < H - 1)) continue;
        const o = (py | 0) * W + (px | 0);
        out[o - W - 1] = out[o - W] = out[o - W + 1] = color;
        out[o - 1] = out[o] = out[o + 1] = color;
        out[o + W - 1] = out[o + W] = out[o + W + 1] = color;
      }
    } else {
      for (let j = 0; j < cells.length; j++) {
        const i = cells[j]!;
        if (colors[i] !== 0) square(out, W, H, xs[i]! * k + tx, ty - ys[i]! * k, rim, color);
      }
    }
  }
}

function countZeros(colors: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < colors.length; i++) n += colors[i] === 0 ? 1 : 0;
  return n;
}

/** How many of `was` lead `now` unchanged (same cells array, same colour). */
function keptPrefix(was: Halo[], now: Halo[]): number {
  let n = 0;
  while (n < was.length && n < now.length && was[n]!.cells === now[n]!.cells && was[n]!.color === now[n]!.color) n++;
  return n;
}

/** A square of `size` pixels; with `depth`, only over pixels holding no higher rank than `rank`. */
function square(words: Uint32Array, W: number, H: number, px: number, py: number, size: number, color: number, depth: Uint16Array | null = null, rank = 0): void {
  if (!(px > -size && px < W + size && py > -size && py < H + size)) return;
  const half = size >> 1;
  const x0 = Math.max(0, Math.floor(px) - half), x1 = Math.min(W, Math.floor(px) - half + size);
  const y0 = Math.max(0, Math.floor(py) - half), y1 = Math.min(H, Math.floor(py) - half + size);
  for (let y = y0; y < y1; y++) {
    const row = y * W;
    for (let x = x0; x < x1; x++) {
      if (depth) {
        if (rank < depth[row + x]!) continue;
        depth[row + x] = rank;
      }
      words[row + x] = color;
    }
  }
}
