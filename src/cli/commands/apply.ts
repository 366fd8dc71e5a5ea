/** `cellucid-session apply BUNDLE DATA`: highlights → bool obs columns, labels → categorical obs/var columns. */
import { type ApplySummary, type DatasetMismatchPolicy } from "../../apply/apply.js";
import { applySessionToFile } from "../../apply/files.js";
import type { ColumnConflictPolicy, HighlightNames } from "../../apply/naming.js";
import { CellucidSessionBundle } from "../../apply/session-bundle.js";
import { type Io, count, table } from "../output.js";
import { UsageError, choice, parse } from "../args.js";

export const applyHelp = `Usage: cellucid-session apply BUNDLE DATA (-o OUT | --inplace) [options]

Applies a session bundle to an AnnData file (.h5ad or .zarr directory):
every highlight group becomes a boolean obs column, every categorical
user-defined field a categorical obs or var column, and the session is
recorded in uns["cellucid"]["session"]. Without --inplace the result is
written to OUT (a copy; DATA is never modified); with --inplace the columns
are appended to DATA without rewriting it.

Options:
  -o, --output OUT                  write the result here
  --inplace                         append to DATA itself
  --force                           replace OUT if it is a regular file or an
                                    AnnData store of the same kind (never
                                    any other folder)
  --wait SECONDS                    wait this long for another process's lock
                                    on the store (default 0: fail at once)
  --dataset-mismatch POLICY         error | warn_skip (default) | skip
  --expected-dataset-id ID          also require this datasetId
  --no-highlights                   do not add highlight columns
  --highlights-prefix P             default "cellucid_highlight__"
  --highlight-names id|label        name highlight columns by group id (default,
                                    as the reference does) or by the group's label
  --no-user-defined-fields          do not add user-defined fields
  --user-defined-prefix P           default ""
  --include-deleted                 also add fields deleted in the viewer
  --no-uns                          do not record the session in uns
  --column-conflict POLICY          error | overwrite | suffix (default)
  --reference ORIGINAL              the .h5ad/.zarr the session was made on, when
                                    DATA is a subset, superset or reordering of it:
                                    cells are matched by obs_names, genes by var_names
  --dry-run                         show what would be added, write nothing
  --json                            print the summary as JSON
  -q, --quiet                       no warnings on stderr
  -h, --help                        this help

In place, the apply is all or nothing: killed or failing at any point, the
store ends up exactly as it was or with the complete result (a .zarr is
rolled back when next opened, or by "cellucid-session recover"). Ctrl+C
during the final commit waits for it to finish.

Exit status: 0 ok, 1 invalid input (including a mismatch under
--dataset-mismatch error, or a column conflict under error), 2 usage or I/O
(LOCKED, NO_SPACE, PERMISSION_DENIED), 130/143 interrupted by SIGINT/SIGTERM.`;

export async function applyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      output: { type: "string", short: "o" },
      inplace: { type: "boolean" },
      force: { type: "boolean" },
      wait: { type: "string" },
      "dataset-mismatch": { type: "string" },
      "expected-dataset-id": { type: "string" },
      "no-highlights": { type: "boolean" },
      "highlights-prefix": { type: "string" },
      "highlight-names": { type: "string" },
      "no-user-defined-fields": { type: "boolean" },
      "user-defined-prefix": { type: "string" },
      "include-deleted": { type: "boolean" },
      "no-uns": { type: "boolean" },
      "column-conflict": { type: "string" },
      "dry-run": { type: "boolean" },
      reference: { type: "string" },
    },
    ["bundle", "data"],
  );
  if (values["help"]) return io.out.write(applyHelp + "\n"), 0;
  const output = values["output"] as string | undefined;
  const inplace = values["inplace"] === true;
  const dryRun = values["dry-run"] === true;
  if (!dryRun && !output && !inplace) throw new UsageError("give -o OUT or --inplace (or --dry-run)");
  if (output && inplace) throw new UsageError("-o and --inplace exclude each other");
  const waitSeconds = seconds(values["wait"], "wait");
  const quiet = values["quiet"] === true;
  const json = values["json"] === true;

  const bundle = await CellucidSessionBundle.open(positionals[0]!);
  try {
    const summary = await applySessionToFile(bundle, positionals[1]!, {
      output,
      inplace,
      force: values["force"] === true,
      waitSeconds,
      dryRun,
      reference: values["reference"] as string | undefined,
      datasetMismatch: choice<DatasetMismatchPolicy>(values["dataset-mismatch"], "dataset-mismatch", ["error", "warn_skip", "skip"], "warn_skip"),
      expectedDatasetId: (values["expected-dataset-id"] as string | undefined) ?? null,
      addHighlights: values["no-highlights"] !== true,
      highlightsPrefix: values["highlights-prefix"] as string | undefined,
      highlightNames: choice<HighlightNames>(values["highlight-names"], "highlight-names", ["id", "label"], "id"),
      addUserDefinedFields: values["no-user-defined-fields"] !== true,
      userDefinedPrefix: values["user-defined-prefix"] as string | undefined,
      includeDeletedUserDefinedFields: values["include-deleted"] === true,
      storeUns: values["no-uns"] !== true,
      columnConflict: choice<ColumnConflictPolicy>(values["column-conflict"], "column-conflict", ["error", "overwrite", "suffix"], "suffix"),
      onWarning: quiet || json ? undefined : (m) => io.err.write(`warning: ${m}\n`),
    });
    if (json) io.out.write(JSON.stringify(summary, null, 2) + "\n");
    else io.out.write(renderApply(summary, { dryRun, target: inplace ? positionals[1]! : (output ?? positionals[1]!) }));
    return 0;
  } finally {
    await bundle.close();
  }
}

