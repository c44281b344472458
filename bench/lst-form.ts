/**
 * LST's two forms (lib/model/lst.ts `LstForm`) A/B in one process: the fused form (dense masked
 * cross-attention, mean pooling as a matmul) against the gathered one, at the lab's small scale (cpuSmall,
 * batch 16 x 512 raw tokens, 192 patches) and at train-bench's reference size (batch 16 x 256 tokens, 65
 * patches of 4). Both models have the same weights; their steps alternate (gathered, fused, gathered, ...) on
 * the same batches, so a load spike on a shared machine slows both: read the ratio, not the absolute times.
 * A step = forward + loss + backward + AdamW update (the bench's lab AdamW, no clip). Also printed: kernels per
 * forward + backward (tf.profile) and the largest difference of the two forms' losses over the steps.
 *
 * Rows: `static` = BOS then patches of 4 over random units (train-bench's rows); `mixed` = BOS then runs of 1-6
 * text tokens (length-1 patches) between speech spans of 8-40 units in patches of 4, filling P patches or T
 * tokens (the shape of interleaved, aligned-patched lab data).
 * Run: npx tsx bench/lst-form.ts [--sizes=small,reference] [--rows=mixed] [--steps=8] [--warmup=2] [--pooling=avg]
 */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW, BOS, describeBackend, initBackend, modelSizeConfig, Rng, toBatch, type Batch } from "../lib";
import { cli, LstLM, type BatchRow, type LstForm } from "../lib/internal";

const SIZES = {
  small: { preset: "cpuSmall", B: 16, T: 512, P: 192, V: 1128 },
  reference: { preset: "reference", B: 16, T: 256, P: 65, V: 1000 },
} as const;
type SizeName = keyof typeof SIZES;
type Size = (typeof SIZES)[SizeName];

const CLI = {
  command: "npx tsx bench/lst-form.ts",
  summary: "LST training step time and kernel count, fused vs gathered form, interleaved in one process.",
  flags: {
    sizes: { type: "string", default: "small,reference", help: "sizes to run (small, reference)" },
    rows: { type: "string", default: "mixed", value: "static|mixed", help: "row layout (see the header)" },
    steps: { type: "number", default: 8, help: "timed steps per form" },
    warmup: { type: "number", default: 2, help: "untimed steps per form first" },
    pooling: { type: "string", default: "avg", value: "avg|max", help: "the LST pooling" },
  },
} as const;

/** BOS, then patches over random ids until P patches or T+1 ids (see the header). */
function randomRow(rng: Rng, { T, P, V }: Size, mixed: boolean): BatchRow {
  const ids = [BOS];
  const lengths = [1];
  let speechLeft = 0;
  let textLeft = 0;
  while (lengths.length < P) {
    if (speechLeft === 0 && textLeft === 0) {
      if (mixed && rng.next() < 0.5) textLeft = 1 + rng.int(6);
      else speechLeft = mixed ? 8 + rng.int(33) : T;
    }
    const len = textLeft > 0 ? 1 : Math.min(4, speechLeft);
    if (ids.length + len > T + 1) break;
    for (let i = 0; i < len; i++) ids.push(textLeft > 0 ? 5 + rng.int(200) : 300 + rng.int(V - 300));
    lengths.push(len);
    if (textLeft > 0) textLeft--;
    else speechLeft -= len;
  }
  return { ids: Int32Array.from(ids), patchLengths: Int32Array.from(lengths) };
}

/** Kernels one forward + backward runs. */
async function kernelCount(model: LstLM, batch: Batch): Promise<number> {
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(model.tokenNll(batch)) as tf.Scalar, model.variables);
    tf.dispose(grads);
    value.dispose();
  });
  return info.kernels.length;
}

async function runSize(name: SizeName, args: { steps: number; warmup: number; mixed: boolean; pooling: string }) {
  const size = SIZES[name];
  const cfg = modelSizeConfig(size.preset, "lst", size.V, {
    maxSeqLen: Math.max(size.T, 1024),
    lst: { pooling: args.pooling as "avg" | "max" },
  });
  const rng = new Rng(7);
  const batches = Array.from({ length: args.warmup + args.steps }, () =>
    toBatch(
      Array.from({ length: size.B }, () => randomRow(rng, size, args.mixed)),
      { T: size.T, P: size.P },
    ),
  );
  const forms: LstForm[] = ["gathered", "fused"];
  const runs = forms.map((form) => {
    const model = new LstLM(cfg, { form });
    return { form, model, opt: new AdamW(model.variables), ms: [] as number[], losses: [] as number[] };
  });
  for (let i = 0; i < batches.length; i++) {
    for (const r of i % 2 === 0 ? runs : [...runs].reverse()) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(
        () => tf.mean(r.model.tokenNll(batches[i])) as tf.Scalar,
        r.model.variables,
      );
      r.opt.apply(grads, 4e-4, 1);
      tf.dispose(grads);
      r.losses.push((await value.data())[0]);
      value.dispose();
      if (i >= args.warmup) r.ms.push(performance.now() - t0);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [g, f] = runs;
  const kernels = [await kernelCount(g.model, batches[0]), await kernelCount(f.model, batches[0])];
  const ratios = g.ms.map((ms, i) => ms / f.ms[i]);
  const lossDiff = Math.max(...g.losses.map((l, i) => Math.abs(l - f.losses[i])));
  const P = batches[0].P as number;
  console.log(
    `${name} (${size.preset}, B ${size.B} x T ${size.T}, P ${P}, k ${cfg.lst.crossAttnK}, ${args.mixed ? "mixed" : "static"} rows, ${args.pooling} pooling): ` +
      `gathered ${median(g.ms).toFixed(0)} ms/step, fused ${median(f.ms).toFixed(0)} ms/step; ` +
      `gathered/fused ${median(ratios).toFixed(2)}x (per-step ratios ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); ` +
      `kernels per forward+backward ${kernels[0]} -> ${kernels[1]}; max |loss diff| ${lossDiff.toExponential(1)}`,
  );
  for (const r of runs) {
    r.opt.dispose();
    r.model.dispose();
  }
}

async function main(): Promise<void> {
  const { values: v } = cli(CLI);
  const names = v.sizes.split(",");
  const bad = names.filter((n) => !(n in SIZES));
  if (bad.length) throw new Error(`--sizes: unknown '${bad.join(",")}'; use ${Object.keys(SIZES).join(", ")}`);
  if (v.rows !== "static" && v.rows !== "mixed") throw new Error(`--rows must be static or mixed, got '${v.rows}'`);
  if (v.pooling !== "avg" && v.pooling !== "max") throw new Error(`--pooling must be avg or max, got '${v.pooling}'`);
  for (const k of ["steps", "warmup"] as const)
    if (!Number.isInteger(v[k]) || v[k] < (k === "steps" ? 1 : 0))
      throw new Error(`--${k} must be an integer >= ${k === "steps" ? 1 : 0}, got ${v[k]}`);
  console.log(`lst-form: ${describeBackend(await initBackend())}`);
  for (const name of names as SizeName[])
    await runSize(name, { steps: v.steps, warmup: v.warmup, mixed: v.rows === "mixed", pooling: v.pooling });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
