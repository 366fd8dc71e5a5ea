/**
 * The .h5ad write transaction from the library and the CLI: commit at close,
 * abort, recovery reported by open, I/O errors (injected at every kind of
 * write, and a real full disk on a small tmpfs) rolled back with NO_SPACE /
 * IO and exit 2, and HDF5's file lock reported as LOCKED.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { AnnDataError } from "../src/anndata/model.js";
import { H5adStore, recoverH5ad } from "../src/anndata/h5/store.js";
import { H5File } from "../src/anndata/h5/binding.js";
import { applyInPlace, countedWrites, fixture, sha256, writeBundle, writeDataset } from "./h5ad-faults.js";
import { withTempDir } from "./helpers.js";
import { PYTHON } from "./python.js";

const JOURNAL = "-cellucid-journal";

async function rejectsWith(fn: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(fn, (err: unknown) => {
    assert.ok(err instanceof AnnDataError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test("library: close commits, abort leaves the original bytes, and open (even through a symlink) reports the rollback of a crashed write", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "d.h5ad");
    await writeDataset(file, 200);
    const before = await sha256(file);
    const column = { kind: "numeric", values: new Float64Array(200).fill(1.5) } as const;

    const aborted = await H5adStore.open(file, "r+");
    assert.equal(aborted.recovered, null);
    await aborted.setColumn("obs", "score", column);
    await aborted.setUns(["note"], "draft");
    assert.ok(existsSync(file + JOURNAL), "the journal exists while the file is being changed");
    await aborted.abort();
    assert.equal(await sha256(file), before);
    assert.equal(existsSync(file + JOURNAL), false);

    const committed = await H5adStore.open(file, "r+");
    await committed.setColumn("obs", "score", column);
    await committed.close();
    assert.equal(existsSync(file + JOURNAL), false);
    const reread = await H5adStore.open(file, "r");
    assert.deepEqual(reread.columnNames("obs").slice(-1), ["score"]);
    await reread.close();

    const bundle = join(dir, "b.cellucid-session");
    await writeBundle(bundle, 200, 2, 1);
    const committedBytes = await sha256(file);
    const r = await applyInPlace(bundle, file, { CELLUCID_TEST_CRASH_AT_WRITE: "6" });
    assert.equal(r.code, 137);
    // The journal sits beside the real file, so a path through a symlink finds it too.
    const link = join(dir, "link.h5ad");
    await symlink(file, link);
    const store = await H5adStore.open(link, "r+");
    assert.ok(store.recovered && store.recovered.truncatedBytes > 0, JSON.stringify(store.recovered));
    await store.close();
    assert.equal(await sha256(file), committedBytes);
    assert.equal(recoverH5ad(file), null, "nothing left to roll back");
  });
});

test("an I/O error at any write of an in-place apply: exit 2 with NO_SPACE or IO, and the original bytes, no journal", async () => {
  await withTempDir(async (dir) => {
    const { file: original, bundle, sha: before } = await fixture(dir, "original", 300, 6, 3);
    const probe = join(dir, "probe.h5ad");
    await copyFile(original, probe);
    const total = countedWrites(await applyInPlace(bundle, probe, { CELLUCID_TEST_COUNT_WRITES: "1" }));
    // Appends, the journal header and records, metadata, the journal's removal: every third, and the whole commit.
    const points = [...new Set([...Array.from({ length: total }, (_, i) => i + 1).filter((n) => n % 3 === 1), ...Array.from({ length: 12 }, (_, i) => total - i)])];
    for (const n of points) {
      const file = join(dir, `fail-${n}.h5ad`);
      await copyFile(original, file);
      const errno = n % 2 ? "ENOSPC" : "EIO";
      const r = await applyInPlace(bundle, file, { CELLUCID_TEST_FAIL_AT_WRITE: `${n}:${errno}` });
      assert.equal(r.code, 2, `write ${n}: ${r.stderr}`);
      assert.match(r.stderr, errno === "ENOSPC" ? /\[NO_SPACE\]: .*fail-\d+\.h5ad: no space left on the device holding .* while .*: \d+ more bytes needed, \d+ bytes free/ : /\[IO\]: .*fail-\d+\.h5ad: .* failed: Input\/output error/);
      assert.match(r.stderr, /the file was left unchanged/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.equal(existsSync(file + JOURNAL), false, `write ${n}: journal left`);
      assert.equal(await sha256(file), before, `write ${n}: the file changed`);
      await rm(file);
    }
  });
});

test("a full disk (a small tmpfs): in-place apply fails with NO_SPACE, exit 2, and leaves the original; a read-only one with PERMISSION_DENIED", async (t) => {
  await withTempDir(async (dir) => {
    const { file: source, bundle, sha: before } = await fixture(dir, "d", 2000, 12, 4);
    const mnt = join(dir, "small");
    await mkdir(mnt);
    const { size } = await stat(source);
    try {
      // Room for the file and the journal, not for the new columns.
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${Math.ceil(size / 4096) * 4096 + 16384}`, "tmpfs", mnt], { stdio: "pipe" });
    } catch (err) {
      t.skip(`cannot mount a tmpfs here (${(err as Error).message.split("\n")[0]}); run as root to test a real full disk`);
      return;
    }
    try {
      const file = join(mnt, "d.h5ad");
      await copyFile(source, file);
      const r = await applyInPlace(bundle, file);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /\[NO_SPACE\]: .*d\.h5ad: no space left on the device holding .*small while appending to the file: \d+ more bytes needed, \d+ bytes free; the file was left unchanged/);
      assert.equal(existsSync(file + JOURNAL), false);
      assert.equal(await sha256(file), before);
      const store = await H5adStore.open(file, "r");
      assert.equal(store.nObs, 2000);
      await store.close();

      // The library: the write that fills the disk throws NO_SPACE, so does every later change and close, which rolls back.
      const other = H5File.open(source, "r");
      const writer = await H5adStore.open(file, "r+");
      await rejectsWith(() => writer.setUns(["big"], new Float64Array(2000 * 8)), "NO_SPACE", /no space left on the device/);
      await rejectsWith(() => writer.setColumn("obs", "after", { kind: "bool", values: new Uint8Array(2000) }), "NO_SPACE");
      // That error is not mistaken for the cause of another file's failure.
      assert.throws(() => other.readAttrs("/nope"), /HDF5 readAttrs '\/nope' failed/);
      other.close();
      await rejectsWith(() => writer.close(), "NO_SPACE", /the file was left unchanged$/);
      assert.equal(await sha256(file), before);

      // A read-only file system: PERMISSION_DENIED (exit 2), reading still works.
      execFileSync("mount", ["-o", "remount,ro", mnt]);
      await rejectsWith(() => H5adStore.open(file, "r+"), "PERMISSION_DENIED", /d\.h5ad: cannot open: Read-only file system/);
      const ro = await applyInPlace(bundle, file);
      assert.equal(ro.code, 2);
      assert.match(ro.stderr, /\[PERMISSION_DENIED\]/);
      const reader = await H5adStore.open(file, "r");
      assert.equal(reader.nObs, 2000);
      await reader.close();
    } finally {
      // Lazy: a failed assertion may leave a file open, which must not leave the mount behind.
      execFileSync("umount", ["-l", mnt]);
    }
  });
});

/** A Python process holding `file` (h5py open in `mode`, or a bare flock), until killed. */
async function holdFile(file: string, how: "h5py-r+" | "flock-shared"): Promise<ChildProcess> {
  const code = how === "h5py-r+"
    ? "import sys, h5py; f = h5py.File(sys.argv[1], 'r+'); print('ready', flush=True); sys.stdin.read()"
    : "import sys, fcntl; f = open(sys.argv[1], 'rb'); fcntl.flock(f, fcntl.LOCK_SH); print('ready', flush=True); sys.stdin.read()";
  const child = spawn(PYTHON, ["-c", code, file], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (c) => reject(new Error(`python exited ${c} before holding ${file}`)));
  });
  return child;
}

