/** `cellucid-session recover FILE`: undo an apply that a crash or kill interrupted. */
import { stat } from "node:fs/promises";
import { AnnDataError } from "../../anndata/model.js";
import { recoverH5ad } from "../../anndata/h5/store.js";
import { detectAnnDataFormat } from "../../anndata/open.js";
import { recoverZarr } from "../../anndata/zarr/recovery.js";
import type { RecoveryReport } from "../../anndata/zarr/transaction.js";
import { recoverReplacedOutput } from "../../apply/files.js";
import { removeStaleTemps } from "../../platform/node/atomic.js";
import { parse } from "../args.js";
import type { Io } from "../output.js";

export const recoverHelp = `Usage: cellucid-session recover FILE [--json]

Brings an AnnData store back to a consistent state after an apply was
interrupted (kill -9, a crash, power loss): an unfinished in-place apply is
rolled back from its journal, so the data is exactly as it was before. For
a .h5ad file that journal is FILE-cellucid-journal beside it (the original
bytes of every overwritten range and the original length); for a .zarr store
it is inside the store, and leftovers (staging folder, stale lock file) are
removed too. An \`apply -o FILE --force\` interrupted while it swapped the old
FILE for the new one is finished: the old FILE goes back if the new one is
not in place. Temp copies that a killed \`apply -o FILE\` left beside FILE
(.FILE.PID.XXXXXXXX.tmp, whose process is gone) are removed.
Every command does this by itself when it opens a store; recover does only
this and says what it did ("nothing to recover" otherwise).

Options:
  --json        .zarr: {path, format, action, restored, removed, cleaned}
                .h5ad: {path, format, action, restoredBytes, records, originalLength, truncatedBytes}
  -h, --help    this help

Exit status: 0 ok (including nothing to recover), 2 usage or I/O error
(LOCKED while another process is writing to the store).`;

export async function recoverCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {}, ["file"]);
  if (values["help"]) return io.out.write(recoverHelp + "\n"), 0;
  const path = positionals[0]!;
  // An `apply -o PATH --force` that a crash cut between its two renames: the old output goes back first.
  const replaced = await recoverReplacedOutput(path);
  if (replaced === "restored") io.err.write(`${path}: put back the previous output that an interrupted apply -o --force had set aside\n`);
  const temps = await removeStaleTemps(path);
  for (const t of temps) io.err.write(`${path}: removed ${t}, left by an apply -o that was killed\n`);
  const st = await stat(path).catch(() => null);
  if (!st) {
    // An apply -o killed before its output appeared leaves only its temp copy.
    if (temps.length) return io.out.write(values["json"] ? JSON.stringify({ path, format: null, action: "removed-temps", removed: temps }, null, 2) + "\n" : `${path}: no output was made; removed what the interrupted apply left\n`), 0;
    throw new AnnDataError("IO", `${path}: no such file or directory`);
  }
  if (!st.isDirectory() && (await detectAnnDataFormat(path)) === "h5ad") {
    const r = recoverH5ad(path);
    if (values["json"]) io.out.write(JSON.stringify({ path, format: "h5ad", action: r ? "rolled-back" : "nothing", ...r }, null, 2) + "\n");
    else if (!r) io.out.write(`${path}: nothing to recover\n`);
    else io.out.write(`${path}: rolled back an interrupted apply; the file is as it was before it\n  restored: ${r.restoredBytes} bytes in ${r.records} ranges; truncated ${r.truncatedBytes} bytes to the original length ${r.originalLength}\n`);
    return 0;
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
