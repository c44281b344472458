/**
 * The training config: one typed object with defaults (nanoGPT's globals, as data). Paper values (§4) are
 * noted; the defaults are sized for CPU-scale runs of the lab, not for the paper's 1B model.
 */
import { resolveConfig, type DeepPartial } from "../config";

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
};

function intAtLeast(cfg: TrainConfig, key: keyof TrainConfig, min: number): void {
  const v = cfg[key];
  if (!Number.isInteger(v) || v < min) throw new Error(`train config '${key}' must be an integer >= ${min}, got ${v}`);
}

/** Defaults + overrides (unknown keys and wrong types throw), then range checks. */
export function resolveTrainConfig(overrides?: DeepPartial<TrainConfig>): TrainConfig {
  const cfg = resolveConfig(DEFAULT_TRAIN, overrides, "train");
  for (const k of ["steps", "batchSize", "seqLen", "globalLen", "maxRawLen"] as const) intAtLeast(cfg, k, 1);
  for (const k of ["warmupSteps", "logEvery", "ckptEvery", "evalEvery"] as const) intAtLeast(cfg, k, 0);
  if (!(cfg.lr > 0)) throw new Error(`train config 'lr' must be > 0, got ${cfg.lr}`);
  if (!(cfg.minLrRatio >= 0 && cfg.minLrRatio <= 1)) throw new Error(`train config 'minLrRatio' must be in [0, 1], got ${cfg.minLrRatio}`);
  if (!(cfg.weightDecay >= 0)) throw new Error(`train config 'weightDecay' must be >= 0, got ${cfg.weightDecay}`);
  if (!(cfg.clip >= 0)) throw new Error(`train config 'clip' must be >= 0 (0 = off), got ${cfg.clip}`);
  return cfg;
}
