/** Static patching: runs of `patchSize` frames inside each speech run (patch-ids.ts); the last one may be short. */
import type { LmSequence } from "../../types";
import type { PatchingConfig, PatchSchemeDef } from "../patching-config";
import { splitLongPatches, staticPatchLengths } from "../patch-ids";

export function staticPatches(cfg: PatchingConfig): (seq: LmSequence) => Int32Array {
  return (seq) => splitLongPatches(staticPatchLengths(seq, cfg.patchSize), cfg.maxPatchLen);
}

export const STATIC: PatchSchemeDef = {
  check(cfg) {
    if (!Number.isInteger(cfg.patchSize) || cfg.patchSize < 1) {
      throw new Error(`patching.patchSize must be a positive integer, got ${cfg.patchSize} (the paper uses 4)`);
    }
  },
  build: (cfg) => staticPatches(cfg),
  needs: { entropyModel: false },
  evalScheme: "static",
};
