/**
 * Advisory locks on AnnData stores, so that two applies to one store never
 * interleave and a store is never copied while an apply changes it.
 *
 * The lock is a Linux abstract Unix socket named after the store's device and
 * inode: the kernel lets one process bind a name, and frees it when that
 * process dies, however it dies (kill -9 included). So there is no stale-lock
 * race to handle: nobody has to decide that a lock is abandoned. Whoever
 * wants to know the holder connects, and the holder answers its PID.
 *
 * A writer binds the store's one writer name; a reader (`shared`, e.g. `-o`
 * copying its input) binds a name of its own and then checks that no writer
 * answers, while a writer, once bound, checks that no reader name is listed
 * in /proc/net/unix. Each publishes first and looks second, so of a reader and
 * a writer arriving together at least one sees the other and backs off.
 *
 * Abstract sockets are host-local. A Zarr store on a shared file system also
 * gets a lock file (`file`) naming the writer's PID and host: a process on
 * another host finds it and stays out; on the same host a lock file whose
 * socket is free is stale (its writer died) and is simply taken over.
 * On systems other than Linux only the lock file and the in-process guard act.
 */
import { randomBytes } from "node:crypto";
import { createConnection, createServer, type Server } from "node:net";
import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { AnnDataError } from "../../format/errors.js";
import { processAlive, registerTemp, releaseTemp } from "./cleanup.js";

export interface LockOptions {
  /** How long to wait for another holder to finish (default 0: fail at once). */
  waitSeconds?: number;
  /** A lock file to write (PID and host) while holding the writer lock. */
  file?: string;
  /** A reader's lock: any number of readers, but no writer, hold it at once. */
  shared?: boolean;
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Writer and reader locks held by this process, by store identity: a conflict in the same process waits like any other. */
const writersHere = new Set<string>();
const readersHere = new Map<string, number>();
const USE_SOCKET = process.platform === "linux";
const WRITER = "cellucid-session-lock:";
const READER = "cellucid-session-read:";

/** Locks `target` (an existing file or folder); fails with AnnDataError LOCKED once `waitSeconds` have passed. */
export async function acquireLock(target: string, opts: LockOptions = {}): Promise<HeldLock> {
  const id = await identity(target);
  const deadline = Date.now() + Math.max(0, opts.waitSeconds ?? 0) * 1000;
  for (;;) {
    const attempt = opts.shared ? await tryShared(id) : await tryExclusive(id, opts.file);
    if ("lock" in attempt) return attempt.lock;
    const left = deadline - Date.now();
    if (left <= 0) {
      const hint = opts.waitSeconds ? ` (waited ${opts.waitSeconds} s)` : " (use --wait SECONDS to wait for it)";
      throw new AnnDataError("LOCKED", `${target} is locked by ${attempt.holder}${hint}`);
    }
    // A little jitter, so that a reader and a writer that keep meeting stop meeting.
    await new Promise((r) => setTimeout(r, Math.min(50 + Math.random() * 100, left)));
  }
}

async function identity(target: string): Promise<string> {
  const st = await stat(target, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

type Attempt = { lock: HeldLock } | { holder: string };

const THIS_PROCESS = `PID ${process.pid} (this process)`;

async function tryExclusive(id: string, file: string | undefined): Promise<Attempt> {
  if (writersHere.has(id) || readersHere.has(id)) return { holder: THIS_PROCESS };
  let server: Server | null = null;
  if (USE_SOCKET) {
    server = await bind(`\0${WRITER}${id}`);
    if (!server) {
      const writer = await askHolder(`\0${WRITER}${id}`);
      return { holder: writer.pid ? `PID ${writer.pid}` : "another process" };
    }
    const reader = await listedReader(id);
    if (reader) {
      server.close();
      return { holder: `PID ${reader} (reading it)` };
    }
  }
  writersHere.add(id);
  const giveUp = () => {
    writersHere.delete(id);
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
  return held(async () => {
    if (file) {
      await unlink(file).catch(() => undefined);
      releaseTemp(file);
    }
    giveUp();
  });
}

async function tryShared(id: string): Promise<Attempt> {
  if (writersHere.has(id)) return { holder: THIS_PROCESS };
  let server: Server | null = null;
  if (USE_SOCKET) {
    server = await bind(`\0${READER}${id}:${process.pid}:${randomBytes(4).toString("hex")}`);
    const writer = await askHolder(`\0${WRITER}${id}`);
    if (writer.present) {
      server?.close();
      return { holder: writer.pid ? `PID ${writer.pid}` : "another process" };
    }
  }
  readersHere.set(id, (readersHere.get(id) ?? 0) + 1);
  return held(async () => {
    const n = readersHere.get(id)! - 1;
    if (n) readersHere.set(id, n);
    else readersHere.delete(id);
    server?.close();
  });
}

function held(release: () => Promise<void>): Attempt {
  let released = false;
  return {
    lock: {
      async release() {
        if (released) return;
        released = true;
        await release();
      },
    },
  };
}

/** Binds an abstract socket name; null when another process holds it. */
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

/**
 * Whether a process holds `name`, and its PID when it answers within a
 * second (a busy holder may not: then only `present` is known).
 */
function askHolder(name: string): Promise<{ present: boolean; pid: number | null }> {
  return new Promise((resolve) => {
    let text = "";
    let connected = false;
    const socket = createConnection(name, () => (connected = true));
    const done = () => {
      socket.destroy();
      clearTimeout(timer);
      resolve({ present: connected, pid: /^\d+\n$/.test(text) ? Number(text) : null });
    };
    const timer = setTimeout(done, 1000);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("end", done);
    socket.on("error", done);
  });
}

/** The PID of a process holding a reader lock on the store, from the kernel's list of Unix sockets; null if none. */
async function listedReader(id: string): Promise<number | null> {
  let table: string;
  try {
    table = await readFile("/proc/net/unix", "utf8");
  } catch {
    return null;
  }
  // The id is "dev:ino", digits only; the ":" after it keeps store 1:23 from matching 1:234.
  const m = new RegExp(`@${READER}${id}:(\\d+):`).exec(table);
  return m ? Number(m[1]) : null;
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
  if (!USE_SOCKET && info.host === hostname() && typeof info.pid === "number" && !processAlive(info.pid)) return null;
  return `PID ${String(info.pid)} on host ${info.host} (according to ${file}; delete it if no such process runs there)`;
}

