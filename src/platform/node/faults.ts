/**
 * Fault injection for crash and disk-full tests, driven by environment
 * variables (the same names the .h5ad driver in the binding reads). Every
 * file mutation of a Zarr write calls `beforeMutation` first, so one hook
 * covers them all:
 *
 * - CELLUCID_TEST_CRASH_AT_WRITE=N[:SIGNAL]: right before the N-th mutation
 *   the process sends itself SIGKILL (dies at once) or the given signal
 *   (SIGINT / SIGTERM: delivered as a user's Ctrl+C or kill would be).
 * - CELLUCID_TEST_FAIL_AT_WRITE=N[:ENOSPC|EACCES|EIO]: the N-th mutation
 *   fails with that errno (default ENOSPC) instead of happening.
 * - CELLUCID_TEST_COUNT_WRITES=1: prints `cellucid-writes N` on stderr at exit.
 */
import { constants } from "node:os";

interface Fault {
  at: number;
  what: string;
}

function parseFault(name: string, allowed: readonly string[]): Fault | null {
  const raw = process.env[name];
  if (!raw) return null;
  const [n, what = allowed[0]!] = raw.split(":");
  const at = Number(n);
  if (!Number.isSafeInteger(at) || at < 1 || !allowed.includes(what)) throw new Error(`${name}=${raw}: expected N[:${allowed.join("|")}]`);
  return { at, what };
}

const crash = parseFault("CELLUCID_TEST_CRASH_AT_WRITE", ["SIGKILL", "SIGINT", "SIGTERM"]);
const fail = parseFault("CELLUCID_TEST_FAIL_AT_WRITE", ["ENOSPC", "EACCES", "EIO"]);
let mutations = 0;

if (process.env["CELLUCID_TEST_COUNT_WRITES"]) {
  process.on("exit", () => {
    if (mutations > 0) process.stderr.write(`cellucid-writes ${mutations}\n`);
  });
}

const DESCRIPTIONS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EACCES: "permission denied",
  EIO: "i/o error",
};

/** Called right before every counted file mutation (`op` is the syscall: write, rename, unlink, mkdir). */
export function beforeMutation(op: string, path: string): void {
  mutations++;
  if (crash && mutations === crash.at) process.kill(process.pid, crash.what as NodeJS.Signals);
  if (fail && mutations === fail.at) {
    const err = new Error(`${fail.what}: ${DESCRIPTIONS[fail.what]} (injected), ${op} '${path}'`) as NodeJS.ErrnoException;
    err.code = fail.what;
    err.errno = -(constants.errno as Record<string, number>)[fail.what]!;
    err.syscall = op;
    err.path = path;
    throw err;
  }
}
