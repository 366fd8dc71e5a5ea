/** The viewer's selection and view maths, in Node (no browser): banded point-in-polygon vs brute force, transforms. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { rectanglePolygon, selectInPolygon } from "../web/src/selection.js";
import { View, boundsOf } from "../web/src/view.js";
import { columnCentre, depthAxis, project } from "../web/src/projection.js";
import { insidePolygon } from "./viewer-browser.js";

function bruteForce(xs: Float32Array, ys: Float32Array, poly: number[]): number[] {
  const pts: [number, number][] = [];
  for (let i = 0; i < poly.length; i += 2) pts.push([poly[i]!, poly[i + 1]!]);
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) if (insidePolygon(xs[i]!, ys[i]!, pts)) out.push(i);
  return out;
}

test("banded even-odd selection equals testing every edge (random, self-intersecting polygons)", () => {
  const coord = fc.integer({ min: -1000, max: 1000 }).map((v) => v / 10);
  fc.assert(
    fc.property(fc.array(fc.tuple(coord, coord), { minLength: 3, maxLength: 60 }), fc.array(fc.tuple(coord, coord), { minLength: 1, maxLength: 400 }), (verts, pts) => {
      const poly = verts.flat();
      const xs = Float32Array.from(pts, (p) => p[0]);
      const ys = Float32Array.from(pts, (p) => p[1]);
      assert.deepEqual(Array.from(selectInPolygon(xs, ys, poly)), bruteForce(xs, ys, poly));
    }),
    { numRuns: 300 },
  );
});

test("selection on points lying exactly on vertex rows and a dense grid", () => {
  const xs = new Float32Array(10_000), ys = new Float32Array(10_000);
  for (let i = 0; i < 10_000; i++) {
    xs[i] = (i % 100) / 10;
    ys[i] = Math.floor(i / 100) / 10;
  }
  const poly = [1, 1, 8, 1, 8, 8, 4.5, 3, 1, 8];
  assert.deepEqual(Array.from(selectInPolygon(xs, ys, poly)), bruteForce(xs, ys, poly));
  const rect = Array.from(rectanglePolygon(2, 2, 5, 6));
  assert.deepEqual(Array.from(selectInPolygon(xs, ys, rect)), bruteForce(xs, ys, rect));
});

test("degenerate polygons and NaN coordinates select nothing", () => {
  const xs = Float32Array.of(0, NaN, 1), ys = Float32Array.of(0, 0, NaN);
  assert.equal(selectInPolygon(xs, ys, [0, 0, 1, 1]).length, 0);
  assert.equal(selectInPolygon(xs, ys, [0, 0, 1, 0, 2, 0]).length, 0);
  assert.deepEqual(Array.from(selectInPolygon(xs, ys, [-1, -1, 2, -1, 2, 2, -1, 2])), [0]);
});

/** The exact test the raster stands in for: every edge, each from vertex v to v+1, by the same crossing formula. */
function everyEdge(xs: Float32Array, ys: Float32Array, poly: ArrayLike<number>): number[] {
  const n = poly.length >> 1;
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!, y = ys[i]!;
    let inside = false;
    for (let v = 0; v < n; v++) {
      const w = (v + 1) % n;
      const xi = poly[2 * v]!, yi = poly[2 * v + 1]!, xj = poly[2 * w]!, yj = poly[2 * w + 1]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    if (inside) out.push(i);
  }
  return out;
}

/** `count` points: a dense cloud over [x0, x1] × [y0, y1], then every vertex and the midpoint and thirds of every edge (points on edges). */
function cloudAround(poly: number[], count: number, seed: number): { xs: Float32Array; ys: Float32Array } {
  let s = seed;
  const random = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < poly.length; i += 2) {
    x0 = Math.min(x0, poly[i]!), x1 = Math.max(x1, poly[i]!), y0 = Math.min(y0, poly[i + 1]!), y1 = Math.max(y1, poly[i + 1]!);
  }
  const onEdges: number[] = [];
  const n = poly.length >> 1;
  for (let v = 0; v < n; v++) {
    const w = (v + 1) % n;
    for (const t of [0, 1 / 3, 0.5, 2 / 3]) {
      const x = poly[2 * v]! + t * (poly[2 * w]! - poly[2 * v]!), y = poly[2 * v + 1]! + t * (poly[2 * w + 1]! - poly[2 * v + 1]!);
      onEdges.push(x, y);
      // And just off the edge, by a millionth and a thousandth of the box, either way.
      for (const d of [1e-6, -1e-6, 1e-3, -1e-3]) onEdges.push(x + d * (x1 - x0), y + d * (y1 - y0));
    }
  }
  const xs = new Float32Array(count + onEdges.length / 2), ys = new Float32Array(count + onEdges.length / 2);
  const padX = (x1 - x0) * 0.1, padY = (y1 - y0) * 0.1;
  for (let i = 0; i < count; i++) {
    xs[i] = x0 - padX + random() * (x1 - x0 + 2 * padX);
    ys[i] = y0 - padY + random() * (y1 - y0 + 2 * padY);
  }
  for (let k = 0; k < onEdges.length; k += 2) {
    xs[count + k / 2] = onEdges[k]!;
    ys[count + k / 2] = onEdges[k + 1]!;
  }
  return { xs, ys };
}

