/** Rotary embedding (lib/webgpu/rope.ts): value and gradient with seeded tables, and its header's worked example. */
import * as tf from "@tensorflow/tfjs-core";
import { applyRope, ropeTables } from "../../../lib/model/attention";
import { TensorCache } from "../../../lib/model/masks";
import { readAll, seeded, type KernelCase } from "./types";

const KERNELS = ["LstRope", "LstRopeGrad"];

function valueAndGrad(
  shape: [number, number, number, number],
  seed: number,
  tables: "seeded" | "rope",
): Promise<Record<string, number[]>> {
  const [n, dh] = shape.slice(2);
  const cache = new TensorCache();
  return readAll(() => {
    const x = tf.tensor4d(seeded(shape[0] * shape[1] * n * dh, seed), shape);
    let cos: tf.Tensor2D;
    let sin: tf.Tensor2D;
    if (tables === "rope") ({ qCos: cos, qSin: sin } = ropeTables(cache, n, dh, 10000));
    else [cos, sin] = [tf.tensor2d(seeded(n * dh, seed + 1), [n, dh]), tf.tensor2d(seeded(n * dh, seed + 2), [n, dh])];
    const w = tf.tensor(seeded(x.size, seed + 3), shape);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor) =>
      tf.sum(tf.mul(applyRope(a as tf.Tensor4D, cos, sin), w)),
    )([x]);
    return { y: applyRope(x, cos, sin), loss: value, dx: grads[0] };
  }).finally(() => cache.dispose());
}

export const cases: KernelCase[] = [
  { name: "rope seeded tables [2,3,5,8]", kernels: KERNELS, run: () => valueAndGrad([2, 3, 5, 8], 1, "seeded") },
  { name: "rope q tables [1,2,7,16]", kernels: KERNELS, run: () => valueAndGrad([1, 2, 7, 16], 2, "rope") },
  {
    name: "rope worked example x=[1,2] cos=[.5,.5] sin=[-1,1]",
    kernels: KERNELS,
    run: async () => {
      const out = await readAll(() => {
        const [cos, sin] = [tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[-1, 1]])];
        const x = tf.tensor4d([1, 2], [1, 1, 1, 2]);
        const { grads } = tf.valueAndGrads((a: tf.Tensor) =>
          tf.sum(tf.mul(applyRope(a as tf.Tensor4D, cos, sin), tf.tensor4d([1, 0], [1, 1, 1, 2]))),
        )([x]);
        return { y: applyRope(x, cos, sin), dx: grads[0] };
      });
      const want = { y: [-1.5, 2], dx: [0.5, -1] };
      for (const [k, v] of Object.entries(want))
        if (v.some((x, i) => Math.abs(out[k][i] - x) > 1e-6)) throw new Error(`worked example: ${k} = ${out[k]}`);
      return out;
    },
  },
];
