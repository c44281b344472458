/**
 * Bad values refused before anything is written, and a poisoned state never written: a non-finite learning
 * rate, weights that became non-finite (never the "last good" checkpoint; the suggested fix is followable),
 * a bad seed (reported as `seed`), an invalid spec (no run directory made), LST_DATA_DIR, a read-only or
 * blocked data dir (the path and the fix), an unknown TTS voice (the voices listed).
 */
import { test, before, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { initBackend } from "../../lib/backend";
import { ensureWritableDir } from "../../lib/files";
import { cacheDir, dataDir, figuresDir, runsDir } from "../../lib/paths";
import { createTts } from "../../lib/audio/tts";
import { datasetDir } from "../../lib/data/build";
import { resolveDataConfig } from "../../lib/data/config";
import { resolveExperiment, SCALES } from "../../lib/experiment/experiment";
import { runExperiment } from "../../lib/experiment/study";
import { hasCheckpoint, loadCheckpoint } from "../../lib/train/checkpoint";
import { resolveTrainConfig } from "../../lib/train/config";
import { syntheticSource } from "../../lib/train/synthetic";
import { train, type TrainOptions } from "../../lib/train/train";
import { TINY_MODEL, TINY_TRAIN, lossesOf, mountTmpfs, tinyCliArgs, tmpDir, trainCli } from "./helpers";

const opts = (dir: string, train: Partial<typeof TINY_TRAIN>, over: Partial<TrainOptions> = {}): TrainOptions => ({
  model: TINY_MODEL,
  train: { ...TINY_TRAIN, ...train },
  source: syntheticSource(0),
  dir,
  ...over,
});
const savedEnv = process.env.LST_DATA_DIR;

before(async () => {
  await initBackend();
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.LST_DATA_DIR;
  else process.env.LST_DATA_DIR = savedEnv;
});

test("a non-finite learning rate (or beta, eps, ...) is refused at config validation, in the library, an experiment spec and the CLI", () => {
  for (const [k, v] of [
    ["lr", Infinity],
    ["lr", NaN],
    ["beta2", 1],
    ["eps", 0],
    ["clip", Infinity],
    ["weightDecay", -Infinity],
  ] as const) {
    assert.throws(() => resolveTrainConfig({ [k]: v }), new RegExp(`train config '${k}' must be`));
  }
  assert.throws(
    () => resolveExperiment({ name: "x", train: { lr: Infinity } }, SCALES.smoke),
    /'lr' must be a finite number > 0, got Infinity/,
  );
  const dir = path.join(tmpDir(), "run");
  const r = trainCli(tinyCliArgs(4, ["--train.lr=Infinity", `--runDir=${dir}`]));
  assert.equal(r.code, 1);
  assert.match(r.out, /'lr' must be a finite number > 0, got Infinity/);
  assert.equal(fs.existsSync(dir), false, "no run dir is made for a refused config");
});

test("weights that became non-finite are never written as a checkpoint; the message's fix (lower lr + allowScheduleChange) continues the run", async () => {
  const dir = tmpDir();
  await assert.rejects(
    train(
      opts(
        dir,
        { steps: 6 },
        {
          onStep: (m) => {
            if (m.step === 2) throw new Error("stop");
          },
        },
      ),
    ),
    /stop/,
  );
  assert.equal(loadCheckpoint(dir)?.step, 2);
  // another rate is another config: refused unless asked, and the refusal names the way
  await assert.rejects(
    train(opts(dir, { steps: 6, lr: 1e39, warmupSteps: 0 })),
    /only the optimiser schedule .* allowScheduleChange/,
  );
  // an absurd rate that float32 overflows in the first update (finite as a JS number, so it passes validation)
  let message = "";
  await assert.rejects(
    train(opts(dir, { steps: 6, lr: 1e39, warmupSteps: 0 }, { allowScheduleChange: true })),
    (e: Error) => {
      message = e.message;
      return (
        /NaN or infinite/.test(e.message) &&
        /not written as a checkpoint/.test(e.message) &&
        e.message.includes(`last good checkpoint (step 2) in ${dir}`)
      );
    },
  );
  assert.match(message, /Lower train\.lr .* allowScheduleChange/);
  const kept = loadCheckpoint(dir);
  assert.equal(kept?.step, 2);
  assert.ok(kept?.params.every((p) => p.data.every(Number.isFinite)));
  // follow the message: a lower rate, continuing this run from its last good checkpoint
  const resumed = await train(opts(dir, { steps: 6, lr: 5e-3 }, { allowScheduleChange: true }));
  resumed.model.dispose();
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(lossesOf(dir).length, 6);
  assert.ok(hasCheckpoint(dir) && loadCheckpoint(dir)?.step === 6);
});

test("a bad seed is reported as `seed`, not as the patching or train seed it is copied into", () => {
  for (const seed of [1.5, NaN, "3" as unknown as number]) {
    assert.throws(
      () => resolveExperiment({ name: "x", seed }, SCALES.smoke),
      (e: Error) => /experiment 'x': seed must be an integer/.test(e.message) && !/patching\.seed/.test(e.message),
    );
  }
});

test("an invalid spec is refused before any run directory is made", async () => {
  const runsRoot = tmpDir();
  const cases: [Parameters<typeof runExperiment>[0], RegExp][] = [
    [{ name: "a", train: { lr: Infinity } }, /'lr' must be a finite number/],
    [{ name: "b", model: { nHeads: 3 } }, /not divisible by nHeads 3/],
    [{ name: "c", patching: { patchSize: 0 } }, /patchSize must be a positive integer/],
    [{ name: "d", eval: { batchSize: 0 } }, /eval\.batchSize must be a positive integer/],
    [{ name: "e", mix: { speechOnlyFrac: 1 } }, /speechOnlyFrac must be in \[0, 1\)/],
  ];
  for (const [spec, want] of cases) await assert.rejects(runExperiment(spec, { scale: SCALES.smoke, runsRoot }), want);
  assert.deepEqual(fs.readdirSync(runsRoot), []);
});

test("LST_DATA_DIR moves runs/, cache/ and figures/ (default data/); an empty value is refused", () => {
  delete process.env.LST_DATA_DIR;
  assert.equal(dataDir(), "data");
  assert.equal(runsDir(), path.join("data", "runs"));
  const root = tmpDir();
  process.env.LST_DATA_DIR = root;
  assert.equal(runsDir(), path.join(root, "runs"));
  assert.equal(cacheDir(), path.join(root, "cache"));
  assert.equal(figuresDir(), path.join(root, "figures"));
  assert.equal(path.dirname(datasetDir(resolveDataConfig("smoke"))), path.join(root, "cache"));
  process.env.LST_DATA_DIR = " ";
  assert.throws(() => runsDir(), /LST_DATA_DIR is set but empty/);
});

test(
  "a read-only data dir, or a file in the way, is named with the fix before a run starts",
  { skip: process.platform !== "linux" ? "linux only" : false },
  async () => {
    const blocked = path.join(tmpDir(), "data");
    fs.writeFileSync(blocked, "not a directory");
    assert.throws(
      () => ensureWritableDir(path.join(blocked, "runs")),
      (e: Error) =>
        e.message.includes(path.join(blocked, "runs")) &&
        /ENOTDIR|ENOENT|EEXIST/.test(e.message) &&
        /LST_DATA_DIR|move that file/.test(e.message),
    );
    // read-only: a read-only tmpfs as root (root ignores mode bits), else a directory without write permission
    let ro = mountTmpfs("64k");
    if (ro) spawnSync("mount", ["-o", "remount,ro", ro]);
    else if (process.getuid?.() !== 0) {
      ro = tmpDir();
      fs.chmodSync(ro, 0o555);
    }
    if (!ro) return;
    process.env.LST_DATA_DIR = ro;
    await assert.rejects(
      runExperiment({ name: "x" }, { scale: SCALES.smoke }),
      (e: Error) =>
        e.message.includes(path.join(ro as string, "runs")) &&
        /read-only|no permission/.test(e.message) &&
        /LST_DATA_DIR/.test(e.message),
    );
  },
);

test("an unknown TTS voice is a clear error listing the voices", async () => {
  const tts = await createTts();
  assert.throws(
    () => tts.synthesize("hello", "nobody"),
    (e: Error) =>
      /unknown voice 'nobody'/.test(e.message) && /us-m1 \(en-us\+m1\)/.test(e.message) && /scot-m7/.test(e.message),
  );
  assert.throws(() => tts.synthesize("hello", undefined as unknown as string), /is not a voice: give a name/);
  assert.equal(tts.synthesize("hello", "us-m1").voice, "us-m1");
});