function describeCellOrder(c: ApplySummary["cellOrder"]): string {
  const e = c.expected;
  switch (c.status) {
    case "verified":
      return `Cell order verified: obsm '${c.obsmKey}' (${e!.dimension}D) gives digest ${e!.digest} (${c.path === "python" ? "as the web app computes it for a dataset served from Python" : "as the web app computes it for an .h5ad opened in the browser"})`;
    case "mismatch":
      return `Cell order NOT verified: ${c.reason}`;
    case "unverified":
      return `Cell order could not be verified: ${c.reason}`;
    default:
      return `Cell order not checked: ${c.reason}`;
  }
}

function seconds(value: string | boolean | undefined, name: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of seconds >= 0, got '${String(value)}'`);
  return n;
}

export function renderApply(s: ApplySummary, ctx: { dryRun: boolean; target: string }): string {
  const rows: string[][] = [];
  const outside = (n: number | undefined, what: string) => (n ? ` (${count(n)} ${what} not in the data)` : "");
  for (const h of s.highlights) rows.push(["obs", h.column, "bool", `highlight '${h.label}' (${h.pageName ?? h.pageId})`, `${count(h.cells)} cells${outside(h.notInData, "selected")}`]);
  for (const f of s.fields) {
    if (f.status !== "added") continue;
    const detail = (f.categories ? `${count(f.categories)} categories${f.missing ? `, ${count(f.missing)} missing` : ""}` : "integer codes") + outside(f.notInData, "labelled");
    rows.push([f.axis, f.column!, f.categories ? "category" : "int", `field '${f.key}'`, detail]);
  }
  const verb = ctx.dryRun ? "Would add" : "Added";
  const lines = [`${verb} ${s.addedObsColumns.length} obs and ${s.addedVarColumns.length} var column${s.addedObsColumns.length + s.addedVarColumns.length === 1 ? "" : "s"}${ctx.dryRun ? "" : ` to ${ctx.target}`}`];
  if (s.reference) {
    const r = s.reference;
    lines.push(`Matched to the reference ${r.source} by name: ${count(r.obs.matched)} cells (${count(r.obs.onlyInReference)} only in the reference, ${count(r.obs.onlyInData)} only in the data), ${count(r.var.matched)} genes (${count(r.var.onlyInReference)} only in the reference, ${count(r.var.onlyInData)} only in the data)`);
  }
  lines.push(describeCellOrder(s.cellOrder));
  if (rows.length) lines.push(table(["AXIS", "COLUMN", "TYPE", "FROM", "DETAIL"], rows));
  const skipped = s.fields.filter((f) => f.status === "skipped");
  for (const f of skipped) lines.push(`skipped field '${f.key}': ${f.reason}`);
  if (s.skippedDueToMismatch) lines.push(`skipped dataset-dependent chunks: Dataset fingerprint mismatch: ${s.mismatchReasons.join("; ")}`);
  if (!rows.length && !s.skippedDueToMismatch) lines.push("No columns were added: the session has no highlights or user-defined fields (or they were disabled).");
  return lines.join("\n") + "\n";
}
