/** What a point renderer is given to draw: the cells, their colours, draw ranks and the rims around groups. */
import type { Halo } from "./overlays.js";
import type { TurnColumns } from "./projection.js";

export interface Layer {
  xs: Float32Array;
  ys: Float32Array;
  /** A 3D embedding's columns and rotation, for a renderer that turns the points itself (then xs, ys may lag behind). */
  turn?: (TurnColumns & { yaw: number; pitch: number }) | null;
  /** One RGBA word per point; 0 = hidden (not drawn). */
  colors: Uint32Array;
  /** Changes whenever `colors` is rewritten in place (renderers that copy the colours compare it). */
  colorsVersion: number;
  /**
   * Draw rank per point: a higher rank is drawn over a lower one, points of
   * one rank in index order (later on top). Absent: index order.
   */
  rank?: Uint16Array | null;
  /** While the view moves: the only points drawn (a fixed sample, in index order); null draws all. */
  subset?: Uint32Array | null;
  /** Rims drawn under the points, in order (later ones on top): the cells keep their own colour inside. */
  halos: Halo[];
}
