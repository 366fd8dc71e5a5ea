/**
 * Even-odd point-in-polygon over all points, exact, at a few nanoseconds a
 * point. The polygon is first rasterised over its bounding box into cells
 * that are inside, outside, or near an edge; a point then costs one lookup
 * of its cell, and only points in cells near an edge are tested exactly,
 * against the edges of their horizontal band (an edge is listed in every
 * band its y-range touches, so a point meets every edge that could cross its
 * horizontal ray, and the answer is the same as testing all edges).
 *
 * Why the lookup equals the exact test: a cell is marked "near an edge"
 * when any edge passes through it or within a thousandth of a cell of it,
 * so every point of an unmarked cell is at least that far from every edge.
 * The even-odd parity is the same everywhere in such an edge-free region,
 * and the rounding of the crossing formula and of a point's cell is
 * thousands of times smaller than that margin (polygons too small for it
 * are tested exactly throughout), so the cell's centre, classified by the
 * same rule, answers for all its points.
 */

/** Polygon as [x0, y0, x1, y1, ...] in data coordinates. */
export type Polygon = Float64Array | number[];

const BANDS = 512;
/** About this many raster cells over the polygon's bounding box (a 1 MB mask). */
const RASTER_CELLS = 1 << 20;
/** Raster cells along the longer side at most (thin polygons get longer cells). */
const RASTER_SIDE = 4096;
/** Mask values; 0 is outside. */
const INSIDE = 1, NEAR_EDGE = 2;
/** How close (in cells) an edge may pass to a cell that is not marked near it. */
const MARGIN = 1e-3;

interface Box {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** Edges per horizontal band as a CSR list, and the exact even-odd test through it. */
class BandedEdges {
  private readonly counts = new Uint32Array(BANDS + 1);
  private readonly edges: Uint32Array;
  private readonly n: number;

  constructor(private readonly poly: Polygon, private readonly box: Box) {
    const n = (this.n = poly.length >> 1);
    // Edge v runs from vertex v to vertex v+1 (wrapping).
    const counts = this.counts;
    for (let v = 0; v < n; v++) {
      const ya = poly[2 * v + 1]!, yb = poly[2 * ((v + 1) % n) + 1]!;
      for (let b = this.band(Math.min(ya, yb)), b1 = this.band(Math.max(ya, yb)); b <= b1; b++) counts[b + 1]!++;
    }
    for (let b = 0; b < BANDS; b++) counts[b + 1]! += counts[b]!;
    this.edges = new Uint32Array(counts[BANDS]!);
    const fill = counts.slice(0, BANDS);
    for (let v = 0; v < n; v++) {
      const ya = poly[2 * v + 1]!, yb = poly[2 * ((v + 1) % n) + 1]!;
      for (let b = this.band(Math.min(ya, yb)), b1 = this.band(Math.max(ya, yb)); b <= b1; b++) this.edges[fill[b]!++] = v;
    }
  }

  band(y: number): number {
    const { minY, maxY } = this.box;
    return Math.min(BANDS - 1, Math.max(0, Math.floor(((y - minY) * BANDS) / (maxY - minY))));
  }

  /** The x of every edge crossing the horizontal line at `y` (same rule as `inside`), into `out`; returns how many. */
  crossings(y: number, out: number[]): number {
    const { poly, n, edges, counts } = this;
    const b = this.band(y);
    let k = 0;
    for (let e = counts[b]!; e < counts[b + 1]!; e++) {
      const v = edges[e]!;
      const w = v + 1 === n ? 0 : v + 1;
      const xi = poly[2 * v]!, yi = poly[2 * v + 1]!, xj = poly[2 * w]!, yj = poly[2 * w + 1]!;
      if (yi > y !== yj > y) out[k++] = ((xj - xi) * (y - yi)) / (yj - yi) + xi;
    }
    return k;
  }

