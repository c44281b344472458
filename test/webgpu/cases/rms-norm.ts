/**
 * RMSNorm (lib/webgpu/rms-norm.ts): value and gradient through `rmsNormalize`, for row widths on both sides of
 * the team sizes (C = 1, 7, 33, 512, 1024), a rank-3 input, and the worked example of the kernel's header.
 * "rms 2-D dispatch" has more than 65535 workgroups (540000 rows of 16 = 8 rows a workgroup), so its rows fold
 * into the dispatch's y dimension; it compares a sample of rows spread over both dimensions.
 * "rms subgroups" / "rms tree" run the subgroup variant (where the device has `subgroups`) and the
 * shared-memory tree (LST_WEBGPU_SUBGROUPS=0) at C = 1, 7, 33, 512, 3000, proving the variant by
 * `rowKernelStats()`; "4 rows a subgroup" sets LST_WEBGPU_SUBGROUP_ROWS=64, so each subgroup loops over rows.
 */
import * as tf from "@tensorflow/tfjs-core";
import { rmsNormalize } from "../../../lib/model/layers";
import { readAll, seeded, type KernelCase } from "./types";
import { rowPath, withEnv } from "./features";

const KERNELS = ["LstRmsNorm", "LstRmsNormGrad"];

/**
 * y = rmsNormalize(x) and d sum(y * w) / dx for seeded x and w; with `stride`, only every stride-th row and the
 * last row of both (and no loss: a float32 sum of millions of terms differs between backends by its order).
 */
function valueAndGrad(shape: number[], seed: number, scale = 2, stride = 0): Promise<Record<string, number[]>> {
  return readAll((): Record<string, tf.Tensor> => {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(seeded(size, seed, scale), shape);
    const w = tf.tensor(seeded(size, seed + 1), shape);
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(tf.mul(rmsNormalize(t), w)))([x]);
    const y = rmsNormalize(x);
    if (stride === 0) return { y, loss: value, dx: grads[0] };
    const c = shape[shape.length - 1];
    const rows = size / c;
    const picks = [];
    for (let r = 0; r < rows; r += stride) picks.push(r);
    picks.push(rows - 1);
    const at = tf.tensor1d(picks, "int32");
    const sample = (t: tf.Tensor): tf.Tensor => tf.gather(tf.reshape(t, [rows, c]), at); // [..., C] -> [rows, C] -> [picks, C]
    return { ySample: sample(y), dxSample: sample(grads[0]) };
  });
}

const WIDTHS = [1, 7, 33, 512, 3000];

export const cases: KernelCase[] = [
  ...WIDTHS.map((c, i) => ({
    name: `rms subgroups [37,${c}]`,
    kernels: KERNELS,
    run: () => rowPath(true, () => valueAndGrad([37, c], 40 + i)),
  })),
  ...WIDTHS.map((c, i) => ({
    name: `rms tree (LST_WEBGPU_SUBGROUPS=0) [37,${c}]`,
    kernels: KERNELS,
    run: () => rowPath(false, () => valueAndGrad([37, c], 40 + i)),
  })),
  {
    name: "rms subgroups, 4 rows a subgroup [150,33]",
    kernels: KERNELS,
    run: () => withEnv("LST_WEBGPU_SUBGROUP_ROWS", "64", () => rowPath(true, () => valueAndGrad([150, 33], 46))),
  },
  { name: "rms [5,1]", kernels: KERNELS, run: () => valueAndGrad([5, 1], 11) },
  { name: "rms [3,7]", kernels: KERNELS, run: () => valueAndGrad([3, 7], 12) },
  { name: "rms [2,4,33]", kernels: KERNELS, run: () => valueAndGrad([2, 4, 33], 13) },
  { name: "rms [300,512]", kernels: KERNELS, run: () => valueAndGrad([300, 512], 14, 50) },
  { name: "rms [1,1024]", kernels: KERNELS, run: () => valueAndGrad([1, 1024], 15) },
  { name: "rms 2-D dispatch [540000,16]", kernels: KERNELS, run: () => valueAndGrad([540000, 16], 16, 2, 997) },
  {
    name: "rms worked example x=[2,2,2,-2]",
    kernels: KERNELS,
    run: async () => {
      const out = await readAll(() => {
        const x = tf.tensor2d([[2, 2, 2, -2]]);
        const dy = tf.tensor2d([[1, 0, 0, 0]]);
        return { y: rmsNormalize(x), dx: tf.grad((t: tf.Tensor) => rmsNormalize(t))(x, dy) };
      });
      const want = { y: [1, 1, 1, -1], dx: [0.375, -0.125, -0.125, 0.125] };
      for (const k of ["y", "dx"] as const)
        if (out[k].some((v, i) => Math.abs(v - want[k][i]) > 1e-5)) throw new Error(`worked example: ${k} = ${out[k]}`);
      return out;
    },
  },
];
