/**
 * A uniform grid over the drawn points, for "which cell is under the
 * pointer": built once per projection in two linear passes (a counting
 * sort), then each query looks only at the buckets within its radius, so
 * hovering stays cheap at millions of cells.
 */
import { boundsOf } from "./view.js";

export class PointGrid {
  private readonly side: number;
  private readonly minX: number;
  private readonly minY: number;
  private readonly cellW: number;
  private readonly cellH: number;
  /** Bucket b holds order[start[b] .. start[b+1]). */
  private readonly start: Uint32Array;
  private readonly order: Uint32Array;

  constructor(private readonly xs: Float32Array, private readonly ys: Float32Array) {
    const { minX, maxX, minY, maxY } = boundsOf(xs, ys);
    // About four points per bucket on average; at most 2048² buckets.
    this.side = Math.max(1, Math.min(2048, Math.ceil(Math.sqrt(xs.length / 4))));
    this.minX = minX;
    this.minY = minY;
    this.cellW = (maxX - minX) / this.side || 1;
    this.cellH = (maxY - minY) / this.side || 1;
    const buckets = this.side * this.side;
    const bucketOf = new Int32Array(xs.length);
    const count = new Uint32Array(buckets + 1);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!, y = ys[i]!;
      const b = x === x && y === y ? this.bucket(this.column(x), this.row(y)) : -1;
      bucketOf[i] = b;
      if (b >= 0) count[b + 1]!++;
    }
    for (let b = 0; b < buckets; b++) count[b + 1]! += count[b]!;
    this.start = count.slice();
    this.order = new Uint32Array(count[buckets]!);
    for (let i = 0; i < xs.length; i++) {
      const b = bucketOf[i]!;
      if (b >= 0) this.order[count[b]!++] = i;
    }
  }

  private column(x: number): number {
    return Math.min(this.side - 1, Math.max(0, Math.floor((x - this.minX) / this.cellW)));
  }

  private row(y: number): number {
    return Math.min(this.side - 1, Math.max(0, Math.floor((y - this.minY) / this.cellH)));
  }

  private bucket(c: number, r: number): number {
    return r * this.side + c;
  }

  /** The visible cell nearest (x, y) within `radius` (data units), or −1; ties go to the later cell. */
  nearest(x: number, y: number, radius: number, visible: (i: number) => boolean): number {
    const c0 = this.column(x - radius), c1 = this.column(x + radius);
    const r0 = this.row(y - radius), r1 = this.row(y + radius);
    let best = -1, bestD = radius * radius;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const b = this.bucket(c, r);
        for (let j = this.start[b]!; j < this.start[b + 1]!; j++) {
          const i = this.order[j]!;
          const dx = this.xs[i]! - x, dy = this.ys[i]! - y;
          const d = dx * dx + dy * dy;
          if ((d < bestD || (d === bestD && i > best)) && visible(i)) {
            best = i;
            bestD = d;
          }
        }
      }
    }
    return best;
  }
}
