/**
 * The built viewer page: dist/web/index.html and the flat dist/web/assets/
 * folder. Names are matched against a strict pattern and must be regular
 * files directly in that folder, so no path (.., %2f, symlinks) can reach
 * anything else.
 */
import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BASE_HEADERS, sendError } from "./http.js";

/** dist/src/server/static.js → dist/web/ (where the page build writes). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

export function isAssetName(name: string): boolean {
  return ASSET_NAME.test(name);
}

/** Sends `dir + name` if it is a regular file; `missing` decides the answer otherwise. */
async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, missing: () => void): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (!st || !st.isFile()) return missing();
  const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
  res.writeHead(200, { ...BASE_HEADERS, "Content-Type": type, "Content-Length": String(st.size) });
  if (req.method === "HEAD") return void res.end();
  await new Promise<void>((resolve) => {
    const stream = createReadStream(path);
    stream.on("error", () => {
      res.destroy();
      resolve();
    });
    res.on("close", () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

export async function serveIndex(req: IncomingMessage, res: ServerResponse, webDir: string): Promise<void> {
  await sendFile(req, res, webDir + "index.html", () => {
    const body = "viewer page not built: run npm run build\n";
    res.writeHead(503, { ...BASE_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)) });
    res.end(body);
  });
}

export async function serveAsset(req: IncomingMessage, res: ServerResponse, webDir: string, name: string): Promise<void> {
  if (!isAssetName(name)) return sendError(res, 404, "NOT_FOUND", "Not found");
  await sendFile(req, res, webDir + "assets/" + name, () => sendError(res, 404, "NOT_FOUND", "Not found"));
}
