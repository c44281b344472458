/**
 * Fused RMSNorm on webgpu: y = x / sqrt(mean(x^2) + 1e-5) over the last axis of x [..., C] (no gain: the model
 * folds the gain into the next weight, lib/model/layers.ts `linear`). One dispatch forward and one backward,
 * where the composed form takes square, mean, add, rsqrt and mul forward and five ops backward.
 *
 * The reduction over a row is the row kernel of row-kernel.ts (`runRowKernel`): a team of threads per row
 * reduced in shared memory, or one subgroup per row where the device has subgroups.
 *
 * Backward, from x alone (r is recomputed: one more pass over a row already in cache, no saved tensor):
 *   dx = r (dy - y mean(dy y)) = r dy - r^3 x mean(dy x),   r = 1 / sqrt(mean(x^2) + 1e-5)
 * so one dispatch reduces sum(x^2) and sum(dy x) together (two shared arrays), then writes dx.
 *
 * Worked example (a case of test/webgpu/cases/rms-norm.ts): x = [2, 2, 2, -2]: mean(x^2) = 4, r = 1/2,
 * y = [1, 1, 1, -1]; for dy = [1, 0, 0, 0]: mean(dy y) = 1/4, dx = 1/2 ([1, 0, 0, 0] - y / 4)
 * = [0.375, -0.125, -0.125, 0.125].
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { registerFused, type WebgpuBackendLike } from "./program";
import { ROW_PRELUDE, ROW_THREADS as WG, runRowKernel } from "./row-kernel";

function forward(b: WebgpuBackendLike, x: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  return runRowKernel(
    b,
    {
      key: "rms_norm",
      outputShape: x.shape.slice(),
      inputs: ["X"],
      subgroupRow: `let base = row * uniforms.c;
    var ss = 0.0;
    for (var col = lane; col < uniforms.c; col += sgSize) { let v = X[base + col]; ss += v * v; }
    let r = 1.0 / sqrt(subgroupAdd(ss) / f32(uniforms.c) + 1e-5);
    for (var col = lane; col < uniforms.c; col += sgSize) { result[base + col] = X[base + col] * r; }`,
      treeBody: `var<workgroup> red: array<f32, ${WG}>;
fn main(index: i32) {${ROW_PRELUDE}
  let base = row * uniforms.c;
  var ss = 0.0;
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) { let v = X[base + col]; ss += v * v; }
  }
  red[localIndex] = ss;
  workgroupBarrier();
  for (var h = team / 2; h > 0; h = h / 2) {
    if (lane < h) { red[localIndex] += red[i32(localIndex) + h]; }
    workgroupBarrier();
  }
  let r = 1.0 / sqrt(red[i32(localIndex) - lane] / f32(uniforms.c) + 1e-5);
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) { result[base + col] = X[base + col] * r; }
  }
}`,
    },
    [x],
    rows,
    c,
  );
}

function backward(b: WebgpuBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  return runRowKernel(
    b,
    {
      key: "rms_norm_grad",
      outputShape: x.shape.slice(),
      inputs: ["X", "DY"],
      subgroupRow: `let base = row * uniforms.c;
    var acc = vec2<f32>(0.0); // (sum x^2, sum dy x)
    for (var col = lane; col < uniforms.c; col += sgSize) {
      let v = X[base + col];
      acc += vec2<f32>(v * v, v * DY[base + col]);
    }
    let tot = subgroupAdd(acc);
    let r = 1.0 / sqrt(tot.x / f32(uniforms.c) + 1e-5);
    let k = r * r * r * tot.y / f32(uniforms.c); // r^3 mean(dy x)
    for (var col = lane; col < uniforms.c; col += sgSize) {
      result[base + col] = r * DY[base + col] - k * X[base + col];
    }`,
      treeBody: `var<workgroup> redXX: array<f32, ${WG}>;
var<workgroup> redXD: array<f32, ${WG}>;
fn main(index: i32) {${ROW_PRELUDE}
  let base = row * uniforms.c;
  var xx = 0.0;
  var xd = 0.0;
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) {
      let v = X[base + col];
      xx += v * v;
      xd += v * DY[base + col];
    }
  }
  redXX[localIndex] = xx;
  redXD[localIndex] = xd;
  workgroupBarrier();
  for (var h = team / 2; h > 0; h = h / 2) {
    if (lane < h) {
      redXX[localIndex] += redXX[i32(localIndex) + h];
      redXD[localIndex] += redXD[i32(localIndex) + h];
    }
    workgroupBarrier();
  }
  let first = i32(localIndex) - lane;
  let r = 1.0 / sqrt(redXX[first] / f32(uniforms.c) + 1e-5);
  let k = r * r * r * redXD[first] / f32(uniforms.c); // r^3 mean(dy x)
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) {
      result[base + col] = r * DY[base + col] - k * X[base + col];
    }
  }
}`,
    },
    [x, dy],
    rows,
    c,
  );
}

export function registerRmsNorm(): void {
  registerFused({
    name: FUSED.rmsNorm,
    forward: ({ inputs, backend }) => forward(backend, inputs.x as tf.TensorInfo),
    grad: {
      kernelName: FUSED.rmsNorm,
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({
        x: () => tf.engine().runKernel(`${FUSED.rmsNorm}Grad`, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
      }),
    },
  });
  registerFused({
    name: `${FUSED.rmsNorm}Grad`,
    forward: ({ inputs, backend }) => backward(backend, inputs.x as tf.TensorInfo, inputs.dy as tf.TensorInfo),
  });
}
