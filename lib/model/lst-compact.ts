/**
 * The compact form of LST's decoder cross-attention (lst.ts `LstForm`): each token reads only the k vectors of
 * its patch, gathered, and attends through products and sums over the head dim (`CrossAttention.applyCompact`)
 * instead of one tiny batched matmul per token and head (the gathered form) or dense scores over the whole row
 * (the fused form). (The encoder keeps the gathered form's matmuls, see lst.ts `encodeGathered`.)
 *
 *   decoder  group = one token (one query), keys = the k vectors of the patch it reads: every decoder layer's
 *            k|v projection of the patch vectors is one matmul [B*P*k, L*2C], viewed per patch as
 *            [B*P, k, L*2C] and cut into one small table per layer and k|v, each gathered at the B*T read
 *            rows (lst-layout.ts `decoderReadRows`). Cutting on the patch side copies B*P rows, not B*T (one
 *            gather of the whole [B*P, k*L*2C] table cut after the gather: unpack + pack ~10 ms of kernel
 *            time per cpuSmall step, ~4 ms this way; bench/lst-form.ts --profile).
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossKvProjection, type CrossAttention } from "./attention";
import { gatherRows } from "./layers";

/** Keys and values of a compact cross-attention, one group per row: [N, nk, C] each. */
export interface CompactKv {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/**
 * The decoder's keys for every layer: patch vectors `patchKv` [B,P,k*C] -> per layer k, v [B*T, k, C], token
 * i's rows being the k vectors of patch table row `readRows[i]` (b*P + the patch it reads). The split into
 * layers happens on the small patch side, so each gather (and its scatter-add gradient) reads one table.
 */
export function decoderKv(layers: readonly CrossAttention[], patchKv: tf.Tensor3D, readRows: Int32Array): CompactKv[] {
  const [B, P, kC] = patchKv.shape;
  const C = layers[0].d;
  const k = kC / C;
  const L = layers.length;
  const proj = crossKvProjection(layers, tf.reshape(patchKv, [B * P * k, C]) as tf.Tensor2D); // [B,P,k*C] -> [B*P*k,C] -> [B*P*k,L*2C]
  const tables = tf.unstack(tf.reshape(proj, [B * P, k, 2 * L, C]), 2); // [B*P*k,L*2C] -> [B*P,k,2L,C] -> 2L x [B*P,k,C]
  const read = tables.map(
    (t) =>
      tf.reshape(gatherRows(tf.reshape(t, [B * P, kC]) as tf.Tensor2D, readRows), [
        readRows.length,
        k,
        C,
      ]) as tf.Tensor3D,
  ); // [B*P,k,C] -> [B*P,k*C] -> [B*T,k*C] -> [B*T,k,C]
  return layers.map((_, i) => ({ k: read[2 * i], v: read[2 * i + 1] }));
}
