/**
 * LST's forms (lib/model/lst.ts `LstForm`) A/B in one process: gathered (tiny matmuls over gathered keys),
 * fused (dense masked cross-attention, mean pooling as a matmul) and compact (gathered keys, attention by
 * products and sums, one gather for all decoder layers), at the lab's small scale (cpuSmall, batch 16 x 512
 * raw tokens, 192 patches) and at train-bench's reference size (batch 16 x 256 tokens, 65 patches of 4). All
 * models have the same weights; their steps take turns on the same batches (the order rotates every step), so
 * a load spike on a shared machine slows them all: read the ratios, not the absolute times. Each step's wall
 * and CPU time (process user + system; less sensitive to other jobs on the cores) are compared with the
 * first form's step on the same batch, and the median ratio is printed. A step = forward + loss + backward +
 * AdamW update (the bench's lab AdamW, no clip). Also printed: kernels per forward + backward (tf.profile) and
 * the largest difference of each form's losses from the first form's over the steps.
 * `--profile` adds a per-module and per-kernel profile of each form (bench/train-bench/step-profile.ts), the
 * least time of each kernel over 3 profiled steps (which drops most load spikes).
 *
 * Rows: `static` = BOS then patches of 4 over random units (train-bench's rows); `mixed` = BOS then runs of 1-6
 * text tokens (length-1 patches) between speech spans of 8-40 units in patches of 4, filling P patches or T
 * tokens (the shape of interleaved, aligned-patched lab data).
 * Run: npx tsx bench/lst-form.ts [--sizes=small,reference] [--forms=gathered,fused,compact] [--rows=mixed]
 *        [--steps=8] [--warmup=2] [--pooling=avg] [--profile]
 */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW, BOS, describeBackend, initBackend, modelSizeConfig, Rng, toBatch, type Batch } from "../lib";
import { aggregateKernels, cli, LstLM, profileTable, type BatchRow, type LstForm } from "../lib/internal";
import { modelScopes, profileStep } from "./train-bench/step-profile";

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
    forms: {
      type: "string",
      default: "gathered,fused,compact",
      help: "forms to run, interleaved; ratios are against the first",
    },
    rows: { type: "string", default: "mixed", value: "static|mixed", help: "row layout (see the header)" },
    steps: { type: "number", default: 8, help: "timed steps per form" },
    warmup: { type: "number", default: 2, help: "untimed steps per form first" },
    pooling: { type: "string", default: "avg", value: "avg|max", help: "the LST pooling" },
    profile: {
      type: "boolean",
      default: false,
      help: "also profile one step of each form: time by kernel and by module",
    },
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

/**
 * Profiled steps (forward, backward, AdamW) of each run, `reps` rounds interleaved: time by module and by
 * kernel. Each (module, phase, kernel) keeps its least time over the rounds, which drops most of the load
 * spikes of a shared machine.
 */
async function profileRuns(runs: { form: LstForm; model: LstLM; opt: AdamW }[], batch: Batch, reps: number) {
  const best = runs.map(() => new Map<string, { ms: number; count: number; scope: string; name: string }>());
  for (let rep = 0; rep < reps; rep++) {
    for (const [i, r] of runs.entries()) {
      const records = await profileStep(
        () => tf.mean(r.model.tokenNll(batch)) as tf.Scalar,
        r.model.variables,
        async ({ value, grads }) => {
          r.opt.apply(grads, 4e-4, 1);
          tf.dispose(grads);
          value.dispose();
        },
        modelScopes("lst", r.model),
      );
      const sums = aggregateKernels(records.map((k) => ({ ...k, name: `${k.scope ?? "other"}|${k.phase}|${k.name}` })));
      for (const row of sums.byKernel) {
        const [scope, phase, name] = row.name.split("|");
        const had = best[i].get(row.name);
        if (!had || row.ms < had.ms)
          best[i].set(row.name, { ms: row.ms, count: row.count, scope, name: `${phase}: ${name}` });
      }
    }
  }
  for (const [i, r] of runs.entries()) {
    const records = [...best[i].values()].map((b) => ({ name: b.name, ms: b.ms, scope: b.scope }));
    const s = aggregateKernels(records);
    console.log(`\nprofile, ${r.form}: least kernel time over ${reps} steps, ${s.totalMs.toFixed(1)} ms`);
    console.log(profileTable("module (forward + its gradient)", s.byScope));
    const pairs = aggregateKernels(records.map((k) => ({ ...k, name: `${k.scope}: ${k.name}` })));
    console.log(profileTable("module: phase: kernel", pairs.byKernel, 200));
  }
}

async function runSize(
  name: SizeName,
  args: { forms: LstForm[]; steps: number; warmup: number; mixed: boolean; pooling: string; profile: boolean },
) {
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
  const runs = args.forms.map((form) => {
    const model = new LstLM(cfg, { form });
    return {
      form,
      model,
      opt: new AdamW(model.variables),
      ms: [] as number[],
      cpuMs: [] as number[],
      losses: [] as number[],
    };
  });
  for (let i = 0; i < batches.length; i++) {
    // rotate the order each step, so that no form always runs first (or right after another one)
    for (let j = 0; j < runs.length; j++) {
      const r = runs[(i + j) % runs.length];
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const { value, grads } = tf.variableGrads(
        () => tf.mean(r.model.tokenNll(batches[i])) as tf.Scalar,
        r.model.variables,
      );
      r.opt.apply(grads, 4e-4, 1);
      tf.dispose(grads);
      r.losses.push((await value.data())[0]);
      value.dispose();
      if (i >= args.warmup) {
        r.ms.push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        r.cpuMs.push((c.user + c.system) / 1000);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const P = batches[0].P as number;
  const auto = new LstLM(cfg).resolvedForm();
  console.log(
    `${name} (${size.preset}, B ${size.B} x T ${size.T}, P ${P}, k ${cfg.lst.crossAttnK}, ${args.mixed ? "mixed" : "static"} rows, ${args.pooling} pooling; 'auto' takes ${auto}):`,
  );
  const [ref] = runs;
  for (const r of runs) {
    const ratios = ref.ms.map((ms, i) => ms / r.ms[i]);
    const cpuRatios = ref.cpuMs.map((ms, i) => ms / r.cpuMs[i]);
    const lossDiff = Math.max(...ref.losses.map((l, i) => Math.abs(l - r.losses[i])));
    console.log(
      `  ${r.form.padEnd(8)} ${median(r.ms).toFixed(0)} ms/step; ${ref.form}/${r.form} ${median(ratios).toFixed(2)}x ` +
        `(per-step ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); ` +
        `CPU ${median(r.cpuMs).toFixed(0)} ms/step, ratio ${median(cpuRatios).toFixed(2)}x; ` +
        `kernels per forward+backward ${await kernelCount(r.model, batches[0])}; max |loss diff| vs ${ref.form} ${lossDiff.toExponential(1)}`,
    );
  }
  if (args.profile) await profileRuns(runs, batches[0], 3);
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
  const forms = v.forms.split(",") as LstForm[];
  const badForm = forms.filter((f) => !["gathered", "fused", "compact", "auto"].includes(f));
  if (badForm.length) throw new Error(`--forms: unknown '${badForm.join(",")}'; use gathered, fused, compact, auto`);
  for (const name of names as SizeName[])
    await runSize(name, {
      forms,
      steps: v.steps,
      warmup: v.warmup,
      mixed: v.rows === "mixed",
      pooling: v.pooling,
      profile: v.profile,
    });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
