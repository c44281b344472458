/**
 * Fused attention (lib/webgpu/attention.ts, attention-grad.ts): values and the gradients of q, k, v through the
 * lab's attention functions, in every layout the model uses: no mask, dense causal with document resets, a
 * [1,1,n,n] window mask, a key mask [N,1,1,nk], the heads-first cross mask of `applyDense`, the compact
 * [N,nq,H,dh] layout, and the blocked sliding window with n not a multiple of W. Odd sizes (nq, nk off the
 * 64-row workgroups and the key tiles), dh 1..128, G = 3 groups.
 */
import * as tf from "@tensorflow/tfjs-core";
import { attend, attendBlocked, CrossAttention } from "../../../lib/model/attention";
import { ParamFactory } from "../../../lib/model/layers";
import { blockedMaskData, causalMaskData, documentStarts, NEG } from "../../../lib/model/masks";
import { readAll, seeded, type KernelCase } from "./types";

const KERNELS = ["LstAttention", "LstAttentionStats", "LstAttentionGrad"];

const rand = (shape: number[], seed: number, scale = 1) =>
  tf.tensor(
    seeded(
      shape.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    shape,
  );

/** Document ends every `every` positions (offset by the row), so rows reset at different places. */
function starts(B: number, n: number, every: number): Int32Array {
  const ends = new Uint8Array(B * n);
  for (let b = 0; b < B; b++) for (let i = every - 1 + b; i < n - 1; i += every) ends[b * n + i] = 1;
  return documentStarts(ends, B, n);
}

/** y = f(q, k, v), loss = sum(y * w) for a seeded w, and its gradients. */
function valueAndGrads(
  qShape: number[],
  kShape: number[],
  seed: number,
  f: (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D) => tf.Tensor,
  scale = 1,
): Promise<Record<string, number[]>> {
  return readAll(() => {
    const [q, k, v] = [rand(qShape, seed, scale), rand(kShape, seed + 1, scale), rand(kShape, seed + 2)];
    const y = f(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D);
    const w = rand(y.shape, seed + 3);
    const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D), w)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(loss)([q, k, v]);
    return { y, loss: value, dq: grads[0], dk: grads[1], dv: grads[2] };
  });
}

/** A cross-attention layer's update and the gradients of its queries, keys and values (variables disposed). */
async function crossCase(
  run: (att: CrossAttention, xq: tf.Tensor3D, k: tf.Tensor, v: tf.Tensor) => tf.Tensor,
  shapes: { xq: number[]; kv: number[]; C: number; H: number },
  seed: number,
): Promise<Record<string, number[]>> {
  const params = new ParamFactory(seed, 0.5);
  const att = new CrossAttention(params, "x", shapes.C, shapes.H);
  try {
    return await readAll(() => {
      const [xq, k, v] = [rand(shapes.xq, seed), rand(shapes.kv, seed + 1), rand(shapes.kv, seed + 2)];
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => run(att, a as tf.Tensor3D, b, c);
      const y = f(xq, k, v);
      const w = rand(y.shape, seed + 3);
      const { value, grads } = tf.valueAndGrads((a, b, c) => tf.sum(tf.mul(f(a, b, c), w)) as tf.Scalar)([xq, k, v]);
      return { y, loss: value, dxq: grads[0], dk: grads[1], dv: grads[2] };
    });
  } finally {
    for (const p of params.variables) p.dispose();
  }
}

/** A cross mask [B*nq*nk]: key j hidden from query i when (i + 2j + b) % 3 == 0, key (i % nk) always kept. */
function crossMask(B: number, nq: number, nk: number): Float32Array {
  const m = new Float32Array(B * nq * nk);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < nq; i++)
      for (let j = 0; j < nk; j++) if ((i + 2 * j + b) % 3 === 0 && j !== i % nk) m[(b * nq + i) * nk + j] = NEG;
  return m;
}