async function release(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin!.end();
  await exited;
}

test("LOCKED: a file another process has open is refused with LOCKED naming its pid (exit 2), and a journal is not rolled back under it", async () => {
  await withTempDir(async (dir) => {
    const { file, bundle, sha: before } = await fixture(dir, "d", 200, 2, 1);

    const h5py = await holdFile(file, "h5py-r+");
    try {
      const pid = new RegExp(`locked by another process \\(pid ${h5py.pid}\\)`);
      await rejectsWith(() => H5adStore.open(file, "r"), "LOCKED", pid);
      await rejectsWith(() => H5adStore.open(file, "r+"), "LOCKED", pid);
      const r = await applyInPlace(bundle, file);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /\[LOCKED\]: .*d\.h5ad: locked by another process/);
    } finally {
      await release(h5py);
    }
    assert.equal(await sha256(file), before);

    // A crashed write's journal, while a live process still holds the file.
    const crash = await applyInPlace(bundle, file, { CELLUCID_TEST_CRASH_AT_WRITE: "8" });
    assert.equal(crash.code, 137);
    const reader = await holdFile(file, "flock-shared");
    try {
      await rejectsWith(async () => recoverH5ad(file), "LOCKED", /locked by another process \(pid \d+\), which is writing it/);
      await rejectsWith(() => H5adStore.open(file, "r"), "LOCKED");
      assert.ok(existsSync(file + JOURNAL));
    } finally {
      await release(reader);
    }
    assert.ok(recoverH5ad(file));
    assert.equal(await sha256(file), before);
  });
});
