/**
 * The page's own confirm dialog (never window.confirm: that blocks the page
 * and cannot be driven or styled): a message and a few answers, Enter picks
 * the first, Esc the last (the cancelling one).
 */
import { byId, el } from "./dom.js";

export interface Choice<T extends string> {
  value: T;
  text: string;
}

let open: Promise<unknown> = Promise.resolve();

/** Resolves with the chosen value; questions asked while one is open wait their turn. */
export function ask<T extends string>(message: string, choices: Choice<T>[]): Promise<T> {
  const next = open.then(() => show(message, choices));
  open = next.catch(() => undefined);
  return next;
}

/** Yes/no confirmation; true when the person confirmed. */
export async function confirmAction(message: string, yes: string): Promise<boolean> {
  return (await ask(message, [{ value: "yes", text: yes }, { value: "no", text: "Cancel" }])) === "yes";
}

function show<T extends string>(message: string, choices: Choice<T>[]): Promise<T> {
  const box = byId("dialog");
  return new Promise<T>((resolve) => {
    const done = (v: T) => {
      box.hidden = true;
      box.replaceChildren();
      document.removeEventListener("keydown", onKey, true);
      resolve(v);
    };
    const buttons = choices.map((c, i) => {
      const b = el("button", { type: "button", textContent: c.text, className: i === 0 ? "primary" : "" });
      b.dataset.testid = `dialog-${c.value}`;
      b.addEventListener("click", () => done(c.value));
      return b;
    });
    const onKey = (ev: KeyboardEvent) => {
      if (ev.key === "Escape") done(choices[choices.length - 1]!.value);
      else if (ev.key === "Enter" && !(document.activeElement instanceof HTMLButtonElement)) done(choices[0]!.value);
      else return;
      ev.preventDefault();
      ev.stopPropagation();
    };
    document.addEventListener("keydown", onKey, true);
    const card = el("div", { className: "dialog-card" }, el("p", { textContent: message }), el("div", { className: "row" }, ...buttons));
    card.setAttribute("role", "alertdialog");
    card.setAttribute("aria-modal", "true");
    box.replaceChildren(card);
    box.hidden = false;
    buttons[0]!.focus();
  });
}
