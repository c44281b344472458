/**
 * Fused RMSNorm on webgpu: y = x / sqrt(mean(x^2) + 1e-5) over the last axis of x [..., C] (no gain: the model
 * folds the gain into the next weight, lib/model/layers.ts `linear`). One dispatch forward and one backward,
 * where the composed form takes square, mean, add, rsqrt and mul forward and five ops backward.
 *
 * Layout (`rowLayout`, shared with cross-entropy.ts): a workgroup of 128 threads is split into teams of
 * `team` = min(128, next power of two >= C) threads, one team per row, so a narrow row does not leave most
 * of a workgroup idle (C = 16: 8 rows a workgroup; C >= 128: one). Each thread strides over its row's columns,
 * summing into a register; the team then halves a shared-memory array log2(team) times (a tree reduction),
 * and every thread reads the row's total from its team's slot 0. Workgroups fold into y past 65535.
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
import { flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup of the row kernels (here and in cross-entropy.ts) */
export const ROW_THREADS = 128;
const WG = ROW_THREADS;

/**
 * Threads per row (a power of two, at most 128) and rows per workgroup for rows of `width` values.
 * Example: width 33 -> team 64, 2 rows a workgroup; width 1 -> team 1, 128 rows; width 1000 -> 128, 1.
 */
export function rowLayout(width: number): { team: number; rowsPerGroup: number } {
  let team = 1;
  while (team < width && team < WG) team *= 2;
  return { team, rowsPerGroup: WG / team };
}

/**
 * WGSL shared by the row kernels: `team`, `lane` (the thread's place in its team), `row` and `inRow` (row <
 * rows), for the uniforms `team` and `rows`. No early return: every thread must reach each barrier.
 */
export const ROW_PRELUDE = `
  let team = uniforms.team;
  let lane = i32(localIndex) % team;
  let group = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let row = group * (${WG} / team) + i32(localIndex) / team;
  let inRow = row < uniforms.rows;`;

const ROW_UNIFORMS = [
  { name: "rows", type: "i32" as const },
  { name: "c", type: "i32" as const },
  { name: "team", type: "i32" as const },
];

function forward(b: WebgpuBackendLike, x: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const { team, rowsPerGroup } = rowLayout(c);
  return runWgsl(
    b,
    {
      key: "rms_norm",
      outputShape: x.shape.slice(),
      inputs: ["X"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(rows, rowsPerGroup),
      uniforms: ROW_UNIFORMS,
      body: `var<workgroup> red: array<f32, ${WG}>;
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
    [rows, c, team],
  );
}

function backward(b: WebgpuBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const { team, rowsPerGroup } = rowLayout(c);
  return runWgsl(
    b,
    {
      key: "rms_norm_grad",
      outputShape: x.shape.slice(),
      inputs: ["X", "DY"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(rows, rowsPerGroup),
      uniforms: ROW_UNIFORMS,
      body: `var<workgroup> redXX: array<f32, ${WG}>;
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
    [rows, c, team],
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
