/**
 * Advisory locks on AnnData stores, so that two applies to one store never
 * interleave. The lock itself is a Linux abstract Unix socket named after the
 * store's device and inode: the kernel lets one process bind a name, and frees
 * it when that process dies, however it dies (kill -9 included). So there is no
 * stale-lock race to handle: nobody has to decide that a lock is abandoned.
 * Whoever wants to know the holder connects, and the holder answers its PID.
 *
 * Abstract sockets are host-local. A Zarr store on a shared file system also
 * gets a lock file (`file`) naming the holder's PID and host: a process on
 * another host finds it and stays out; on the same host a lock file whose
 * socket is free is stale (its holder died) and is simply taken over.
 * On systems other than Linux only the lock file and the in-process guard act.
 */
import { createConnection, createServer, type Server } from "node:net";
import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { AnnDataError } from "../anndata/model.js";
import { registerTemp, releaseTemp } from "./cleanup.js";

export interface LockOptions {
  /** How long to wait for another holder to finish (default 0: fail at once). */
  waitSeconds?: number;
  /** A lock file to write (PID and host) while holding the lock. */
  file?: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Locks held by this process, by store identity: a second holder in the same process waits like any other. */
const heldHere = new Set<string>();
const USE_SOCKET = process.platform === "linux";

/** Locks `target` (an existing file or folder); fails with AnnDataError LOCKED once `waitSeconds` have passed. */
export async function acquireLock(target: string, opts: LockOptions = {}): Promise<HeldLock> {
  const id = await identity(target);
  const deadline = Date.now() + Math.max(0, opts.waitSeconds ?? 0) * 1000;
  for (;;) {
    const attempt = await tryAcquire(id, opts.file);
    if ("lock" in attempt) return attempt.lock;
    const left = deadline - Date.now();
    if (left <= 0) {
      const hint = opts.waitSeconds ? ` (waited ${opts.waitSeconds} s)` : " (use --wait SECONDS to wait for it)";
      throw new AnnDataError("LOCKED", `${target} is locked by ${attempt.holder}${hint}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(100, left)));
  }
}

async function identity(target: string): Promise<string> {
  const st = await stat(target, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

type Attempt = { lock: HeldLock } | { holder: string };

async function tryAcquire(id: string, file: string | undefined): Promise<Attempt> {
  if (heldHere.has(id)) return { holder: `PID ${process.pid} (this process)` };
  const name = `\0cellucid-session-lock:${id}`;
  let server: Server | null = null;
  if (USE_SOCKET) {
    server = await bind(name);
    if (!server) {
      const pid = await askHolder(name);
      return { holder: pid ? `PID ${pid}` : "another process" };
    }
  }
  heldHere.add(id);
  const giveUp = () => {
    heldHere.delete(id);
    server?.close();
  };
  if (file) {
    try {
      const other = await foreignHolder(file);
      if (other) {
        giveUp();
        return { holder: other };
      }
      await writeFile(file, JSON.stringify({ pid: process.pid, host: hostname() }) + "\n");
      registerTemp(file);
    } catch (err) {
      giveUp();
      throw err;
    }
  }
  let released = false;
  return {
    lock: {
      async release() {
        if (released) return;
        released = true;
        if (file) {
          await unlink(file).catch(() => undefined);
          releaseTemp(file);
        }
        giveUp();
      },
    },
  };
}

function bind(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end(`${process.pid}\n`));
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(null) : reject(err)));
    server.listen(name, () => {
      // The lock must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/** The holder's PID, or null when it does not answer within a second (busy, or just gone). */
function askHolder(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    let text = "";
    const socket = createConnection(name);
    const done = (pid: number | null) => {
      socket.destroy();
      clearTimeout(timer);
      resolve(pid);
    };
    const timer = setTimeout(() => done(null), 1000);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("end", () => done(/^\d+\n$/.test(text) ? Number(text) : null));
    socket.on("error", () => done(null));
  });
}

/**
 * Who holds the lock according to a lock file written on another host; null
 * when there is no file, it is unreadable, or it was written on this host (we
 * hold the socket, so its writer is gone: the file is stale).
 */
async function foreignHolder(file: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return null;
  }
  let info: { pid?: unknown; host?: unknown };
  try {
    info = JSON.parse(text) as typeof info;
  } catch {
    return null;
  }
  if (typeof info.host !== "string" || (USE_SOCKET && info.host === hostname())) return null;
  if (!USE_SOCKET && info.host === hostname() && typeof info.pid === "number" && !isAlive(info.pid)) return null;
  return `PID ${String(info.pid)} on host ${info.host} (according to ${file}; delete it if no such process runs there)`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
