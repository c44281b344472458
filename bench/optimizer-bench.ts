/**
 * One optimiser step (global-norm clip 1.0 + AdamW update) at the reference size, for the baseline's and
 * LST's parameters: the lab's flat AdamW (lib/train/adamw.ts) against tfjs's own `tf.train.adam` with the
 * clipping written per tensor, the usual tfjs recipe. Both run alternately in one process on the same random
 * gradients; each figure is the median over the timed steps (compare the ratio, not the absolute times).
 *
 * Run: npx tsx bench/optimizer-bench.ts [--steps=20]
 */
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend, createModel, modelSizeConfig, AdamW } from "../lib";
import { cli } from "../lib/internal";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function tfjsAdamStep(opt: tf.Optimizer, grads: tf.NamedTensorMap): void {
  tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const scale = tf.minimum(tf.scalar(1), tf.div(tf.scalar(1), tf.add(norm, 1e-6)));
    const clipped: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, scale);
    opt.applyGradients(clipped);
  });
}

async function main(): Promise<void> {
  const { values } = cli({
    command: "npx tsx bench/optimizer-bench.ts",
    summary: "One optimiser step (clip + AdamW) at the reference size: the lab's flat AdamW against tf.train.adam.",
    flags: { steps: { type: "number", default: 20, help: "timed steps (after 3 warm-up)" } },
  } as const);
  const steps = values.steps;
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`optimizer-bench: --steps must be a positive integer, got ${steps}`);
  const report = await initBackend();
  console.log(`optimizer-bench: ${describeBackend(report)}; reference size, ${steps} timed steps after 3 warm-up`);
  console.log("| model | tensors | values | lab AdamW ms | tfjs adam ms | ratio |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const kind of ["baseline", "lst"] as const) {
    const model = createModel(modelSizeConfig("reference", kind, 1000, { ropeTheta: 1e4 }));
    const grads: tf.NamedTensorMap = {};
    for (const v of model.variables) grads[v.name] = tf.mul(tf.randomNormal(v.shape), 0.01);
    const lab = new AdamW(model.variables);
    const ref = tf.train.adam(4e-4, 0.9, 0.95, 1e-8);
    const times = { lab: [] as number[], ref: [] as number[] };
    for (let i = 0; i < steps + 3; i++) {
      let t0 = performance.now();
      lab.apply(grads, 4e-4, await lab.gradNorm(grads));
      await model.variables[0].data(); // wait for the kernels
      if (i >= 3) times.lab.push(performance.now() - t0);
      t0 = performance.now();
      tfjsAdamStep(ref, grads);
      await model.variables[0].data();
      if (i >= 3) times.ref.push(performance.now() - t0);
    }
    const [a, b] = [median(times.lab), median(times.ref)];
    console.log(
      `| ${kind} | ${model.variables.length} | ${lab.size} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x |`,
    );
    lab.dispose();
    ref.dispose();
    tf.dispose(grads);
    model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
