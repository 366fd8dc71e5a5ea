/** Category colours, as 0xAABBGGRR words ready to store into an ImageData's Uint32 view (little-endian). */

// Tableau-20-like: distinct neighbours, readable on white.
const HEX = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

export const BACKGROUND = "#ffffff";
export const MISSING = "#d0d0d0";
export const UNCOLOURED = "#3b6ea5";
export const SELECTED = "#111111";

export function hexToRgba32(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  const r = (n >> 16) & 0xff, g = (n >> 8) & 0xff, b = n & 0xff;
  return ((0xff << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** The CSS colour of category `i`, the same one the points are drawn with. */
export function categoryColor(i: number): string {
  return rgba32ToCss(categoryRgba32(i));
}

/**
 * Category colour as an RGBA word. Beyond the base list, golden-angle hues
 * with three lightness and two saturation levels in turn, so neighbouring
 * codes differ in more than hue and 30+ categories stay tellable apart.
 */
export function categoryRgba32(i: number): number {
  if (i < HEX.length) return hexToRgba32(HEX[i]!);
  const k = i - HEX.length;
  const h = ((k * 137.508 + 15) % 360) / 360, s = k % 2 ? 0.5 : 0.8, l = [0.42, 0.6, 0.32][k % 3]!;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const ch = (t: number): number => {
    t = (t + 1) % 1;
    const v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p;
    return Math.round(v * 255);
  };
  return ((0xff << 24) | (ch(h - 1 / 3) << 16) | (ch(h) << 8) | ch(h + 1 / 3)) >>> 0;
}

export function rgba32ToCss(c: number): string {
  return `rgb(${c & 0xff} ${(c >>> 8) & 0xff} ${(c >>> 16) & 0xff})`;
}

/** Highlight groups are drawn in these, by their place in the page (distinct from the first category colours' order). */
const GROUP_HEX = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324", "#000075", "#808000"];

export function groupColor(index: number): string {
  return GROUP_HEX[index % GROUP_HEX.length]!;
}
