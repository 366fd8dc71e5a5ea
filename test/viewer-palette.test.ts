/** The viewer's category palette stays tellable apart for many categories, and its CSS and pixel forms agree. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { categoryColor, categoryRgba32 } from "../web/src/palette.js";

/** Rough perceptual distance (redmean), 0..~765. */
function distance(a: number, b: number): number {
  const [r1, g1, b1] = [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff];
  const [r2, g2, b2] = [b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff];
  const rm = (r1 + r2) / 2;
  return Math.sqrt((2 + rm / 256) * (r1 - r2) ** 2 + 4 * (g1 - g2) ** 2 + (2 + (255 - rm) / 256) * (b1 - b2) ** 2);
}

test("40 categories get 40 distinct colours, each at least a visible step from every other; neighbours differ clearly", () => {
  const colors = Array.from({ length: 40 }, (_, i) => categoryRgba32(i));
  assert.equal(new Set(colors).size, 40);
  let closest = Infinity;
  for (let i = 0; i < colors.length; i++) for (let j = i + 1; j < colors.length; j++) closest = Math.min(closest, distance(colors[i]!, colors[j]!));
  assert.ok(closest > 20, `closest pair ${closest.toFixed(1)}`);
  for (let i = 20; i < 39; i++) assert.ok(distance(colors[i]!, colors[i + 1]!) > 60, `categories ${i} and ${i + 1}`);
  assert.equal(categoryColor(0), "rgb(31 119 180)", "category 0 is a real colour, never the missing grey");
});
