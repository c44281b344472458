/**
 * Patching schemes (paper §2): an LmSequence -> patch lengths that tile its ids. Only speech is patched;
 * every non-speech token (BOS, EOS, `<t>`, `<s>`, text) is a patch of length 1, so the first patch (BOS) has
 * length 1 as the decoder's one-patch shift needs (model/types.ts).
 *
 *   static      runs of `patchSize` frames inside each speech run (patch-ids.ts), the last one may be short
 *   aligned     one patch per aligned segment: word or BPE-token spans (`align`), silence as its own patches
 *               ('separate') or merged into a neighbouring word ('merged', see `alignedPatchLengths`)
 *   mixed       per sequence: aligned with probability `mixedProb`, else static
 *   curriculum  per sequence: aligned with probability P(step) (`curriculumAlignedProb`), else static
 *   entropy     BLT-style boundaries where a unit n-gram LM is uncertain (model/entropy.ts; beyond the paper)
 * `maxPatchLen` > 0 splits any longer patch into pieces of at most that length (long silences, long words).
 *
 * Worked example (this exact case is a test): one speech run of 10 frames after `<s>`,
 *   tokens     BOS <s>  u  u  u  u  u  u  u  u  u  u  EOS
 *   wordStart   0   0   1  0  1  0  0  0  1  0  1  0   0     segments sil[2,4) word[4,8) sil[8,10) word[10,12)
 *   silence     0   0   1  1  0  0  0  0  1  1  0  0   0
 *   static p=4        [1, 1, 4, 4, 2, 1]
 *   aligned separate  [1, 1, 2, 4, 2, 2, 1]
 *   aligned merged    [1, 1, 8, 2, 1]           (leading silence -> first word; later silence -> the word before)
 *   merged, max 3     [1, 1, 3, 3, 2, 2, 1]
 *
 * Mixed and curriculum draw per sequence from an Rng seeded by (seed, step, hash of the ids), so a training
 * run is deterministic and a resumed run makes the same choices. The inference-time patcher is a separate
 * config (eval uses `makePatcher` with its own, usually static p = 4).
 */
import { resolveConfig, type DeepPartial } from "../config";
import type { LmSequence } from "../types";
import { Rng, hashSeed } from "../rng";
import type { UnitEntropyModel } from "./entropy";
import { checkPatchLengths, lengthsFromBoundaries, splitLongPatches, staticPatchLengths } from "./patch-ids";

export type Patcher = (seq: LmSequence, step?: number) => Int32Array;

export type PatchingScheme = "static" | "aligned" | "mixed" | "curriculum" | "entropy";
export const PATCHING_SCHEMES: readonly PatchingScheme[] = ["static", "aligned", "mixed", "curriculum", "entropy"];

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
  /** seed of the per-sequence draws of mixed/curriculum */
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

/** Defaults + overrides (unknown keys and wrong types throw), then range checks. */
export function resolvePatchingConfig(overrides?: DeepPartial<PatchingConfig>): PatchingConfig {
  const cfg = resolveConfig(DEFAULT_PATCHING, overrides, "patching");
  if (!PATCHING_SCHEMES.includes(cfg.scheme)) throw new Error(`patching.scheme must be one of ${PATCHING_SCHEMES.join(", ")}, got '${cfg.scheme}'`);
  if (!Number.isInteger(cfg.patchSize) || cfg.patchSize < 1) throw new Error(`patching.patchSize must be a positive integer, got ${cfg.patchSize} (the paper uses 4)`);
  if (cfg.align !== "word" && cfg.align !== "bpe") throw new Error(`patching.align must be 'word' or 'bpe', got '${cfg.align}'`);
  if (cfg.silence !== "separate" && cfg.silence !== "merged") throw new Error(`patching.silence must be 'separate' or 'merged', got '${cfg.silence}'`);
  if (!Number.isInteger(cfg.maxPatchLen) || cfg.maxPatchLen < 0) throw new Error(`patching.maxPatchLen must be an integer >= 0 (0 = no limit), got ${cfg.maxPatchLen}`);
  if (!(cfg.mixedProb >= 0 && cfg.mixedProb <= 1)) throw new Error(`patching.mixedProb must be in [0, 1], got ${cfg.mixedProb}`);
  if (!(cfg.tau1 >= 0 && cfg.tau1 <= cfg.tau2 && cfg.tau2 <= 1)) {
    throw new Error(`patching needs 0 <= tau1 <= tau2 <= 1 (fractions of training), got tau1=${cfg.tau1}, tau2=${cfg.tau2}`);
  }
  if (cfg.entropyMode !== "global" && cfg.entropyMode !== "monotonic") throw new Error(`patching.entropyMode must be 'global' or 'monotonic', got '${cfg.entropyMode}'`);
  if (!(cfg.entropyMeanLen === 0 || cfg.entropyMeanLen >= 1)) throw new Error(`patching.entropyMeanLen must be 0 (use entropyThreshold) or a mean patch length >= 1, got ${cfg.entropyMeanLen}`);
  if (!Number.isFinite(cfg.entropyThreshold)) throw new Error(`patching.entropyThreshold must be a finite number of nats, got ${cfg.entropyThreshold}`);
  return cfg;
}

/**
 * Probability of aligned patching at `step` of `total` (paper §2.5):
 * 1 for step < tau1*total, 1 - (step - tau1*total) / ((tau2 - tau1)*total) up to tau2*total, then 0.
 * Example (total 300, tau 1/3 and 2/3): step 0 -> 1, 99 -> 1, 100 -> 1, 150 -> 0.5, 199 -> 0.01, 200 -> 0.
 */
