/**
 * What protects a user's data around `apply`: store locks against concurrent
 * applies (.zarr and .h5ad), `recover`, the -o/--force rules, temp files
 * removed on signals, refused names, and a full disk (a real small tmpfs).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statfsSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ZarrStore, openAnnData } from "../src/node/index.js";
import { acquireLock } from "../src/platform/node/lock.js";
import { type CliRun, manifest, spawnCli, withTempDir } from "./helpers.js";
import { python } from "./python.js";
import { TINY_ADDED_OBS, tinyFixtures } from "./tiny.js";

const inplace = (bundle: string, data: string, ...more: string[]) => spawnCli(["apply", bundle, data, "--inplace", ...more]).done;

function ourLeftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => /\.cellucid-|\.tmp$/.test(p));
}

test("concurrent in-place applies to one .zarr: LOCKED naming the holder's PID (exit 2), --wait waits, no column is ever lost", async () => {
  await withTempDir(async (dir) => {
    const { plain: store, bundle } = await tinyFixtures(dir);
    // This process holds the store's lock, as another apply would.
    const holder = await ZarrStore.open(store, "r+");
    const refused = await inplace(bundle, store);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`error \\[LOCKED\\]: .*plain\\.zarr is locked by PID ${process.pid} \\(use --wait SECONDS`));
    const copy = await spawnCli(["apply", bundle, store, "-o", join(dir, "copy.zarr")]).done;
    assert.equal(copy.code, 2, "no copy of a store while it is written");
    assert.match(copy.stderr, new RegExp(`error \\[LOCKED\\]: .*plain\\.zarr is locked by PID ${process.pid}`));
    assert.equal(existsSync(join(dir, "copy.zarr")), false);
    let exited = false;
    const waiting = inplace(bundle, store, "--wait", "60").then((r) => ((exited = true), r));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(exited, false, "the waiting apply did not give up");
    await holder.close();
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.stderr);

    // A reader (apply -o copying the store) keeps writers out, not other readers.
    const reading = await acquireLock(store, { shared: true });
    const whileRead = await inplace(bundle, store);
    assert.equal(whileRead.code, 2, whileRead.stderr);
    assert.match(whileRead.stderr, new RegExp(`is locked by PID ${process.pid} \\(reading it\\)`));
    const copies = await Promise.all(["a", "b"].map((n) => spawnCli(["apply", bundle, store, "-o", join(dir, `${n}.zarr`)]).done));
    for (const r of copies) assert.equal(r.code, 0, r.stderr);
    await reading.release();

    // Real races: all with --wait succeed; without, the losers fail LOCKED. Either way every winner's columns are there.
    const patient = await Promise.all([1, 2, 3].map(() => inplace(bundle, store, "--wait", "60")));
    for (const r of patient) assert.equal(r.code, 0, r.stderr);
    const hasty = await Promise.all([1, 2, 3].map(() => inplace(bundle, store)));
    for (const r of hasty) if (r.code !== 0) assert.match(r.stderr, /error \[LOCKED\]: .* is locked by PID \d+/, `exit ${r.code}`);
    for (const r of hasty) assert.ok(r.code === 0 || r.code === 2);
    const applies = 1 + 3 + hasty.filter((r) => r.code === 0).length;
    const py = await python<{ order: string[]; dirs: string[]; added: string[] }>(`
import sys, os, json, anndata as ad
a = ad.read_zarr(sys.argv[1])
print(json.dumps({"order": list(a.obs.columns), "dirs": sorted(d for d in os.listdir(sys.argv[1] + "/obs") if not d.startswith(".")),
  "added": list(a.uns["cellucid"]["session"]["added_obs_columns"])}))`, store);
    assert.equal(py.order.length, 2 + TINY_ADDED_OBS.length * applies, py.order.join(" "));
    assert.deepEqual([...py.order, "_index"].sort(), py.dirs, "column-order lists every column folder: none orphaned");
    assert.deepEqual(py.added, TINY_ADDED_OBS.map((c) => `${c}__${applies}`));
    assert.deepEqual(ourLeftovers(store), []);
  });
});

test("a lock left by a killed apply is taken over; concurrent in-place applies to one .h5ad: LOCKED, then --wait", async () => {
  await withTempDir(async (dir) => {
    const { plain: store, h5ad, bundle } = await tinyFixtures(dir);
    const killed = await spawnCli(["apply", bundle, store, "--inplace"], { CELLUCID_TEST_CRASH_AT_WRITE: "3" }).done;
    assert.equal(killed.signal, "SIGKILL");
    assert.ok(existsSync(join(store, ".cellucid-lock")), "kill -9 leaves the lock file");
    const next = await inplace(bundle, store);
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(ourLeftovers(store), []);

    const lock = await acquireLock(h5ad);
    const refused = await inplace(bundle, h5ad);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`error \\[LOCKED\\]: .*tiny\\.h5ad is locked by PID ${process.pid}`));
    const waiting = inplace(bundle, h5ad, "--wait", "60");
    await new Promise((r) => setTimeout(r, 1000));
    await lock.release();
    const runs = [await waiting, ...(await Promise.all([1, 2].map(() => inplace(bundle, h5ad, "--wait", "60"))))];
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const cols = await python<string[]>(`import sys, json, anndata as ad; print(json.dumps(list(ad.read_h5ad(sys.argv[1]).obs.columns)))`, h5ad);
    assert.equal(cols.length, 2 + TINY_ADDED_OBS.length * 3);
  });
});

test("recover: nothing to recover, rolls back an interrupted apply (--json) of a .zarr and of a .h5ad, LOCKED while in use", async () => {
  await withTempDir(async (dir) => {
    const { plain: store, h5ad, bundle } = await tinyFixtures(dir);
    const help = await spawnCli(["recover", "--help"]).done;
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cellucid-session recover FILE/);
    const clean = await spawnCli(["recover", store]).done;
    assert.equal(clean.code, 0);
    assert.equal(clean.stdout, `${store}: nothing to recover\n`);
    const original = manifest(store, true);
    const copy = join(dir, "count.zarr");
    cpSync(store, copy, { recursive: true });
    const total = Number(/cellucid-writes (\d+)/.exec((await spawnCli(["apply", bundle, copy, "--inplace"], { CELLUCID_TEST_COUNT_WRITES: "1" }).done).stderr)?.[1]);
    // Killed right before removing the journal: everything was published, and is rolled back.
    const killed = await spawnCli(["apply", bundle, store, "--inplace"], { CELLUCID_TEST_CRASH_AT_WRITE: String(total - 1) }).done;
    assert.equal(killed.signal, "SIGKILL");
    const r = await spawnCli(["recover", store, "--json"]).done;
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { format: string; action: string; restored: string[]; removed: string[]; cleaned: string[] };
    assert.equal(report.format, "zarr");
    assert.equal(report.action, "rolled-back");
    assert.deepEqual(report.restored.sort(), ["obs/.zattrs", "var/.zattrs"]);
    assert.deepEqual(report.removed.sort(), [...TINY_ADDED_OBS.map((c) => `obs/${c}`), "uns/cellucid", "var/marker"].sort());
    assert.deepEqual(report.cleaned.sort(), [".cellucid-lock", ".cellucid-staging"]);
    assert.deepEqual(manifest(store, true), original);

    // A damaged journal naming X is refused: recovery deletes only what our transactions write.
    writeFileSync(join(store, ".cellucid-journal"), JSON.stringify({ format: "cellucid-zarr-journal", version: 1, metadata: [], nodes: [{ key: "X", staged: ".cellucid-staging/new-0", aside: null }] }));
    const tampered = await spawnCli(["recover", store]).done;
    assert.equal(tampered.code, 2);
    assert.match(tampered.stderr, /\.cellucid-journal is not a journal this program wrote/);
    assert.ok(existsSync(join(store, "X", ".zarray")));
    rmSync(join(store, ".cellucid-journal"));

    const holder = await ZarrStore.open(store, "r+");
    const locked = await spawnCli(["recover", store]).done;
    await holder.close();
    assert.equal(locked.code, 2);
    assert.match(locked.stderr, /error \[LOCKED\]/);

    const h5Clean = await spawnCli(["recover", h5ad]).done;
    assert.equal(h5Clean.stdout, `${h5ad}: nothing to recover\n`);
    const h5Original = readFileSync(h5ad);
    const h5Killed = await spawnCli(["apply", bundle, h5ad, "--inplace"], { CELLUCID_TEST_CRASH_AT_WRITE: "3" }).done;
    assert.equal(h5Killed.code, 137, h5Killed.stderr);
    assert.ok(existsSync(h5ad + "-cellucid-journal"));
    const h = await spawnCli(["recover", h5ad, "--json"]).done;
    assert.equal(h.code, 0, h.stderr);
    const h5Report = JSON.parse(h.stdout) as { format: string; action: string; originalLength: number };
    assert.equal(h5Report.format, "h5ad");
    assert.equal(h5Report.action, "rolled-back");
    assert.equal(h5Report.originalLength, h5Original.length);
    assert.ok(readFileSync(h5ad).equals(h5Original), "the .h5ad is byte for byte the original");
    assert.equal(existsSync(h5ad + "-cellucid-journal"), false);
  });
});

test("-o/--force never deletes a folder that is not a store of the same kind; it replaces a store or a file, leaving no temp", async () => {
  await withTempDir(async (dir) => {
    const { plain, h5ad, bundle } = await tinyFixtures(dir);
    const results = join(dir, "results");
    mkdirSync(results);
    writeFileSync(join(results, "keep.txt"), "precious");
    for (const input of [plain, h5ad]) {
      const r = await spawnCli(["apply", bundle, input, "-o", results + "/", "--force"]).done;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /results\/? is a folder that is not a (\.zarr AnnData store|file): force replaces only a regular file or .*, so it is left as it is/);
      assert.equal(readFileSync(join(results, "keep.txt"), "utf8"), "precious");
    }
    const noForce = await spawnCli(["apply", bundle, plain, "-o", results]).done;
    assert.equal(noForce.code, 2);
    assert.match(noForce.stderr, /already exists \(use force/);
    // A .zarr AnnData store and a regular file are replaced.
    const outZarr = join(dir, "out.zarr");
    const outH5ad = join(dir, "out.h5ad");
    cpSync(plain, outZarr, { recursive: true });
    writeFileSync(outH5ad, "an old file");
    const fileToStore = join(dir, "was-a-file.zarr");
    writeFileSync(fileToStore, "x");
    for (const [input, out] of [[plain, outZarr], [h5ad, outH5ad], [plain, fileToStore]] as const) {
      const r = await spawnCli(["apply", bundle, input, "-o", out, "--force"]).done;
      assert.equal(r.code, 0, r.stderr);
      const s = await openAnnData(out);
      assert.deepEqual(s.columnNames("obs"), ["leiden", "n_genes", ...TINY_ADDED_OBS]);
      await s.close();
    }
    assert.deepEqual(readdirSync(dir).sort(), ["consolidated.zarr", "out.h5ad", "out.zarr", "plain.zarr", "results", "tiny.cellucid-session", "tiny.h5ad", "was-a-file.zarr"]);
  });
});

test("-o --force killed between its two renames: the old output is set aside under a fixed name and put back by recover, or by the next apply", async () => {
  await withTempDir(async (dir) => {
    const { plain, bundle } = await tinyFixtures(dir);
    const out = join(dir, "out.zarr");
    const aside = join(dir, ".out.zarr.cellucid-replaced");
    cpSync(plain, out, { recursive: true });
    const before = manifest(out, true);
    const counted = await spawnCli(["apply", bundle, plain, "-o", out, "--force"], { CELLUCID_TEST_COUNT_WRITES: "1" }).done;
    assert.equal(counted.code, 0, counted.stderr);
    const total = Number(/cellucid-writes (\d+)/.exec(counted.stderr)?.[1]);
    const result = manifest(out, true);
    rmSync(out, { recursive: true });
    cpSync(plain, out, { recursive: true });
    // The last write is the rename of the new output into place: dying right before it leaves the old one aside.
    const killed = await spawnCli(["apply", bundle, plain, "-o", out, "--force"], { CELLUCID_TEST_CRASH_AT_WRITE: String(total) }).done;
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(existsSync(out), false);
    assert.deepEqual(manifest(aside, true), before);
    const r = await spawnCli(["recover", out]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /put back the previous output that an interrupted apply -o --force had set aside/);
    assert.deepEqual(manifest(out, true), before);
    assert.equal(existsSync(aside), false);

    // Killed again; this time the next apply puts the old output back first, then replaces it as asked.
    await spawnCli(["apply", bundle, plain, "-o", out, "--force"], { CELLUCID_TEST_CRASH_AT_WRITE: String(total) }).done;
    assert.equal(existsSync(out), false);
    const again = await spawnCli(["apply", bundle, plain, "-o", out, "--force"]).done;
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(manifest(out, true), result);
    assert.equal(existsSync(aside), false);
  });
});

test("a prefix that would write outside obs/ is refused before anything is written (exit 1), in place and with -o", async () => {
  await withTempDir(async (dir) => {
    const { plain, consolidated, bundle } = await tinyFixtures(dir);
    for (const store of [plain, consolidated]) {
      const before = manifest(store, true);
      const r = await spawnCli(["apply", bundle, store, "--inplace", "--highlights-prefix", "../x/"]).done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error \[BAD_NAME\]: .*obs\/\.\.\/x\/g1/);
      assert.deepEqual(manifest(store, true), before);
    }
    const r = await spawnCli(["apply", bundle, plain, "-o", join(dir, "o.zarr"), "--user-defined-prefix", "a/"]).done;
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ["consolidated.zarr", "plain.zarr", "tiny.cellucid-session", "tiny.h5ad"]);
  });
});

test("SIGINT/SIGTERM during apply -o: exit 130/143 and no temp copy left (.h5ad and .zarr)", async () => {
  await withTempDir(async (dir) => {
    const { plain, h5ad, bundle } = await tinyFixtures(dir);
    const outDir = join(dir, "out");
    mkdirSync(outDir);
    const out = join(outDir, "o.zarr");
    // At a write of the copy's commit: before publishing it aborts; during publishing it finishes the commit, then exits before the move.
    const total = Number(/cellucid-writes (\d+)/.exec((await spawnCli(["apply", bundle, plain, "-o", join(dir, "count.zarr")], { CELLUCID_TEST_COUNT_WRITES: "1" }).done).stderr)?.[1]);
    for (const [at, signal, code] of [["2", "SIGINT", 130], [`${total - 1}`, "SIGTERM", 143]] as const) {
      const r = await spawnCli(["apply", bundle, plain, "-o", out], { CELLUCID_TEST_CRASH_AT_WRITE: `${at}:${signal}` }).done;
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`interrupted by ${signal}.*temporary files removed`));
      assert.deepEqual(readdirSync(outDir), [], `nothing left after ${signal} at write ${at}`);
    }
    // A real signal as soon as the temp copy appears.
    for (const [input, name, signal] of [[h5ad, "o.h5ad", "SIGINT"], [plain, "o.zarr", "SIGTERM"], [h5ad, "o.h5ad", "SIGTERM"]] as const) {
      const { child, done } = spawnCli(["apply", bundle, input, "-o", join(outDir, name)]);
      const watcher = watch(outDir, (_e, f) => {
        if (String(f).startsWith(`.${name}.`)) child.kill(signal);
      });
      const r: CliRun = await done;
      watcher.close();
      if (r.code === 0) {
        // It finished before the signal landed: then the output is complete.
        assert.ok(existsSync(join(outDir, name)));
        rmSync(join(outDir, name), { recursive: true });
      } else assert.equal(r.code, signal === "SIGINT" ? 130 : 143, r.stderr);
      assert.deepEqual(readdirSync(outDir), [], `no temp copy after ${signal}`);
    }
  });
});

test("disk full (a real 1 MiB tmpfs): NO_SPACE naming the disk and the need, exit 2, nothing left, input untouched", async (t) => {
  await withTempDir(async (dir) => {
    const { plain, h5ad, bundle } = await tinyFixtures(dir);
    const mnt = join(dir, "mnt");
    mkdirSync(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt], { stdio: "pipe" });
    } catch (err) {
      t.skip(`mounting a tmpfs is not permitted here (needs root): ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`);
      return;
    }
    try {
      const fill = (leave: number) => {
        rmSync(join(mnt, "filler"), { force: true });
        const fs = statfsSync(mnt);
        writeFileSync(join(mnt, "filler"), Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - leave)));
      };
      // In place: the store sits on the full disk.
      const store = join(mnt, "s.zarr");
      cpSync(plain, store, { recursive: true });
      const before = manifest(store, true);
      fill(8192);
      const r = await spawnCli(["apply", bundle, store, "--inplace"]).done;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`error \\[NO_SPACE\\]: .*s\\.zarr: writing .*: no space left on the disk mounted at ${mnt} \\(.* free\\); it needs more than .* \\(written before the disk filled\\)`));
      assert.deepEqual(manifest(store, true), before);
      rmSync(store, { recursive: true });
      // -o: the copy does not fit.
      const inputs = manifest(dir, false);
      fill(16384);
      for (const [input, out] of [[plain, "o.zarr"], [h5ad, "o.h5ad"]] as const) {
        const o = await spawnCli(["apply", bundle, input, "-o", join(mnt, out)]).done;
        assert.equal(o.code, 2, o.stderr);
        assert.match(o.stderr, new RegExp(`error \\[NO_SPACE\\]: writing .*${out.replace(".", "\\.")}: no space left on the disk mounted at ${mnt} .*; it needs about .* \\(a copy of .*\\)`));
        assert.doesNotMatch(o.stderr, /internal error|\n\s+at /);
        assert.deepEqual(readdirSync(mnt), ["filler"]);
      }
      const after = manifest(dir, false);
      for (const [k, v] of inputs) if (!k.startsWith("mnt/")) assert.equal(after.get(k), v, `${k} changed`);
    } finally {
      execFileSync("umount", [mnt]);
    }
  });
});

test("apply -o killed with -9 leaves its temp copy; recover OUT or the next apply -o removes it, and a running apply's copy is left alone", async () => {
  await withTempDir(async (dir) => {
    const { plain, h5ad, bundle } = await tinyFixtures(dir);
    for (const input of [h5ad, plain]) {
      const out = join(dir, input === h5ad ? "o.h5ad" : "o.zarr");
      const temps = () => readdirSync(dir).filter((f) => f.startsWith(`.${input === h5ad ? "o.h5ad" : "o.zarr"}.`));
      const kill = async () => {
        const killed = await spawnCli(["apply", bundle, input, "-o", out], { CELLUCID_TEST_CRASH_AT_WRITE: "2" }).done;
        // The .h5ad driver dies as kill -9 would, from inside the process (exit status 137).
        assert.ok(killed.signal === "SIGKILL" || killed.code === 137, `${input}: ${killed.code} ${killed.stderr}`);
        assert.equal(existsSync(out), false);
        assert.equal(temps().length > 0, true, "kill -9 leaves the temp copy");
      };
      await kill();
      // A temp copy of a process that still runs (this one) is not touched.
      const live = join(dir, `.${out.split("/").pop()}.${process.pid}.0123abcd.tmp`);
      writeFileSync(live, "busy");
      const r = await spawnCli(["recover", out]).done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /no output was made; removed what the interrupted apply left/);
      assert.match(r.stderr, /removed .*\.tmp, left by an apply -o that was killed/);
      assert.deepEqual(temps(), [live.split("/").pop()]);
      rmSync(live);

      await kill();
      const ok = await spawnCli(["apply", bundle, input, "-o", out]).done;
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(temps(), []);
      const cols = await python<string[]>(`import anndata, json, sys; print(json.dumps(list(anndata.${input === h5ad ? "read_h5ad" : "read_zarr"}(sys.argv[1]).obs.columns)))`, out);
      for (const c of TINY_ADDED_OBS) assert.ok(cols.includes(c), `${c} in ${cols.join(", ")}`);
    }
  });
});
