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
 *
 * This file is the registry: PATCH_SCHEMES maps each scheme to its config check, its builder, what it needs
 * fitted and its evaluation scheme. Adding a scheme = its file under patchers/ (a PatchSchemeDef), its name and
 * knobs in patching-config.ts, one line in the table below, and a test in test/model/patching.test.ts.
 */
import { resolveConfig, type DeepPartial } from "../config";
import type { LmSequence } from "../types";
import { checkPatchLengths } from "./patch-ids";
import {
  DEFAULT_PATCHING,
  type BuiltPatcher,
  type PatchingConfig,
  type PatchingScheme,
  type PatchSchemeDef,
  type Patcher,
  type PatcherContext,
} from "./patching-config";
import { STATIC } from "./patchers/static";
import { ALIGNED } from "./patchers/aligned";
import { MIXED } from "./patchers/mixed";
import { CURRICULUM } from "./patchers/curriculum";
import { ENTROPY } from "./patchers/entropy";

export { DEFAULT_PATCHING };
export type { BuiltPatcher, PatchingConfig, PatchingScheme, PatchSchemeDef, Patcher, PatcherContext };
export { alignedPatchLengths } from "./patchers/aligned";
export { curriculumAlignedProb } from "./patchers/curriculum";
export { sequenceHash } from "./patchers/draw";

/** The registry: one entry per scheme (see the header). */
export const PATCH_SCHEMES: Record<PatchingScheme, PatchSchemeDef> = {
  static: STATIC,
  aligned: ALIGNED,
  mixed: MIXED,
  curriculum: CURRICULUM,
  entropy: ENTROPY,
};
export const PATCHING_SCHEMES = Object.keys(PATCH_SCHEMES) as readonly PatchingScheme[];

/** The registry entry of a scheme name, or a clear error naming the known ones. */
export function patchScheme(scheme: string): PatchSchemeDef {
  const def = (PATCH_SCHEMES as Record<string, PatchSchemeDef | undefined>)[scheme];
  if (!def || !Object.prototype.hasOwnProperty.call(PATCH_SCHEMES, scheme)) {
    throw new Error(`patching.scheme must be one of ${PATCHING_SCHEMES.join(", ")}, got '${scheme}'`);
  }
  return def;
}

/**
 * Defaults (`base`, else DEFAULT_PATCHING) + overrides (unknown keys and wrong types throw), then range checks:
 * the common ones and every scheme's own (one record holds every scheme's knobs). A resolved config resolves to
 * itself, so calling this on one is a check, not a second truth.
 */
export function resolvePatchingConfig(
  overrides?: DeepPartial<PatchingConfig>,
  base: PatchingConfig = DEFAULT_PATCHING,
  where = "patching",
): PatchingConfig {
  const cfg = resolveConfig(base, overrides, where);
  patchScheme(cfg.scheme);
  if (!Number.isInteger(cfg.maxPatchLen) || cfg.maxPatchLen < 0) {
    throw new Error(`patching.maxPatchLen must be an integer >= 0 (0 = no limit), got ${cfg.maxPatchLen}`);
  }
  for (const def of Object.values(PATCH_SCHEMES)) def.check(cfg);
  return cfg;
}

/** The inference-time config of a training config before a spec's overrides: the registry's evalScheme. */
export function evalPatchingBase(cfg: PatchingConfig): PatchingConfig {
  return { ...cfg, scheme: patchScheme(cfg.scheme).evalScheme };
}

/** Whether any of these configs needs an entropy model fitted (the registry's `needs`). */
export function needsEntropyModel(...cfgs: PatchingConfig[]): boolean {
  return cfgs.some((c) => patchScheme(c.scheme).needs.entropyModel);
}

/**
 * Build the patcher a resolved config names (the registry's builder). `totalSteps` sets the curriculum's clock;
 * 'entropy' needs its model. The patcher carries its config and entropy model, so a trainer given it needs no
 * second resolution.
 */
export function makePatcher(cfg: PatchingConfig, ctx: PatcherContext): BuiltPatcher {
  const fn = patchScheme(cfg.scheme).build(cfg, ctx);
  const fitted = patchScheme(cfg.scheme).needs.entropyModel ? { entropyModel: ctx.entropyModel } : {};
  return Object.assign((seq: LmSequence, step?: number) => fn(seq, step), {
    config: cfg,
    totalSteps: ctx.totalSteps,
    ...fitted,
  });
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
