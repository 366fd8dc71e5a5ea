/** The events the viewer page reports (POST /_cellucid/events), shared by the routes that receive them and the Viewer that dispatches them. */

/** What the page posts to /_cellucid/events, by type; other types arrive as a plain ViewerEvent. */
export interface ViewerEventMap {
  ready: ViewerEvent;
  selection: ViewerEvent & { count: number };
  highlights: ViewerEvent & { pages: { id: string; name: string; groups: { id: string; label: string; count: number }[] }[] };
  error: ViewerEvent & { message: string };
  /** The person clicked, drew, scrolled or typed in the tab `tabId` (at most once a second). */
  interaction: ViewerEvent & { tabId: string };
}

export interface ViewerEvent {
  type: string;
  viewerId: string;
  [key: string]: unknown;
}
