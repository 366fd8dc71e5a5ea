/**
 * Crashes during `apply --inplace` on a real .h5ad: the process dies at every
 * write of the transaction (CELLUCID_TEST_CRASH_AT_WRITE, an _exit as abrupt
 * as kill -9), or is sent SIGKILL / SIGINT / SIGTERM while it writes. After
 * each, opening the file rolls it back: it is byte for byte the original, or
 * the complete result that Python anndata reads with X and obsm unchanged.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, rm } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { H5adStore, recoverH5ad } from "../src/anndata/h5/store.js";
import { type ChildResult, applyInPlace, checkWithPython, countedWrites, fixture, sha256, startApply } from "./h5ad-faults.js";
import { withTempDir } from "./helpers.js";

const JOURNAL = "-cellucid-journal";

/** Runs `jobs` with at most `width` at a time (each is a child process). */
async function pool<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

test("a crash right before any write of an in-place apply is rolled back to the original bytes by the next open", async (t) => {
  await withTempDir(async (dir) => {
    const { file: original, bundle, columns, sha: before } = await fixture(dir, "original", 400, 8, 4);

    const complete = join(dir, "complete.h5ad");
    await copyFile(original, complete);
    const total = countedWrites(await applyInPlace(bundle, complete, { CELLUCID_TEST_COUNT_WRITES: "1" }));
    assert.ok(total > columns.length, `${total} writes for ${columns.length} columns`);
    t.diagnostic(`${total} writes; crashing before each`);

    const outcomes = await pool(Array.from({ length: total }, (_, i) => async () => {
      const n = i + 1;
      const file = join(dir, `crash-${n}.h5ad`);
      await copyFile(original, file);
      const r: ChildResult = await applyInPlace(bundle, file, { CELLUCID_TEST_CRASH_AT_WRITE: String(n) });
      assert.equal(r.code, 137, `write ${n}: the child should have died there (${r.stderr})`);
      assert.ok(existsSync(file + JOURNAL), `write ${n}: the journal exists before the first write`);
      // Half are recovered by a read-only open of the store, half by recoverH5ad.
      let recovered;
      if (n % 2) {
        const store = await H5adStore.open(file, "r");
        recovered = store.recovered;
        assert.equal(store.nObs, 400);
        await store.close();
      } else {
        recovered = recoverH5ad(file);
      }
      assert.ok(recovered, `write ${n}: a rollback is reported`);
      assert.equal(existsSync(file + JOURNAL), false);
      const same = (await sha256(file)) === before;
      // The commit point is the journal's removal, the last write: a crash
      // before any write leaves the original.
      assert.ok(same, `write ${n}: not the original bytes after recovery (${JSON.stringify(recovered)})`);
      assert.equal(recovered.originalLength, statSync(original).size);
      if (n > 1) await rm(file);
      return recovered;
    }));
    assert.ok(outcomes.some((r) => r.restoredBytes > 0), "some crashes came after metadata had been overwritten");
    assert.ok(outcomes.some((r) => r.truncatedBytes > 0), "some crashes came after columns had been appended");

    const [orig, rolledBack, result] = await checkWithPython(original, [original, join(dir, "crash-1.h5ad"), complete]);
    assert.deepEqual(rolledBack, orig);
    assert.equal(result!.x, orig!.x);
    assert.equal(result!.umap, orig!.umap);
    assert.equal(result!.oldObsSame, true);
    assert.deepEqual(result!.obsColumns, [...orig!.obsColumns, ...columns]);
    assert.deepEqual(result!.varColumns, [...orig!.varColumns, "module"]);
    assert.equal(result!.hasSession, true);
  });
});

test("SIGKILL, SIGINT or SIGTERM during an in-place apply: after recovery the file is the original or the complete result", async (t) => {
  await withTempDir(async (dir) => {
    const nObs = 60_000;
    const { file: original, bundle, columns, sha: before } = await fixture(dir, "original", nObs, 12, 4);

    const runs: { signal: NodeJS.Signals; afterJournalMs: number | null }[] = [];
    for (const signal of ["SIGKILL", "SIGINT", "SIGTERM"] as const) {
      runs.push({ signal, afterJournalMs: null }); // before the write session starts
      for (const afterJournalMs of [0, 15, 40, 80, 160]) runs.push({ signal, afterJournalMs });
    }
    const outcomes = await pool(runs.map((run, i) => async () => {
      const file = join(dir, `kill-${i}.h5ad`);
      await copyFile(original, file);
      const r = await killDuring(bundle, file, run.signal, run.afterJournalMs);
      const hadJournal = existsSync(file + JOURNAL);
      const recovered = recoverH5ad(file);
      assert.equal(existsSync(file + JOURNAL), false);
      assert.equal(recovered !== null, hadJournal);
      const same = (await sha256(file)) === before;
      if (same) await rm(file);
      return { file, same, hadJournal, exit: r.signal ?? r.code };
    }), 2);
    t.diagnostic(`outcomes: ${outcomes.map((o) => `${o.exit}:${o.same ? "original" : "result"}${o.hadJournal ? "(rolled back)" : ""}`).join(" ")}`);

    const results = outcomes.filter((o) => !o.same).map((o) => o.file);
    const [orig, ...checked] = await checkWithPython(original, [original, ...results]);
    for (const [i, c] of checked.entries()) {
      assert.equal(c.x, orig!.x, results[i]);
      assert.equal(c.umap, orig!.umap, results[i]);
      assert.equal(c.oldObsSame, true, results[i]);
      assert.deepEqual(c.obsColumns, [...orig!.obsColumns, ...columns], `${results[i]} is neither the original nor the complete result`);
      assert.equal(c.hasSession, true, results[i]);
    }
  });
});

/** Sends `signal` `afterJournalMs` after the journal appears (the write session has begun), or early when null. */
async function killDuring(bundle: string, file: string, signal: NodeJS.Signals, afterJournalMs: number | null): Promise<ChildResult> {
  const { child, done } = startApply(bundle, file);
  let exited = false;
  void done.then(() => (exited = true));
  const start = Date.now();
  const poll = setInterval(() => {
    const begun = afterJournalMs === null ? Date.now() - start > 40 : existsSync(file + JOURNAL);
    if (exited || begun) {
      clearInterval(poll);
      setTimeout(() => child.kill(signal), afterJournalMs ?? 0);
    }
  }, 1);
  return done;
}
