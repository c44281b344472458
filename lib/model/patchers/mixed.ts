/** Mixed patching: per sequence, aligned with probability `mixedProb`, else static (evaluated with static patches). */
import type { PatchSchemeDef } from "../patching-config";
import { alignedPatches } from "./aligned";
import { drawAligned } from "./draw";
import { staticPatches } from "./static";

export const MIXED: PatchSchemeDef = {
  check(cfg) {
    if (!(cfg.mixedProb >= 0 && cfg.mixedProb <= 1))
      throw new Error(`patching.mixedProb must be in [0, 1], got ${cfg.mixedProb}`);
  },
  build(cfg) {
    const staticP = staticPatches(cfg);
    const alignedP = alignedPatches(cfg);
    // without a step (evaluation) the draw uses step 0
    return (seq, step = 0) => (drawAligned(cfg.seed, seq, step, cfg.mixedProb) ? alignedP(seq) : staticP(seq));
  },
  needs: { entropyModel: false },
  evalScheme: "static",
};