test("the rasterised selection equals the exact test on edge cases: points on edges and vertices, self-intersecting, tiny, thin, far from the origin", () => {
  const star: number[] = [];
  for (let k = 0; k < 5; k++) star.push(Math.cos((4 * Math.PI * k) / 5) * 10, Math.sin((4 * Math.PI * k) / 5) * 10);
  const cases: Record<string, number[]> = {
    "a pentagram (self-intersecting: its centre is outside by even-odd)": star,
    "a bow tie": [0, 0, 4, 3, 4, 0, 0, 3],
    "a concave polygon with a horizontal edge, a repeated vertex and collinear vertices": [0, 0, 5, 0, 10, 0, 10, 10, 10, 10, 5, 2, 0, 10],
    "a tiny triangle": [1e-4, 1e-4, 3e-4, 1e-4, 2e-4, 2.5e-4],
    "a tiny triangle far from the origin (tested exactly throughout)": [1e6, 1e6, 1e6 + 1e-4, 1e6, 1e6 + 5e-5, 1e6 + 1e-4],
    "a long thin sliver": [0, 0, 1000, 0.01, 1000, 0.02, 0, 0.015],
    "a lasso of 2,000 jittered vertices": Array.from({ length: 4000 }, (_, i) => {
      const a = (Math.PI * 2 * (i >> 1)) / 2000, r = 5 + Math.sin(a * 37) * 2;
      return i & 1 ? Math.sin(a) * r : Math.cos(a) * r;
    }),
  };
  for (const [name, poly] of Object.entries(cases)) {
    const { xs, ys } = cloudAround(poly, 50_000, poly.length);
    const expected = everyEdge(xs, ys, poly);
    assert.deepEqual(Array.from(selectInPolygon(xs, ys, poly)), expected, name);
    // Any split of the points (the two workers each take half) gives the same cells.
    const half = xs.length >> 1;
    assert.deepEqual([...selectInPolygon(xs, ys, poly, 0, half), ...selectInPolygon(xs, ys, poly, half)], expected, `${name}, in two halves`);
  }
});

test("the rasterised selection equals the exact test on random polygons over dense points, including grid points on their vertices", () => {
  const coord = fc.integer({ min: -50, max: 50 });
  fc.assert(
    fc.property(fc.array(fc.tuple(coord, coord), { minLength: 3, maxLength: 40 }), fc.integer(), (verts, seed) => {
      const poly = verts.flat();
      const { xs, ys } = cloudAround(poly, 5_000, seed);
      // Every integer point of the box too: vertices, and points on axis-parallel and diagonal edges.
      const grid: number[] = [];
      for (let x = -50; x <= 50; x += 5) for (let y = -50; y <= 50; y += 5) grid.push(x, y);
      const gx = Float32Array.from([...xs, ...grid.filter((_, i) => i % 2 === 0)]);
      const gy = Float32Array.from([...ys, ...grid.filter((_, i) => i % 2 === 1)]);
      assert.deepEqual(Array.from(selectInPolygon(gx, gy, poly)), everyEdge(gx, gy, poly));
    }),
    { numRuns: 200 },
  );
});

test("view: toData inverts toScreen; zoomAt keeps the anchor; fit shows all points", () => {
  const v = new View();
  v.resize(800, 600);
  v.fit(boundsOf(Float32Array.of(-3, 5, 1), Float32Array.of(2, -4, 10)));
  for (const [x, y] of [[-3, -4], [5, 10], [1, 2]] as const) {
    const [px, py] = v.toScreen(x, y);
    assert.ok(px >= 0 && px <= 800 && py >= 0 && py <= 600);
    const [bx, by] = v.toData(px, py);
    assert.ok(Math.abs(bx - x) < 1e-9 && Math.abs(by - y) < 1e-9);
  }
  const before = v.toData(123, 456);
  v.zoomAt(123, 456, 2.5);
  const afterZoom = v.toData(123, 456);
  assert.ok(Math.abs(before[0] - afterZoom[0]) < 1e-9 && Math.abs(before[1] - afterZoom[1]) < 1e-9);
  const [sx, sy] = v.toScreen(1, 2);
  v.panBy(10, -20);
  const [tx, ty] = v.toScreen(1, 2);
  assert.ok(Math.abs(tx - sx - 10) < 1e-9 && Math.abs(ty - sy + 20) < 1e-9);
});

test("3D view: no turn shows the two columns; a quarter turn brings the depth column into x; turning keeps distances to the centre", () => {
  const coord = fc.integer({ min: -500, max: 500 }).map((v) => v / 10);
  fc.assert(
    fc.property(fc.array(fc.tuple(coord, coord, coord, coord), { minLength: 2, maxLength: 50 }), fc.integer({ min: -180, max: 180 }), fc.integer({ min: -90, max: 90 }), (rows, yaw, pitch) => {
      const data = Float32Array.from(rows.flat());
      const dims = 4;
      const flat = project(data, dims, { axes: [2, 1], depth: depthAxis(dims, [2, 1]), yaw: 0, pitch: 0 });
      assert.deepEqual(Array.from(flat.xs), rows.map((r) => Math.fround(r[2])));
      assert.deepEqual(Array.from(flat.ys), rows.map((r) => Math.fround(r[1])));
      assert.equal(depthAxis(dims, [2, 1]), 0);

      const quarter = project(data, dims, { axes: [0, 1], depth: 2, yaw: 90, pitch: 0 });
      const cx = columnCentre(data, dims, 0), cz = columnCentre(data, dims, 2);
      rows.forEach((r, i) => assert.ok(Math.abs(quarter.xs[i]! - (Math.fround(r[2]) - cz + cx)) < 1e-3));

      // A rotation moves no point closer to or farther from the centre than its 3D distance allows.
      const turned = project(data, dims, { axes: [0, 1], depth: 2, yaw, pitch });
      const cy = columnCentre(data, dims, 1);
      rows.forEach((r, i) => {
        const d3 = Math.hypot(Math.fround(r[0]) - cx, Math.fround(r[1]) - cy, Math.fround(r[2]) - cz);
        assert.ok(Math.hypot(turned.xs[i]! - cx, turned.ys[i]! - cy) <= d3 + 1e-3);
      });
    }),
    { numRuns: 200 },
  );
});
