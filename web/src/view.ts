/**
 * Zoom/pan transform between data coordinates and canvas CSS pixels. Data y
 * points up, screen y down. One transform serves drawing, selection and the
 * test hooks, so what the user sees is exactly what gets selected.
 */

export interface Bounds {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export class View {
  /** Data coordinates at the canvas centre. */
  cx = 0;
  cy = 0;
  /** CSS pixels per data unit. */
  scale = 1;
  /** Canvas size in CSS pixels. */
  width = 1;
  height = 1;

  resize(width: number, height: number): void {
    this.width = Math.max(1, width);
    this.height = Math.max(1, height);
  }

  /** Shows all of `b` with a margin. */
  fit(b: Bounds, margin = 0.05): void {
    const w = b.maxX - b.minX || 1;
    const h = b.maxY - b.minY || 1;
    this.cx = (b.minX + b.maxX) / 2;
    this.cy = (b.minY + b.maxY) / 2;
    this.scale = Math.min(this.width / w, this.height / h) * (1 - 2 * margin);
  }

  toScreen(x: number, y: number): [number, number] {
    return [(x - this.cx) * this.scale + this.width / 2, this.height / 2 - (y - this.cy) * this.scale];
  }

  toData(px: number, py: number): [number, number] {
    return [(px - this.width / 2) / this.scale + this.cx, this.cy - (py - this.height / 2) / this.scale];
  }

  /** Zooms by `factor` keeping the data point under (px, py) where it is. */
  zoomAt(px: number, py: number, factor: number): void {
    const [x, y] = this.toData(px, py);
    this.scale = Math.min(1e12, Math.max(1e-12, this.scale * factor));
    this.cx = x - (px - this.width / 2) / this.scale;
    this.cy = y + (py - this.height / 2) / this.scale;
  }

  panBy(dxPx: number, dyPx: number): void {
    this.cx -= dxPx / this.scale;
    this.cy += dyPx / this.scale;
  }
}

/** Bounds of the finite points (NaN coordinates are skipped, as they are never drawn). */
export function boundsOf(xs: Float32Array, ys: Float32Array): Bounds {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!, y = ys[i]!;
    if (!(x === x && y === y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX) return { minX: -1, maxX: 1, minY: -1, maxY: 1 };
  return { minX, maxX, minY, maxY };
}
