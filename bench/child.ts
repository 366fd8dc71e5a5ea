/**
 * Runs node child processes and measures their wall time and peak RSS, the
 * way a user experiences the CLI. Peak RSS comes from GNU time (`-f %M`) when
 * it is installed, else from a small --import hook (rss-hook.ts) that reports
 * process.resourceUsage().maxRSS at exit.
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, rmSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { now } from "./timing.js";

export interface ChildResult {
  wallMs: number;
  /** Peak resident set size in bytes. */
  peakRssBytes: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the child (and its process group) after this long; the run then throws. */
  timeoutMs?: number;
}

/** Children still running, so an interrupted benchmark can stop exactly those. */
const running = new Set<number>();

/** Kills the process groups of children this module started and that are still running. */
export function killRunningChildren(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** GNU time writes "Command exited with non-zero status N" before %M when the child fails: take the last line. */
function parseKiB(text: string): number {
  const last = text.trim().split("\n").pop() ?? "";
  const kib = Number(last.trim());
  if (!Number.isFinite(kib) || kib <= 0) throw new Error(`could not read a peak RSS from ${JSON.stringify(text)}`);
  return kib;
}

export class ChildRunner {
  private seq = 0;

  private constructor(
    private readonly tmpDir: string,
    /** Path of GNU time, or null to use the --import hook. */
    private readonly gnuTime: string | null,
  ) {}

  /** Prefers GNU time (`which time`), checking that it really understands `-f %M -o FILE`. */
  static create(tmpDir: string): ChildRunner {
    const time = process.env["BENCH_RSS_METHOD"] === "hook" ? null : findOnPath("time");
    if (time) {
      const probe = join(tmpDir, "probe.rss");
      const r = spawnSync(time, ["-f", "%M", "-o", probe, process.execPath, "-e", "0"], { stdio: "ignore" });
      try {
        if (r.status === 0) {
          parseKiB(readFileSync(probe, "utf8"));
          return new ChildRunner(tmpDir, time);
        }
      } catch {
        // Not GNU time (e.g. BSD time): fall back to the hook.
      } finally {
        rmSync(probe, { force: true });
      }
    }
    return new ChildRunner(tmpDir, null);
  }

  get method(): string {
    return this.gnuTime ? `${this.gnuTime} -f %M` : "node --import rss-hook (process.resourceUsage().maxRSS)";
  }

  /** Runs `node ...nodeArgs` to completion. */
  async run(nodeArgs: string[], opts: RunOptions = {}): Promise<ChildResult> {
    const rssFile = join(this.tmpDir, `child-${process.pid}-${this.seq++}.rss`);
    const [cmd, args, env] = this.gnuTime
      ? [this.gnuTime, ["-f", "%M", "-o", rssFile, process.execPath, ...nodeArgs], process.env]
      : [process.execPath, ["--import", fileURLToPath(new URL("./rss-hook.js", import.meta.url)), ...nodeArgs], { ...process.env, BENCH_MAXRSS_FILE: rssFile }];
    try {
      const r = await runCommand(cmd, args, { ...opts, env });
      return { ...r, peakRssBytes: parseKiB(readFileSync(rssFile, "utf8")) * 1024 };
    } finally {
      rmSync(rssFile, { force: true });
    }
  }
}

export interface CommandResult {
  wallMs: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion, measuring its wall time. It gets its own
 * process group, so a timeout or an interrupted benchmark kills it and
 * anything it started (node under a GNU time wrapper, say).
 */
export function runCommand(cmd: string, args: string[], opts: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise<CommandResult>((resolve, reject) => {
    const t0 = now();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          if (pid !== undefined) process.kill(-pid, "SIGKILL");
        }, opts.timeoutMs)
      : null;
    const done = () => {
      if (timer) clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
    };
    child.on("error", (e) => {
      done();
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      const wallMs = now() - t0;
      done();
      if (timedOut) return reject(new Error(`${cmd} ${args.join(" ")} did not finish within ${opts.timeoutMs} ms and was killed`));
      resolve({ wallMs, exitCode, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
    });
  });
}
