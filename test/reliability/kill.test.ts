/**
 * Fault injection on scripts/train.ts as a process: SIGKILL at seeded random points of a smoke run (mid-step,
 * mid-checkpoint), a real full disk (a tiny tmpfs, where this process may mount one), and a resume on another
 * backend. The killed and the full-disk runs, resumed by the same command, must end with the losses and the
 * byte-identical weights of an uninterrupted run.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import path from "path";
import { Rng } from "../../lib/rng";
import {
  checkpointSha,
  lossesOf,
  mountTmpfs,
  remountTmpfs,
  tempFiles,
  tinyCliArgs,
  tmpDir,
  trainCli,
  trainCliKilled,
} from "./helpers";

const STEPS = 12;
let refDir = "";

before(() => {
  refDir = tmpDir();
  const r = trainCli(tinyCliArgs(STEPS, [`--runDir=${refDir}`]));
  assert.equal(r.code, 0, r.out);
});

function assertSameAsReference(dir: string): void {
  assert.deepEqual(lossesOf(dir), lossesOf(refDir));
  assert.deepEqual(checkpointSha(dir), checkpointSha(refDir));
}

/** Every file a run keeps equals the reference's: metric lines (less their wall time), checkpoint .bin, model.safetensors. */
function assertSameFiles(dir: string): void {
  assertSameAsReference(dir);
  const lines = (d: string) =>
    fs
      .readFileSync(path.join(d, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), ms: 0 }));
  assert.deepEqual(lines(dir), lines(refDir));
  const same = (f: string) =>
    assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(refDir, f))), `${f} differs`);
  same(`checkpoint-${String(STEPS).padStart(8, "0")}.bin`);
  same("model.safetensors");
  assert.deepEqual(tempFiles(dir), []);
}

test("SIGKILL at 3 seeded random points of one run, each resumed by the same command: identical losses and byte-identical weights", async () => {
  const dir = tmpDir();
  const args = tinyCliArgs(STEPS, [`--runDir=${dir}`]);
  const rng = new Rng(7);
  let killed = 0;
  let last = -1;
  for (let k = 0; k < 3; k++) {
    // a later step than the previous kill (the run resumes before it), and 0-40 ms after the step's log line:
    // the kill lands in the checkpoint write or in the next step
    const at = Math.min(STEPS - 2, last + 1 + Math.floor(rng.next() * 3));
    const delay = Math.floor(rng.next() * 40);
    const r = await trainCliKilled(args, at, delay);
    if (r.killed) killed++;
    last = at;
  }
  assert.ok(killed >= 2, `only ${killed} of 3 runs were killed before they finished`);
  const done = trainCli(args);
  assert.equal(done.code, 0, done.out);
  assertSameAsReference(dir);
});

test(
  "a real full disk (a tmpfs too small for the run): the error names the path and the fix, and after space is freed the same command resumes to identical results",
  {
    skip:
      mountTmpfs("1k") === null
        ? "needs root to mount a tmpfs (the in-process full-disk test covers the same path)"
        : false,
  },
  () => {
    // 160 KiB holds two checkpoints of 59 KB (the newest and the one before), not three
    const mnt = mountTmpfs("160k") as string;
    const dir = path.join(mnt, "run");
    const args = tinyCliArgs(STEPS, [`--runDir=${dir}`]);
    const full = trainCli(args);
    assert.equal(full.code, 1, full.out);
    assert.match(full.out, /ENOSPC/);
    assert.ok(full.out.includes(dir), full.out);
    assert.match(full.out, /free some space .* run the same command again/);
    assert.deepEqual(tempFiles(dir), []);
    const logged = lossesOf(dir).length;
    assert.ok(logged >= 2, `${logged} steps logged before the disk filled`);
    remountTmpfs(mnt, "size=2m"); // space freed
    const done = trainCli(args);
    assert.equal(done.code, 0, done.out);
    assertSameAsReference(dir);
  },
);

/** Pages of 4 KiB a file takes on a tmpfs (what its `size=` limit counts; directories take none). */
const pages = (bytes: number): number => Math.ceil(bytes / 4096);

test(
  "a real full disk at the final model.safetensors write (a tmpfs sized for it): the error names the file and the fix, no temp file is left, and after space is freed the same command ends with every file of an uninterrupted run",
  {
    skip:
      mountTmpfs("1k") === null
        ? "needs root to mount a tmpfs (metrics-gaps.test.ts covers the same write with the in-process fault hook)"
        : false,
  },
  () => {
    // checkpoints at 6 and 12: at the last one the disk holds both .bin files (the newest and the one before),
    // both manifests and the old model file while the new one is written, the run's high-water mark; the tmpfs
    // is 2 pages short of it, which every write before it fits in (the manifests' temp files peak 4 pages lower)
    const size = (f: string) => fs.statSync(path.join(refDir, f)).size;
    const bin = pages(size(`checkpoint-${String(STEPS).padStart(8, "0")}.bin`));
    const model = pages(size("model.safetensors"));
    const small = ["checkpoint.json", "checkpoint.prev.json", "config.json", "metrics.jsonl"];
    const lock = 1;
    const highWater = 2 * bin + 2 * model + small.reduce((n, f) => n + pages(size(f)), 0) + lock;
    const mnt = mountTmpfs(String((highWater - 2) * 4096)) as string;
    const dir = path.join(mnt, "run");
    const args = tinyCliArgs(STEPS, [`--runDir=${dir}`, "--train.ckptEvery=6"]);
    const full = trainCli(args);
    assert.equal(full.code, 1, full.out);
    const file = path.join(dir, "model.safetensors");
    assert.match(full.out, /ENOSPC/);
    assert.ok(full.out.includes(`cannot write ${file} `), full.out);
    assert.match(full.out, /free some space .* run the same command again/);
    assert.deepEqual(tempFiles(dir), []);
    assert.equal(checkpointSha(dir).step, STEPS, "the disk filled after the last checkpoint was committed");
    remountTmpfs(mnt, "size=2m"); // space freed
    const done = trainCli(args);
    assert.equal(done.code, 0, done.out);
    assertSameFiles(dir);
  },
);

test("a resume on another backend is refused with the fix, or continues when asked with --allowBackendChange", () => {
  const dir = tmpDir();
  const args = tinyCliArgs(6, [`--runDir=${dir}`]);
  const first = trainCli(args);
  assert.equal(first.code, 0, first.out);
  const backend = (JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")) as { backend: string }).backend;
  const other = backend === "cpu" ? "wasm" : "cpu";
  // step back to the checkpoint before the last, so the resume has a step to run
  fs.renameSync(path.join(dir, "checkpoint.prev.json"), path.join(dir, "checkpoint.json"));
  const refused = trainCli(args, { LST_BACKEND: other });
  assert.equal(refused.code, 1, refused.out);
  assert.ok(
    refused.out.includes(`written on the '${backend}' backend, but this process runs on '${other}'`),
    refused.out,
  );
  assert.ok(
    refused.out.includes(`LST_BACKEND=${backend}`) && refused.out.includes("--allowBackendChange"),
    refused.out,
  );
  assert.equal(lossesOf(dir).length, 6, "the refused resume removed nothing");
  const asked = trainCli([...args, "--allowBackendChange"], { LST_BACKEND: other });
  assert.equal(asked.code, 0, asked.out);
  assert.equal(lossesOf(dir).length, 6);
  assert.equal(
    (JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8")) as { meta: { backend: string } }).meta
      .backend,
    other,
  );
});
