/**
 * Boot: config → state and panels → message channel → data → first frame →
 * optional initial session → `ready`. Every failure is shown in the status
 * line and reported to the program as an `error` event.
 */
import { type ServerMessage, ViewerApi, fetchConfig, postEvent, takeAccessToken } from "./api.js";
import { App } from "./app.js";
import { Autosaver } from "./autosave.js";
import { viewerCellOrder } from "./cell-order.js";
import { installDebugHook } from "./debug.js";
import { SessionEncoder } from "./session-encoder.js";
import { FingerprintMismatchError, type ViewSnapshot, restoreBundle, sessionData } from "./session-io.js";
import { NOTHING_CARRIED, ViewerState } from "./state.js";
import { Controls } from "./ui/controls.js";
import { ask, confirmAction } from "./ui/dialog.js";
import { byId, el, formatCount, guard, messageOf, setStatus } from "./ui/dom.js";
import { installKeyboard } from "./ui/keyboard.js";
import { GeneSearch } from "./ui/gene-search.js";
import { HighlightsPanel } from "./ui/highlights-panel.js";
import { LabelsPanel } from "./ui/labels-panel.js";

const token = takeAccessToken();

async function boot(token: string): Promise<void> {
  const config = await fetchConfig(token);
  const api = new ViewerApi(config, token);
  const ds = config.dataset;
  byId("dataset-info").textContent = `${ds.name} · ${formatCount(ds.nObs)} cells × ${formatCount(ds.nVars)} genes`;

  const state = new ViewerState(ds.nObs);
  const app = new App(config, state, api);
  const load = (key: string, dims: number) => (key === app.embeddingKey && app.embeddingData ? Promise.resolve(app.embeddingData) : api.fetchEmbedding(key, ds.nObs, dims));
  // The cell-order digest reads a whole embedding: computed once per view shown, for saves, captures and autosaves.
  let cellOrderCache: { key: string; value: ReturnType<typeof viewerCellOrder> } | null = null;
  const cellOrderOf = (view: ViewSnapshot): ReturnType<typeof viewerCellOrder> => {
    const key = `${view.embedding}|${view.axes.join(",")}`;
    if (cellOrderCache?.key !== key) {
      cellOrderCache = { key, value: viewerCellOrder(config, view, load) };
      cellOrderCache.value.catch(() => (cellOrderCache = null));
    }
    return cellOrderCache.value;
  };
  // Save State, captures and autosaves are written by one worker, which reuses what did not change.
  const encoder = new SessionEncoder(config);
  // What the app cannot load goes into captures (for Python) as it is; Save State asks.
  const bundle = async (canonical = state.appLoadable): Promise<Blob> => {
    await app.settled();
    const view = app.snapshot();
    const cellOrder = await cellOrderOf(view);
    return encoder.encode(sessionData(state), view, cellOrder, canonical);
  };
  const autosaver = new Autosaver(state, config, token, encoder, () => {
    const view = app.snapshot();
    return { view, cellOrder: () => cellOrderOf(view) };
  });
  const hook = installDebugHook(app, bundle, autosaver, encoder, api.tabId);
  app.controls = new Controls(app);
  new GeneSearch(app);
  const highlights = new HighlightsPanel(state);
  new LabelsPanel(state);
  installKeyboard({ state, controls: app.controls, app, groupSelection: () => highlights.groupSelection() });
  for (const ev of ["pointerdown", "keydown", "wheel"]) document.addEventListener(ev, () => api.interaction(), { capture: true, passive: true });

  const reportError = (message: string, extra: Record<string, unknown> = {}): void => {
    setStatus(message, "error");
    api.event("error", { message, ...extra });
  };

  const sendHighlights = (): void =>
    api.event("highlights", {
      pages: state.pages.map((p) => ({ id: p.id, name: p.name, groups: p.groups.map((g) => ({ id: g.id, label: g.label, count: g.cells.length })) })),
    });
  state.onChange((c) => {
    if (c === "selection") byId("selection-count").textContent = formatCount(state.selection?.length ?? 0);
    if (c === "highlights") sendHighlights();
  });
  byId("clear-selection").addEventListener("click", () => state.setSelection(null));

  const restore = async (source: Blob | Uint8Array, name: string): Promise<void> => {
    try {
      const r = await restoreBundle(source, state, config, name, load);
      if (r.view) await app.applySnapshot(r.view);
      const kept = state.carried.notForApp.length ? `\nKept, though the web app cannot load it: ${state.carried.notForApp.join(", ")}` : "";
      setStatus(`Loaded ${name}: ${r.pages} pages, ${r.groups} groups, ${r.fields} label fields${kept}${r.warnings.length ? `\n${r.warnings.join("\n")}` : ""}`, r.warnings.length ? "error" : "ok");
    } catch (err) {
      reportError(err instanceof FingerprintMismatchError ? `Cannot load ${name}: ${err.message}` : `Cannot load ${name}: ${messageOf(err)}`);
      throw err;
    }
  };

  byId("save-state").addEventListener("click", guard(async () => {
    let canonical = true;
    if (state.carried.notForApp.length) {
      const choice = await ask(
        `This session holds what the current Cellucid web app cannot load: ${state.carried.notForApp.join(", ")}.\n\nKeep them in a file for this viewer and Python (apply, inspect), which the web app will refuse, or leave them out of a file the web app loads?`,
        [{ value: "keep", text: "Keep them (not for the web app)" }, { value: "drop", text: "Leave them out (web app file)" }, { value: "cancel", text: "Cancel" }],
      );
      if (choice === "cancel") return;
      canonical = choice === "drop";
    }
    const blob = await bundle(canonical);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${ds.fingerprint.datasetId ?? ds.name}.cellucid-session`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    if (!autosaver.enabled) autosaver.markSafe("file");
    setStatus(`Saved ${a.download} (${formatCount(blob.size)} bytes${canonical ? "" : ", for this viewer and Python; the web app will refuse it"})`, "ok");
  }));
  const fileInput = byId<HTMLInputElement>("load-state");
  fileInput.addEventListener("change", guard(async () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (!file) return;
    if (!state.isEmpty && !(await confirmAction(`Load ${file.name}? It replaces what you have now (${describeWork(state)}). Undo (Ctrl+Z) brings your work back.`, "Load and replace"))) return;
    await restore(file, file.name).catch(() => undefined);
  }));

  api.listen((msg: ServerMessage) => {
    const requestId = typeof msg.requestId === "string" ? msg.requestId : null;
    if (msg.type === "requestSessionBundle" && requestId) {
      bundle()
        .then((b) => api.uploadBundle(requestId, b))
        .then(() => {
          if (!autosaver.enabled) autosaver.markSafe("file");
        })
        .catch((err: unknown) => reportError(`Could not send the session: ${messageOf(err)}`, { requestId }));
    } else if (msg.type === "loadSession" && requestId) {
      api.fetchSession(requestId)
        .then((bytes) => restore(bytes, "session from the program"))
        .catch(() => undefined);
    } else if (msg.type === "xProgress" && typeof msg.done === "number" && typeof msg.total === "number") {
      // A one-time per-gene index of the expression matrix, built on the first gene asked for.
      const pct = msg.total > 0 ? Math.floor((100 * msg.done) / msg.total) : 100;
      setStatus(msg.done < msg.total ? `Indexing the expression matrix for gene colouring (once per file): ${pct} %` : "Expression matrix indexed", msg.done < msg.total ? "info" : "ok");
    } else api.event("error", { message: `unknown message type '${String(msg.type)}'` });
  }, (why) => setStatus(why, "error"));

  // The usual 2D views first: a UMAP or t-SNE says more at a glance than PCA's first two components.
  const drawable = ds.embeddings.filter((e) => e.dims >= 2);
  const first = ["umap", "tsne", "draw_graph"].map((k) => drawable.find((e) => e.key.toLowerCase().includes(k))).find(Boolean) ?? drawable[0];
  if (!first) throw new Error("the dataset has no embedding with 2 or more dimensions to draw");
  await app.setEmbedding(first.key);
  const firstColor = ds.obsCategoricals[0];
  await app.setColorBy(firstColor ? `obs:${firstColor.key}` : "");
  await restoreOnOpen(config.autosave.saved?.savedAt ?? null);
  state.clearHistory();
  autosaver.markSafe();

  app.drawNow();
  // Asked for WebGL2 and not given it: said in the status line (otherwise the HUD's tooltip says why).
  if (app.rendererNote && app.rendererWanted === "webgl") setStatus(app.rendererNote, "info");
  hook.ready = true;
  document.body.dataset.ready = "true";
  api.event("ready", { nObs: ds.nObs, embedding: app.embeddingKey, firstDrawMs: app.firstDrawAt });
  sendHighlights();

  /**
   * What the page opens with: the --session bundle (it wins, and the notice
   * offers the autosave instead), else this dataset's autosave (the notice
   * offers to start fresh), else nothing.
   */
  async function restoreOnOpen(autosavedAt: string | null): Promise<void> {
    const when = autosavedAt ? new Date(autosavedAt).toLocaleString() : "";
    const restoreAutosave = async () => restore(await api.fetchAutosave(), `the autosave of ${when}`);
    if (ds.hasSession) {
      await restore(await api.fetchSession("initial"), "the session given with --session").catch(() => undefined);
      if (autosavedAt)
        notice(`Opened the session given with --session: it wins over this dataset's autosave of ${when}, which is set aside (as …previous.cellucid-session in the autosave folder) when this page first autosaves.`, [
          { text: "Restore the autosave instead", testid: "notice-restore", run: restoreAutosave },
        ]);
      return;
    }
    if (!autosavedAt) return;
    await restoreAutosave();
    notice(`Restored your unsaved work from the autosave of ${when} (${describeWork(state)}).`, [
      {
        text: "Start fresh",
        testid: "notice-start-fresh",
        run: async () => {
          await autosaver.discard();
          state.replace([], null, [], NOTHING_CARRIED);
          state.addPage("Page 1");
          setStatus("Started fresh; the old autosave was set aside (Undo brings the work back here).", "ok");
        },
      },
    ]);
  }

  function notice(text: string, actions: { text: string; testid: string; run: () => Promise<void> }[]): void {
    const box = byId("notice");
    const close = el("button", { type: "button", textContent: "Dismiss" });
    close.addEventListener("click", () => (box.hidden = true));
    const buttons = actions.map((a) => {
      const b = el("button", { type: "button", textContent: a.text });
      b.dataset.testid = a.testid;
      b.addEventListener("click", guard(async () => {
        box.hidden = true;
        await a.run();
      }));
      return b;
    });
    box.replaceChildren(el("div", { textContent: text }), ...buttons, close);
    box.hidden = false;
  }
}

function describeWork(state: ViewerState): string {
  const groups = state.pages.reduce((n, p) => n + p.groups.length, 0);
  return `${state.pages.length} pages, ${groups} groups, ${state.fields.length} label fields`;
}

if (token === null) {
  setStatus("This page needs its access token: open the full URL that cellucid-session serve (or startViewer) printed, the one ending in ?token=…", "error");
} else {
  boot(token).catch((err: unknown) => {
    const message = `The viewer could not start: ${messageOf(err)}`;
    setStatus(message, "error");
    postEvent(token, { type: "error", message });
  });
}
