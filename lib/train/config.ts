/**
 * The training config: one typed object with defaults (nanoGPT's globals, as data). Paper values (§4) are
 * noted; the defaults are sized for CPU-scale runs of the lab, not for the paper's 1B model.
 */
import { resolveConfig, type DeepPartial } from "../config";

/**
 * How a step runs (lib/train/compiled-step/policy.ts): `off` eager kernels; `graph` one TensorFlow graph per
 * step form; `xla` that graph compiled by XLA; `auto` the graph where it pays (the CPU tensorflow backend and
 * a step of enough work), else eager.
 */
export type CompileMode = "auto" | "graph" | "xla" | "off";

export interface TrainConfig {
  /** optimiser steps */
  steps: number;
  /** rows per batch */
  batchSize: number;
  /** baseline: input tokens per row (= global units per row) */
  seqLen: number;
  /** LST: patches per row (the global length; = seqLen for a compute-controlled comparison) */
  globalLen: number;
  /** LST: raw input tokens per row at most (the local modules' length) */
  maxRawLen: number;
  /** peak learning rate (paper 4e-4 at 1B; small models take more) */
  lr: number;
  /** linear warmup steps (paper 2,000) */
  warmupSteps: number;
  /** final learning rate as a fraction of the peak (paper 0.01) */
  minLrRatio: number;
  /** decoupled AdamW weight decay on matrices and embeddings (paper 0.1) */
  weightDecay: number;
  beta1: number;
  /** paper 0.95 */
  beta2: number;
  eps: number;
  /** global gradient-norm clip (paper 1.0; 0 = off) */
  clip: number;
  /** seed of the batch stream (the model has its own `model.seed`) */
  seed: number;
  /** log to the console every N steps (0 = never) */
  logEvery: number;
  /** checkpoint every N steps when a run dir is given (0 = only at the end) */
  ckptEvery: number;
  /** call `onEval` every N steps (0 = never) */
  evalEvery: number;
  /**
   * run each step as a TensorFlow graph (docs/speed.md): auto | graph | xla | off. Not in the run's config
   * hash: compiled and eager losses agree to float rounding (a run may resume with another value)
   */
  compile: CompileMode;
}

export const DEFAULT_TRAIN: TrainConfig = {
  steps: 200,
  batchSize: 8,
  seqLen: 128,
  globalLen: 128,
  maxRawLen: 256,
  lr: 1e-3,
  warmupSteps: 20,
  minLrRatio: 0.01,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  clip: 1,
  seed: 0,
  logEvery: 0,
  ckptEvery: 100,
  evalEvery: 0,
  compile: "auto",
};

/** The keys of TrainConfig whose values are numbers. */
type NumberKey = { [K in keyof TrainConfig]: TrainConfig[K] extends number ? K : never }[keyof TrainConfig];

function intAtLeast(cfg: TrainConfig, key: NumberKey, min: number): void {
  const v = cfg[key];
  if (!Number.isInteger(v) || v < min) throw new Error(`train config '${key}' must be an integer >= ${min}, got ${v}`);
}

/**
 * Defaults + overrides (unknown keys and wrong types throw), then range checks. `kind` (the model's) adds the
 * checks of that kind: an LST row holds at least one raw token a patch, so `globalLen` above `maxRawLen` is a
 * row that can never fill (the baseline reads neither).
 */
export function resolveTrainConfig(overrides?: DeepPartial<TrainConfig>, kind?: string): TrainConfig {
  const cfg = resolveConfig(DEFAULT_TRAIN, overrides, "train");
  for (const k of ["steps", "batchSize", "seqLen", "globalLen", "maxRawLen"] as const) intAtLeast(cfg, k, 1);
  if (kind === "lst" && cfg.globalLen > cfg.maxRawLen)
    throw new Error(
      `train config 'globalLen' ${cfg.globalLen} is above 'maxRawLen' ${cfg.maxRawLen}: an LST row of ${cfg.maxRawLen} raw tokens holds at most ${cfg.maxRawLen} patches; raise train.maxRawLen (the lab uses about 8/3 x globalLen) or lower train.globalLen`,
    );
  for (const k of ["warmupSteps", "logEvery", "ckptEvery", "evalEvery"] as const) intAtLeast(cfg, k, 0);
  if (!Number.isSafeInteger(cfg.seed)) throw new Error(`train config 'seed' must be an integer, got ${cfg.seed}`);
  // subtle: `!(x > 0)` lets Infinity through, and an infinite rate turns every weight into NaN in one step
  const finite = (k: keyof TrainConfig, ok: boolean, want: string, fix: string) => {
    const v = cfg[k];
    if (!Number.isFinite(v) || !ok) throw new Error(`train config '${k}' must be ${want}, got ${v}: ${fix}`);
  };
  finite(
    "lr",
    cfg.lr > 0,
    "a finite number > 0",
    "use a peak rate such as 1e-3 (small models) or 4e-4 (the paper's 1B)",
  );
  finite(
    "minLrRatio",
    cfg.minLrRatio >= 0 && cfg.minLrRatio <= 1,
    "in [0, 1]",
    "the final rate as a fraction of the peak (paper 0.01)",
  );
  finite("weightDecay", cfg.weightDecay >= 0, "a finite number >= 0", "paper 0.1; 0 turns decay off");
  finite("beta1", cfg.beta1 >= 0 && cfg.beta1 < 1, "in [0, 1)", "paper 0.9");
  finite("beta2", cfg.beta2 >= 0 && cfg.beta2 < 1, "in [0, 1)", "paper 0.95");
  finite("eps", cfg.eps > 0, "a finite number > 0", "use 1e-8");
  finite("clip", cfg.clip >= 0, "a finite number >= 0 (0 = off)", "paper 1.0");
  return cfg;
}
