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
