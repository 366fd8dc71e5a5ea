/**
 * Even-odd point-in-polygon over all points. Exact, but fast on 1M points
 * and long lasso paths: points outside the polygon's bounding box are
 * rejected with four comparisons, and the remaining ones only test the edges
 * of their horizontal band. An edge is listed in every band its y-range
 * touches, so a point meets every edge that could cross its horizontal ray,
 * and the answer is the same as testing all edges.
 */

/** Polygon as [x0, y0, x1, y1, ...] in data coordinates. */
export type Polygon = Float64Array | number[];

const BANDS = 512;

/** The indices in [start, end) of the points inside `poly`, ascending. */
export function selectInPolygon(xs: Float32Array, ys: Float32Array, poly: Polygon, start = 0, end = xs.length): Uint32Array {
  const n = poly.length >> 1;
  if (n < 3) return new Uint32Array(0);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let v = 0; v < n; v++) {
    const x = poly[2 * v]!, y = poly[2 * v + 1]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const h = maxY - minY;
  if (!(h > 0) || !(maxX > minX)) return new Uint32Array(0);
  const band = (y: number): number => Math.min(BANDS - 1, Math.max(0, Math.floor(((y - minY) * BANDS) / h)));

  // Edges per band as a CSR list: edge v runs from vertex v to vertex v+1 (wrapping).
  const counts = new Uint32Array(BANDS + 1);
  for (let v = 0; v < n; v++) {
    const ya = poly[2 * v + 1]!, yb = poly[2 * ((v + 1) % n) + 1]!;
    const b0 = band(Math.min(ya, yb)), b1 = band(Math.max(ya, yb));
    for (let b = b0; b <= b1; b++) counts[b + 1]!++;
  }
  for (let b = 0; b < BANDS; b++) counts[b + 1]! += counts[b]!;
  const edges = new Uint32Array(counts[BANDS]!);
  const fill = counts.slice(0, BANDS);
  for (let v = 0; v < n; v++) {
    const ya = poly[2 * v + 1]!, yb = poly[2 * ((v + 1) % n) + 1]!;
    const b0 = band(Math.min(ya, yb)), b1 = band(Math.max(ya, yb));
    for (let b = b0; b <= b1; b++) edges[fill[b]!++] = v;
  }

  let out = new Uint32Array(1024);
  let count = 0;
  for (let i = start; i < end; i++) {
    const x = xs[i]!, y = ys[i]!;
    // Negated comparisons also reject NaN coordinates.
    if (!(x >= minX && x <= maxX && y >= minY && y <= maxY)) continue;
    const b = band(y);
    let inside = false;
    for (let e = counts[b]!; e < counts[b + 1]!; e++) {
      const v = edges[e]!;
      const w = v + 1 === n ? 0 : v + 1;
      const xi = poly[2 * v]!, yi = poly[2 * v + 1]!, xj = poly[2 * w]!, yj = poly[2 * w + 1]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    if (!inside) continue;
    if (count === out.length) {
      const grown = new Uint32Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    out[count++] = i;
  }
  return out.slice(0, count);
}

/** The four corners of the rectangle spanned by two data points, as a polygon. */
export function rectanglePolygon(x0: number, y0: number, x1: number, y1: number): Float64Array {
  return Float64Array.of(x0, y0, x1, y0, x1, y1, x0, y1);
}
