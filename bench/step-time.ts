/**
 * Training step time of a lab scale: the baseline and LST (static patches of 4) at the scale's model size and
 * training shapes (batch, global length, raw row length, vocabulary), for `--steps` steps on the synthetic
 * corpus (a step's cost depends on the shapes, not on the text). Prints the median ms per step after 2 warm-up
 * steps; `--dry-run` estimates (lib/experiment/plan.ts MEASURED_STEP_MS) come from this command's output.
 * Run: npx tsx bench/step-time.ts [--scale=small] [--steps=12]
 */
import {
  describeBackend,
  initBackend,
  resolveDataConfig,
  labScale,
  resolveExperiment,
  syntheticSource,
  train,
} from "../lib";
import { cli, experimentModelConfig } from "../lib/internal";

const CLI = {
  command: "npx tsx bench/step-time.ts",
  summary: "Median training step time (ms) of the baseline and LST at a lab scale's model size and shapes.",
  flags: {
    scale: { type: "string", default: "small", help: "the lab scale (smoke, small, gpu, paper)" },
    steps: { type: "number", default: 12, help: "steps per model (the first 2 are warm-up)" },
  },
} as const;

async function main(): Promise<void> {
  const { values: args } = cli(CLI);
  const scale = labScale(args.scale);
  if (!Number.isInteger(args.steps) || args.steps < 3)
    throw new Error(`--steps must be an integer >= 3 (2 are warm-up), got ${args.steps}`);
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const data = resolveDataConfig(scale.data);
  const source = syntheticSource(0);
  const vocabSize = data.textVocab + data.units.k;
  const out: string[] = [];
  for (const variant of ["baseline", "lst"] as const) {
    const cfg = resolveExperiment(
      { name: variant, variant, ...(variant === "lst" ? { patching: { scheme: "static", patchSize: 4 } } : {}) },
      scale,
    );
    const model = experimentModelConfig(cfg, vocabSize, source.unitOffset);
    const r = await train({
      model,
      train: { ...cfg.train, steps: args.steps, ckptEvery: 0, logEvery: 0, evalEvery: 0 },
      patching: variant === "lst" ? cfg.patching : undefined,
      source,
    });
    const ms = r.metrics
      .slice(2)
      .map((m) => m.ms)
      .sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)];
    r.model.dispose();
    console.log(
      `${variant.padEnd(8)} size ${cfg.size}, batch ${cfg.train.batchSize} x ${cfg.train.globalLen} global units (raw rows ${cfg.train.maxRawLen}), vocab ${vocabSize}: ${median.toFixed(0)} ms/step (median of ${ms.length})`,
    );
    out.push(`${variant}: ${Math.round(median)}`);
  }
  console.log(`scale ${scale.name}: { ${out.join(", ")} } ms/step`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
