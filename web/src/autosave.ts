/**
 * Keeps the page's work safe: within a second or so of any change (well
 * inside 3 s) the session goes to the session worker, which writes and
 * uploads it; a change made meanwhile is saved right after. While a change
 * is not yet safe (autosaved, or saved to a file when autosave is off) the
 * browser warns before the tab closes or reloads.
 */
import type { CellOrder } from "../../src/chunks/cell-order.js";
import type { ViewerConfig } from "./api.js";
import type { SessionEncoder } from "./session-encoder.js";
import { sessionData, type ViewSnapshot } from "./session-io.js";
import type { ViewerState } from "./state.js";
import { byId, messageOf, setStatus } from "./ui/dom.js";

const DELAY_MS = 800;

export class Autosaver {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | null = null;
  /** The state revision known safe (autosaved, or saved to a file). */
  private safeRevision: number;
  /** The last autosave's timings (for the bench). */
  last: { savedAt: string; encodeMs: number; totalMs: number; bytes: number } | null = null;

  constructor(
    private readonly state: ViewerState,
    private readonly config: ViewerConfig,
    private readonly token: string,
    private readonly encoder: SessionEncoder,
    private readonly current: () => { view: ViewSnapshot; cellOrder: () => Promise<CellOrder> },
  ) {
    this.safeRevision = state.revision;
    state.onChange((c) => c === "history" && this.schedule());
    window.addEventListener("beforeunload", (ev) => {
      if (!this.unsaved) return;
      ev.preventDefault();
      // Chromium shows its warning only for a non-empty returnValue (the text itself is not shown).
      ev.returnValue = "You have changes that are not saved yet.";
    });
    this.show(config.autosave.enabled ? "Autosave on" : "Autosave off: use Save State");
  }

  get enabled(): boolean {
    return this.config.autosave.enabled;
  }

  /** Something changed that is neither autosaved nor saved to a file yet. */
  get unsaved(): boolean {
    return this.state.revision !== this.safeRevision;
  }

  /** The current state is safe as it is: just restored (`how` null), or saved to a file. */
  markSafe(how: "file" | null = null): void {
    const changed = this.unsaved;
    this.safeRevision = this.state.revision;
    if (how === "file") this.show(this.enabled ? "Saved; autosave on" : "Saved to a file");
    else if (changed) this.show(this.enabled ? "Autosave on" : "Autosave off: use Save State");
  }

  private show(text: string): void {
    byId("save-state-info").textContent = text;
  }

  private schedule(): void {
    if (!this.enabled || !this.unsaved) return;
    this.show("Unsaved changes…");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), DELAY_MS);
  }

  /** Saves now (after any save in flight); resolves once the server has the current state. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    while (this.running) await this.running;
    if (!this.enabled || !this.unsaved) return;
    this.running = this.saveOnce().finally(() => (this.running = null));
    await this.running;
  }

  private async saveOnce(): Promise<void> {
    const revision = this.state.revision;
    try {
      const { view, cellOrder } = this.current();
      const reply = await this.encoder.autosave(sessionData(this.state), view, await cellOrder(), this.token, this.state.appLoadable);
      this.last = { savedAt: reply.savedAt, encodeMs: reply.encodeMs, totalMs: reply.totalMs, bytes: reply.bytes };
      if (this.state.revision === revision) this.safeRevision = revision;
      else this.schedule();
      this.show(this.unsaved ? "Unsaved changes…" : `Autosaved ${new Date(reply.savedAt).toLocaleTimeString()}`);
    } catch (err) {
      this.show("Autosave FAILED");
      setStatus(`Autosave failed: ${messageOf(err)}. Your work is still in this page: use Save State to keep it in a file.`, "error");
    }
  }

  /** "Start fresh": the server sets the autosave aside (…previous.cellucid-session). */
  async discard(): Promise<void> {
    if (!this.enabled) return;
    const res = await fetch("/_cellucid/autosave/discard", { method: "POST", cache: "no-store", headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) throw new Error(`could not set the autosave aside: HTTP ${res.status}`);
  }
}
