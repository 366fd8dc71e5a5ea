/** `cellucid-session inspect FILE`: what a bundle holds, reading only its two small JSON chunks. */
import { CellucidSessionBundle } from "../../apply/session-bundle.js";
import type { HighlightGroupMeta } from "../../chunks/highlights.js";
import { chunkRole, highlightCellsId, userDefinedCodesId } from "../../chunks/ids.js";
import { type Io, LazyRows, bytes, count, tableLines, writeBatches, writeJson } from "../output.js";
import { parse } from "../args.js";

export const inspectHelp = `Usage: cellucid-session inspect FILE [--json]

Shows when and from what a bundle was made, its chunk table, its highlight
pages and groups, its user-defined fields and any chunks this tool does not
know. Reads only highlights/meta and core/field-overlays, so it is fast on
bundles of any size.

Options:
  --json       machine-readable output
  -q, --quiet  no progress output
  -h, --help   this help`;

export async function inspectSummary(b: CellucidSessionBundle, displayName?: string) {
  const meta = await b.highlightsMeta();
  const overlays = await b.fieldOverlays();
  const m = b.manifest;
  // Rows are made as they are written (LazyRows): a bundle of 60,000 chunks is never 60,000 more objects.
  const chunkRow = (i: number) => {
    const c = m.chunks[i]!;
    return {
      id: c.id,
      contributorId: c.contributorId ?? null,
      kind: c.kind ?? null,
      codec: c.codec ?? null,
      priority: c.priority ?? null,
      storedBytes: b.index.lengths[i]!,
      uncompressedBytes: typeof c.uncompressedBytes === "number" ? c.uncompressedBytes : null,
      datasetDependent: c.datasetDependent === true,
      role: chunkRole(c.id),
    };
  };
  const groupRow = (g: HighlightGroupMeta) => ({
    id: g.id,
    label: typeof g.label === "string" ? g.label : g.id,
    type: g.type ?? null,
    cellCount: typeof g.cellCount === "number" ? g.cellCount : null,
    enabled: g.enabled !== false,
    hasCells: b.hasChunk(highlightCellsId(g.id)),
  });
  return {
    file: displayName ?? b.path ?? b.sourceName,
    fileBytes: b.byteLength,
    createdAt: m.createdAt ?? null,
    dataSource: m.dataSource ?? null,
    datasetFingerprint: m.datasetFingerprint ?? null,
    cellOrder: b.cellOrder,
    trailingBytes: b.trailingBytes,
    chunks: new LazyRows(m.chunks.length, chunkRow),
    highlights: meta
      ? {
          activePageId: meta.activePageId ?? null,
          activePageName: meta.activePageName ?? meta.pages.find((p) => p.id === meta.activePageId)?.name ?? null,
          pages: meta.pages.map((p) => ({
            id: p.id,
            name: p.name ?? null,
            groups: new LazyRows(p.highlightedGroups.length, (j) => groupRow(p.highlightedGroups[j]!)),
          })),
        }
      : null,
    userDefinedFields: (overlays?.userDefinedFields ?? []).map((f) => ({
      id: f.id,
      source: f.source ?? null,
      key: f.key ?? null,
      kind: f.kind ?? null,
      categoryCount: f.categories?.length ?? 0,
      codesLength: typeof f.codesLength === "number" ? f.codesLength : null,
      deleted: f.isDeleted === true,
      purged: f.isPurged === true,
      hasCodes: b.hasChunk(userDefinedCodesId(f.id)),
    })),
    unknownChunks: b.listChunkIds().filter((id) => chunkRole(id) === "unknown"),
  };
}

export type InspectSummary = Awaited<ReturnType<typeof inspectSummary>>;

export async function inspectCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {}, ["file"]);
  if (values["help"]) return io.out.write(inspectHelp + "\n"), 0;
  const b = await CellucidSessionBundle.open(positionals[0]!);
  try {
    const s = await inspectSummary(b, positionals[0]);
    if (values["json"]) await writeJson(io.out, s);
    else await writeBatches(io.out, inspectText(s));
    return 0;
  } finally {
    await b.close();
  }
}

