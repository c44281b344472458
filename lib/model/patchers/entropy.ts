/** Entropy patching (beyond the paper): BLT-style boundaries where a unit n-gram LM is uncertain (model/entropy.ts). */
import type { PatchSchemeDef } from "../patching-config";

export const ENTROPY: PatchSchemeDef = {
  check(cfg) {
    if (cfg.entropyMode !== "global" && cfg.entropyMode !== "monotonic") {
      throw new Error(`patching.entropyMode must be 'global' or 'monotonic', got '${cfg.entropyMode}'`);
    }
    if (!(cfg.entropyMeanLen === 0 || cfg.entropyMeanLen >= 1)) {
      throw new Error(
        `patching.entropyMeanLen must be 0 (use entropyThreshold) or a mean patch length >= 1, got ${cfg.entropyMeanLen}`,
      );
    }
    if (!Number.isFinite(cfg.entropyThreshold))
      throw new Error(`patching.entropyThreshold must be a finite number of nats, got ${cfg.entropyThreshold}`);
  },
  build(cfg, ctx) {
    const model = ctx.entropyModel;
    if (!model) {
      throw new Error(
        "entropy patching needs an entropyModel: fit one with fitUnitEntropyModel (lib/model/entropy.ts) and pass it in the patcher context",
      );
    }
    const threshold =
      cfg.entropyMeanLen > 0 ? model.thresholdForMeanLength(cfg.entropyMeanLen, cfg.entropyMode) : cfg.entropyThreshold;
    return (seq) => model.patchLengths(seq, threshold, cfg.entropyMode, cfg.maxPatchLen);
  },
  needs: { entropyModel: true },
  evalScheme: "entropy",
};
