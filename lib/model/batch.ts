/**
 * Rows of token ids (and, for LST, patch lengths) -> the Batch of lib/model/types.ts, used by training and
 * evaluation alike.
 *
 * A row of n ids gives n-1 input positions: inputs = ids[0..n-2], targets = ids[1..n-1], right-padded to T
 * with PAD / -1. For LST, `patchLengths` covers all n ids; patchIds are those of the inputs and
 * targetPatchIds those of the targets (the patch id of ids[t+1]); P is the largest patch count over the rows
 * (or opts.P, fixed so that every batch has the same global length).
 *
 * Worked example (types.ts; this exact case is a test), one row, T = 9:
 *   ids            BOS <s> u1 u2 u3 u4 u5 <t> w1 w2          patchLengths [1,1,4,1,1,1,1]
 *   inputs         BOS <s> u1 u2 u3 u4 u5 <t> w1
 *   targets        <s> u1  u2 u3 u4 u5 <t> w1 w2
 *   patchIds        0   1   2  2  2  2  3  4  5             P = 6
 *   targetPatchIds  1   2   2  2  2  3  4  5  6             (the decoder reads targetPatchIds - 1)
 */
import { PAD } from "../tokenizers/special";
import { patchIdsFromLengths } from "./patch-ids";
import type { Batch } from "./types";

export interface BatchRow {
  /** the row's token ids, n >= 2 (n-1 input positions) */
  ids: Int32Array;
  /** LST only: patch lengths tiling all n ids (see patch-ids.ts) */
  patchLengths?: Int32Array;
}

export interface BatchOptions {
  /** input positions per row; rows with fewer are padded */
  T: number;
  /** LST only: patches per row; default = the largest patch count among the rows */
  P?: number;
}

export function toBatch(rows: readonly BatchRow[], opts: BatchOptions): Batch {
  const { T } = opts;
  const B = rows.length;
  if (B < 1) throw new Error("toBatch needs at least one row");
  if (!Number.isInteger(T) || T < 1) throw new Error(`toBatch: T must be a positive integer, got ${T}`);
  const withPatches = rows.filter((r) => r.patchLengths !== undefined).length;
  if (withPatches !== 0 && withPatches !== B) {
    throw new Error(
      `toBatch: ${withPatches} of ${B} rows have patchLengths; give them to every row (LST) or to none (baseline)`,
    );
  }
  const inputs = new Int32Array(B * T).fill(PAD);
  const targets = new Int32Array(B * T).fill(-1);
  for (let b = 0; b < B; b++) {
    const ids = rows[b].ids;
    const n = ids.length;
    if (n < 2) throw new Error(`toBatch: row ${b} has ${n} ids; a row needs at least 2 (one input and its target)`);
    if (n - 1 > T)
      throw new Error(
        `toBatch: row ${b} has ${n} ids = ${n - 1} input positions, more than T=${T}: cut rows to at most T+1 ids`,
      );
    inputs.set(ids.subarray(0, n - 1), b * T);
    targets.set(ids.subarray(1), b * T);
  }
  if (withPatches === 0) return { B, T, inputs, targets };

  const patchIds = new Int32Array(B * T).fill(-1);
  const targetPatchIds = new Int32Array(B * T).fill(-1);
  let maxP = 0;
  const rowP: number[] = [];
  for (let b = 0; b < B; b++) {
    const { ids, patchLengths } = rows[b];
    const lengths = patchLengths as Int32Array;
    const full = patchIdsFromLengths(lengths); // patch id of all n ids
    if (full.length !== ids.length)
      throw new Error(`toBatch: row ${b} patch lengths sum to ${full.length} but the row has ${ids.length} ids`);
    if (lengths[0] !== 1)
      throw new Error(
        `toBatch: row ${b} starts with a patch of length ${lengths[0]}; the first patch (BOS) must have length 1`,
      );
    const n = ids.length;
    patchIds.set(full.subarray(0, n - 1), b * T);
    targetPatchIds.set(full.subarray(1), b * T);
    const p = full[n - 2] + 1; // patches that hold at least one input token
    rowP.push(p);
    maxP = Math.max(maxP, p);
  }
  const P = opts.P ?? maxP;
  if (!Number.isInteger(P) || P < 1) throw new Error(`toBatch: P must be a positive integer, got ${P}`);
  const over = rowP.findIndex((p) => p > P);
  if (over >= 0)
    throw new Error(`toBatch: row ${over} needs ${rowP[over]} patches, more than P=${P}: raise P or shorten the row`);
  return { B, T, inputs, targets, patchIds, targetPatchIds, P };
}
