/**
 * Bundles the program pushes to the page (the initial `--session` and
 * loadSession()). Each is checked once up front (magic, manifest, frames),
 * so a bad file fails in the program, not silently in the browser, and is
 * then served as bytes on GET /_cellucid/session.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CellucidSessionBundle as CoreBundle } from "../bundle/bundle.js";
import { CellucidSessionBundle } from "../apply/session-bundle.js";
import { BASE_HEADERS } from "./http.js";

/** What startViewer({session}) and loadSession() accept. */
export type SessionInput = string | Uint8Array | CoreBundle;

export type SessionSource =
  | { kind: "path"; path: string }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "bundle"; bundle: CoreBundle };

export async function toSessionSource(input: SessionInput): Promise<SessionSource> {
  if (typeof input === "string") {
    const b = await CellucidSessionBundle.open(input); // throws the usual typed errors for a bad file
    await b.close();
    return { kind: "path", path: b.path! };
  }
  if (input instanceof Uint8Array) {
    await CellucidSessionBundle.fromBytes(input, { name: "<session bytes>" });
    return { kind: "bytes", bytes: input };
  }
  // A Node bundle opened from a file is re-read from that file, so it works even if the caller closes it.
  if (input instanceof CellucidSessionBundle && input.path) return { kind: "path", path: input.path };
  return { kind: "bundle", bundle: input };
}

/** Sends the bundle; resolves true once every byte has been handed to the socket (false if the page went away). */
export async function serveSession(req: IncomingMessage, res: ServerResponse, src: SessionSource): Promise<boolean> {
  const size = src.kind === "path" ? (await stat(src.path)).size : src.kind === "bytes" ? src.bytes.length : src.bundle.byteLength;
  res.writeHead(200, { ...BASE_HEADERS, "Content-Type": "application/octet-stream", "Content-Length": String(size) });
  if (req.method === "HEAD") return void res.end(), false;
  const body = src.kind === "bytes" ? Readable.from([src.bytes]) : src.kind === "path" ? createReadStream(src.path) : Readable.fromWeb(src.bundle.stream() as never);
  // pipeline resolves on the response's 'finish', i.e. only when the whole bundle went out.
  return pipeline(body, res).then(
    () => true,
    () => (res.destroy(), false),
  );
}
