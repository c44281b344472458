import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { modalityLosses, train, type StepMetrics, type TrainOptions } from "../../lib/train/train";
import { loadCheckpoint } from "../../lib/train/checkpoint";
import { syntheticSource } from "../../lib/train/synthetic";
import { trainKilledAt } from "./kill";

const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-train-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tiny = (kind: "baseline" | "lst") => ({
  kind,
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  maxSeqLen: 64,
  lst: { dLocal: 16, nHeadsLocal: 2, decoderLayers: 1, encoderLayers: 1, crossAttnK: 2, localWindow: 16 },
});
const trainCfg = { batchSize: 2, seqLen: 24, globalLen: 24, maxRawLen: 48, lr: 1e-2, warmupSteps: 2 };

test("modalityLosses splits the NLL by target modality (ids >= unitOffset are speech)", () => {
  const nll = Float32Array.from([1, 2, 3, 4, 0]);
  const targets = Int32Array.from([5, 20, 21, 6, -1]);
  assert.deepEqual(modalityLosses(nll, targets, 16), { loss: 2.5, lossSpeech: 2.5, lossText: 2.5 });
  const only = modalityLosses(Float32Array.from([1, 3]), Int32Array.from([5, 6]), 16);
  assert.equal(only.loss, 2);
  assert.ok(Number.isNaN(only.lossSpeech));
});

test("the loss goes down on the synthetic corpus (baseline)", async () => {
  await initBackend();
  const r = await train({ model: tiny("baseline"), train: { ...trainCfg, steps: 30 }, source: syntheticSource(0) });
  const first = r.metrics.slice(0, 3).reduce((a, m) => a + m.loss, 0) / 3;
  const last = r.metrics.slice(-3).reduce((a, m) => a + m.loss, 0) / 3;
  assert.ok(last < first - 0.5, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.equal(r.metrics[0].globalUnits, 2 * 24);
  r.model.dispose();
});

test("resume after a kill gives the same losses as an uninterrupted run (LST, curriculum)", async () => {
  await initBackend();
  const opts: TrainOptions = {
    model: tiny("lst"),
    train: { ...trainCfg, steps: 6, ckptEvery: 2 },
    patching: { scheme: "curriculum" },
    source: syntheticSource(1),
  };
  const straight = await train(opts);
  straight.model.dispose();

  const dir = tmp();
  await trainKilledAt(opts, dir, 3);
  assert.equal(loadCheckpoint(dir)?.step, 2);
  // the checkpoint cadence is not part of the config hash: resuming with another one is fine
  const resumed = await train({ ...opts, dir, train: { ...trainCfg, steps: 6, ckptEvery: 3 } });
  assert.equal(resumed.resumedFrom, 2);
  assert.deepEqual(
    resumed.metrics.map((m) => m.step),
    [2, 3, 4, 5],
  );
  resumed.metrics.forEach((m, i) => {
    const ref = straight.metrics[i + 2];
    assert.ok(Math.abs(m.loss - ref.loss) <= 1e-6, `step ${m.step}: ${m.loss} vs ${ref.loss}`);
    assert.ok(Math.abs(m.gradNorm - ref.gradNorm) <= 1e-5);
  });
  const lines = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n");
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as StepMetrics).step),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(loadCheckpoint(dir)?.step, 6);
  resumed.model.dispose();

  // a checkpoint from another config is rejected; one of another optimiser schedule names the explicit override
  await assert.rejects(
    train({ ...opts, dir, train: { ...trainCfg, steps: 6, ckptEvery: 2, batchSize: 3 } }),
    /config hash .* resume with the same config/,
  );
  await assert.rejects(
    train({ ...opts, dir, train: { ...trainCfg, steps: 6, ckptEvery: 2, lr: 2e-2 } }),
    /config hash .*only the optimiser schedule .*allowScheduleChange/,
  );
});

test("abort stops after the current step and saves a checkpoint to resume from", async () => {
  await initBackend();
  const dir = tmp();
  const ac = new AbortController();
  const r = await train({
    model: tiny("baseline"),
    train: { ...trainCfg, steps: 10, ckptEvery: 0 },
    source: syntheticSource(2),
    dir,
    signal: ac.signal,
    onStep: (m) => {
      if (m.step === 1) ac.abort();
    },
  });
  assert.equal(r.metrics.length, 2);
  assert.equal(loadCheckpoint(dir)?.step, 2);
  r.model.dispose();
});

test("a non-finite loss or gradient (lr 1e30) stops training with an error naming the step; the last good checkpoint is kept", async () => {
  await initBackend();
  const dir = tmp();
  await assert.rejects(
    train({
      model: tiny("baseline"),
      train: { ...trainCfg, steps: 5, lr: 1e30, warmupSteps: 0, ckptEvery: 1 },
      source: syntheticSource(3),
      dir,
    }),
    /training diverged at step 1: loss .*, gradient norm .*last good checkpoint \(step 1\)/,
  );
  const ckpt = loadCheckpoint(dir);
  assert.equal(ckpt?.step, 1);
  // the kept checkpoint holds the weights after the one good step (huge but finite)
  assert.ok(ckpt!.params.every((p) => p.data.every((x) => Number.isFinite(x))));
});

test("the tensor count stays flat across steps (LST and baseline)", async () => {
  await initBackend();
  for (const kind of ["baseline", "lst"] as const) {
    const counts: number[] = [];
    const r = await train({
      model: tiny(kind),
      train: { ...trainCfg, steps: 5 },
      source: syntheticSource(4),
      onStep: () => counts.push(tf.memory().numTensors),
    });
    assert.deepEqual(counts.slice(1), Array(4).fill(counts[1]), `${kind}: ${counts}`);
    const before = tf.memory().numTensors;
    r.model.dispose();
    assert.ok(tf.memory().numTensors < before);
  }
});

test("config errors: unknown keys, patching on a baseline, too small a vocabulary", async () => {
  await initBackend();
  const source = syntheticSource(0);
  await assert.rejects(
    train({ model: tiny("baseline"), train: { stpes: 3 } as object, source }),
    /unknown config key 'train.stpes'/,
  );
  await assert.rejects(train({ model: tiny("baseline"), patching: { scheme: "static" }, source }), /LST models only/);
  await assert.rejects(
    train({ model: { ...tiny("baseline"), vocabSize: 10 }, source }),
    /smaller than the data's vocabulary 24/,
  );
});

test("onEval runs every evalEvery steps with the model after that step", async () => {
  await initBackend();
  const seen: number[] = [];
  const r = await train({
    model: tiny("baseline"),
    train: { ...trainCfg, steps: 5, evalEvery: 2 },
    source: syntheticSource(5),
    onEval: (model, step) => {
      seen.push(step);
      return { params: model.paramCount().total, step };
    },
  });
  assert.deepEqual(seen, [2, 4]);
  assert.deepEqual(
    r.metrics.map((m) => m.eval?.step),
    [undefined, 2, undefined, 4, undefined],
  );
  r.model.dispose();
});
