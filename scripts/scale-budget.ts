/**
 * A lab scale's compute budget, written out: per run of the baseline and LST (static patches of 4) at the
 * scale's size and shapes, and at 1x, 4x and 16x its steps (the grids' budget cells), the tokens a step, the
 * steps, the training FLOPs (lib/model/flops.ts) and the hours at a sustained throughput. The hours are an
 * estimate: the FLOPs are counted, the throughput is assumed (the scale's `assumedTflops`) or given (--tflops:
 * one rate, or one per model kind, since LST's many small local kernels sustain less than the baseline's).
 * It also prints the rate the CPU scales' measured step times (MEASURED_STEP_MS) correspond to, which shows
 * what the FLOP count means in time on the machine that measured them.
 *
 *   npx tsx scripts/scale-budget.ts                      the gpu scale at its assumed TFLOP/s
 *   npx tsx scripts/scale-budget.ts --scale=paper --tflops=40
 *   npx tsx scripts/scale-budget.ts --tflops=baseline:13,lst:4.8   a measured rate per model kind
 */
import * as lab from "../lib";
import { cli, CliError, flagValue, intList } from "../lib/internal";

const CLI = {
  command: "npx tsx scripts/scale-budget.ts",
  summary:
    "A lab scale's compute per run (tokens a step, steps, training FLOPs) and its estimated hours at a sustained TFLOP/s.",
  flags: {
    scale: { type: "string", default: "gpu", value: "smoke|small|gpu|paper", help: "the lab scale" },
    tflops: {
      type: "string",
      value: "N|baseline:N,lst:M",
      help: "sustained TFLOP/s to estimate hours with, one rate or one per model kind (default: the scale's assumedTflops)",
    },
    mults: { type: "string", default: "1,4,16", value: "1,4,16", help: "budget multiples of the scale's steps" },
  },
  examples: [
    "npx tsx scripts/scale-budget.ts",
    "npx tsx scripts/scale-budget.ts --scale=small --tflops=20",
    "npx tsx scripts/scale-budget.ts --scale=gpu --tflops=baseline:13,lst:4.8",
  ],
} as const;

const fmt = (x: number, digits = 1): string => x.toLocaleString("en-US", { maximumFractionDigits: digits });

function main(): void {
  const parsed = cli(CLI);
  const args = parsed.values;
  const scale = lab.labScale(args.scale);
  const mults = intList("mults", args.mults) ?? [1];
  const tflops = parsed.given.has("tflops") ? flagValue("tflops", args.tflops, lab.parseTflops) : scale.assumedTflops;
  if (tflops === undefined)
    throw new CliError(`scale '${scale.name}' assumes no GPU throughput: give one, e.g. --tflops=20`);
  const first = lab.scaleBudget(scale, { tflops });
  const d = first.data;
  console.log(
    `scale '${scale.name}': size ${scale.size}, data '${d.name}' (${d.pairedStories} paired stories, K ${d.units.k}, text BPE ${d.textVocab}), ` +
      `batch ${scale.train.batchSize} x ${scale.train.seqLen} tokens (LST: ${scale.train.globalLen} patches, ${scale.train.maxRawLen} raw), ${scale.train.steps} steps, ${scale.seeds.length} seeds`,
  );
  console.log(
    `hours at ${lab.describeTflops(tflops)} sustained (${parsed.given.has("tflops") ? "given" : "the scale's assumption, not measured"}): an estimate, FLOPs / throughput\n`,
  );
  console.log(
    "| budget | model | params | global units / step | raw tokens / step | GFLOP / step | steps | PFLOP | est. hours |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const mult of mults) {
    for (const r of lab.scaleBudget(scale, { tflops, mult }).rows) {
      console.log(
        `| ${mult}x | ${r.kind === "lst" ? "LST static 4" : "baseline"} | ${fmt(r.params / 1e6)}M | ${fmt(r.globalUnitsPerStep)} | ${fmt(r.rawTokensPerStep)} | ${fmt(r.flopsPerStep / 1e9, 0)} | ${fmt(r.steps)} | ${fmt(r.flops / 1e15, 2)} | ${fmt(r.hours, 2)} |`,
      );
    }
  }
  // what the FLOP count means on the machine that measured the CPU scales' step times
  for (const [name, m] of Object.entries(lab.MEASURED_STEP_MS)) {
    const rows = lab.scaleBudget(lab.labScale(name), { tflops: 1 }).rows;
    const rates = rows.map((r) => `${r.kind} ${fmt(r.flopsPerStep / 1e6 / m[r.kind], 0)}`).join(", ");
    console.log(`\nscale '${name}' measured step times (${m.by}): GFLOP/s sustained ${rates}`);
  }
}

try {
  main();
} catch (e: unknown) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof CliError ? 2 : 1);
}
