/**
 * Fused token-level cross-entropy on webgpu: logits [N, V], int32 targets [N] (-1 = ignored) -> nll [N],
 * nll_i = lse_i - x_{i, t_i} (0 where t_i = -1), with lse_i = log sum_j exp x_ij.
 *
 * The kernel has two outputs, [nll, lse]: the model keeps nll and drops lse, and the gradient saves lse so
 * the backward pass needs no reduction. Forward, two dispatches:
 *   1. lse [N]: one team of threads per row (the tree layout of row-kernel.ts `rowLayout`; V = 40..3000 -> 64 or
 *      128 threads a row). Each thread keeps a running (max m, sum s of exp(x - m)) over its columns,
 *      rescaling s when m grows, so the row is read once; the team merges pairs in shared memory,
 *      (m, s) + (m', s') = (M, s e^(m - M) + s' e^(m' - M)) with M = max(m, m'), and lse = m + log s.
 *      No exp of an unshifted logit, so logits of +-50 (or +-1000) neither overflow nor underflow to 0.
 *      Subgroup variant (row-kernel.ts `subgroupRowKernel`: one subgroup a row, where the device has
 *      `subgroups`): the lanes' (m, s) merge in two steps with no barrier, M = subgroupMax(m), then
 *      S = subgroupAdd(s e^(m - M)); a lane with no column (m = -3e38, s = 0) adds 0.
 *   2. nll [N]: one thread per row, lse - x_t, or 0 for an ignored row.
 * Backward, one dispatch over [N, V] (the upstream gradient for lse is unused):
 *   d x_ij = dy_i (exp(x_ij - lse_i) - [j = t_i]),   0 on an ignored row.
 *
 * Worked example (a case of test/webgpu/cases/cross-entropy.ts): logits [0, 0, ln 2], target 2:
 * sum exp = 1 + 1 + 2 = 4, lse = ln 4, nll = ln 4 - ln 2 = ln 2 = 0.6931; softmax = [1/4, 1/4, 1/2], so for
 * dy = 1 the gradient is [0.25, 0.25, -0.5]. The same logits with target -1: nll 0, gradient [0, 0, 0].
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";
import { ROW_PRELUDE, ROW_THREADS as WG, runRowKernel } from "./row-kernel";

function logSumExp(b: WebgpuBackendLike, logits: tf.TensorInfo): tf.TensorInfo {
  const [n, v] = logits.shape;
  return runRowKernel(
    b,
    {
      key: "cross_entropy_lse",
      outputShape: [n],
      inputs: ["X"],
      subgroupRow: `let base = row * uniforms.c;
    var m = -3.0e38; // each lane's running (max, sum of exp(x - max)), as in the tree variant
    var s = 0.0;
    for (var col = lane; col < uniforms.c; col += sgSize) {
      let x = X[base + col];
      if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
    }
    let mm = subgroupMax(m);
    let total = subgroupAdd(s * exp(m - mm));
    if (lane == 0) { result[row] = mm + log(total); }`,
      treeBody: `var<workgroup> redM: array<f32, ${WG}>;
var<workgroup> redS: array<f32, ${WG}>;
fn main(index: i32) {${ROW_PRELUDE}
  let base = row * uniforms.c;
  var m = -3.0e38; // below any logit; exp(m - x) = 0 while s = 0
  var s = 0.0;
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) {
      let x = X[base + col];
      if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
    }
  }
  redM[localIndex] = m;
  redS[localIndex] = s;
  workgroupBarrier();
  for (var h = team / 2; h > 0; h = h / 2) {
    if (lane < h) {
      let m2 = redM[i32(localIndex) + h];
      let s2 = redS[i32(localIndex) + h];
      let mm = max(m, m2);
      s = s * exp(m - mm) + s2 * exp(m2 - mm);
      m = mm;
      redM[localIndex] = m;
      redS[localIndex] = s;
    }
    workgroupBarrier();
  }
  if (inRow && lane == 0) { result[row] = m + log(s); }
}`,
    },
    [logits],
    n,
    v,
  );
}

function nllFromLse(
  b: WebgpuBackendLike,
  logits: tf.TensorInfo,
  targets: tf.TensorInfo,
  lse: tf.TensorInfo,
): tf.TensorInfo {
  const [n, v] = logits.shape;
  return runWgsl(
    b,
    {
      key: "cross_entropy_nll",
      outputShape: [n],
      inputs: ["X", "T", "LSE"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(n, WG),
      uniforms: [
        { name: "n", type: "i32" },
        { name: "v", type: "i32" },
      ],
      body: `fn main(i: i32) {
  if (i >= uniforms.n) { return; }
  let t = T[i];
  if (t < 0) { result[i] = 0.0; } else { result[i] = LSE[i] - X[i * uniforms.v + t]; }
}`,
    },
    [logits, targets, lse],
    [n, v],
  );
}

function backward(
  b: WebgpuBackendLike,
  logits: tf.TensorInfo,
  targets: tf.TensorInfo,
  lse: tf.TensorInfo,
  dy: tf.TensorInfo,
): tf.TensorInfo {
  const [n, v] = logits.shape;
  return runWgsl(
    b,
    {
      key: "cross_entropy_grad",
      outputShape: [n, v],
      inputs: ["X", "T", "LSE", "DY"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(n * v, WG),
      uniforms: [
        { name: "size", type: "i32" },
        { name: "v", type: "i32" },
      ],
      body: `fn main(i: i32) {
  if (i >= uniforms.size) { return; }
  let row = i / uniforms.v;
  let t = T[row];
  if (t < 0) { result[i] = 0.0; return; }
  var g = exp(X[i] - LSE[row]);
  if (i - row * uniforms.v == t) { g = g - 1.0; }
  result[i] = DY[row] * g;
}`,
    },
    [logits, targets, lse, dy],
    [n * v, v],
  );
}

export function registerCrossEntropy(): void {
  registerFused({
    name: FUSED.crossEntropy,
    forward: ({ inputs, backend }) => {
      const logits = inputs.logits as tf.TensorInfo;
      const lse = logSumExp(backend, logits);
      return [nllFromLse(backend, logits, inputs.targets as tf.TensorInfo, lse), lse];
    },
    grad: {
      kernelName: FUSED.crossEntropy,
      inputsToSave: ["logits", "targets"],
      outputsToSave: [false, true],
      // dys = [d nll, d lse]; the model never uses lse, so d lse is tfjs's zeros and is ignored
      gradFunc: (dys, saved) => ({
        logits: () =>
          tf.engine().runKernel(`${FUSED.crossEntropy}Grad`, {
            logits: saved[0],
            targets: saved[1],
            lse: saved[2],
            dy: (dys as tf.Tensor[])[0],
          }) as tf.Tensor,
      }),
    },
  });
  registerFused({
    name: `${FUSED.crossEntropy}Grad`,
    forward: ({ inputs, backend }) =>
      backward(
        backend,
        inputs.logits as tf.TensorInfo,
        inputs.targets as tf.TensorInfo,
        inputs.lse as tf.TensorInfo,
        inputs.dy as tf.TensorInfo,
      ),
  });
}
