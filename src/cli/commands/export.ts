/** `cellucid-session export BUNDLE`: highlights and labels as a per-cell (or per-gene) table. */
import { open } from "node:fs/promises";
import { extname } from "node:path";
import { once } from "node:events";
import { type ExportFormat, type RowNames, buildExportTable, exportPieces } from "../../export/table.js";
import { CellucidSessionBundle } from "../../apply/session-bundle.js";
import { openAnnData } from "../../anndata/open.js";
import type { AnnDataStore } from "../../anndata/model.js";
import { mismatchReasons } from "../../bundle/mismatch.js";
import { CellucidSessionError } from "../../format/errors.js";
import { writeAtomically } from "../../platform/node/atomic.js";
import { type Io, Progress, count } from "../output.js";
import { UsageError, choice, parse } from "../args.js";

export const exportHelp = `Usage: cellucid-session export BUNDLE [-o FILE] [--format tsv|csv|json] [--var]

Writes one row per cell (first column "index", 0..cellCount-1), then one
column per highlight group (true/false) and one per obs user-defined field
(category text, empty when missing). Columns are named exactly as applying
the bundle to AnnData names them. With --var: one row per gene and the var
fields.

Labels come from bundles anyone can write, so CSV and TSV cells that a
spreadsheet would run as a formula (starting with = + - @, tab or CR) get a
leading ' (OWASP's advice; --no-formula-escape keeps them verbatim for
pipelines). CSV quotes cells as RFC 4180 says. TSV writes tab, CR, LF and
backslash inside a cell as \\t \\r \\n \\\\ (undo with unescapeTsvCell). JSON is exact.

Options:
  -o, --output FILE           write here (atomically) instead of stdout
  --format tsv|csv|json       default: from the output's extension, else tsv
  --var                       genes and var fields instead of cells
  --obs-names DATA            key rows by the obs (or, with --var, var) names of
                              this .h5ad/.zarr instead of positions; columns are
                              named as applying to DATA would name them
  --include-deleted           also export fields deleted in the viewer
  --highlights-prefix P       default "cellucid_highlight__"
  --user-defined-prefix P     default ""
  --no-formula-escape         CSV/TSV: write cells starting with = + - @ tab CR
                              as they are (for programs, not spreadsheets)
  -q, --quiet                 no progress or warnings on stderr
  -h, --help                  this help`;

const FORMATS = ["tsv", "csv", "json"] as const;

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      output: { type: "string", short: "o" },
      format: { type: "string" },
      var: { type: "boolean" },
      "obs-names": { type: "string" },
      "include-deleted": { type: "boolean" },
      "highlights-prefix": { type: "string" },
      "user-defined-prefix": { type: "string" },
      "no-formula-escape": { type: "boolean" },
    },
    ["bundle"],
  );
  if (values["help"]) return io.out.write(exportHelp + "\n"), 0;
  if (values["json"]) throw new UsageError("export takes --format json, not --json");
  const output = values["output"] as string | undefined;
  const fromExt = output ? extname(output).slice(1).toLowerCase() : "";
  const format = choice<ExportFormat>(values["format"], "format", FORMATS, (FORMATS as readonly string[]).includes(fromExt) ? (fromExt as ExportFormat) : "tsv");
  const quiet = values["quiet"] === true;

  const bundle = await CellucidSessionBundle.open(positionals[0]!);
  let dataset: AnnDataStore | null = null;
  try {
    const axis = values["var"] ? "var" : "obs";
    dataset = values["obs-names"] ? await openDataset(bundle, values["obs-names"] as string) : null;
    const t = await buildExportTable(bundle, {
      axis,
      rowNames: dataset ? rowNamesOf(dataset, axis) : null,
      existingObsColumns: dataset?.columnNames("obs"),
      existingVarColumns: dataset?.columnNames("var"),
      includeDeletedUserDefinedFields: values["include-deleted"] === true,
      highlightsPrefix: values["highlights-prefix"] as string | undefined,
      userDefinedPrefix: values["user-defined-prefix"] as string | undefined,
    });
    if (!quiet) for (const w of t.warnings) io.err.write(`warning: ${w}\n`);
    const progress = Progress.for(io, "exporting", quiet);
    const batchRows = 65536;
    const batches = exportPieces(t, format, { batchRows, formulaEscape: values["no-formula-escape"] !== true });
    let rowsDone = 0;
    const tick = () => progress.update((rowsDone = Math.min(t.rows, rowsDone + batchRows)), t.rows);
    if (output) {
      await writeAtomically(output, async (tmp) => {
        const fh = await open(tmp, "w");
        // One batch is written (in libuv's pool) while the next is read and formatted.
        let writing: Promise<unknown> = Promise.resolve();
        try {
          let first = true;
          for await (const text of batches) {
            await writing;
            writing = typeof text === "string" ? fh.write(text) : fh.write(text);
            if (!first) tick();
            first = false;
          }
          await writing;
        } finally {
          await writing.catch(() => undefined);
          await fh.close();
        }
      });
      progress.finish();
      if (!quiet) io.err.write(`wrote ${output}: ${count(t.rows)} rows × ${t.columns.length + 1} columns (${format})\n`);
    } else {
      for await (const text of batches) {
        if (!io.out.write(text)) await once(io.out, "drain");
        tick();
      }
      progress.finish();
    }
    return 0;
  } finally {
    await dataset?.close();
    await bundle.close();
  }
}

/** The dataset whose names key the rows; refuses one the bundle was not made from. */
async function openDataset(bundle: CellucidSessionBundle, path: string): Promise<AnnDataStore> {
  const store = await openAnnData(path, { mode: "r" });
  const reasons = mismatchReasons(bundle, store, null);
  if (!reasons.length) return store;
  await store.close();
  throw new CellucidSessionError("DATASET_MISMATCH", `Dataset fingerprint mismatch: ${reasons.join("; ")}`, { source: bundle.sourceName });
}

/** The names read a batch at a time (as bytes where the store reads them so), so millions of them are never all in memory as strings. */
function rowNamesOf(store: AnnDataStore, axis: "obs" | "var"): RowNames {
  return {
    length: axis === "obs" ? store.nObs : store.nVars,
    read: (start, end) => store.readIndexRange(axis, start, end),
    ...(store.readIndexUtf8 && { readUtf8: (start: number, end: number) => store.readIndexUtf8!(axis, start, end) }),
  };
}
