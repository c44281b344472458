/**
 * The index arrays of one LST forward, derived from a batch in plain JS (no tensors): where each patch starts
 * and ends, which patch each decoder position reads, and every patch's span as a fixed number of token rows.
 * lst.ts and its forms (cross-masks.ts, compact-cross.ts) read them; the worked examples use the row of types.ts
 * (patchIds [0,1,2,2,2,2,3,4,5], targetPatchIds [1,2,2,2,2,3,4,5,6], P = 6).
 */
import { EOS } from "../tokenizers/special";
import type { Batch } from "./types";

/** The index arrays one LST forward derives from a batch (pure JS, see `lstBatchLayout`). */
export interface LstLayout {
  P: number;
  /** [B*P] first token position of each patch in its row, -1 for an empty (padding) patch */
  start: Int32Array;
  /** [B*P] number of tokens of each patch (0 for padding) */
  length: Int32Array;
  /** [B*P] 1 where the patch's last token is EOS (global document reset) */
  patchEnds: Uint8Array;
  /** [B*T] global patch each decoder position reads (targetPatchIds - 1), -1 for padding (decoded from patch 0) */
  readPatch: Int32Array;
}

/**
 * Validate the LST fields of a batch and derive the patch layout. The worked example of types.ts
 * (one row, patchIds [0,1,2,2,2,2,3,4,5], targetPatchIds [1,2,2,2,2,3,4,5,6], P = 6) gives
 * start [0,1,2,6,7,8], length [1,1,4,1,1,1], readPatch [0,1,1,1,1,2,3,4,5].
 */
export function lstBatchLayout(batch: Batch): LstLayout {
  const { B, T, patchIds, targetPatchIds, P } = batch;
  if (!patchIds || !targetPatchIds || P === undefined) {
    throw new Error(
      "an LST batch needs patchIds, targetPatchIds and P: build it with toBatch(rows, { T }) from rows with patchLengths (lib/model/batch.ts)",
    );
  }
  if (patchIds.length !== B * T || targetPatchIds.length !== B * T) {
    throw new Error(
      `batch.patchIds/targetPatchIds have ${patchIds.length}/${targetPatchIds.length} entries, expected B*T = ${B * T}`,
    );
  }
  if (!Number.isInteger(P) || P < 1) throw new Error(`batch.P must be a positive integer, got ${P}`);
  const start = new Int32Array(B * P).fill(-1);
  const length = new Int32Array(B * P);
  const patchEnds = new Uint8Array(B * P);
  const readPatch = new Int32Array(B * T).fill(-1);
  for (let b = 0; b < B; b++) {
    let prev = -1;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      const p = patchIds[i];
      if (p === -1) {
        prev = P; // padding: no real token may follow
        continue;
      }
      if (!Number.isInteger(p) || p >= P || (p !== prev && p !== prev + 1)) {
        throw new Error(
          `row ${b}, position ${t}: patch id ${p} after ${prev} (P=${P}); patch ids must start at 0 and grow by 0 or 1 per token, padding (-1) only at the end`,
        );
      }
      if (p !== prev) start[b * P + p] = t;
      length[b * P + p]++;
      patchEnds[b * P + p] = batch.inputs[i] === EOS ? 1 : 0;
      prev = p;
      const tp = targetPatchIds[i];
      // subtle: an ignored target may still carry its patch id (the last position of a scoring or
      // generation batch), so its logits read the right patch; only -1 there means "no patch".
      if (batch.targets[i] === -1 && tp === -1) continue;
      const lastOfPatch = t === T - 1 || patchIds[i + 1] !== p;
      if (!(tp === p || (tp === p + 1 && lastOfPatch)) || tp < 1 || tp > P) {
        throw new Error(
          `row ${b}, position ${t}: targetPatchId ${tp} with patchId ${p} (P=${P}) would break causality; it must equal the patch id of the next token (p, or p+1 after a patch's last token) and be >= 1`,
        );
      }
      readPatch[i] = tp - 1;
    }
  }
  return { P, start, length, patchEnds, readPatch };
}

/**
 * The span slots for a longest patch of `n` tokens: `n` itself up to 8 (static patches keep their exact size and
 * stay unmasked), past that the next multiple of 8. Aligned word spans of 9..16 tokens all get 16 slots, so a
 * compiled step (lib/train/compiled-step/) sees two or three shapes in a run instead of one per longest word.
 * The extra slots repeat the patch's last token with valid 0, so pooling and cross-attention ignore them.
 * Examples: 4 -> 4, 8 -> 8, 9 -> 16, 15 -> 16, 17 -> 24.
 */
export function spanSlots(n: number): number {
  return n <= 8 ? n : Math.ceil(n / 8) * 8;
}

/** Every patch's span as lmax token rows (see `patchSpans`). */
export interface PatchSpans {
  /** slots per patch: the longest patch, in tokens, rounded up by `spanSlots` */
  lmax: number;
  /** [B*P*lmax] row of h (b*T + t) for each span slot; slots past the patch's end repeat its last token */
  idx: Int32Array;
  /** [B*P*lmax] 1 for a real slot (j < length), 0 for a repeated one; an empty patch keeps slot 0 */
  valid: Float32Array;
  /** whether every slot is real (no mask needed) */
  full: boolean;
}

/**
 * The span slots of every patch, for pooling and the encoder cross-attention. Example (the worked row of
 * types.ts, lengths [1,1,4,1,1,1], T = 9): lmax 4, patch 0 -> idx [0,0,0,0] valid [1,0,0,0],
 * patch 2 -> idx [2,3,4,5] valid [1,1,1,1], patch 5 -> idx [8,8,8,8] valid [1,0,0,0].
 */
export function patchSpans(lay: LstLayout, B: number, T: number): PatchSpans {
  const { P, start, length } = lay;
  let longest = 1;
  for (let i = 0; i < length.length; i++) longest = Math.max(longest, length[i]);
  const lmax = spanSlots(longest);
  const idx = new Int32Array(B * P * lmax);
  const valid = new Float32Array(B * P * lmax);
  let full = true;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      const n = length[b * P + p];
      const o = (b * P + p) * lmax;
      for (let j = 0; j < lmax; j++) {
        idx[o + j] = n > 0 ? b * T + start[b * P + p] + Math.min(j, n - 1) : b * T;
        valid[o + j] = j < Math.max(n, 1) ? 1 : 0;
        if (valid[o + j] === 0) full = false;
      }
    }
  }
  return { lmax, idx, valid, full };
}

/**
 * The row of the [B*P] patch table each decoder position reads: b*P + readPatch (patch 0 where readPatch is
 * -1). Example (the worked row, B = 1): readPatch [0,1,1,1,1,2,3,4,5] -> [0,1,1,1,1,2,3,4,5]; a second row
 * adds P to each of its entries, and a padded position (-1) reads its row's patch 0.
 */
export function decoderReadRows(lay: LstLayout, B: number, T: number): Int32Array {
  const out = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) out[b * T + t] = b * lay.P + Math.max(lay.readPatch[b * T + t], 0);
  return out;
}
