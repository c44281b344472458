import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { toBatch, type BatchRow } from "../../lib/model/batch";
import { createModel } from "../../lib/model/create";
import { Rng } from "../../lib/rng";
import { BOS, SPEECH } from "../../lib/tokenizers/special";
import type { Batch, LanguageModel } from "../../lib/model/types";

const V = 40;

function fixedBatch(kind: "baseline" | "lst"): Batch {
  const rng = new Rng(9);
  const rows: BatchRow[] = [];
  for (let b = 0; b < 2; b++) {
    const ids = new Int32Array(17);
    ids[0] = BOS;
    ids[1] = SPEECH;
    for (let i = 2; i < ids.length; i++) ids[i] = 5 + rng.int(V - 5);
    // BOS, <s>, then speech patches of 4 over the 15 units (the last one 3 long)
    rows.push(kind === "lst" ? { ids, patchLengths: Int32Array.from([1, 1, 4, 4, 4, 3]) } : { ids });
  }
  return toBatch(rows, { T: 16 });
}

function meanLoss(model: LanguageModel, batch: Batch): tf.Scalar {
  return tf.mean(model.tokenNll(batch));
}

for (const kind of ["baseline", "lst"] as const) {
  test(`${kind}: a tiny model overfits a fixed batch with Adam, and the tensor count stays flat`, async () => {
    await initBackend();
    const model = createModel({
      kind,
      vocabSize: V,
      dModel: 32,
      nLayers: 2,
      nHeads: 2,
      maxSeqLen: 32,
      lst: { dLocal: 16, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 2, crossAttnK: 2, localWindow: 8 },
    });
    const batch = fixedBatch(kind);
    const opt = tf.train.adam(1e-2);
    const first = tf.tidy(() => meanLoss(model, batch).dataSync()[0]);
    let last = first;
    const counts: number[] = [];
    for (let step = 0; step < 200; step++) {
      const loss = opt.minimize(() => meanLoss(model, batch), true, model.variables);
      if (loss === null) throw new Error("optimizer.minimize returned no loss");
      last = loss.dataSync()[0];
      loss.dispose();
      if (step >= 2 && step < 6) counts.push(tf.memory().numTensors);
    }
    // steps 0-1 create the optimizer slots; from then on nothing may accumulate
    assert.ok(
      counts.every((c) => c === counts[0]),
      `tensor count grew over steps: ${counts.join(", ")}`,
    );
    assert.ok(first > 3, `initial loss ${first} should be near ln(${V}) = ${Math.log(V).toFixed(2)}`);
    assert.ok(last < 0.05, `${kind} did not overfit: loss ${first.toFixed(3)} -> ${last.toFixed(4)} after 200 steps`);
    // every parameter receives gradient
    const { grads } = tf.variableGrads(() => meanLoss(model, batch), model.variables);
    for (const v of model.variables) {
      const g = grads[v.name];
      assert.ok(g !== undefined && tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0, `no gradient reaches ${v.name}`);
    }
    for (const g of Object.values(grads)) g.dispose();
    const before = tf.memory().numTensors;
    opt.dispose();
    model.dispose();
    assert.ok(tf.memory().numTensors < before, "dispose must free the model's variables");
  });
}
