/**
 * The layer rule of README "Layout", checked on the import graph of the .ts
 * sources (src/ and web/src/): the table's rows are read from the README, so
 * the rule the README states is the rule enforced.
 *  - a file imports only from its own row or rows above it;
 *  - no import cycle between files (type-only imports count: they are coupling too);
 *  - the core (rows marked core) imports only the core, never node: or npm;
 *  - the browser entry point's whole graph has no node: or npm import;
 *  - web/src imports only the core (and itself), never node: or npm.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ROOT } from "./helpers.js";

interface Row {
  rank: number;
  /** A folder ("src/apply") or a file ("src/index.ts"), relative to the root. */
  path: string;
  /** "core" for the whole row, or the files of the row that are core. */
  core: "all" | string[];
}

/** Rows of the README's Layout table: `| rank | \`path\` | core | what |`. */
function layoutRows(readme: string): Row[] {
  const section = readme.split(/^## Layout$/m)[1]?.split(/^## /m)[0] ?? "";
  const rows: Row[] = [];
  for (const m of section.matchAll(/^\| (\d+|web) \| `([^`]+)` \|([^|]*)\|/gm)) {
    const coreCol = m[3]!.trim();
    const files = [...coreCol.matchAll(/`([^`]+)`/g)].map((f) => f[1]!);
    rows.push({ rank: m[1] === "web" ? -1 : Number(m[1]), path: m[2]!.replace(/\/$/, ""), core: coreCol === "core" ? "all" : files });
  }
  return rows;
}

/** Import specifiers of a .ts source: import/export … from, side-effect imports, dynamic import(). */
function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\n}])\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']|(?:^|[;\n])\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g))
    specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

interface Graph {
  /** file → relative imports resolved to files (relative to the root). */
  local: Map<string, string[]>;
  /** file → node: and package imports. */
  external: Map<string, string[]>;
}

function importGraph(files: string[]): Graph {
  const local = new Map<string, string[]>();
  const external = new Map<string, string[]>();
  for (const file of files) {
    const specs = importsOf(readFileSync(join(ROOT, file), "utf8"));
    const resolved: string[] = [];
    for (const s of specs.filter((s) => s.startsWith("."))) {
      const target = join(dirname(file), s).replace(/\.js$/, ".ts");
      assert.ok(existsSync(join(ROOT, target)), `${file} imports '${s}', which is not a .ts source`);
      resolved.push(target);
    }
    local.set(file, resolved);
    external.set(file, specs.filter((s) => !s.startsWith(".")));
  }
  return { local, external };
}

function rowOf(rows: Row[], file: string): Row | undefined {
  return rows.find((r) => file === r.path || file.startsWith(r.path + "/"));
}

function isCore(rows: Row[], file: string): boolean {
  const row = rowOf(rows, file);
  if (!row) return false;
  return row.core === "all" || row.core.some((f) => file === join(row.path, f));
}

const rows = layoutRows(readFileSync(join(ROOT, "README.md"), "utf8"));
const files = [...tsFiles("src"), ...tsFiles("web/src")];
const graph = importGraph(files);

/** Where each rule is broken; an empty list passes. */
function layerViolations(rows: Row[], graph: Graph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph.local) {
    const from = rowOf(rows, file);
    if (!from) {
      out.push(`${file} is in no row of the README's Layout table`);
      continue;
    }
    for (const t of targets) {
      const to = rowOf(rows, t);
      if (!to) out.push(`${file} imports ${t}, which is in no row of the Layout table`);
      else if (from.rank === -1 ? !isCore(rows, t) && to !== from : to.rank > from.rank)
        out.push(`${file} (${from.path}) imports ${t} (${to.path}), a later layer`);
    }
    const ext = graph.external.get(file)!;
    if ((isCore(rows, file) || from.rank === -1) && ext.length) out.push(`${file} is browser code but imports ${ext.join(", ")}`);
    if (isCore(rows, file)) for (const t of targets) if (!isCore(rows, t)) out.push(`${file} is core but imports ${t}, which is not`);
  }
  return out;
}

/** Import cycles between files, each as a path a → b → … → a. */
function cycles(local: Map<string, string[]>): string[] {
  const out: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const t of local.get(f) ?? []) {
      if (state.get(t) === "open") out.push([...stack.slice(stack.indexOf(t)), t].join(" → "));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of local.keys()) if (!state.has(f)) visit(f);
  return out;
}

test("the README's Layout table lists the layers in order, with the core marked", () => {
  assert.deepEqual(
    rows.map((r) => r.path),
    ["src/format", "src/codecs", "src/chunks", "src/bundle", "src/platform/node", "src/anndata", "src/apply", "src/export", "src/server", "src/cli", "src/index.ts", "src/node", "web/src"],
  );
  assert.deepEqual(rows.filter((r) => r.core !== "all" && r.core.length).map((r) => [r.path, r.core]), [["src/apply", ["naming.ts"]]]);
  assert.ok(files.length > 90, `read ${files.length} sources`);
  // The parser sees every form of import the sources use.
  assert.deepEqual(importsOf('import a from "./a.js";\nexport { b } from "./b.js";\nimport type {\n  C,\n} from "./c.js";\nimport "./d.js";\nconst e = await import("./e.js");\n// import x from "./comment.js"\n'), ["./a.js", "./b.js", "./c.js", "./d.js", "./e.js"]);
});

test("every file imports only from its own layer or earlier ones; the core and the page only from the core, never node: or npm", () => {
  assert.deepEqual(layerViolations(rows, graph), []);
});

test("no import cycles between files", () => {
  assert.deepEqual(cycles(graph.local), []);
});

test("the browser entry point's whole graph imports nothing from Node or npm", () => {
  const seen = new Set<string>();
  const queue = ["src/index.ts"];
  while (queue.length) {
    const f = queue.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    assert.deepEqual(graph.external.get(f), [], `${f}, reachable from src/index.ts, imports Node or npm modules`);
    queue.push(...graph.local.get(f)!);
  }
  assert.ok(seen.size > 20, `walked ${seen.size} modules`);
});

test("a violation is caught: a core file importing a Node adapter, and a cycle", () => {
  const local = new Map(graph.local);
  local.set("src/codecs/gzip.ts", [...local.get("src/codecs/gzip.ts")!, "src/platform/node/zlib-gzip.ts"]);
  const broken = layerViolations(rows, { local, external: graph.external });
  assert.ok(broken.some((v) => v.startsWith("src/codecs/gzip.ts (src/codecs) imports src/platform/node/zlib-gzip.ts")), broken.join("\n"));
  assert.ok(cycles(local).some((c) => c.includes("src/codecs/gzip.ts → src/platform/node/zlib-gzip.ts")));
});
