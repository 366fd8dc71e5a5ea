/** Writing bundles in Node: zlib compression and files that are never left half-written. */
import { SessionWriter } from "../../bundle/writer.js";
import { writePartsAtomically } from "./atomic.js";
import { zlibGzip } from "./zlib-gzip.js";

/** Writes a SessionWriter's bundle to `dest` without ever leaving a partial file. */
export async function writeSessionFile(writer: SessionWriter, dest: string): Promise<void> {
  await writePartsAtomically(dest, await writer.toParts());
}

/** A SessionWriter that compresses with zlib. */
export function createSessionWriter(opts: ConstructorParameters<typeof SessionWriter>[0] = {}): SessionWriter {
  return new SessionWriter({ gzip: zlibGzip, ...opts });
}
