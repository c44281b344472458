/**
 * One experiment = one fully resolved config = one run directory. This file holds the config type, its
 * defaults, the lab scales (smoke / small / paper), and the resolver; `study.ts` runs a config and
 * `grids.ts` expands the paper's ablations into lists of them.
 *
 * What a config pins down (everything that changes a result is in it, so its hash is the run's key):
 *   data        the dataset build (data/config.ts)
 *   variant     'baseline' (Base SpeechLLM), 'bpe-speech' (BPE over units), or 'lst'
 *   size        a named model size (model/sizes.ts); `model` overrides on top of it
 *   patching    the training-time patcher (LST only); `evalPatching` the inference-time one
 *   mix         interleaved : text-only token ratio (the paper's 1:2) and the speech-only share
 *   train       steps, batch, lengths, optimiser; `budget` = compute- or data-controlled (paper §4)
 *   eval        scoring normalisation and directions
 */
import { resolveConfig, type DeepPartial } from "../config";
import { resolveDataConfig, type DataConfig } from "../data/config";
import { DEFAULT_INTERLEAVE, type InterleaveOptions } from "../data/interleave";
import { DIRECTIONS, type Direction } from "../data/bench-encode";
import type { ModelConfig } from "../model/config";
import { DEFAULT_PATCHING, resolvePatchingConfig, type PatchingConfig } from "../model/patching";
import { modelSizeConfig } from "../model/sizes";
import { DEFAULT_TRAIN, resolveTrainConfig, type TrainConfig } from "../train/config";
import type { Norm } from "../eval/score";

/** Bump when a change makes older run directories unreadable or their results incomparable. */
export const LAB_FORMAT = 1;

export type Variant = "baseline" | "bpe-speech" | "lst";
export type Budget = "compute" | "data";

export interface ExperimentConfig {
  format: number;
  /** a short label shown in tables and figures, e.g. 'lst-curriculum' */
  name: string;
  seed: number;
  data: DataConfig;
  variant: Variant;
  /** a model size preset name (model/sizes.ts) */
  size: string;
  /** overrides on top of the size preset (vocabulary sizes are filled in from the data) */
  model: DeepPartial<ModelConfig>;
  /** BPE-speech baseline: vocabulary of the BPE over units (the paper: 1k) */
  speechBpeVocab: number;
  patching: PatchingConfig;
  /** inference-time patcher; scheme 'same' = the training scheme (curriculum/mixed evaluate with static) */
  evalPatching: PatchingConfig;
  mix: { mixRatio: [number, number]; speechOnlyFrac: number };
  interleave: InterleaveOptions;
  train: TrainConfig;
  budget: Budget;
  eval: { norm: Norm; directions: Direction[]; batchSize: number; maxItems: number };
}

export interface LabScale {
  name: string;
  data: string;
  size: string;
  seeds: number[];
  train: DeepPartial<TrainConfig>;
  /** the training mix of this scale (see LAB_MIX); a spec's `mix` overrides it */
  mix: ExperimentConfig["mix"];
  /** benchmark items evaluated per benchmark (0 = all built) */
  evalItems: number;
}

/**
 * Training mixes. The paper's (PAPER_MIX) is 1:2 interleaved : text-only tokens with no speech-only documents.
 * The CPU scales add speech-only documents (LAB_MIX, SpiritLM's kind of mix), chosen by the calibration study
 * (`npm start -- --grid=calibration`, notebook 10; numbers in README.md): with no speech-only data the
 * speech side gets ~700 unit tokens a step at the small scale, so neither model learns speech and LST's
 * compression of speech buys it only 24% more data; with 30% of documents speech-only, LST reads 2.0x the
 * baseline's raw tokens (1.7x its text) for the same global compute, which is the paper's mechanism made
 * large enough to show above seed noise in a CPU study.
 */
export const PAPER_MIX: ExperimentConfig["mix"] = { mixRatio: [1, 2], speechOnlyFrac: 0 };
export const LAB_MIX: ExperimentConfig["mix"] = { mixRatio: [1, 2], speechOnlyFrac: 0.3 };

