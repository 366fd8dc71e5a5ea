/**
 * In-place apply to .zarr is all or nothing: a child process applying is
 * killed (SIGKILL) right before every write of the commit, interrupted by
 * SIGINT/SIGTERM, and failed with EACCES/ENOSPC/EIO (the two stores split the
 * signal and error cases between them); after each, the store (after
 * `recover` or any open) is byte for byte the original or the complete result,
 * with no leftovers, and Python anndata reads it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { openAnnData, recoverZarr } from "../src/node/index.js";
import { applySessionToFile } from "../src/apply/files.js";
import { CellucidSessionBundle } from "../src/apply/session-bundle.js";
import { manifest, spawnCli, withTempDir } from "./helpers.js";
import { python } from "./python.js";
import { TINY_ADDED_OBS, tinyFixtures } from "./tiny.js";

type Manifest = Map<string, string>;

/** Which of the two allowed states `store` is in; fails on anything else. */
function stateOf(store: string, original: Manifest, result: Manifest, context: string): "original" | "result" {
  const m = manifest(store, true);
  if (same(m, original)) return "original";
  if (same(m, result)) return "result";
  const diff = [...new Set([...m.keys(), ...original.keys()])].filter((k) => m.get(k) !== original.get(k)).sort();
  assert.fail(`${context}: the store is neither the original nor the complete result; differs from the original in ${diff.join(", ")}`);
}

function same(a: Manifest, b: Manifest): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

/**
 * Kills an in-place apply before every write of its commit (and a sample of
 * the staging writes before it), with signals and errors at chosen writes,
 * and checks what is left each time. `base` is copied fresh for every run.
 */
async function crashEverywhere(dir: string, base: string, bundle: string, variant: 0 | 1): Promise<{ result: string; outcomes: Record<string, number> }> {
  const original = manifest(base, true);
  const work = join(dir, "work.zarr");
  const fresh = () => {
    rmSync(work, { recursive: true, force: true });
    cpSync(base, work, { recursive: true });
  };
  const apply = (env: Record<string, string>) => spawnCli(["apply", bundle, work, "--inplace", "--json"], env).done;

  const result = join(dir, `result-${Date.now()}.zarr`);
  cpSync(base, result, { recursive: true });
  const counted = await spawnCli(["apply", bundle, result, "--inplace"], { CELLUCID_TEST_COUNT_WRITES: "1" }).done;
  assert.equal(counted.code, 0, counted.stderr);
  const total = Number(/cellucid-writes (\d+)/.exec(counted.stderr)?.[1]);
  assert.ok(total > 20, `counted ${total} writes`);
  const expected = manifest(result, true);
  assert.ok(![...expected.keys()].some((k) => k.includes(".cellucid")), "a finished apply leaves nothing of ours");

  const outcomes: Record<string, number> = { original: 0, result: 0 };
  // Dense from the last write down to the journal's, then every 40th staging write: staging touches nothing visible.
  let journalAt = 0;
  for (let n = total; n >= 1; n -= journalAt ? 40 : 1) {
    fresh();
    const run = await apply({ CELLUCID_TEST_CRASH_AT_WRITE: String(n) });
    assert.equal(run.signal, "SIGKILL", `write ${n}/${total}: ${run.stderr}`);
    // The first write (going down) that leaves no journal, complete or temp, is the journal's own.
    const journal = existsSync(join(work, ".cellucid-journal")) || existsSync(join(work, ".cellucid-journal.tmp"));
    if (!journalAt && n < total - 1 && !journal) journalAt = n;
    // Recovery by the command, or by simply opening the store, alternately.
    if (n % 2) await recoverZarr(work);
    else await (await openAnnData(work)).close();
    outcomes[stateOf(work, original, expected, `killed before write ${n}/${total}`)]!++;
  }
  assert.ok(journalAt > 1, "the journal is written after staging");
  assert.ok(outcomes["original"]! > 0 && outcomes["result"]! > 0, JSON.stringify(outcomes));

  // SIGINT / SIGTERM: during staging the apply aborts and cleans up; during the commit it finishes first. No recover needed.
  const signals = [[Math.max(1, journalAt - 5), "SIGINT", "original", 130], [journalAt + 3, "SIGTERM", "result", 143], [journalAt + 1, "SIGINT", "result", 130], [2, "SIGTERM", "original", 143]] as const;
  for (const [n, signal, state, code] of signals.slice(variant * 2, variant * 2 + 2)) {
    fresh();
    const run = await apply({ CELLUCID_TEST_CRASH_AT_WRITE: `${n}:${signal}` });
    assert.equal(run.code, code, `${signal} at write ${n}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`interrupted by ${signal}`));
    assert.equal(stateOf(work, original, expected, `${signal} at write ${n}`), state);
  }
  // Errors at any step of the commit roll back at once: the original, exit 2, no recover needed.
  const errors = [[journalAt, "ENOSPC", "NO_SPACE"], [journalAt + 2, "EACCES", "PERMISSION_DENIED"], [total - 3, "EACCES", "PERMISSION_DENIED"], [3, "EIO", "IO"]] as const;
  for (const [n, errno, code] of errors.slice(variant * 2, variant * 2 + 2)) {
    fresh();
    const run = await apply({ CELLUCID_TEST_FAIL_AT_WRITE: `${n}:${errno}` });
    assert.equal(run.code, 2, `${errno} at write ${n}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`error \\[${code}\\]: .*work\\.zarr: writing `));
    assert.doesNotMatch(run.stderr, /internal error|\n\s+at /);
    assert.equal(stateOf(work, original, expected, `${errno} at write ${n}`), "original");
  }
  // Real signals at a range of times: whatever they hit, recovery leaves one of the two states.
  const timed = [[250, "SIGKILL"], [450, "SIGINT"]] as const;
  for (const [delay, signal] of timed.slice(variant, variant + 1)) {
    fresh();
    const { child, done } = spawnCli(["apply", bundle, work, "--inplace"]);
    const timer = setTimeout(() => child.kill(signal), delay);
    await done;
    clearTimeout(timer);
    await recoverZarr(work);
    stateOf(work, original, expected, `${signal} after ${delay} ms`);
  }
  return { result, outcomes };
}

