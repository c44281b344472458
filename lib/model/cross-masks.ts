/**
 * The dense (fused) form of LST's patch pooling and cross-attentions: instead of gathering each query's keys
 * (one tiny matmul per token or patch, and a scatter-add in the gradient), every query of a row attends to
 * all keys of its row through one batched matmul, with an additive mask that keeps exactly the keys the
 * gathered form reads. A masked score is NEG, so exp(NEG - max) is exactly 0 and the result equals the
 * gathered form up to float rounding (lst.ts keeps both; `LstForm`).
 *
 *   decoder  queries = the T tokens, keys = the P*k patch vectors; token t keeps slots
 *            readPatch[t]*k .. readPatch[t]*k + k-1 (patch 0 where readPatch is -1)           [B, T, P*k]
 *   encoder  queries = the P*k patch queries, keys = the T tokens; query (p, i) keeps the tokens of patch p's
 *            span (token 0 for an empty, padding patch)                                       [B, P*k, T]
 *   pooling  mean of a patch's span as a matmul: weight 1/length on the span (1 on token 0 for an empty
 *            patch), so pool = W [B,P,T] @ h [B,T,dl]                                          [B, P, T]
 *
 * Worked example (the row of types.ts, T = 9, P = 6, k = 2, lengths [1,1,4,1,1,1], readPatch
 * [0,1,1,1,1,2,3,4,5]); as 0/1 (1 = kept):
 *   decoder  t=0: 1 1 0 0 0 0 0 0 0 0 0 0    t=2: 0 0 1 1 0 0 0 0 0 0 0 0    t=8: 0 0 0 0 0 0 0 0 0 0 1 1
 *   encoder  (p=2, i=0) and (p=2, i=1): 0 0 1 1 1 1 0 0 0;  (p=5, i=*): 0 0 0 0 0 0 0 0 1
 *   pooling  p=2: 0 0 .25 .25 .25 .25 0 0 0;  p=0: 1 0 0 0 0 0 0 0 0
 */
import { NEG } from "./masks";

/** What the dense form reads of an LST layout (see lst.ts `LstLayout`). */
export interface SpanLayout {
  P: number;
  /** [B*P] first token of each patch, -1 for an empty patch */
  start: Int32Array;
  /** [B*P] tokens per patch */
  length: Int32Array;
  /** [B*T] patch each decoder position reads, -1 = patch 0 */
  readPatch: Int32Array;
}

/** Decoder cross-attention mask [B*T*P*k] (row-major [b][t][slot]): 0 on the k slots of the patch t reads. */
export function decoderReadMaskData(lay: SpanLayout, B: number, T: number, k: number): Float32Array {
  const nk = lay.P * k;
  const out = new Float32Array(B * T * nk).fill(NEG);
  for (let i = 0; i < B * T; i++) {
    const r = Math.max(lay.readPatch[i], 0);
    out.fill(0, i * nk + r * k, i * nk + r * k + k);
  }
  return out;
}

/** Encoder cross-attention mask [B*P*k*T] (row-major [b][p*k+i][t]): 0 on patch p's span (token 0 if empty). */
export function encoderSpanMaskData(lay: SpanLayout, B: number, T: number, k: number): Float32Array {
  const { P, start, length } = lay;
  const out = new Float32Array(B * P * k * T).fill(NEG);
  for (let g = 0; g < B * P; g++) {
    const n = length[g];
    const from = n > 0 ? start[g] : 0;
    const to = from + Math.max(n, 1);
    for (let i = 0; i < k; i++) out.fill(0, (g * k + i) * T + from, (g * k + i) * T + to);
  }
  return out;
}

/** Mean-pooling weights [B*P*T] (row-major [b][p][t]): 1/length on patch p's span (1 on token 0 if empty). */
export function meanPoolData(lay: SpanLayout, B: number, T: number): Float32Array {
  const { P, start, length } = lay;
  const out = new Float32Array(B * P * T);
  for (let g = 0; g < B * P; g++) {
    const n = length[g];
    const from = n > 0 ? start[g] : 0;
    out.fill(1 / Math.max(n, 1), g * T + from, g * T + from + Math.max(n, 1));
  }
  return out;
}
