/**
 * Training curves outside the lab: a short run's metrics as TensorBoard event files (read back by the
 * `tensorboard` package's EventAccumulator, from both writers: tfjs-node's `tf.node.summaryFileWriter` and the
 * lab's own) and as a flat CSV that `pandas.read_csv` loads as is, with the logged values.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { train, type StepMetrics } from "../../lib/train/train";
import { syntheticSource } from "../../lib/train/synthetic";
import { writeMetricsCsv, writeTensorboard } from "../../lib/train/metrics-export";
import { interopPython, runInterop } from "./python";

let dir = "";
let metrics: StepMetrics[] = [];

before(async () => {
  await initBackend();
  interopPython();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-curves-"));
  const r = await train({
    model: { kind: "baseline", dModel: 16, nLayers: 1, nHeads: 2, maxSeqLen: 32 },
    train: { steps: 6, batchSize: 2, seqLen: 16, lr: 1e-2, warmupSteps: 1, evalEvery: 3 },
    source: syntheticSource(1),
    dir,
    onEval: (_m, step) => ({ hs_tt: step / 10 }),
  });
  metrics = r.metrics;
  r.model.dispose();
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Read {
  series: Record<string, [number, number][]>;
  columns: string[];
  dtypes: Record<string, string>;
  rows: number;
  csv: Record<string, (number | null)[]>;
}

function readBack(logDir: string, csv: string): Read {
  return JSON.parse(runInterop("read_curves.py", [logDir, csv, "loss", "lr", "rawTokens/text", "eval/hs_tt"])) as Read;
}

function checkSeries(r: Read): void {
  assert.deepEqual(
    r.series.loss.map(([s]) => s),
    metrics.map((m) => m.step),
  );
  r.series.loss.forEach(([, v], i) =>
    assert.ok(
      Math.abs(v - metrics[i].loss) <= 1e-6 * Math.abs(metrics[i].loss),
      `loss at step ${i}: ${v} vs ${metrics[i].loss}`,
    ),
  );
  r.series.lr.forEach(([, v], i) => assert.ok(Math.abs(v - metrics[i].lr) <= 1e-6 * metrics[i].lr + 1e-12));
  assert.deepEqual(
    r.series["rawTokens/text"].map(([, v]) => v),
    metrics.map((m) => m.rawTokens.text),
  );
  assert.deepEqual(
    r.series["eval/hs_tt"].map(([s, v]) => [s, Number(v.toFixed(6))]),
    [
      [2, 0.3],
      [5, 0.6],
    ],
  );
}

test("metrics.csv loads in pandas as is, with the logged values", () => {
  const csv = writeMetricsCsv(dir);
  const r = readBack(writeTensorboard(dir, { writer: "lab", logDir: path.join(dir, "tb-lab") }).logDir, csv);
  assert.equal(r.rows, metrics.length);
  for (const c of [
    "step",
    "loss",
    "lossSpeech",
    "lossText",
    "lr",
    "gradNorm",
    "rawTokens.speech",
    "rawTokens.text",
    "ms",
    "eval.hs_tt",
  ])
    assert.ok(r.columns.includes(c), `column ${c} in ${r.columns}`);
  assert.equal(r.dtypes.step, "int64");
  assert.equal(r.dtypes.loss, "float64");
  // pandas' default float parser may differ from the shortest round-trip form in the last bit (1 ulp)
  const close = (got: (number | null)[], want: number[]) =>
    want.forEach((w, i) => assert.ok(Math.abs((got[i] as number) - w) <= 1e-15 * Math.abs(w), `${got[i]} vs ${w}`));
  close(
    r.csv.loss,
    metrics.map((m) => m.loss),
  );
  close(
    r.csv.gradNorm,
    metrics.map((m) => m.gradNorm),
  );
  assert.deepEqual(
    r.csv.step,
    metrics.map((m) => m.step),
  );
  assert.deepEqual(r.csv["eval.hs_tt"], [null, null, 0.3, null, null, 0.6]);
});

test("TensorBoard reads the loss series written by the lab's own event writer", () => {
  checkSeries(readBack(path.join(dir, "tb-lab"), path.join(dir, "metrics.csv")));
});

test("TensorBoard reads the loss series written by tf.node.summaryFileWriter (native backend)", (t) => {
  if (tf.getBackend() !== "tensorflow") {
    t.skip(
      `tf.node.summaryFileWriter needs the native 'tensorflow' backend; this process runs '${tf.getBackend()}' (the lab's own writer, tested above, covers it)`,
    );
    return;
  }
  const w = writeTensorboard(dir);
  assert.equal(w.writer, "tfjs-node");
  checkSeries(readBack(w.logDir, writeMetricsCsv(dir)));
});
