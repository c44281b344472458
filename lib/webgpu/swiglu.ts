/**
 * Fused SwiGLU on webgpu: y = silu(a) * b for ab = [a | b] [..., 2f] -> [..., f], one dispatch forward and one
 * backward (the composed form in lib/model/layers.ts `swiglu` takes a split, a sigmoid, two products forward
 * and eight ops backward). With s = sigmoid(a):
 *   da = dy * b * s * (1 + a (1 - s)),   db = dy * a * s
 * The backward writes [da | db] [..., 2f] in place of the concat.
 * Worked example (a test): a = 0, b = 2 -> y = 0, and for dy = 1: da = 2 * 0.5 * 1 = 1, db = 0.
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup; one thread per value */
const WG = 128;

function forward(b: WebgpuBackendLike, ab: tf.TensorInfo): tf.TensorInfo {
  const shape = ab.shape.slice();
  const f = shape[shape.length - 1] / 2;
  shape[shape.length - 1] = f;
  const n = shape.reduce((p, q) => p * q, 1);
  return runWgsl(
    b,
    {
      key: "swiglu",
      outputShape: shape,
      inputs: ["AB"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(n, WG),
      uniforms: [
        { name: "n", type: "i32" },
        { name: "f", type: "i32" },
      ],
      body: `fn main(i: i32) {
  if (i >= uniforms.n) { return; }
  let row = i / uniforms.f;
  let col = i - row * uniforms.f;
  let a = AB[row * 2 * uniforms.f + col];
  let bv = AB[row * 2 * uniforms.f + uniforms.f + col];
  result[i] = a / (1.0 + exp(-a)) * bv;
}`,
    },
    [ab],
    [n, f],
  );
}

function backward(b: WebgpuBackendLike, ab: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const n = ab.shape.reduce((p, q) => p * q, 1);
  const f = ab.shape[ab.shape.length - 1] / 2;
  return runWgsl(
    b,
    {
      key: "swiglu_grad",
      outputShape: ab.shape.slice(),
      inputs: ["AB", "DY"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(n, WG),
      uniforms: [
        { name: "n", type: "i32" },
        { name: "f", type: "i32" },
      ],
      body: `fn main(i: i32) {
  if (i >= uniforms.n) { return; }
  let row = i / (2 * uniforms.f);
  var col = i - row * 2 * uniforms.f;
  let isB = col >= uniforms.f;
  if (isB) { col = col - uniforms.f; }
  let a = AB[row * 2 * uniforms.f + col];
  let bv = AB[row * 2 * uniforms.f + uniforms.f + col];
  let g = DY[row * uniforms.f + col];
  let s = 1.0 / (1.0 + exp(-a));
  if (isB) {
    result[i] = g * a * s;
  } else {
    result[i] = g * bv * s * (1.0 + a * (1.0 - s));
  }
}`,
    },
    [ab, dy],
    [n, f],
  );
}

export function registerSwiglu(): void {
  registerFused({
    name: FUSED.swiglu,
    forward: ({ inputs, backend }) => forward(backend, inputs.ab as tf.TensorInfo),
    grad: {
      kernelName: FUSED.swiglu,
      inputsToSave: ["ab"],
      gradFunc: (dy, saved) => ({
        ab: () => tf.engine().runKernel(`${FUSED.swiglu}Grad`, { ab: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
      }),
    },
  });
  registerFused({
    name: `${FUSED.swiglu}Grad`,
    forward: ({ inputs, backend }) => backward(backend, inputs.ab as tf.TensorInfo, inputs.dy as tf.TensorInfo),
  });
}
