/**
 * Receives one session bundle upload (SPEC §8): magic checked before anything
 * touches the disk, then streamed to a fresh temp dir with backpressure (the
 * request is only read as fast as the file takes it, so memory stays at a few
 * socket buffers whatever the size), with the size cap enforced while
 * streaming. On any failure the temp dir is removed before the error returns.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { MAGIC_LENGTH, hasMagic } from "../format/limits.js";
import { HttpError } from "./errors.js";

export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** An upload that failed: answered to the page with `status`, and to the waiting program with `code`. */
export class UploadFailure extends HttpError {
  constructor(
    status: number,
    message: string,
    override readonly code: "UPLOAD_TOO_LARGE" | "INVALID_UPLOAD" | "UPLOAD_ABORTED",
  ) {
    super(status, code, message);
  }
}

export interface ReceivedUpload {
  dir: string;
  path: string;
  bytes: number;
}

export const TOO_LARGE = "Session bundle too large";
export const BAD_MAGIC = "Invalid session bundle MAGIC header";

export async function receiveBundleUpload(req: IncomingMessage, opts: { maxBytes: number; tempParent: string }): Promise<ReceivedUpload> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > opts.maxBytes) throw new UploadFailure(413, TOO_LARGE, "UPLOAD_TOO_LARGE");

  let head: Buffer | null = Buffer.alloc(0);
  let dir: string | null = null;
  let file: WriteStream | null = null;
  let fileError: Error | null = null;
  let total = 0;
  try {
    // destroyOnReturn: false so that stopping early leaves the socket able to carry our error answer.
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > opts.maxBytes) throw new UploadFailure(413, TOO_LARGE, "UPLOAD_TOO_LARGE");
      let data = chunk;
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length < MAGIC_LENGTH) continue;
        if (!hasMagic(head)) throw new UploadFailure(400, BAD_MAGIC, "INVALID_UPLOAD");
        data = head;
        head = null;
        dir = await mkdtemp(join(opts.tempParent, "cellucid-upload-"));
        file = createWriteStream(join(dir, "capture.cellucid-session"), { flags: "wx" });
        file.on("error", (e) => (fileError = e));
      }
      if (fileError) throw fileError;
      if (!file!.write(data)) await once(file!, "drain");
    }
    if (head) throw new UploadFailure(400, BAD_MAGIC, "INVALID_UPLOAD"); // shorter than the magic
    file!.end();
    await finished(file!);
    return { dir: dir!, path: join(dir!, "capture.cellucid-session"), bytes: total };
  } catch (err) {
    file?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof UploadFailure || err === fileError) throw err;
    if (req.destroyed || (req as { aborted?: boolean }).aborted || !req.complete)
      throw new UploadFailure(400, "Session bundle upload aborted", "UPLOAD_ABORTED");
    throw err;
  }
}
