/**
 * The patching config: one record holding the knobs of every scheme (a scheme reads its own keys and ignores
 * the rest, so an inference-time config derived from a curriculum one keeps its taus). The schemes themselves,
 * their checks and builders are in patchers/ and listed once in the registry (patching.ts).
 */
import type { LmSequence } from "../types";
import type { UnitEntropyModel } from "./entropy";

/** A patcher: patch lengths that tile seq.ids (`step` drives the curriculum and the mixed draws). */
export type Patcher = (seq: LmSequence, step?: number) => Int32Array;

/** A patcher built from a resolved config by `makePatcher`: it carries the config and what was fitted for it. */
export type BuiltPatcher = Patcher & {
  readonly config: PatchingConfig;
  readonly totalSteps: number;
  readonly entropyModel?: UnitEntropyModel;
};

/** What a scheme may need fitted before its patcher can be built ('entropy': the unit n-gram). */
export interface PatcherContext {
  /** the length of training in steps (the curriculum's clock) */
  totalSteps: number;
  entropyModel?: UnitEntropyModel;
}

export type PatchingScheme = "static" | "aligned" | "mixed" | "curriculum" | "entropy";

export interface PatchingConfig {
  scheme: PatchingScheme;
  /** static patch size (the paper's default 4; ablated 4, 6, 9) */
  patchSize: number;
  /** aligned segments: words (paper §2.2) or BPE tokens (App. A.7) */
  align: "word" | "bpe";
  /** silence frames as their own patches (paper default) or merged into a neighbouring word */
  silence: "separate" | "merged";
  /** split patches longer than this (0 = never split) */
  maxPatchLen: number;
  /** 'mixed': probability that a sequence is patched by alignment (the paper leaves it unstated: 0.5) */
  mixedProb: number;
  /** 'curriculum': aligned with probability 1 until tau1 * totalSteps, linear to 0 at tau2 * totalSteps */
  tau1: number;
  tau2: number;
  /** 'entropy': threshold in nats (see entropyMode); used as is only when entropyMeanLen is 0 */
  entropyThreshold: number;
  /**
   * 'entropy': target mean speech patch length. When > 0 the threshold is calibrated on the entropy model's fit
   * data so that patches average this many frames (BLT tunes its threshold to a target patch size; a fixed
   * threshold means different patch sizes for every unit inventory). Default 4 = the compute of static p = 4.
   */
  entropyMeanLen: number;
  /**
   * 'entropy' boundary criterion (BLT `patcher.py`): 'global' starts a patch at frame t when H(t) > threshold;
   * 'monotonic' when H(t) - H(t-1) > threshold (entropy rises: the LM got surprised relative to the last frame).
   */
  entropyMode: "global" | "monotonic";
  /** seed of the per-sequence draws of mixed/curriculum (a run sets it to subSeed(seed, "patching")) */
  seed: number;
}

export const DEFAULT_PATCHING: PatchingConfig = {
  scheme: "static",
  patchSize: 4,
  align: "word",
  silence: "separate",
  maxPatchLen: 0,
  mixedProb: 0.5,
  tau1: 1 / 3,
  tau2: 2 / 3,
  entropyThreshold: 2,
  entropyMeanLen: 4,
  entropyMode: "global",
  seed: 0,
};

/** One entry of the registry: everything the lab needs to know about a scheme. */
export interface PatchSchemeDef {
  /** range checks of the keys this scheme reads (every scheme's check runs on every config: one record holds them all) */
  check(cfg: PatchingConfig): void;
  /** the patcher of a resolved config; throws naming what is missing from the context */
  build(cfg: PatchingConfig, ctx: PatcherContext): Patcher;
  /** what must be fitted on the data before `build` (the lab fits it once per run) */
  needs: { entropyModel: boolean };
  /** the scheme the inference-time patcher uses unless a spec sets evalPatching.scheme */
  evalScheme: PatchingScheme;
}
