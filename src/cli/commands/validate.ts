/** `cellucid-session validate FILE`: decode every chunk under every guard. */
import { CellucidSessionError } from "../../format/errors.js";
import { type ValidationReport, validateBundle } from "../../bundle/validate.js";
import { CellucidSessionBundle } from "../../apply/session-bundle.js";
import { type Io, Progress, bytes, count } from "../output.js";
import { choice, parse } from "../args.js";
import { basename } from "node:path";

export const validateHelp = `Usage: cellucid-session validate FILE [--target webapp] [--json]

Decodes every chunk under every guard of the format: framing, manifest,
storedBytes, codecs, decompression limits, highlight indices (bounded by the
fingerprint's cellCount), codes (length = cellCount / varCount, RLE rules).
Reports trailing bytes and other tolerated oddities as warnings.

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.

With --target webapp, also checks every rule of the current Cellucid web
app's Load State (exact manifest and chunk keys, cellOrder, chunk order and
profiles, ids, group types, no empty groups, strict payloads) and names each
one that fails: exit 1 means the app would refuse the bundle.

Options:
  --target webapp  also check the web app's Load State rules
  --json       machine-readable report
  -q, --quiet  no progress, print only problems
  -h, --help   this help`;

export async function validateFile(path: string, progress?: Progress, target?: "webapp"): Promise<ValidationReport> {
  let bundle: CellucidSessionBundle;
  try {
    bundle = await CellucidSessionBundle.open(path);
  } catch (err) {
    if (!(err instanceof CellucidSessionError)) throw err;
    // The file could not even be indexed: one error, nothing else can be checked.
    return { source: basename(path), valid: false, fileBytes: 0, chunkCount: 0, trailingBytes: 0, errors: [{ code: err.code, chunkId: err.chunkId ?? null, message: err.message }], warnings: [], chunks: [] };
  }
  try {
    return await validateBundle(bundle, { onProgress: (d, t) => progress?.update(d, t), ...(target ? { target } : {}) });
  } finally {
    progress?.finish();
    await bundle.close();
  }
}

export async function validateCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { target: { type: "string" } }, ["file"]);
  if (values["help"]) return io.out.write(validateHelp + "\n"), 0;
  const target = values["target"] === undefined ? undefined : choice<"webapp">(values["target"], "target", ["webapp"], "webapp");
  const report = await validateFile(positionals[0]!, Progress.for(io, "validating", values["quiet"] === true), target);
  if (values["json"]) io.out.write(JSON.stringify(report, null, 2) + "\n");
  else {
    const lines: string[] = [];
    for (const e of report.errors) lines.push(`error   [${e.code}] ${e.message}`);
    for (const w of report.warnings) lines.push(`warning [${w.code}] ${w.message}`);
    if (report.valid) lines.push(`valid${target ? ` for the ${target}` : ""}: ${report.source} (${bytes(report.fileBytes)}, ${count(report.chunkCount)} chunks${report.warnings.length ? `, ${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"}` : ""})`);
    else lines.push(`${target ? `the ${target} would refuse it` : "invalid"}: ${report.source} (${report.errors.length} error${report.errors.length === 1 ? "" : "s"})`);
    if (values["quiet"] && report.valid) lines.splice(0, lines.length);
    if (lines.length) io.out.write(lines.join("\n") + "\n");
  }
  return report.valid ? 0 : 1;
}
