/**
 * Temp files that must not outlive the process, and SIGINT/SIGTERM/SIGHUP handling
 * for writers. A writer registers its temp paths; they are removed when the
 * process exits, including by Ctrl+C or `kill` (not by SIGKILL, which nothing
 * can catch: the next open or `recover` cleans up after that). A commit runs
 * inside `deferSignals`: a signal arriving then waits until the commit ends,
 * so a file is never left between its old and new state by a signal.
 *
 * While nothing is registered and no commit runs, no handler is installed and
 * signals keep Node's default behaviour. When the program has its own handler
 * for a signal, it decides: ours then neither exits nor removes anything early.
 */
import { rmSync } from "node:fs";
import { constants } from "node:os";

const temps = new Set<string>();
let deferDepth = 0;
let pending: NodeJS.Signals | null = null;
let installed = false;
let exitHookInstalled = false;
// SIGHUP: the terminal was closed; handled like Ctrl+C.
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function removeTemps(): number {
  let removed = 0;
  // Newest first: a lock file registered before the data it guards goes last.
  for (const p of [...temps].reverse()) {
    try {
      rmSync(p, { recursive: true, force: true, maxRetries: 3 });
      removed++;
    } catch {
      // Nothing more can be done while exiting; `recover` handles what is left.
    }
  }
  temps.clear();
  return removed;
}

function terminate(signal: NodeJS.Signals, afterCommit: boolean): never {
  const removed = removeTemps();
  const when = afterCommit ? " (after finishing the commit it arrived during)" : "";
  process.stderr.write(`\ncellucid-session: interrupted by ${signal}${when}${removed ? "; temporary files removed" : ""}\n`);
  process.exit(128 + constants.signals[signal]);
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  if (deferDepth > 0) {
    pending ??= signal;
    return;
  }
  terminate(signal, false);
}

function update(): void {
  const wanted = temps.size > 0 || deferDepth > 0;
  if (wanted && !installed) for (const s of SIGNALS) process.on(s, onSignal);
  if (!wanted && installed) for (const s of SIGNALS) process.off(s, onSignal);
  installed = wanted;
  if (wanted && !exitHookInstalled) {
    process.on("exit", removeTemps);
    exitHookInstalled = true;
  }
}

/** `path` (a file or a folder) is removed if the process exits before `releaseTemp(path)`. */
export function registerTemp(path: string): void {
  temps.add(path);
  update();
}

/** The caller has renamed or removed `path` itself. */
export function releaseTemp(path: string): void {
  temps.delete(path);
  update();
}

/**
 * Runs `fn` with SIGINT/SIGTERM/SIGHUP held back; one that arrived meanwhile
 * ends the process (exit 130 / 143 / 129, after removing temp files) once `fn`
 * has finished.
 */
export async function deferSignals<T>(fn: () => Promise<T>): Promise<T> {
  deferDepth++;
  update();
  try {
    return await fn();
  } finally {
    deferDepth--;
    const signal = deferDepth === 0 ? pending : null;
    if (signal) {
      pending = null;
      terminate(signal, true);
    }
    update();
  }
}

/** Whether a process with this id runs on this machine (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