test("zarr in place, plain store: killed at every write of the commit, the store is the original or the result", async () => {
  await withTempDir(async (dir) => {
    const { plain, bundle } = await tinyFixtures(dir);
    const { result } = await crashEverywhere(dir, plain, bundle, 0);
    const py = await python<{ cols: string[]; first: number; uns: string[]; note: string; x: number }>(`
import sys, json, anndata as ad
a = ad.read_zarr(sys.argv[1]); o = ad.read_zarr(sys.argv[2])
print(json.dumps({"cols": list(a.obs.columns), "first": int(a.obs["cellucid_highlight__g1"].sum()),
  "uns": sorted(a.uns["cellucid"]["session"].keys()), "note": a.uns["note"], "x": float((a.X - o.X).sum())}))`, result, plain);
    assert.deepEqual(py.cols, ["leiden", "n_genes", ...TINY_ADDED_OBS]);
    assert.equal(py.first, 4);
    assert.ok(py.uns.includes("added_obs_columns"));
    assert.equal(py.note, "kept");
    assert.equal(py.x, 0);
  });
});

test("zarr in place, consolidated store applied a second time (replacing uns['cellucid']): the same guarantees, .zmetadata right", async () => {
  await withTempDir(async (dir) => {
    const { consolidated, bundle } = await tinyFixtures(dir);
    const b = await CellucidSessionBundle.open(bundle);
    await applySessionToFile(b, consolidated, { inplace: true });
    await b.close();
    const { result } = await crashEverywhere(dir, consolidated, bundle, 1);
    const py = await python<{ cols: string[]; added: string[]; consistent: boolean }>(`
import sys, json, zarr, anndata as ad
a = ad.read_zarr(sys.argv[1])
g = zarr.open_consolidated(sys.argv[1], mode="r")
meta = json.load(open(sys.argv[1] + "/.zmetadata"))["metadata"]
nodes = set()
g.visit(lambda name: nodes.add(name))
print(json.dumps({"cols": list(g["obs"].attrs["column-order"]), "added": list(a.uns["cellucid"]["session"]["added_obs_columns"]),
  "consistent": all(k.rsplit("/", 1)[0] in nodes for k in meta if "/" in k) and all(n + "/.zattrs" in meta or n + "/.zarray" in meta or n + "/.zgroup" in meta for n in nodes)}))`, result);
    const second = TINY_ADDED_OBS.map((c) => `${c}__2`);
    assert.deepEqual(py.cols, ["leiden", "n_genes", ...TINY_ADDED_OBS, ...second]);
    assert.deepEqual(py.added, second);
    assert.equal(py.consistent, true);
  });
});