/**
 * Lab scales. `smoke` runs in seconds (CI notebooks and tests); `small` is the CPU study (the main job:
 * minutes per run on 2 cores); `paper` is for a GPU machine.
 */
export const SCALES: Record<string, LabScale> = {
  smoke: { name: "smoke", data: "smoke", size: "smoke", seeds: [1], train: { steps: 12, batchSize: 4, seqLen: 128, globalLen: 128, maxRawLen: 256, warmupSteps: 2, logEvery: 0, ckptEvery: 6 }, mix: LAB_MIX, evalItems: 8 },
  small: { name: "small", data: "small", size: "cpuSmall", seeds: [1, 2, 3], train: { steps: 400, batchSize: 16, seqLen: 192, globalLen: 192, maxRawLen: 512, warmupSteps: 40, logEvery: 0, ckptEvery: 100 }, mix: LAB_MIX, evalItems: 0 },
  paper: { name: "paper", data: "paper", size: "gpuBase", seeds: [1, 2, 3], train: { steps: 20000, batchSize: 32, seqLen: 1024, globalLen: 1024, maxRawLen: 2048, warmupSteps: 1000, logEvery: 50, ckptEvery: 1000 }, mix: PAPER_MIX, evalItems: 0 },
};

/** The scale a notebook or the CLI runs at: LST_SCALE (the headless notebook runner sets 'smoke'), else 'small'. */
export function labScale(name: string = process.env.LST_SCALE ?? "small"): LabScale {
  const s = SCALES[name];
  if (!s) throw new Error(`unknown lab scale '${name}' (from LST_SCALE?): choose one of ${Object.keys(SCALES).join(", ")}`);
  return s;
}

/** The input an experiment is written in: everything optional except what differs from the defaults. */
export interface ExperimentSpec {
  name: string;
  variant?: Variant;
  seed?: number;
  size?: string;
  data?: DeepPartial<DataConfig>;
  model?: DeepPartial<ModelConfig>;
  speechBpeVocab?: number;
  patching?: DeepPartial<PatchingConfig>;
  evalPatching?: DeepPartial<PatchingConfig>;
  mix?: DeepPartial<ExperimentConfig["mix"]>;
  interleave?: DeepPartial<InterleaveOptions>;
  train?: DeepPartial<TrainConfig>;
  budget?: Budget;
  eval?: DeepPartial<ExperimentConfig["eval"]>;
}

const SPEC_KEYS = ["name", "variant", "seed", "size", "data", "model", "speechBpeVocab", "patching", "evalPatching", "mix", "interleave", "train", "budget", "eval"];

/**
 * The lab's LST default: text enters and leaves through the global model (model.lst.textPath 'global', the
 * paper's alternative reading, §1 [I]). Measured at the small scale (3 seeds, `npm start -- --grid=textPath`):
 * with text through the light local modules LST's T→T fell far below the baseline (HS 36 vs 55), with text
 * through the global model it matched or beat it. A spec can still ask for 'local'.
 */
function lstModelDefaults(variant: Variant, model: DeepPartial<ModelConfig> | undefined): DeepPartial<ModelConfig> {
  const m = structuredClone(model ?? {}) as DeepPartial<ModelConfig>;
  if (variant === "lst") return { ...m, lst: { textPath: "global", ...(m.lst ?? {}) } };
  return m;
}

/**
 * Range checks of every part of a resolved config, so that a bad value is refused before a run directory is
 * made: the train config (finite rate, ...), both patchers, the model at its size (a placeholder vocabulary:
 * the real one comes from the data), the mix and the eval settings.
 */
