import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { initBackend } from "../../lib/backend";
import { crossEntropyNll } from "../../lib/model/layers";

/** The loss and its gradient on one backend (the fallbacks must train, not only run). */
async function lossAndGrad(backend: string): Promise<{ nll: number[]; grad: number[] }> {
  await initBackend({ backend });
  return tf.tidy(() => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 5],
    ]);
    const targets = Int32Array.from([2, 0]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(crossEntropyNll(x as tf.Tensor2D, targets)))(logits);
    return { nll: Array.from(crossEntropyNll(logits, targets).dataSync()), grad: Array.from(grad.dataSync()) };
  });
}

test("cross-entropy and its gradient agree on the native and wasm backends (wasm's float oneHot regression)", async () => {
  const native = await lossAndGrad("tensorflow");
  const wasm = await lossAndGrad("wasm");
  // softmax of [0,0,5] minus onehot(0): the target's gradient is p0 - 1 = 1 / (2 + e^5) - 1 = -0.99335
  assert.ok(Math.abs(native.grad[3] + 0.99335) < 1e-4, `native gradient ${native.grad[3]}`);
  for (let i = 0; i < native.grad.length; i++)
    assert.ok(Math.abs(native.grad[i] - wasm.grad[i]) < 1e-5, `gradient ${i}: ${native.grad[i]} vs ${wasm.grad[i]}`);
  for (let i = 0; i < native.nll.length; i++) assert.ok(Math.abs(native.nll[i] - wasm.nll[i]) < 1e-5);
});

test("cross-entropy equals -log softmax at the target (ignored rows 0) with the softmax - onehot gradient, and stays exact for huge logit gaps", async () => {
  await initBackend({ backend: "tensorflow" });
  tf.tidy(() => {
    const N = 7;
    const V = 11;
    const logits = tf.mul(tf.randomNormal([N, V], 0, 1, "float32", 3), 5) as tf.Tensor2D;
    const targets = Int32Array.from([0, 3, -1, 10, 0, -1, 5]); // row 0 and row 4 both target column 0; two ignored rows
    const keep = tf.tensor1d(Array.from(targets, (t) => (t < 0 ? 0 : 1)));
    const reference = (x: tf.Tensor2D) => {
      const onehot = tf.cast(
        tf.oneHot(
          tf.tensor1d(
            targets.map((t) => Math.max(t, 0)),
            "int32",
          ),
          V,
        ),
        "float32",
      );
      return tf.mul(tf.neg(tf.sum(tf.mul(tf.logSoftmax(x), onehot), 1)), keep);
    };
    const w = tf.randomNormal([N], 0, 1, "float32", 4); // a weighted sum, so each row's dy differs
    const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(crossEntropyNll(x as tf.Tensor2D, targets), w)))(logits);
    const theirs = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(reference(x as tf.Tensor2D), w)))(logits);
    const dv = tf.max(tf.abs(tf.sub(crossEntropyNll(logits, targets), reference(logits)))).dataSync()[0];
    const dg = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0];
    assert.ok(dv < 1e-5, `nll differs by ${dv}`);
    assert.ok(dg < 1e-6, `gradient differs by ${dg}`);
    // the target's probability underflows float32 here; the value must not become Infinity
    const nll = crossEntropyNll(
      tf.tensor2d([
        [0, 200, -300],
        [1000, 0, 0],
      ]),
      Int32Array.from([2, 1]),
    ).dataSync();
    assert.deepEqual(Array.from(nll), [500, 1000]);
  });
});
