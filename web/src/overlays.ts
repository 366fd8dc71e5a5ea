/**
 * What is drawn around cells rather than as their colour: every enabled
 * highlight group of the active page in its group colour, and the selection
 * (or the live preview of a lasso being drawn) in the selection colour on
 * top. Kept apart from the renderers so WebGL2 and Canvas2D draw the same
 * layers.
 */
import { SELECTED, groupColor, hexToRgba32 } from "./palette.js";
import type { ViewerState } from "./state.js";

export interface Halo {
  cells: Uint32Array;
  /** RGBA word. */
  color: number;
  /**
   * Drawn over the groups for a while only (the selection, a lasso's
   * preview, the pinned cell): always after the lasting rims, so a renderer
   * that keeps the groups' rims can drop these without redrawing those.
   */
  transient?: boolean;
}

export function overlayHalos(state: ViewerState, preview: Uint32Array | null): Halo[] {
  const halos: Halo[] = [];
  const page = state.activePage;
  page?.groups.forEach((g, i) => {
    if (g.enabled) halos.push({ cells: g.cells, color: hexToRgba32(groupColor(i)) });
  });
  // A selection that is a group (the gesture just made it, or "Select" picked it) shows as that group.
  const sel = preview ?? state.selection;
  if (sel && sel.length && !page?.groups.some((g) => g.enabled && g.cells === sel)) halos.push({ cells: sel, color: hexToRgba32(SELECTED), transient: true });
  return halos;
}