function validateExperiment(c: ExperimentConfig): void {
  const where = `experiment '${c.name}'`;
  resolveTrainConfig(c.train);
  resolvePatchingConfig(c.patching);
  resolvePatchingConfig(c.evalPatching);
  modelSizeConfig(c.size, c.variant === "lst" ? "lst" : "baseline", 1 << 20, { ...c.model, seed: c.seed }, 1);
  const [a, b] = c.mix.mixRatio;
  if (c.mix.mixRatio.length !== 2 || !(Number.isFinite(a) && Number.isFinite(b) && a >= 0 && b >= 0 && a + b > 0)) {
    throw new Error(`${where}: mix.mixRatio must be two finite numbers >= 0 (interleaved : text-only), not both 0, got ${JSON.stringify(c.mix.mixRatio)}`);
  }
  if (!(c.mix.speechOnlyFrac >= 0 && c.mix.speechOnlyFrac < 1)) throw new Error(`${where}: mix.speechOnlyFrac must be in [0, 1), got ${c.mix.speechOnlyFrac}`);
  if (!Number.isInteger(c.speechBpeVocab) || c.speechBpeVocab < 1) throw new Error(`${where}: speechBpeVocab must be a positive integer, got ${c.speechBpeVocab}`);
  if (!Number.isInteger(c.eval.batchSize) || c.eval.batchSize < 1) throw new Error(`${where}: eval.batchSize must be a positive integer, got ${c.eval.batchSize}`);
  if (!Number.isInteger(c.eval.maxItems) || c.eval.maxItems < 0) throw new Error(`${where}: eval.maxItems must be an integer >= 0 (0 = all), got ${c.eval.maxItems}`);
}

/** Resolve a spec at a scale into the full config (unknown keys anywhere throw, naming the key). */
export function resolveExperiment(spec: ExperimentSpec, scale: LabScale = labScale()): ExperimentConfig {
  for (const k of Object.keys(spec)) {
    if (!SPEC_KEYS.includes(k)) throw new Error(`unknown experiment key '${k}'. Known keys: ${SPEC_KEYS.join(", ")}. Fix the spelling or remove it.`);
  }
  const variant = spec.variant ?? "lst";
  if (variant !== "baseline" && variant !== "bpe-speech" && variant !== "lst") {
    throw new Error(`experiment '${spec.name}': variant must be 'baseline', 'bpe-speech' or 'lst', got '${variant}'`);
  }
  const budget = spec.budget ?? "compute";
  if (budget !== "compute" && budget !== "data") throw new Error(`experiment '${spec.name}': budget must be 'compute' or 'data', got '${budget}'`);
  const seed = spec.seed ?? scale.seeds[0];
  // checked here, so that a bad seed is reported as `seed`, not as the patching or train seed it is copied into
  if (!Number.isSafeInteger(seed)) throw new Error(`experiment '${spec.name}': seed must be an integer, got ${JSON.stringify(seed)}`);
  const patching = resolveConfig(DEFAULT_PATCHING, { seed, ...spec.patching }, "patching");
  // Curriculum and mixed patching evaluate with static patches (the paper's inference-time patcher).
  const evalBase: DeepPartial<PatchingConfig> =
    patching.scheme === "curriculum" || patching.scheme === "mixed" ? { ...patching, scheme: "static" } : { ...patching };
  const config: ExperimentConfig = {
    format: LAB_FORMAT,
    name: spec.name,
    seed,
    data: resolveDataConfig(scale.data, spec.data),
    variant,
    size: spec.size ?? scale.size,
    model: lstModelDefaults(variant, spec.model),
    speechBpeVocab: spec.speechBpeVocab ?? 1000,
    patching,
    evalPatching: resolveConfig(patching, { ...evalBase, ...spec.evalPatching }, "evalPatching"),
    mix: resolveConfig(scale.mix, spec.mix, "mix"),
    interleave: resolveConfig(DEFAULT_INTERLEAVE, spec.interleave, "interleave"),
    train: resolveConfig(resolveConfig(DEFAULT_TRAIN, scale.train, "train"), { seed, ...spec.train }, "train"),
    budget,
    eval: resolveConfig({ norm: "mean" as Norm, directions: [...DIRECTIONS] as Direction[], batchSize: 16, maxItems: scale.evalItems }, spec.eval, "eval"),
  };
  if (variant !== "lst" && spec.patching !== undefined) {
    throw new Error(`experiment '${spec.name}': patching applies to LST only, but variant is '${variant}': remove 'patching' or use variant 'lst'`);
  }
  validateExperiment(config);
  for (const d of config.eval.directions) {
    if (!DIRECTIONS.includes(d)) throw new Error(`experiment '${spec.name}': unknown eval direction '${d}': choose from ${DIRECTIONS.join(", ")}`);
  }
  return config;
}
