/** `cellucid-session serve DATA`: shows an AnnData in the viewer page on a local server until interrupted. */
import { basename } from "node:path";
import { startViewer } from "../../server/viewer.js";
import { type Io, count } from "../output.js";
import { UsageError, parse } from "../args.js";

export const serveHelp = `Usage: cellucid-session serve DATA [--session FILE] [--host HOST] [--port N] [--json]

Serves the Cellucid viewer page for DATA (a .h5ad file or .zarr directory)
on a local HTTP server and prints its URL; open it in a browser. The URL
carries a secret access token (?token=...): without it the server gives out
nothing, so other users of this machine cannot see or drive your viewer.
Keep the URL to yourself. Runs until interrupted (Ctrl+C, SIGTERM), then
stops cleanly.

Programs capture sessions from the page with the library API instead
(startViewer(...).getSessionBundle()).

Options:
  --session FILE     a .cellucid-session bundle the page loads when it opens
                     (it wins over the autosave, which the page offers to restore)
  --autosave-dir DIR where the page's work is autosaved, per dataset (default
                     $XDG_STATE_HOME/cellucid-session, else
                     ~/.local/state/cellucid-session)
  --no-autosave      do not autosave (work lives only in the open page)
  --host HOST        interface to listen on (default 127.0.0.1: this machine only)
  --port N           port (default: any free port)
  --dataset-id ID    datasetId of the page's fingerprint (default: DATA's
                     uns["dataset_id"], else its name without .h5ad / .zarr)
  --json             print {"url", "token", "viewerId"} as JSON
  -h, --help         this help

Exit status: 0 after a clean stop, 1 invalid --session bundle or DATA,
2 usage or I/O error (missing file, port in use).`;

function parsePort(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !/^\d+$/.test(v) || n > 65535) throw new UsageError(`--port must be an integer 0..65535, got '${String(v)}'`);
  return n;
}

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { session: { type: "string" }, host: { type: "string" }, port: { type: "string" }, "dataset-id": { type: "string" }, "autosave-dir": { type: "string" }, "no-autosave": { type: "boolean" } },
    ["data"],
  );
  if (values["help"]) return io.out.write(serveHelp + "\n"), 0;
  const data = positionals[0]!;
  const port = parsePort(values["port"]);
  if (values["no-autosave"] && values["autosave-dir"] !== undefined) throw new UsageError("--autosave-dir and --no-autosave exclude each other");
  const viewer = await startViewer(data, {
    ...(values["host"] !== undefined && { host: values["host"] as string }),
    ...(port !== undefined && { port }),
    ...(values["session"] !== undefined && { session: values["session"] as string }),
    ...(values["dataset-id"] !== undefined && { datasetId: values["dataset-id"] as string }),
    ...(values["no-autosave"] ? { autosaveDir: false as const } : values["autosave-dir"] !== undefined && { autosaveDir: values["autosave-dir"] as string }),
  });
  const { nObs, nVars } = viewer.data;
  if (values["json"]) io.out.write(JSON.stringify({ url: viewer.url, token: viewer.token, viewerId: viewer.viewerId, autosave: viewer.autosavePath }) + "\n");
  else {
    io.out.write(`Serving ${basename(data.replace(/[\\/]+$/, ""))} (${count(nObs)} cells × ${count(nVars)} genes) at ${viewer.url}\n`);
    io.out.write(viewer.autosavePath ? `Autosaving the page's work to ${viewer.autosavePath}\n` : "Autosave is off: save your work with Save State.\n");
  }
  if (!values["quiet"] && !values["json"] && io.err.isTTY) io.err.write("Press Ctrl+C to stop.\n");

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await viewer.close();
  return 0;
}