export function curriculumAlignedProb(step: number, total: number, tau1: number, tau2: number): number {
  if (!(total > 0)) throw new Error(`curriculum needs totalSteps > 0, got ${total}`);
  const t1 = tau1 * total;
  const t2 = tau2 * total;
  if (step < t1) return 1;
  if (step >= t2) return 0;
  return 1 - (step - t1) / (t2 - t1);
}

/** Throw unless every speech run starts with an alignment mark (the data pipeline always sets one there). */
function checkAlignments(seq: LmSequence, marks: Uint8Array, name: string): void {
  for (let t = 0; t < seq.ids.length; t++) {
    const runStart = seq.isSpeech[t] && (t === 0 || !seq.isSpeech[t - 1]);
    if (runStart && !marks[t]) {
      throw new Error(
        `aligned patching needs alignments, but the speech run starting at token ${t} has no ${name} mark: ` +
          "build the sequences from aligned utterances (data/interleave.ts), or use scheme 'static' for unaligned speech",
      );
    }
  }
}

/**
 * Aligned patching (paper §2.2/2.3 and App. A.7). Segments start where `wordStart` (align 'word') or
 * `bpeStart` (align 'bpe') is set; silence segments are the ones whose first frame has `silence` set.
 * 'separate': every segment is a patch. 'merged' (the paper leaves the side unstated): a silence joins the
 * word before it in the same speech run, and a silence that opens the run joins the first word after it;
 * a run of silence only stays one patch. See the worked example at the top of the file.
 */
export function alignedPatchLengths(seq: LmSequence, align: "word" | "bpe", silence: "separate" | "merged", maxPatchLen = 0): Int32Array {
  const marks = align === "word" ? seq.wordStart : seq.bpeStart;
  checkAlignments(seq, marks, align === "word" ? "wordStart" : "bpeStart");
  let lengths: Int32Array;
  if (silence === "separate") {
    lengths = lengthsFromBoundaries(seq, (t) => marks[t] === 1);
  } else {
    // A word segment starts a patch unless it is the run's first word (then it joins the leading silence).
    let firstWordOfRun = -1;
    let runOf = -1;
    lengths = lengthsFromBoundaries(seq, (t, runStart) => {
      if (runOf !== runStart) {
        runOf = runStart;
        firstWordOfRun = -1;
        for (let u = runStart; u < seq.ids.length && seq.isSpeech[u]; u++) {
          if (marks[u] && !seq.silence[u]) {
            firstWordOfRun = u;
            break;
          }
        }
      }
      return marks[t] === 1 && !seq.silence[t] && t !== firstWordOfRun;
    });
  }
  return splitLongPatches(lengths, maxPatchLen);
}

/** FNV-1a hash of a sequence's ids: the per-sequence part of the mixed/curriculum seed. */
export function sequenceHash(ids: Int32Array): number {
  let h = 2166136261;
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i], 16777619) >>> 0;
  return h >>> 0;
}

/** Build the patcher a config names. `totalSteps` sets the curriculum's clock; 'entropy' needs its model. */
export function makePatcher(cfg: PatchingConfig, ctx: { totalSteps: number; entropyModel?: UnitEntropyModel }): Patcher {
  const staticP = (seq: LmSequence) => splitLongPatches(staticPatchLengths(seq, cfg.patchSize), cfg.maxPatchLen);
  const alignedP = (seq: LmSequence) => alignedPatchLengths(seq, cfg.align, cfg.silence, cfg.maxPatchLen);
  // subtle: a draw per sequence (not per step) keeps both kinds of patches in every batch of the ramp
  const drawAligned = (seq: LmSequence, step: number, p: number) => new Rng(hashSeed(cfg.seed, "patching", step, sequenceHash(seq.ids))).next() < p;
  switch (cfg.scheme) {
    case "static":
      return staticP;
    case "aligned":
      return alignedP;
    case "mixed":
      // without a step (evaluation) the draw uses step 0
      return (seq, step = 0) => (drawAligned(seq, step, cfg.mixedProb) ? alignedP(seq) : staticP(seq));
    case "curriculum":
      if (!(ctx.totalSteps > 0)) throw new Error(`curriculum patching needs totalSteps > 0, got ${ctx.totalSteps}`);
      return (seq, step) => {
        if (step === undefined) throw new Error("curriculum patching needs the training step: call patcher(seq, step)");
        return drawAligned(seq, step, curriculumAlignedProb(step, ctx.totalSteps, cfg.tau1, cfg.tau2)) ? alignedP(seq) : staticP(seq);
      };
    case "entropy": {
      const model = ctx.entropyModel;
      if (!model) throw new Error("entropy patching needs an entropyModel: fit one with fitUnitEntropyModel (lib/model/entropy.ts) and pass it in the patcher context");
      const threshold = cfg.entropyMeanLen > 0 ? model.thresholdForMeanLength(cfg.entropyMeanLen, cfg.entropyMode) : cfg.entropyThreshold;
      return (seq) => model.patchLengths(seq, threshold, cfg.entropyMode, cfg.maxPatchLen);
    }
  }
}

/** A patcher wrapped with `checkPatchLengths`, for tests and debugging of new schemes. */
export function checkedPatcher(p: Patcher): Patcher {
  return (seq, step) => {
    const lengths = p(seq, step);
    checkPatchLengths(lengths, seq);
    return lengths;
  };
}

/** Mean patch length over speech patches (non-speech patches are always 1). Example: [1,1,4,2,1] over a 6-frame run -> 3. */
export function meanSpeechPatchLen(lengths: Int32Array, seq: LmSequence): number {
  let t = 0;
  let frames = 0;
  let patches = 0;
  for (const len of lengths) {
    if (seq.isSpeech[t]) {
      frames += len;
      patches++;
    }
    t += len;
  }
  return patches === 0 ? 0 : frames / patches;
}
