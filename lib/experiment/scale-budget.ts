/**
 * The compute a run costs, from its config alone (no data, no tensors): tokens per step, steps, training
 * FLOPs (lib/model/flops.ts, the PyTorch peer's counting), and, given a sustained throughput, an *estimate* of
 * its hours. `--dry-run` uses it for a scale sized for a GPU (`assumedTflops` in experiment.ts) until a step
 * time is measured; `scaleBudget` is the table of a scale's baseline and LST runs (README "Running at GPU scale").
 *
 * A step's FLOPs depend only on the shapes, because rows are padded: the baseline runs `batchSize x seqLen`
 * tokens; LST runs its global model on `batchSize x globalLen` patches and its local modules on
 * `batchSize x maxRawLen` raw-token positions (padding included: that is what the kernels compute). The
 * vocabulary comes from the data: about `textVocab + K` ids (a phonetic unit inventory is smaller than K, and
 * the BPE-speech baseline has its own; both change only the output head). Steps are the scale's (or the
 * grid's) `train.steps`: a data-controlled baseline trains more (`budgetSteps` in study.ts), so its FLOPs here
 * are a lower bound, marked `atLeast`.
 *
 * Hours are FLOPs / (sustained TFLOP/s): an estimate, as good as the throughput assumed, and a lower bound for
 * a model small enough that per-kernel overhead, not arithmetic, sets its step time. Measure it on the GPU with
 * `npx tsx bench/step-time.ts --scale=<name>` (ms a step) or `npm run bench -- train-bench` (GFLOP/s).
 */
import { resolveDataConfig, type DataConfig } from "../data/config";
import { flopsPerStep, paramCountFromConfig } from "../model/flops";
import { resolveExperiment, type ExperimentConfig, type LabScale } from "./experiment";
import { experimentModelConfig } from "./study";

export interface RunFlops {
  kind: "baseline" | "lst";
  size: string;
  /** global units a step: tokens for the baseline, patches for LST (batch x row length) */
  globalUnitsPerStep: number;
  /** raw-token positions a step: = globalUnitsPerStep for the baseline, batch x maxRawLen for LST */
  rawTokensPerStep: number;
  /** training FLOPs (forward + backward) of one step */
  flopsPerStep: number;
  /** the config's steps (train.steps) */
  steps: number;
  /** flopsPerStep x steps */
  flops: number;
  /** steps and FLOPs are a lower bound (data-controlled budget: the baseline trains more steps) */
  atLeast: boolean;
  /** parameters (with the data's approximate vocabulary) */
  params: number;
}

/** The compute of one resolved run (see the header). */
export function runFlops(cfg: ExperimentConfig): RunFlops {
  // the run's model as it trains, over about textVocab + K ids (the unit ids start after the text's)
  const model = experimentModelConfig(cfg, cfg.data.textVocab + cfg.data.units.k, cfg.data.textVocab);
  const t = cfg.train;
  const kind = model.kind === "lst" ? "lst" : "baseline";
  const globalUnitsPerStep = t.batchSize * (kind === "lst" ? t.globalLen : t.seqLen);
  const rawTokensPerStep = kind === "lst" ? t.batchSize * t.maxRawLen : globalUnitsPerStep;
  const perStep = flopsPerStep(
    model,
    kind === "lst"
      ? { globalUnits: globalUnitsPerStep, rawTokens: rawTokensPerStep, seqLen: t.globalLen, localSeqLen: t.maxRawLen }
      : { globalUnits: globalUnitsPerStep, rawTokens: rawTokensPerStep, seqLen: t.seqLen },
  ).total;
  return {
    kind,
    size: cfg.size,
    globalUnitsPerStep,
    rawTokensPerStep,
    flopsPerStep: perStep,
    steps: t.steps,
    flops: perStep * t.steps,
    atLeast: cfg.budget === "data",
    params: paramCountFromConfig(model).total,
  };
}

/** Estimated ms a training step takes at `tflops` sustained TFLOP/s (an estimate: see the header). */
export function estimatedStepMs(cfg: ExperimentConfig, tflops: number): number {
  if (!(tflops > 0)) throw new Error(`the sustained throughput must be > 0 TFLOP/s, got ${tflops}`);
  return runFlops(cfg).flopsPerStep / (tflops * 1e9);
}

export interface ScaleBudgetRow extends RunFlops {
  /** estimated hours of training at the assumed throughput */
  hours: number;
}

/**
 * A scale's budget: its baseline and LST (static patches of 4) runs at its own size, steps and shapes, with the
 * hours they take at `tflops` sustained (default the scale's `assumedTflops`). `mult` multiplies the steps (a
 * grid's 4x or 16x cell). Example: scaleBudget(SCALES.gpu, { mult: 16 }) is the phonetic 16x cell's per-run cost.
 */
export function scaleBudget(
  scale: LabScale,
  opts: { tflops?: number; mult?: number } = {},
): { scale: string; data: DataConfig; tflops: number; rows: ScaleBudgetRow[] } {
  const tflops = opts.tflops ?? scale.assumedTflops;
  if (tflops === undefined)
    throw new Error(
      `scale '${scale.name}' states no assumedTflops (it is timed by measured step times): pass tflops, e.g. { tflops: 20 }`,
    );
  if (!(tflops > 0)) throw new Error(`the sustained throughput must be > 0 TFLOP/s, got ${tflops}`);
  const mult = opts.mult ?? 1;
  if (!(Number.isInteger(mult) && mult >= 1)) throw new Error(`mult must be an integer >= 1, got ${mult}`);
  const steps = (scale.train.steps ?? 0) * mult;
  const rows = (["baseline", "lst"] as const).map((variant) => {
    const cfg = resolveExperiment(
      {
        name: variant,
        variant,
        ...(variant === "lst" ? { patching: { scheme: "static", patchSize: 4 } } : {}),
        ...(mult === 1 ? {} : { train: { steps } }),
      },
      scale,
    );
    const f = runFlops(cfg);
    return { ...f, hours: f.flops / (tflops * 1e12) / 3600 };
  });
  return { scale: scale.name, data: resolveDataConfig(scale.data), tflops, rows };
}
