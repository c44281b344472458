/**
 * The tiled BatchMatMul (lib/webgpu/matmul.ts): every transpose combination, odd and even M, N and K where
 * the vec4 reads allow them, batch dims [2,3] and the broadcasts [1] vs [3] and rank 2 vs rank 3, the
 * 128 x 64 tile, a gradient (dx = dy W^T, dW = x^T dy), and products below the size threshold. On webgpu each
 * case checks `matmulStats()` to prove which path ran (the kernel keeps tfjs's name, so tf.profile cannot).
 *
 * f16 tiles (LST_WEBGPU_F16=1, set around the call; on webgpu `matmulStats().f16` proves the path ran where the
 * device has `shader-f16`): inputs already representable in f16 convert exactly, and a product of two f16 values
 * is exact in f32 (11 + 11 significant bits <= 24), so every transpose pair must match at the default 1e-4.
 * float32 inputs in [-1, 1) lose their rounding to f16: an error uniform over +-ulp/2, sd u/sqrt(6) relative
 * on average over a binade (u = 2^-11, f16's unit roundoff), so a term a b is off by sd |a b| u/sqrt(3) and a
 * K = 64 sum of terms with E[a^2 b^2] = 1/9 by sd u sqrt(K/27) = 7.5e-4 (measured on lavapipe: 6.9e-4 rms).
 * The worst of 2048 outputs is about 4 sd, 3e-3 (measured: 1.6e-3; 2.2e-3 over 65536 outputs): tolerance 5e-3,
 * still far below what an indexing slip would give (errors of order 1).
 */
import * as tf from "@tensorflow/tfjs-core";
import { matmulStats, planMatmul } from "../../../lib/webgpu/matmul";
import { readAll, seeded, type KernelCase } from "./types";
import { withEnv } from "./features";
import { webgpuFeatures } from "../../../lib/webgpu/features";

const KERNELS = ["BatchMatMul"];

