/** Runs Debian's Python with anndata for interop checks; a missing anndata fails loudly, never skips. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
export const PYTHON = process.env["CELLUCID_PYTHON"] ?? "/usr/bin/python3";

/** Runs `code` and parses the JSON it prints last. */
export async function python<T = unknown>(code: string, ...args: string[]): Promise<T> {
  let stdout: string;
  try {
    ({ stdout } = await run(PYTHON, ["-c", code, ...args], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    if (/No module named '(anndata|zarr)'/.test(e.stderr ?? ""))
      throw new Error(`Python anndata is required for these tests (install Debian's python3-anndata python3-zarr): ${e.stderr}`);
    throw new Error(`python failed: ${e.stderr ?? e.message}`);
  }
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}