export const cases: KernelCase[] = [
  {
    name: "attention no mask [1,3,5,8] x [1,3,7,8]",
    kernels: KERNELS,
    run: () => valueAndGrads([1, 3, 5, 8], [1, 3, 7, 8], 11, (q, k, v) => attend(q, k, v, null)),
  },
  {
    name: "attention dense causal with document resets [3,1,70,16]",
    kernels: KERNELS,
    run: () =>
      valueAndGrads([3, 1, 70, 16], [3, 1, 70, 16], 12, (q, k, v) =>
        attend(q, k, v, tf.tensor4d(causalMaskData(3, 70, 0, starts(3, 70, 23)), [3, 1, 70, 70]), true),
      ),
  },
  {
    name: "attention broadcast [1,1,n,n] window mask [1,3,37,32]",
    kernels: KERNELS,
    run: () =>
      valueAndGrads([1, 3, 37, 32], [1, 3, 37, 32], 13, (q, k, v) =>
        attend(q, k, v, tf.tensor4d(causalMaskData(1, 37, 5, null), [1, 1, 37, 37]), true),
      ),
  },
  {
    name: "attention key mask [3,1,1,6] (gathered cross-attention) [3,2,2,16]",
    kernels: KERNELS,
    run: () => {
      const m = new Float32Array(18);
      [1, 4, 7, 11, 16, 17].forEach((x) => (m[x] = NEG));
      return valueAndGrads([3, 2, 2, 16], [3, 2, 6, 16], 14, (q, k, v) =>
        attend(q, k, v, tf.tensor4d(m, [3, 1, 1, 6])),
      );
    },
  },
  {
    name: "attention causal dh 64 and dh 128 [1,3,20,dh]",
    kernels: KERNELS,
    run: async () => {
      const mask = () => tf.tensor4d(causalMaskData(1, 20, 0, null), [1, 1, 20, 20]);
      const a = await valueAndGrads(
        [1, 3, 20, 64],
        [1, 3, 20, 64],
        15,
        (q, k, v) => attend(q, k, v, mask(), true),
        0.3,
      );
      const b = await valueAndGrads(
        [3, 1, 20, 128],
        [3, 1, 20, 128],
        16,
        (q, k, v) => attend(q, k, v, mask(), true),
        0.2,
      );
      return Object.fromEntries([
        ...Object.entries(a).map(([k, v]) => [`64.${k}`, v]),
        ...Object.entries(b).map(([k, v]) => [`128.${k}`, v]),
      ]);
    },
  },
  {
    name: "attention heads-first cross mask (applyDense) B3 H2 nq6 nk9 dh8",
    kernels: KERNELS,
    run: () =>
      crossCase(
        (att, xq, k, v) =>
          att.applyDense(xq, { k: k as tf.Tensor4D, v: v as tf.Tensor4D }, tf.tensor3d(crossMask(3, 6, 9), [3, 6, 9])),
        { xq: [3, 6, 16], kv: [2, 3, 9, 8], C: 16, H: 2 },
        17,
      ),
  },
  {
    name: "attention compact layout (applyCompact) N3 nq2 nk3 H2 dh8, key mask [3,1,1,3]",
    kernels: KERNELS,
    run: () =>
      crossCase(
        (att, xq, k, v) =>
          att.applyCompact(
            xq,
            k as tf.Tensor3D,
            v as tf.Tensor3D,
            tf.tensor4d([0, NEG, 0, 0, 0, 0, NEG, NEG, 0], [3, 1, 1, 3]),
          ),
        { xq: [3, 2, 16], kv: [3, 3, 16], C: 16, H: 2 },
        18,
      ),
  },
  {
    // the worked example of attention-grad.ts: n = 5, W = 2, query 3 reads keys 2..3 at mask row 3, slots 2..3
    name: "attention blocked window n5 W2 (the worked example) [3,1,5,8]",
    kernels: KERNELS,
    run: () =>
      valueAndGrads([3, 1, 5, 8], [3, 1, 5, 8], 19, (q, k, v) =>
        attendBlocked(q, k, v, tf.tensor5d(blockedMaskData(1, 5, 2, null), [1, 1, 3, 2, 4]), 2),
      ),
  },
  {
    name: "attention blocked window n70 W16 with document resets [3,1,70,16]",
    kernels: KERNELS,
    run: () =>
      valueAndGrads([3, 1, 70, 16], [3, 1, 70, 16], 20, (q, k, v) =>
        attendBlocked(q, k, v, tf.tensor5d(blockedMaskData(3, 70, 16, starts(3, 70, 29)), [3, 1, 5, 16, 32]), 16),
      ),
  },
  {
    name: "attention worked example q=1 k=[0,ln3] v=[1,5] -> 4",
    kernels: ["LstAttention"],
    run: async () => {
      const out = await readAll(() => ({
        y: attend(
          tf.tensor4d([1], [1, 1, 1, 1]),
          tf.tensor4d([0, Math.log(3)], [1, 1, 2, 1]),
          tf.tensor4d([1, 5], [1, 1, 2, 1]),
          null,
        ),
      }));
      if (Math.abs(out.y[0] - 4) > 1e-5) throw new Error(`worked example: y = ${out.y[0]}, not 4`);
      return out;
    },
  },
];
