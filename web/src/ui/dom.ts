/** Tiny DOM helpers: the page is plain DOM, no framework. */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  if (dataset) for (const [k, v] of Object.entries(dataset)) node.dataset[k] = v;
  node.append(...children);
  return node;
}

/** Replaces a select's options, keeping the current value when it still exists. */
export function setOptions(select: HTMLSelectElement, options: { value: string; text: string }[], preferred?: string | null): void {
  const keep = preferred ?? select.value;
  select.replaceChildren(...options.map((o) => el("option", { value: o.value, textContent: o.text })));
  if (options.some((o) => o.value === keep)) select.value = keep;
}

export function swatch(color: string): HTMLSpanElement {
  const s = el("span", { className: "swatch" });
  s.style.background = color;
  return s;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * The status bar, fixed at the bottom of the window so it is always in view:
 * where every message and failure the person must see ends up. Errors stay
 * until dismissed or replaced; other messages clear themselves after a while.
 */
let statusTimer: ReturnType<typeof setTimeout> | undefined;
export function setStatus(message: string, kind: "ok" | "error" | "info" = "info"): void {
  const s = byId("status");
  byId("status-text").textContent = message;
  s.className = kind === "info" ? "" : kind;
  s.hidden = message === "";
  clearTimeout(statusTimer);
  if (kind !== "error" && message !== "") statusTimer = setTimeout(() => message === byId("status-text").textContent && (s.hidden = true), 8000);
}

/** Runs a UI action, turning a thrown error into a visible status message. */
export function guard(fn: () => void | Promise<void>): () => void {
  return () => {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err: unknown) => setStatus(messageOf(err), "error"));
    } catch (err) {
      setStatus(messageOf(err), "error");
    }
  };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
