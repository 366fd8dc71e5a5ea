/**
 * Boot: config → state and panels → message channel → data → first frame →
 * optional initial session → `ready`. Every failure is shown in the status
 * line and reported to the program as an `error` event.
 */
import { type ServerMessage, ViewerApi, fetchConfig, postEvent, takeAccessToken } from "./api.js";
import { App } from "./app.js";
import { installDebugHook } from "./debug.js";
import { FingerprintMismatchError, buildBundle, restoreBundle } from "./session-io.js";
import { ViewerState } from "./state.js";
import { Controls } from "./ui/controls.js";
import { byId, formatCount, guard, messageOf, setStatus } from "./ui/dom.js";
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
  const bundle = async (): Promise<Blob> => {
    await app.settled();
    return buildBundle(state, config, app.snapshot(), load);
  };
  const hook = installDebugHook(app, bundle);
  app.controls = new Controls(app);
  new HighlightsPanel(state);
  new LabelsPanel(state);

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
      setStatus(`Loaded ${name}: ${r.pages} pages, ${r.groups} groups, ${r.fields} label fields${r.warnings.length ? `\n${r.warnings.join("\n")}` : ""}`, r.warnings.length ? "error" : "ok");
    } catch (err) {
      reportError(err instanceof FingerprintMismatchError ? `Cannot load ${name}: ${err.message}` : `Cannot load ${name}: ${messageOf(err)}`);
      throw err;
    }
  };

  byId("save-state").addEventListener("click", guard(async () => {
    const blob = await bundle();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${ds.fingerprint.datasetId ?? ds.name}.cellucid-session`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    setStatus(`Saved ${a.download} (${formatCount(blob.size)} bytes)`, "ok");
  }));
  const fileInput = byId<HTMLInputElement>("load-state");
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    fileInput.value = "";
    if (file) void restore(file, file.name).catch(() => undefined);
  });

  api.listen((msg: ServerMessage) => {
    const requestId = typeof msg.requestId === "string" ? msg.requestId : null;
    if (msg.type === "requestSessionBundle" && requestId) {
      bundle()
        .then((b) => api.uploadBundle(requestId, b))
        .catch((err: unknown) => reportError(`Could not send the session: ${messageOf(err)}`, { requestId }));
    } else if (msg.type === "loadSession" && requestId) {
      api.fetchSession(requestId)
        .then((bytes) => restore(bytes, "session from the program"))
        .catch(() => undefined);
    } else api.event("error", { message: `unknown message type '${String(msg.type)}'` });
  }, (why) => setStatus(why, "error"));

  // The usual 2D views first: a UMAP or t-SNE says more at a glance than PCA's first two components.
  const drawable = ds.embeddings.filter((e) => e.dims >= 2);
  const first = ["umap", "tsne", "draw_graph"].map((k) => drawable.find((e) => e.key.toLowerCase().includes(k))).find(Boolean) ?? drawable[0];
  if (!first) throw new Error("the dataset has no embedding with 2 or more dimensions to draw");
  await app.setEmbedding(first.key);
  const firstColor = ds.obsCategoricals[0];
  await app.setColorBy(firstColor ? `obs:${firstColor.key}` : "");
  if (ds.hasSession) await restore(await api.fetchSession("initial"), "initial session").catch(() => undefined);

  app.drawNow();
  hook.ready = true;
  document.body.dataset.ready = "true";
  api.event("ready", { nObs: ds.nObs, embedding: app.embeddingKey, firstDrawMs: app.firstDrawAt });
  sendHighlights();
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
