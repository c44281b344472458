/**
 * AdamW (lib/webgpu/adamw.ts through lib/train/adamw.ts's device paths): several steps on four small
 * parameters of ranks 1 and 2 (the header's layout: sizes 3, 4, 4, 6, decayed ranges [3, 7) and [11, 17)),
 * with the clip active on some steps and not on others, through `applyOnDevice` and through
 * `updateOnDevice` + `commit`, and without clipping or decay; the parameters and both moments after the
 * last step must match the tensorflow backend's composed update.
 */
import * as tf from "@tensorflow/tfjs-core";
import { decayedRanges, isDecayed } from "../../../lib/webgpu/adamw";
import { AdamW, DEFAULT_ADAMW, type AdamWConfig } from "../../../lib/train/adamw";
import { seeded, type KernelCase } from "./types";

const KERNELS = ["LstAdamW"];
const SHAPES = [[3], [2, 2], [4], [2, 3]];
let made = 0;

async function steps(cfg: AdamWConfig, how: "apply" | "update", nSteps: number): Promise<Record<string, number[]>> {
  made++;
  // tidy frees the initial values, not the variables that now own their data
  const params = tf.tidy(() =>
    SHAPES.map((s, i) =>
      tf.variable(
        tf.tensor(
          seeded(
            s.reduce((a, b) => a * b, 1),
            10 + i,
          ),
          s,
        ),
        true,
        `kc.adamw${made}.p${i}`,
      ),
    ),
  );
  const opt = new AdamW(params, cfg);
  for (let step = 0; step < nSteps; step++) {
    // even steps: norm ~3 to 5 (above the clip of 1); odd steps: ~0.3 (below)
    const scale = step % 2 === 0 ? 1.5 : 0.1;
    const grads: tf.NamedTensorMap = {};
    params.forEach((p, i) => (grads[p.name] = tf.tensor(seeded(p.size, 100 * step + i, scale), p.shape)));
    const normSq = opt.gradNormSquared(grads);
    const lr = 0.05 / (step + 1);
    if (how === "apply") opt.applyOnDevice(grads, lr, normSq);
    else opt.commit(opt.updateOnDevice(grads, lr, normSq));
    tf.dispose([normSq, ...Object.values(grads)]);
  }
  const out: Record<string, number[]> = {};
  for (const [i, p] of params.entries()) out[`p${i}`] = Array.from(await p.data());
  const state = await opt.getState();
  out.m = state.slots.flatMap((s) => Array.from(s.m));
  out.v = state.slots.flatMap((s) => Array.from(s.v));
  out.t = [state.t];
  opt.dispose();
  tf.dispose(params);
  return out;
}

export const cases: KernelCase[] = [
  {
    name: "adamw 5 steps applyOnDevice (clip on even steps, decay on rank 2)",
    kernels: KERNELS,
    tol: 1e-5,
    run: () => steps(DEFAULT_ADAMW, "apply", 5),
  },
  {
    name: "adamw 3 steps updateOnDevice + commit",
    kernels: KERNELS,
    tol: 1e-5,
    run: () => steps({ ...DEFAULT_ADAMW, weightDecay: 0.3 }, "update", 3),
  },
  {
    name: "adamw 3 steps without clipping or decay",
    kernels: KERNELS,
    tol: 1e-5,
    run: () => steps({ ...DEFAULT_ADAMW, clip: 0, weightDecay: 0 }, "apply", 3),
  },
  {
    // 300 x 301 = 90300 values: past 256 x 256, so webgpu sums 256 row sums (adamw.ts gradNormSquared)
    name: "adamw gradNormSquared of 90300 values (the two-stage sum)",
    kernels: ["PadV2"],
    tol: 1e-5,
    run: async () => {
      const p = tf.tidy(() => tf.variable(tf.zeros([300, 301]), true, `kc.adamw.norm${++made}`));
      const opt = new AdamW([p]);
      const g = tf.tensor(seeded(p.size, 7, 0.01), p.shape);
      const normSq = opt.gradNormSquared({ [p.name]: g });
      const out = { normSq: Array.from(await normSq.data()) };
      tf.dispose([g, normSq, p]);
      opt.dispose();
      return out;
    },
  },
  {
    name: "adamw worked example: decayed ranges [3, 7, 11, 17]",
    kernels: [],
    run: async () => {
      // sizes 3, 4, 4, 6 at offsets 0, 3, 7, 11; ranks 1, 2, 1, 2
      const slots = [3, 4, 4, 6].map((size, i) => ({ offset: [0, 3, 7, 11][i], decay: i % 2 === 1, param: { size } }));
      const r = decayedRanges(slots);
      if (r.join() !== "3,7,11,17") throw new Error(`decayedRanges: ${r}`);
      const got = [5, 7, 16, 2, 0, 3, 6, 11].map((i) => (isDecayed(r, i) ? 1 : 0));
      const want = [1, 0, 1, 0, 0, 1, 1, 1];
      if (got.join() !== want.join()) throw new Error(`isDecayed: ${got} for ${want}`);
      return { decayed: got };
    },
  },
];