const rand = (shape: number[], seed: number) =>
  tf.tensor(
    seeded(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** Every `stride`-th value of x (a large product's outputs would swamp the JSON line). */
const every = (x: tf.Tensor, stride: number) => tf.gather(tf.reshape(x, [-1]), tf.range(0, x.size, stride, "int32"));

/** Run `build`, then on webgpu check that `fast` calls took the tiled kernel and `fallback` calls did not. */
async function counted(
  fast: number,
  fallback: number,
  build: () => Record<string, tf.Tensor>,
): Promise<Record<string, number[]>> {
  const before = matmulStats();
  const out = await readAll(build);
  if (tf.getBackend() === "webgpu") {
    const after = matmulStats();
    const got = { fast: after.fast - before.fast, fallback: after.fallback - before.fallback };
    if (got.fast !== fast || got.fallback !== fallback)
      throw new Error(`matmul paths: ${JSON.stringify(got)}, expected ${JSON.stringify({ fast, fallback })}`);
  }
  return out;
}

/** `x` rounded to a nearby f16 value (11 significant bits; |x| < 65504). Example: 1 + 2^-12 -> 1. */
function toF16(x: number): number {
  if (x === 0) return 0;
  const e = Math.max(-14, Math.floor(Math.log2(Math.abs(x)))); // below 2^-14: f16's subnormal step 2^-24
  const ulp = 2 ** (e - 10);
  return Math.round(x / ulp) * ulp;
}

/** `counted`, with LST_WEBGPU_F16=1 and, on webgpu with `shader-f16`, all `fast` calls taking the f16 tiles. */
async function countedF16(fast: number, build: () => Record<string, tf.Tensor>): Promise<Record<string, number[]>> {
  const before = matmulStats().f16;
  const out = await withEnv("LST_WEBGPU_F16", "1", () => counted(fast, 0, build));
  const f16 = matmulStats().f16 - before;
  if (tf.getBackend() === "webgpu" && webgpuFeatures().f16 && f16 !== fast)
    throw new Error(`${f16} of ${fast} tiled matmuls took the f16 tiles`);
  return out;
}

/** A [.., M, K]-or-transposed x B product for one transpose pair. */
function product(aShape: number[], bShape: number[], ta: boolean, tb: boolean, seed: number) {
  return () => ({ c: tf.matMul(rand(aShape, seed), rand(bShape, seed + 1), ta, tb) });
}

export const cases: KernelCase[] = [
  {
    name: "matmul f16 tiles, f16-exact inputs: NN, NT, TN, TT [36,64] x [64,40] (exact)",
    kernels: KERNELS,
    run: () =>
      countedF16(4, () => {
        const exact = (shape: number[], seed: number) => {
          const v = seeded(
            shape.reduce((p, q) => p * q, 1),
            seed,
          ).map(toF16);
          return tf.tensor(v, shape);
        };
        const a = exact([36, 64], 31);
        const b = exact([64, 40], 32);
        const [at, bt] = [tf.transpose(a), tf.transpose(b)];
        return {
          nn: tf.matMul(a, b),
          nt: tf.matMul(a, bt, false, true),
          tn: tf.matMul(at, b, true, false),
          tt: tf.matMul(at, bt, true, true),
        };
      }),
  },
  {
    name: "matmul f16 tiles, float32 inputs [32,64] x [64,64] (tolerance 5e-3, see the header)",
    kernels: KERNELS,
    tol: 5e-3,
    run: () => countedF16(1, product([32, 64], [64, 64], false, false, 33)),
  },
  {
    name: "matmul worked example: A [40,20] x B [20,36] (one 64x64 tile, K in 2 steps)",
    kernels: KERNELS,
    run: () => counted(1, 0, product([40, 20], [20, 36], false, false, 1)),
  },
  {
    name: "matmul plan: [2,3,64,32] x [32,128] -> batch 6, B broadcast; fallbacks",
    kernels: [],
    run: async () => {
      const p = planMatmul([2, 3, 64, 32], [32, 128], false, false);
      const want = { batch: 6, m: 64, n: 128, k: 32, batchA: 6, batchB: 1, outShape: [2, 3, 64, 128], rm: 4 };
      if (JSON.stringify(p) !== JSON.stringify(want)) throw new Error(`plan ${JSON.stringify(p)}`);
      const none = [
        planMatmul([64, 30], [30, 64], false, false), // K not a multiple of 4 (A's last dim)
        planMatmul([64, 32], [32, 62], false, false), // N not a multiple of 4 (B's last dim)
        planMatmul([16, 32], [32, 64], false, false), // M below the threshold
        planMatmul([2, 1, 64, 32], [1, 3, 32, 64], false, false), // [2,1] vs [1,3]: both sides broadcast
      ];
      if (none.some((x) => x !== null)) throw new Error(`expected fallbacks, got ${JSON.stringify(none)}`);
      return { batch: [p!.batch] };
    },
  },
  // every transpose pair; M, N or K odd wherever it is not the last dim of an input
  {
    name: "matmul NN [37,20] x [20,44]",
    kernels: KERNELS,
    run: () => counted(1, 0, product([37, 20], [20, 44], false, false, 3)),
  },
  {
    name: "matmul NT [37,20] x [45,20]^T",
    kernels: KERNELS,
    run: () => counted(1, 0, product([37, 20], [45, 20], false, true, 5)),
  },
  {
    name: "matmul TN [21,36]^T x [21,44] (K odd)",
    kernels: KERNELS,
    run: () => counted(1, 0, product([21, 36], [21, 44], true, false, 7)),
  },
  {
    name: "matmul TT [24,36]^T x [33,24]^T",
    kernels: KERNELS,
    run: () => counted(1, 0, product([24, 36], [33, 24], true, true, 9)),
  },
  {
    name: "matmul even NN [64,64] x [64,128] (whole tiles)",
    kernels: KERNELS,
    run: () => counted(1, 0, product([64, 64], [64, 128], false, false, 11)),
  },
  {
    name: "matmul batch [2,3] x [2,3], NT",
    kernels: KERNELS,
    run: () => counted(1, 0, product([2, 3, 33, 16], [2, 3, 40, 16], false, true, 13)),
  },
  {
    name: "matmul broadcast [1] vs [3], TN",
    kernels: KERNELS,
    run: () => counted(1, 0, product([1, 20, 36], [3, 20, 52], true, false, 15)),
  },
  {
    name: "matmul broadcast [3] vs rank 2, NN",
    kernels: KERNELS,
    run: () => counted(1, 0, product([3, 50, 24], [24, 40], false, false, 17)),
  },
  {
    name: "matmul 128x64 tiles: [64,130,20] x [64,20,260] (sampled)",
    kernels: KERNELS,
    run: () =>
      counted(1, 0, () => {
        if (planMatmul([64, 130, 20], [64, 20, 260], false, false)?.rm !== 8) throw new Error("expected rm 8");
        return { c: every(tf.matMul(rand([64, 130, 20], 19), rand([64, 20, 260], 20)), 97) };
      }),
  },
  {
    name: "matmul gradient: dx = dy W^T (NT), dW = x^T dy (TN)",
    kernels: KERNELS,
    // forward NN, backward NT and TN
    run: () =>
      counted(3, 0, () => {
        const x = rand([36, 40], 21);
        const w = rand([40, 48], 22);
        const dy = rand([36, 48], 23);
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), dy)))([
          x,
          w,
        ]);
        return { loss: value, dx: grads[0], dw: grads[1] };
      }),
  },
  {
    name: "matmul below the threshold: [5,7] x [7,3] and [16,12] x [12,20] fall back",
    kernels: KERNELS,
    run: () =>
      counted(0, 2, () => ({
        small: tf.matMul(rand([5, 7], 25), rand([7, 3], 26)),
        thin: tf.matMul(rand([16, 12], 27), rand([12, 20], 28)),
      })),
  },
];
