/**
 * Curriculum patching (paper §2.5): per sequence, aligned with probability P(step), else static; P is 1 until
 * tau1 of training and falls linearly to 0 at tau2. Evaluated with static patches (the paper's inference patcher).
 */
import type { PatchSchemeDef } from "../patching-config";
import { alignedPatches } from "./aligned";
import { drawAligned } from "./draw";
import { staticPatches } from "./static";

/**
 * Probability of aligned patching at `step` of `total`:
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

export const CURRICULUM: PatchSchemeDef = {
  check(cfg) {
    if (!(cfg.tau1 >= 0 && cfg.tau1 <= cfg.tau2 && cfg.tau2 <= 1)) {
      throw new Error(
        `patching needs 0 <= tau1 <= tau2 <= 1 (fractions of training), got tau1=${cfg.tau1}, tau2=${cfg.tau2}`,
      );
    }
  },
  build(cfg, ctx) {
    if (!(ctx.totalSteps > 0)) throw new Error(`curriculum patching needs totalSteps > 0, got ${ctx.totalSteps}`);
    const staticP = staticPatches(cfg);
    const alignedP = alignedPatches(cfg);
    return (seq, step) => {
      if (step === undefined) throw new Error("curriculum patching needs the training step: call patcher(seq, step)");
      return drawAligned(cfg.seed, seq, step, curriculumAlignedProb(step, ctx.totalSteps, cfg.tau1, cfg.tau2))
        ? alignedP(seq)
        : staticP(seq);
    };
  },
  needs: { entropyModel: false },
  evalScheme: "static",
};
