#!/usr/bin/env node
/**
 * Builds the viewer page into dist/web: index.html, assets/style.css and the
 * bundled ES modules assets/main.js, assets/select-worker.js and assets/session-worker.js
 * (each worker is its own entry point: the page loads it by its fixed URL). tsc type-checks
 * web/; esbuild only bundles and minifies.
 */
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "web");
const assets = join(out, "assets");

await rm(assets, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
const result = await build({
  entryPoints: { main: join(root, "web/src/main.ts"), "select-worker": join(root, "web/src/select-worker.ts"), "session-worker": join(root, "web/src/session-worker.ts") },
  outdir: assets,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome111", "firefox111", "safari16.4"],
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
  legalComments: "none",
});
await copyFile(join(root, "web/index.html"), join(out, "index.html"));
await copyFile(join(root, "web/style.css"), join(assets, "style.css"));

const sizes = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith(".js"))
  .map(([f, o]) => `${f.split("/").pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
console.log(`web viewer built into dist/web (${sizes.join(", ")})`);
