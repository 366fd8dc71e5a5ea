/** `cellucid-session recover FILE`: undo an apply that a crash or kill interrupted. */
import { stat } from "node:fs/promises";
import { AnnDataError } from "../../anndata/model.js";
import { detectAnnDataFormat } from "../../anndata/open.js";
import { recoverZarr } from "../../anndata/zarr/recovery.js";
import type { RecoveryReport } from "../../anndata/zarr/transaction.js";
import { UsageError, parse } from "../args.js";
import type { Io } from "../output.js";

export const recoverHelp = `Usage: cellucid-session recover FILE [--json]

Brings an AnnData store back to a consistent state after an apply was
interrupted (kill -9, a crash, power loss): an unfinished in-place apply to
a .zarr store is rolled back from its journal, so the store is exactly as
it was before; leftovers (staging folder, stale lock file) are removed.
Every command does this by itself when it opens a store; recover does only
this and says what it did ("nothing to recover" otherwise).

Options:
  --json        print {path, format, action, restored, removed, cleaned}
  -h, --help    this help

Exit status: 0 ok (including nothing to recover), 2 usage or I/O error
(LOCKED while another process is writing to the store).`;

export async function recoverCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {}, ["file"]);
  if (values["help"]) return io.out.write(recoverHelp + "\n"), 0;
  const path = positionals[0]!;
  const st = await stat(path).catch(() => {
    throw new AnnDataError("IO", `${path}: no such file or directory`);
  });
  if (!st.isDirectory()) {
    if ((await detectAnnDataFormat(path)) === "h5ad") throw new UsageError(`${path}: recover handles .zarr stores in this build; .h5ad files are not supported yet`);
  }
  const report = await recoverZarr(path);
  if (values["json"]) io.out.write(JSON.stringify({ path, format: "zarr", ...report }, null, 2) + "\n");
  else io.out.write(renderRecovery(path, report));
  return 0;
}

function renderRecovery(path: string, r: RecoveryReport): string {
  if (r.action === "nothing") return `${path}: nothing to recover\n`;
  const lines = [r.action === "rolled-back" ? `${path}: rolled back an interrupted apply; the store is as it was before it` : `${path}: removed leftovers of an interrupted apply; no data needed restoring`];
  if (r.restored.length) lines.push(`  restored: ${r.restored.join(", ")}`);
  if (r.removed.length) lines.push(`  removed:  ${r.removed.join(", ")}`);
  if (r.cleaned.length) lines.push(`  cleaned:  ${r.cleaned.join(", ")}`);
  return lines.join("\n") + "\n";
}
