/**
 * The core (everything reachable from src/index.ts) must run unchanged in
 * browsers: no node: imports, no bare package imports, anywhere in its graph.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { ROOT } from "./helpers.js";

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

async function graph(entry: string): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const src = await readFile(file, "utf8");
    const specs = [...src.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith(".")) queue.push(join(dirname(file), s));
  }
  return seen;
}

test("the browser-ready core imports nothing from Node or npm", async () => {
  const files = await graph(join(ROOT, "dist", "src", "index.js"));
  assert.ok(files.size > 15, `walked ${files.size} modules`);
  for (const [file, specs] of files) {
    const rel = relative(join(ROOT, "dist"), file);
    for (const s of specs) assert.ok(s.startsWith("."), `${rel} imports '${s}'`);
    assert.ok(!rel.startsWith("src/node/") && !rel.startsWith("src/cli/") && !rel.includes("/h5/") && !rel.endsWith("files.js"), `${rel} is Node-only but reachable from the core`);
  }
});
