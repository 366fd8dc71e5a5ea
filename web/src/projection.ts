/**
 * From an n-dimensional embedding to the 2D points the page draws and
 * selects on. Two chosen axes are shown as they are; for 3D and more the view
 * can also be turned around the centre of the data, using a third (depth)
 * axis: yaw about the vertical, then pitch about the horizontal. Selections
 * are made on what is shown, as in any 3D viewer.
 */

export interface Projection {
  /** The embedding columns shown as x and y before turning. */
  axes: [number, number];
  /** The column used as depth when turning; null for 2D embeddings. */
  depth: number | null;
  /** Degrees. */
  yaw: number;
  pitch: number;
}

/** The first column that is neither shown axis: what turning brings into view. */
export function depthAxis(dims: number, axes: [number, number]): number | null {
  for (let a = 0; a < dims; a++) if (a !== axes[0] && a !== axes[1]) return a;
  return null;
}

/** Midpoint of a column's range: the point the view turns around. */
export function columnCentre(data: Float32Array, dims: number, axis: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let o = axis; o < data.length; o += dims) {
    const v = data[o]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? (lo + hi) / 2 : 0;
}

/** x and y of every cell under `p` (Float32, like the data). */
export function project(data: Float32Array, dims: number, p: Projection): { xs: Float32Array<ArrayBuffer>; ys: Float32Array<ArrayBuffer> } {
  const n = Math.floor(data.length / dims);
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  const [ax, ay] = p.axes;
  const az = p.depth;
  if (az === null || (p.yaw === 0 && p.pitch === 0)) {
    for (let i = 0, o = 0; i < n; i++, o += dims) {
      xs[i] = data[o + ax]!;
      ys[i] = data[o + ay]!;
    }
    return { xs, ys };
  }
  const cx = columnCentre(data, dims, ax);
  const cy = columnCentre(data, dims, ay);
  const cz = columnCentre(data, dims, az);
  const yaw = (p.yaw * Math.PI) / 180;
  const pitch = (p.pitch * Math.PI) / 180;
  const cyaw = Math.cos(yaw), syaw = Math.sin(yaw), cpitch = Math.cos(pitch), spitch = Math.sin(pitch);
  for (let i = 0, o = 0; i < n; i++, o += dims) {
    const x = data[o + ax]! - cx;
    const y = data[o + ay]! - cy;
    const z = data[o + az]! - cz;
    const x1 = x * cyaw + z * syaw;
    const z1 = z * cyaw - x * syaw;
    // Centre added back: turning keeps the points where the camera looks.
    xs[i] = x1 + cx;
    ys[i] = y * cpitch - z1 * spitch + cy;
  }
  return { xs, ys };
}

/** The shown axes and the depth axis as columns, with the centre turning goes around: what a GPU turns by itself. */
export interface TurnColumns {
  x: Float32Array;
  y: Float32Array;
  z: Float32Array;
  centre: [number, number, number];
}

export function turnColumns(data: Float32Array, dims: number, axes: [number, number], depth: number): TurnColumns {
  const n = Math.floor(data.length / dims);
  const x = new Float32Array(n), y = new Float32Array(n), z = new Float32Array(n);
  const [ax, ay] = axes;
  for (let i = 0, o = 0; i < n; i++, o += dims) {
    x[i] = data[o + ax]!;
    y[i] = data[o + ay]!;
    z[i] = data[o + depth]!;
  }
  return { x, y, z, centre: [columnCentre(data, dims, ax), columnCentre(data, dims, ay), columnCentre(data, dims, depth)] };
}
