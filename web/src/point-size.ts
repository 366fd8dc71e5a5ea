/** How big points and their halo rims are drawn, by both renderers. */

/** Dense data gets 1-pixel points (overdraw hides nothing more); sparse data bigger ones, to stay visible. */
export function pointSize(n: number, dpr: number): number {
  const css = n > 300_000 ? 1 : n > 30_000 ? 2 : 3;
  return Math.max(1, Math.round(css * dpr));
}

/** Halo rims are this much wider than the points, on every side. */
export function rimSize(size: number, dpr: number): number {
  return size + 2 * Math.max(1, Math.round(dpr));
}