  inside(x: number, y: number): boolean {
    const { poly, n, edges, counts } = this;
    const b = this.band(y);
    let inside = false;
    for (let e = counts[b]!; e < counts[b + 1]!; e++) {
      const v = edges[e]!;
      const w = v + 1 === n ? 0 : v + 1;
      const xi = poly[2 * v]!, yi = poly[2 * v + 1]!, xj = poly[2 * w]!, yj = poly[2 * w + 1]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
}

/**
 * The polygon rasterised over its bounding box, with two more cells all
 * round: points in the box never reach the first cell, which no edge comes
 * near, so it stands for every point outside the box.
 */
interface Raster {
  mask: Uint8Array;
  cols: number;
  /** Data coordinates of the raster's corner, and cells per data unit. */
  ox: number;
  oy: number;
  scale: number;
}

function rasterise(poly: Polygon, box: Box, edges: BandedEdges): Raster | null {
  const w = box.maxX - box.minX, h = box.maxY - box.minY;
  const size = Math.max(Math.sqrt((w * h) / RASTER_CELLS), Math.max(w, h) / RASTER_SIDE);
  const magnitude = Math.max(Math.abs(box.minX), Math.abs(box.maxX), Math.abs(box.minY), Math.abs(box.maxY));
  // Cells must dwarf the rounding of coordinates this large (else every point is tested exactly).
  if (!(size > magnitude * 1e-9)) return null;
  const cols = Math.ceil(w / size) + 4, rows = Math.ceil(h / size) + 4;
  const ox = box.minX - 2 * size, oy = box.minY - 2 * size, scale = 1 / size;
  const mask = new Uint8Array(cols * rows);

  // Inside or outside, by each cell's centre: the crossings of the row's centre line, sorted.
  const xs: number[] = [];
  for (let r = 0; r < rows; r++) {
    const k = edges.crossings(oy + (r + 0.5) * size, xs);
    if (k === 0) continue;
    const cross = xs.slice(0, k).sort((a, b) => a - b);
    const row = r * cols;
    for (let c = 0, j = 0; c < cols; c++) {
      const x = ox + (c + 0.5) * size;
      while (j < k && cross[j]! <= x) j++;
      if (j & 1) mask[row + c] = INSIDE;
    }
  }

  // Every cell an edge passes through or within MARGIN of: row by row, the edge's x-extent over the row (widened by MARGIN).
  const n = poly.length >> 1;
  for (let v = 0; v < n; v++) {
    const w2 = (v + 1) % n;
    const ax = (poly[2 * v]! - ox) * scale, ay = (poly[2 * v + 1]! - oy) * scale;
    const bx = (poly[2 * w2]! - ox) * scale, by = (poly[2 * w2 + 1]! - oy) * scale;
    const y0 = Math.min(ay, by), y1 = Math.max(ay, by);
    const r0 = Math.max(0, Math.floor(y0 - MARGIN)), r1 = Math.min(rows - 1, Math.floor(y1 + MARGIN));
    for (let r = r0; r <= r1; r++) {
      const lo = Math.max(r - MARGIN, y0), hi = Math.min(r + 1 + MARGIN, y1);
      let xa: number, xb: number;
      if (ay === by) (xa = ax), (xb = bx);
      else (xa = ax + ((bx - ax) * (lo - ay)) / (by - ay)), (xb = ax + ((bx - ax) * (hi - ay)) / (by - ay));
      const c0 = Math.max(0, Math.floor(Math.min(xa, xb) - MARGIN)), c1 = Math.min(cols - 1, Math.floor(Math.max(xa, xb) + MARGIN));
      mask.fill(NEAR_EDGE, r * cols + c0, r * cols + c1 + 1);
    }
  }
  return { mask, cols, ox, oy, scale };
}

/** The indices in [start, end) of the points inside `poly`, ascending. */
export function selectInPolygon(xs: Float32Array, ys: Float32Array, poly: Polygon, start = 0, end = xs.length): Uint32Array {
  return new PolygonSelector(poly).select(xs, ys, start, end);
}

/** A polygon prepared once (band index, raster) for selecting from any range of points. */
export class PolygonSelector {
  private readonly box: Box = { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  /** Null for a polygon that encloses nothing (fewer than 3 vertices, no area, NaN). */
  private readonly edges: BandedEdges | null = null;
  private readonly raster: Raster | null = null;

  constructor(poly: Polygon) {
    const n = poly.length >> 1;
    const box = this.box;
    for (let v = 0; v < n; v++) {
      const x = poly[2 * v]!, y = poly[2 * v + 1]!;
      box.minX = Math.min(box.minX, x);
      box.maxX = Math.max(box.maxX, x);
      box.minY = Math.min(box.minY, y);
      box.maxY = Math.max(box.maxY, y);
    }
    if (n < 3 || !(box.maxY > box.minY) || !(box.maxX > box.minX)) return;
    this.edges = new BandedEdges(poly, box);
    this.raster = rasterise(poly, box, this.edges);
  }

  /** The indices in [start, end) of the points inside, ascending. */
  select(xs: Float32Array, ys: Float32Array, start: number, end: number): Uint32Array {
    const edges = this.edges;
    if (!edges) return new Uint32Array(0);
    const { minX, maxX, minY, maxY } = this.box;
    const mask = this.raster?.mask ?? null;
    const { cols = 0, ox = 0, oy = 0, scale = 0 } = this.raster ?? {};
    // Room for every point: the output is written unconditionally and counted only when inside (no branch to mispredict).
    const out = new Uint32Array(Math.max(0, end - start) + 1);
    let count = 0;
    for (let i = start; i < end; i++) {
      const x = xs[i]!, y = ys[i]!;
      // Outside the box (or NaN: the comparisons are false) is cell 0, outside; no branch on it, which would go either way at random.
      const inBox = +(x >= minX) & +(x <= maxX) & +(y >= minY) & +(y <= maxY);
      let m = mask ? mask[inBox * ((((y - oy) * scale) | 0) * cols + (((x - ox) * scale) | 0))]! : inBox && NEAR_EDGE;
      if (m === NEAR_EDGE) m = edges.inside(x, y) ? INSIDE : 0;
      out[count] = i;
      count += m;
    }
    return out.slice(0, count);
  }
}

/** The four corners of the rectangle spanned by two data points, as a polygon. */
export function rectanglePolygon(x0: number, y0: number, x1: number, y1: number): Float64Array {
  return Float64Array.of(x0, y0, x1, y0, x1, y1, x0, y1);
}
