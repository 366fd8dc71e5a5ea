/**
 * The Canvas2D renderer's pixels in Node: every frame equals drawing the
 * rims first and then the points over them (in rank order), however the
 * kept layers of earlier frames were reused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { orderByRank } from "../web/src/continuous.js";
import type { Halo } from "../web/src/overlays.js";
import { type Placement, PixelFrame } from "../web/src/pixel-frame.js";
import { pointSize, rimSize } from "../web/src/point-size.js";
import type { Layer } from "../web/src/layer.js";

const BG = 0xff101010;

/** The picture as the renderer drew it before it kept layers: background, rims in order, points in draw order over them. */
function reference(p: Placement, layer: Layer): Uint32Array {
  const { W, H, k, tx, ty } = p;
  const out = new Uint32Array(W * H).fill(BG);
  const list = layer.subset ?? null;
  const count = list ? list.length : layer.xs.length;
  const size = pointSize(count, p.dpr), rim = rimSize(size, p.dpr);
  const paint = (px: number, py: number, s: number, color: number): void => {
    const half = s >> 1;
    for (let y = Math.floor(py) - half; y < Math.floor(py) - half + s; y++)
      for (let x = Math.floor(px) - half; x < Math.floor(px) - half + s; x++) if (x >= 0 && x < W && y >= 0 && y < H) out[y * W + x] = color;
  };
  for (const h of layer.halos)
    for (const i of h.cells) {
      if (layer.colors[i] === 0) continue;
      const px = layer.xs[i]! * k + tx, py = ty - layer.ys[i]! * k;
      // 3-pixel rims are drawn only for cells a pixel inside the frame.
      if (rim === 3 && !(px >= 1 && px < W - 1 && py >= 1 && py < H - 1)) continue;
      if (px > -rim && px < W + rim && py > -rim && py < H + rim) paint(px, py, rim, h.color);
    }
  const order = layer.rank ? orderByRank(layer.rank, list) : (list ?? Uint32Array.from({ length: count }, (_, j) => j));
  for (const i of order) {
    const c = layer.colors[i]!;
    const px = layer.xs[i]! * k + tx, py = ty - layer.ys[i]! * k;
    if (c !== 0 && (size > 1 ? px > -size && px < W + size && py > -size && py < H + size : px >= 0 && px < W && py >= 0 && py < H)) paint(px, py, size, c);
  }
  return out;
}

