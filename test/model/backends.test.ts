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
    const logits = tf.tensor2d([[1, 2, 3], [0, 0, 5]]);
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
  for (let i = 0; i < native.grad.length; i++) assert.ok(Math.abs(native.grad[i] - wasm.grad[i]) < 1e-5, `gradient ${i}: ${native.grad[i]} vs ${wasm.grad[i]}`);
  for (let i = 0; i < native.nll.length; i++) assert.ok(Math.abs(native.nll[i] - wasm.nll[i]) < 1e-5);
});
