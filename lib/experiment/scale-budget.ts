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
 * The rate is one number for every run, or one per model kind (`Tflops`, `--tflops=baseline:N,lst:M`): LST's
 * many small local kernels sustain less of a GPU than the baseline's few large ones, so a measured pair of
 * rates estimates both kinds better than any single rate.
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

export type ModelKind = RunFlops["kind"];

/** A sustained training throughput in TFLOP/s: one rate for every run, or one per model kind. */
export type Tflops = number | { baseline: number; lst: number };

const KINDS: readonly ModelKind[] = ["baseline", "lst"];
const TFLOPS_FORMS = "a number > 0 (e.g. 13 or 13.5) or one per model kind (e.g. baseline:13,lst:4.8)";
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `13` -> 13; `baseline:13,lst:4.8` (both kinds, any order) -> { baseline: 13, lst: 4.8 }; else throws. */
export function parseTflops(text: string): Tflops {
  const fail = (why: string): never => {
    throw new Error(`cannot read '${text}' as a sustained TFLOP/s: ${why}; give ${TFLOPS_FORMS}`);
  };
  const rate = (s: string, label: string): number => {
    const x = Number(s.trim());
    if (!NUMBER.test(s.trim())) fail(`${label}'${s}' is not a number`);
    if (!(x > 0)) fail(`${label}${s.trim()} is not > 0`);
    return x;
  };
  const t = text.trim();
  if (t === "") fail("it is empty");
  if (!t.includes(":")) return rate(t, "");
  const out: Partial<Record<ModelKind, number>> = {};
  for (const part of t.split(",")) {
    const i = part.indexOf(":");
    const kind = (i < 0 ? part : part.slice(0, i)).trim();
    if (i < 0) fail(`'${part}' is not kind:rate`);
    if (!(KINDS as readonly string[]).includes(kind))
      fail(`unknown model kind '${kind}' (the kinds: ${KINDS.join(", ")})`);
    if (out[kind as ModelKind] !== undefined) fail(`'${kind}' is given twice`);
    out[kind as ModelKind] = rate(part.slice(i + 1), `${kind}'s rate `);
  }
  const missing = KINDS.filter((k) => out[k] === undefined);
  if (missing.length) fail(`no rate for ${missing.join(", ")} (the per-kind form names every kind)`);
  return { baseline: out.baseline as number, lst: out.lst as number };
}

/**
 * Why `t` is not a usable rate (the text after "got"), or null when it is: a number > 0, or exactly
 * { baseline, lst } with both > 0. For a number the text is the number, as the callers' messages always said.
 */
export function tflopsProblem(t: Tflops): string | null {
  if (typeof t === "number") return t > 0 ? null : String(t);
  if (t === null || typeof t !== "object") return `'${String(t)}' (${TFLOPS_FORMS})`;
  const keys = Object.keys(t);
  if (keys.length !== KINDS.length || !KINDS.every((k) => keys.includes(k)))
    return `${JSON.stringify(t)}: the per-kind form takes exactly ${KINDS.join(" and ")}, e.g. { baseline: 13, lst: 4.8 }`;
  const bad = KINDS.filter((k) => !(typeof t[k] === "number" && t[k] > 0));
  return bad.length ? bad.map((k) => `${k} ${String(t[k])}`).join(", ") : null;
}

/** The rate of one model kind. */
export function tflopsFor(t: Tflops, kind: ModelKind): number {
  return typeof t === "number" ? t : t[kind];
}

/** 20 -> "20 TFLOP/s"; { baseline: 13, lst: 4.8 } -> "baseline 13, lst 4.8 TFLOP/s". */
export function describeTflops(t: Tflops): string {
  return typeof t === "number" ? `${t} TFLOP/s` : `${KINDS.map((k) => `${k} ${t[k]}`).join(", ")} TFLOP/s`;
}

function checkTflops(t: Tflops): void {
  const bad = tflopsProblem(t);
  if (bad !== null) throw new Error(`the sustained throughput must be > 0 TFLOP/s, got ${bad}`);
}

/**
 * Estimated ms a training step takes at `tflops` sustained TFLOP/s, the rate of the config's model kind when
 * given per kind (an estimate: see the header).
 */
export function estimatedStepMs(cfg: ExperimentConfig, tflops: Tflops): number {
  checkTflops(tflops);
  const f = runFlops(cfg);
  return f.flopsPerStep / (tflopsFor(tflops, f.kind) * 1e9);
}

export interface ScaleBudgetRow extends RunFlops {
  /** estimated hours of training at the assumed throughput */
  hours: number;
}

/**
 * A scale's budget: its baseline and LST (static patches of 4) runs at its own size, steps and shapes, with the
 * hours they take at `tflops` sustained (default the scale's `assumedTflops`; per kind, each row at its kind's
 * rate). `mult` multiplies the steps (a grid's 4x or 16x cell). Example: scaleBudget(SCALES.gpu, { mult: 16 })
 * is the phonetic 16x cell's per-run cost; scaleBudget(SCALES.gpu, { tflops: { baseline: 13, lst: 4.8 } }) its
 * 1x cell's at a rate per kind.
 */
export function scaleBudget(
  scale: LabScale,
  opts: { tflops?: Tflops; mult?: number } = {},
): { scale: string; data: DataConfig; tflops: Tflops; rows: ScaleBudgetRow[] } {
  const tflops = opts.tflops ?? scale.assumedTflops;
  if (tflops === undefined)
    throw new Error(
      `scale '${scale.name}' states no assumedTflops (it is timed by measured step times): pass tflops, e.g. { tflops: 20 } or { tflops: { baseline: 13, lst: 4.8 } }`,
    );
  checkTflops(tflops);
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
    return { ...f, hours: f.flops / (tflopsFor(tflops, f.kind) * 1e12) / 3600 };
  });
  return { scale: scale.name, data: resolveDataConfig(scale.data), tflops, rows };
}
