/** The per-sequence draw of mixed and curriculum patching: aligned or static, deterministic in (seed, step, ids). */
import type { LmSequence } from "../../types";
import { Rng, hashSeed } from "../../rng";

/** FNV-1a hash of a sequence's ids: the per-sequence part of the mixed/curriculum seed. */
export function sequenceHash(ids: Int32Array): number {
  let h = 2166136261;
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i], 16777619) >>> 0;
  return h >>> 0;
}

/** True with probability `p` for this sequence at this step. */
export function drawAligned(seed: number, seq: LmSequence, step: number, p: number): boolean {
  // subtle: a draw per sequence (not per step) keeps both kinds of patches in every batch of the ramp
  return new Rng(hashSeed(seed, "patching", step, sequenceHash(seq.ids))).next() < p;
}
