/** SwiGLU (lib/webgpu/swiglu.ts): value and gradient, odd shapes, and the worked example of its header. */
import * as tf from "@tensorflow/tfjs-core";
import { swiglu } from "../../../lib/model/layers";
import { readAll, seeded, type KernelCase } from "./types";

const KERNELS = ["LstSwiGlu", "LstSwiGluGrad"];

function valueAndGrad(shape: number[], seed: number): Promise<Record<string, number[]>> {
  return readAll(() => {
    const ab = tf.tensor(
      seeded(
        shape.reduce((a, b) => a * b, 1),
        seed,
        3,
      ),
      shape,
    );
    const half = [...shape.slice(0, -1), shape[shape.length - 1] / 2];
    const w = tf.tensor(seeded(ab.size / 2, seed + 1), half);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => tf.sum(tf.mul(swiglu(x), w)))([ab]);
    return { y: swiglu(ab), loss: value, dab: grads[0] };
  });
}

export const cases: KernelCase[] = [
  { name: "swiglu [3,5,2*7]", kernels: KERNELS, run: () => valueAndGrad([3, 5, 14], 1) },
  { name: "swiglu [1,2*1]", kernels: KERNELS, run: () => valueAndGrad([1, 2], 2) },
  {
    name: "swiglu worked example a=0 b=2",
    kernels: KERNELS,
    run: async () => {
      const out = await readAll(() => {
        const ab = tf.tensor2d([[0, 2]]);
        const { grads } = tf.valueAndGrads((x: tf.Tensor) => tf.sum(swiglu(x)))([ab]);
        return { y: swiglu(ab), dab: grads[0] };
      });
      if (Math.abs(out.dab[0] - 1) > 1e-6 || Math.abs(out.dab[1]) > 1e-6)
        throw new Error(`worked example: d = ${out.dab}`);
      return out;
    },
  },
];
