/**
 * Cross-entropy (lib/webgpu/cross-entropy.ts): per-row NLL and its gradient through `crossEntropyNll`, for
 * vocabularies on both sides of the team sizes (V = 3, 41, 1000, 3000), one row and many, ignored targets
 * (-1, including a batch with every row ignored), logits of +-50 for stability, and the worked example of the
 * kernel's header. "ce 2-D dispatch" has more than 65535 * 128 logits, so the backward's workgroups fold into
 * the dispatch's y dimension (and the forward has 105000 workgroups of 2 rows); it compares a sample of rows.
 * "ce subgroups" / "ce tree" run the log-sum-exp's subgroup variant (where the device has `subgroups`) and its
 * shared-memory tree (LST_WEBGPU_SUBGROUPS=0) at V = 1, 7, 33, 512, 3000, proving the variant by
 * `rowKernelStats()`; "4 rows a subgroup" sets LST_WEBGPU_SUBGROUP_ROWS=64, so each subgroup loops over rows.
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossEntropyNll } from "../../../lib/model/layers";
import { readAll, seeded, type KernelCase } from "./types";
import { rowPath, withEnv } from "./features";

const KERNELS = ["LstCrossEntropy", "LstCrossEntropyGrad"];

/** Seeded targets in 0..v-1, with every `ignoreEvery`-th one -1 (never when 0). */
function targetsFor(n: number, v: number, seed: number, ignoreEvery: number): Int32Array {
  const u = seeded(n, seed);
  return Int32Array.from(u, (r, i) => (ignoreEvery > 0 && i % ignoreEvery === 0 ? -1 : Math.floor(((r + 1) / 2) * v)));
}

/**
 * nll and d sum(nll * w) / d logits for seeded logits in [-scale, scale) and row weights w; with `stride`, only
 * every stride-th row and the last (and no loss: a float32 sum of many terms differs between backends by order).
 */
function valueAndGrad(
  n: number,
  v: number,
  seed: number,
  opts: { scale?: number; ignoreEvery?: number; stride?: number } = {},
): Promise<Record<string, number[]>> {
  const targets = targetsFor(n, v, seed + 2, opts.ignoreEvery ?? 0);
  return readAll((): Record<string, tf.Tensor> => {
    const logits = tf.tensor2d(seeded(n * v, seed, opts.scale ?? 3), [n, v]);
    const w = tf.tensor1d(seeded(n, seed + 1));
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(crossEntropyNll(x as tf.Tensor2D, targets), w));
    const { value, grads } = tf.valueAndGrads(f)([logits]);
    const nll = crossEntropyNll(logits, targets);
    if (!opts.stride) return { nll, loss: value, dlogits: grads[0] };
    const picks = [];
    for (let r = 0; r < n; r += opts.stride) picks.push(r);
    picks.push(n - 1);
    const at = tf.tensor1d(picks, "int32");
    return { nllSample: tf.gather(nll, at), dlogitsSample: tf.gather(grads[0], at) }; // [picks], [picks, V]
  });
}

const WIDTHS = [1, 7, 33, 512, 3000];

export const cases: KernelCase[] = [
  ...WIDTHS.map((v, i) => ({
    name: `ce subgroups [37,${v}]`,
    kernels: KERNELS,
    run: () => rowPath(true, () => valueAndGrad(37, v, 50 + i, { ignoreEvery: 5 })),
  })),
  ...WIDTHS.map((v, i) => ({
    name: `ce tree (LST_WEBGPU_SUBGROUPS=0) [37,${v}]`,
    kernels: KERNELS,
    run: () => rowPath(false, () => valueAndGrad(37, v, 50 + i, { ignoreEvery: 5 })),
  })),
  {
    name: "ce subgroups, 4 rows a subgroup, logits +-50 [150,41]",
    kernels: KERNELS,
    run: () =>
      withEnv("LST_WEBGPU_SUBGROUP_ROWS", "64", () =>
        rowPath(true, () => valueAndGrad(150, 41, 56, { scale: 50, ignoreEvery: 7 })),
      ),
  },
  { name: "ce [1,41]", kernels: KERNELS, run: () => valueAndGrad(1, 41, 21) },
  { name: "ce [5,3] ignored rows", kernels: KERNELS, run: () => valueAndGrad(5, 3, 22, { ignoreEvery: 2 }) },
  { name: "ce [5,41] all ignored", kernels: KERNELS, run: () => valueAndGrad(5, 41, 23, { ignoreEvery: 1 }) },
  {
    name: "ce [300,1000] logits +-50",
    kernels: KERNELS,
    run: () => valueAndGrad(300, 1000, 24, { scale: 50, ignoreEvery: 7 }),
  },
  { name: "ce [37,3000]", kernels: KERNELS, run: () => valueAndGrad(37, 3000, 25, { ignoreEvery: 5 }) },
  {
    name: "ce 2-D dispatch [210000,41]",
    kernels: KERNELS,
    run: () => valueAndGrad(210000, 41, 26, { ignoreEvery: 3, stride: 997 }),
  },
  {
    name: "ce worked example [0, 0, ln 2]",
    kernels: KERNELS,
    run: async () => {
      const targets = new Int32Array([2, -1]);
      const out = await readAll(() => {
        const logits = tf.tensor2d([
          [0, 0, Math.LN2],
          [0, 0, Math.LN2],
        ]);
        const grad = tf.grad((x: tf.Tensor) => tf.sum(crossEntropyNll(x as tf.Tensor2D, targets)))(logits);
        return { nll: crossEntropyNll(logits, targets), dlogits: grad };
      });
      const want = { nll: [Math.LN2, 0], dlogits: [0.25, 0.25, -0.5, 0, 0, 0] };
      for (const k of ["nll", "dlogits"] as const)
        if (out[k].some((x, i) => Math.abs(x - want[k][i]) > 1e-5)) throw new Error(`worked example: ${k} = ${out[k]}`);
      return out;
    },
  },
];