function describeSource(o: Record<string, unknown> | null): string {
  if (!o) return "(none)";
  return [o["sourceType"], o["datasetId"], o["userPath"]].filter((v) => v !== null && v !== undefined && v !== "").join(" · ") || "(empty)";
}

/** inspect's text report, a line at a time (each with its newline). */
export function* inspectText(s: InspectSummary): Generator<string> {
  const fp = s.datasetFingerprint;
  const dims = fp && (typeof fp.cellCount === "number" || typeof fp.varCount === "number")
    ? ` · ${typeof fp.cellCount === "number" ? count(fp.cellCount) : "?"} cells × ${typeof fp.varCount === "number" ? count(fp.varCount) : "?"} genes`
    : "";
  const lines = function* (...texts: string[]) {
    for (const text of texts) yield text + "\n";
  };
  yield* lines(
    `File         ${s.file} (${bytes(s.fileBytes)})`,
    `Created      ${s.createdAt ?? "(unknown)"}`,
    `Data source  ${describeSource(s.dataSource)}`,
    `Fingerprint  ${fp ? describeSource(fp) + dims : "(none)"}`,
    `Cell order   ${s.cellOrder ? `${s.cellOrder.dimension}D embedding, digest ${s.cellOrder.digest}` : fp && fp.cellOrder !== undefined ? "(malformed)" : "(not recorded: made before the web app recorded it)"}`,
  );
  if (s.trailingBytes) yield* lines(`Trailing     ${count(s.trailingBytes)} bytes after the last chunk (ignored)`);
  yield* lines("", `Chunks (${s.chunks.length})`);
  yield* tableLines(
    ["ID", "ROLE", "CONTRIBUTOR", "KIND", "CODEC", "PRIORITY", "STORED", "UNCOMPRESSED", "DATASET-DEP"],
    new LazyRows(s.chunks.length, (i) => {
      const c = s.chunks.at(i)!;
      return [c.id, c.role, c.contributorId ?? "", c.kind ?? "", c.codec ?? "", c.priority ?? "", bytes(c.storedBytes), c.uncompressedBytes === null ? "" : bytes(c.uncompressedBytes), c.datasetDependent ? "yes" : "no"];
    }),
    [6, 7],
  );
  const h = s.highlights;
  if (h) {
    const nGroups = h.pages.reduce((n, p) => n + p.groups.length, 0);
    yield* lines("", `Highlights (${h.pages.length} page${h.pages.length === 1 ? "" : "s"}, ${nGroups} group${nGroups === 1 ? "" : "s"}; active page: ${h.activePageName ?? h.activePageId ?? "none"})`);
    // Group k of all pages: its page, then its position there.
    const pageOf = new Uint32Array(nGroups);
    const firstOf: number[] = [];
    let k = 0;
    h.pages.forEach((p, i) => {
      firstOf.push(k);
      for (let j = 0; j < p.groups.length; j++) pageOf[k++] = i;
    });
    if (nGroups) {
      yield* tableLines(
        ["PAGE", "GROUP", "LABEL", "TYPE", "CELLS", "ENABLED"],
        new LazyRows(nGroups, (k) => {
          const p = h.pages[pageOf[k]!]!;
          const g = p.groups.at(k - firstOf[pageOf[k]!]!)!;
          return [p.name ?? p.id, g.id, g.label, g.type ?? "", g.cellCount === null ? "?" : count(g.cellCount), g.enabled ? "yes" : "no"];
        }),
        [4],
      );
    }
  } else yield* lines("", "Highlights: none (no highlights/meta chunk)");
  if (s.userDefinedFields.length) {
    yield* lines("", `User-defined fields (${s.userDefinedFields.length})`);
    yield* tableLines(
      ["SOURCE", "KEY", "KIND", "CATEGORIES", "DELETED", "CODES"],
      s.userDefinedFields.map((f) => [f.source ?? "", f.key ?? f.id, f.kind ?? "", count(f.categoryCount), f.deleted ? (f.purged ? "purged" : "yes") : "no", f.hasCodes ? "yes" : "missing"]),
      [3],
    );
  } else yield* lines("", "User-defined fields: none");
  yield* lines("", s.unknownChunks.length ? `Unknown chunks (kept, not applied): ${s.unknownChunks.join(", ")}` : "Unknown chunks: none");
}