test("frames equal rims-then-points, through reused points, appended and changed rims, transient rims (selection, preview) coming and going, moving frames between, ranks and point sizes", () => {
  const W = 40, H = 30;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400_000 }),
      fc.array(fc.tuple(fc.integer({ min: -5, max: 45 }), fc.integer({ min: -5, max: 35 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 300 }),
      fc.array(fc.constantFrom("same", "add-halo", "drop-halo", "recolour", "show-all", "pan", "moving", "rank", "preview", "unselect", "group-it"), { minLength: 1, maxLength: 8 }),
      fc.constantFrom(1, 2),
      (nominal, pts, steps, dpr) => {
        const n = pts.length;
        // Points sizes follow the dataset size: pad the coordinates with cells far off the frame.
        const total = Math.max(n, Math.min(nominal, 400_000));
        const xs = new Float32Array(total).fill(1e6), ys = new Float32Array(total).fill(1e6);
        let colors = new Uint32Array(total);
        pts.forEach(([x, y, c], i) => {
          xs[i] = x + 0.5;
          ys[i] = y + 0.25;
          colors[i] = c === 0 ? 0 : 0xff000000 + c;
        });
        const cells = (from: number, step: number): Uint32Array => Uint32Array.from({ length: Math.ceil((n - from) / step) }, (_, j) => from + j * step);
        let halos: Halo[] = [{ cells: cells(0, 3), color: 0xff0000aa }];
        // The selection or a lasso's preview: after the groups, in a colour of its own.
        let selection: Halo | null = null;
        let rank: Uint16Array | null = null;
        let p: Placement = { W, H, k: 1, tx: 0, ty: H, dpr };
        let version = 0;
        const frame = new PixelFrame();
        const words = new Uint32Array(W * H);
        let first = true;
        for (const step of ["same", ...steps]) {
          let subset: Uint32Array | null = null;
          if (step === "add-halo") halos = [...halos, { cells: cells(halos.length % n, 2), color: 0xff00aa00 + halos.length }];
          if (step === "drop-halo") halos = halos.slice(1);
          if (step === "recolour") (colors = colors.map((c) => (c === 0 ? 0 : c ^ 0x10))), version++;
          if (step === "show-all") (colors = colors.map((c) => c || 0xff000005)), version++;
          if (step === "pan") p = { ...p, tx: p.tx + 1 };
          if (step === "moving") subset = cells(0, 2);
          if (step === "rank") rank = Uint16Array.from({ length: total }, (_, i) => (i * 7) % 5);
          if (step === "preview") selection = { cells: cells((version + halos.length) % n, 3), color: 0xffcc00cc, transient: true };
          if (step === "unselect") selection = null;
          // A lasso's release: its preview becomes the last group.
          if (step === "group-it" && selection) (halos = [...halos, { cells: selection.cells, color: 0xff00cc00 }]), (selection = null);
          const layer: Layer = { xs, ys, colors, colorsVersion: version, rank, subset, halos: selection ? [...halos, selection] : halos };
          frame.draw(words, BG, p, layer);
          assert.deepEqual(words, reference(p, layer), `after ${step}`);
          // Points are drawn anew only when the cells, their place or their colours changed (a moving frame draws its own).
          assert.equal(frame.redrew, first || ["recolour", "show-all", "pan", "moving", "rank"].includes(step), step);
          first = false;
        }
      },
    ),
    { numRuns: 150 },
  );
});

test("a lasso's release after a preview shown in a full frame draws the new group's rim alone", () => {
  const W = 64, H = 48, n = 2_000;
  const xs = Float32Array.from({ length: n }, (_, i) => (i * 37) % W), ys = Float32Array.from({ length: n }, (_, i) => (i * 11) % H);
  const colors = new Uint32Array(n).fill(0xff336699);
  const p: Placement = { W, H, k: 1, tx: 0.5, ty: H - 0.5, dpr: 1 };
  const groups: Halo[] = [0, 1, 2].map((g) => ({ cells: Uint32Array.from({ length: 300 }, (_, j) => g * 500 + j), color: 0xff0000a0 + g }));
  const lassoed = Uint32Array.from({ length: 400 }, (_, j) => 1_500 + j);
  const frame = new PixelFrame();
  const words = new Uint32Array(W * H);
  const drawn = (halos: Halo[]): void => {
    const layer: Layer = { xs, ys, colors, colorsVersion: 0, rank: null, subset: null, halos };
    frame.draw(words, BG, p, layer);
    assert.deepEqual(words, reference(p, layer));
  };
  drawn(groups);
  assert.equal(frame.rimsDrawn, 3);
  // The drag paused: a full frame with the preview over the groups.
  drawn([...groups, { cells: lassoed, color: 0xffcc00cc, transient: true }]);
  assert.equal(frame.rimsDrawn, 1, "the preview alone");
  // The release: the preview is gone, the same cells are the last group.
  drawn([...groups, { cells: lassoed, color: 0xff00cc00 }]);
  assert.equal(frame.rimsDrawn, 1, "the new group alone, not every group again");
  // Deselecting a group that was selected (a transient rim going away) draws nothing.
  drawn([...groups, { cells: lassoed, color: 0xff00cc00 }, { cells: groups[0]!.cells, color: 0xffcc00cc, transient: true }]);
  drawn([...groups, { cells: lassoed, color: 0xff00cc00 }]);
  assert.equal(frame.rimsDrawn, 0);
});
