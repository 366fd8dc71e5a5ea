/**
 * Keyboard: undo/redo (also the buttons), tools, fit, group the selection,
 * the help overlay (?), and Enter in a text field pressing its button.
 * Single-letter shortcuts never fire while typing in a field.
 */
import type { ViewerState } from "../state.js";
import type { Tool } from "./canvas-input.js";
import { byId, guard, setStatus } from "./dom.js";

export interface KeyboardHost {
  state: ViewerState;
  controls: { pickTool(tool: Tool): void };
  app: { fit(): void; input: { dragging: boolean } };
  groupSelection(): void;
}

/** Text fields and the button Enter presses in each. */
const ENTER_SUBMITS: Record<string, string> = { "field-name": "field-create", "category-name": "category-add", "page-name": "page-add", "range-min": "range-group", "range-max": "range-group" };

export function installKeyboard(h: KeyboardHost): void {
  const undo = byId<HTMLButtonElement>("undo"), redo = byId<HTMLButtonElement>("redo");
  const help = byId("help");
  const doUndo = () => setStatus(h.state.undo() ? "Undone" : "Nothing to undo", "info");
  const doRedo = () => setStatus(h.state.redo() ? "Redone" : "Nothing to redo", "info");
  undo.addEventListener("click", doUndo);
  redo.addEventListener("click", doRedo);
  h.state.onChange((c) => {
    if (c !== "history") return;
    undo.disabled = !h.state.canUndo;
    redo.disabled = !h.state.canRedo;
  });
  const showHelp = (show: boolean) => {
    help.hidden = !show;
    if (show) byId("help-close").focus();
  };
  byId("help-open").addEventListener("click", () => showHelp(true));
  byId("help-close").addEventListener("click", () => showHelp(false));
  byId("status-close").addEventListener("click", () => (byId("status").hidden = true));
  for (const [input, button] of Object.entries(ENTER_SUBMITS))
    byId(input).addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        byId(button).click();
      }
    });

  document.addEventListener("keydown", (ev) => {
    if (!byId("dialog").hidden) return; // the dialog handles its own keys
    const t = ev.target as HTMLElement;
    const typing = t instanceof HTMLInputElement ? t.type === "text" || t.type === "search" || t.type === "" : t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
    const mod = ev.ctrlKey || ev.metaKey;
    const key = ev.key.toLowerCase();
    if (mod && !typing && key === "z") {
      ev.preventDefault();
      if (ev.shiftKey) doRedo();
      else doUndo();
      return;
    }
    if (mod && !typing && key === "y") {
      ev.preventDefault();
      doRedo();
      return;
    }
    if (ev.key === "Escape" && !help.hidden) return showHelp(false);
    if (typing || mod || ev.altKey || h.app.input.dragging) return;
    const tools: Record<string, Tool> = { p: "pan", l: "lasso", r: "rectangle" };
    if (ev.key === "?") showHelp(help.hidden);
    else if (tools[key]) h.controls.pickTool(tools[key]);
    else if (key === "f") h.app.fit();
    else if (key === "g") guard(() => h.groupSelection())();
    else return;
    ev.preventDefault();
  });
}
