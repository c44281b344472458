/**
 * The model contract shared by baseline, BPE-speech baseline and LST, and by train/ and eval/.
 *
 * A Batch is B rows of T input tokens with their next-token targets. For LST the batcher also gives the
 * patch id of every input token (computed by model/patching.ts), so the model builds its pooling and
 * cross-attention masks from plain arrays.
 *
 * Worked example (one row, static patches of 4 over a 5-frame speech span; text tokens are length-1 patches):
 *   input tokens   BOS  <s>  u1  u2  u3  u4  u5  <t>  w1
 *   targets        <s>  u1   u2  u3  u4  u5  <t> w1   w2
 *   patchIds        0    1    2   2   2   2   3   4    5       (P = 6 patches: lengths [1,1,4,1,1,1])
 *   decoder reads   0    1    1   1   1   2   3   4    5       = patchId of the *target* token - 1
 * The decoder predicts a token of patch j from the global output of patch j-1 (BLT's shift,
 * `decoder_patch_lengths = patch_lengths[1:]`): the global model has seen every token before patch j
 * and none inside it, so the model stays causal. This is why the first patch (BOS) has length 1.
 * The target patch id of the last input token is that of the token after it in the source sequence
 * (`targetPatchIds`), so it is given explicitly too.
 */
import type * as tf from "@tensorflow/tfjs-core";

export interface Batch {
  /** rows */
  B: number;
  /** input tokens per row */
  T: number;
  /** [B*T] input token ids (LM vocabulary), PAD where a row is padded */
  inputs: Int32Array;
  /** [B*T] next-token targets; -1 = ignored (padding) */
  targets: Int32Array;
  /** LST only: [B*T] patch index of each input token in 0..P-1, -1 for padding */
  patchIds?: Int32Array;
  /** LST only: [B*T] patch index of each target token (patchIds shifted by one, see above), -1 where ignored */
  targetPatchIds?: Int32Array;
  /** LST only: patches per row (the global sequence length) */
  P?: number;
}

export type ModelKind = "baseline" | "lst";

export interface LanguageModel {
  readonly kind: ModelKind;
  /** vocabulary size of the output head */
  readonly vocabSize: number;
  /** every trainable variable, in a stable order with stable names (checkpoints key on `name`) */
  readonly variables: tf.Variable[];
  /** per-position negative log-likelihood of the target, [B, T]; 0 where target = -1. Pure: call inside tf.tidy. */
  tokenNll(batch: Batch): tf.Tensor2D;
  /** logits over the vocabulary, [B, T, V]. Pure: call inside tf.tidy. */
  logits(batch: Batch): tf.Tensor3D;
  /** number of parameters (embeddings included), and split by module */
  paramCount(): { total: number; byModule: Record<string, number> };
  dispose(): void;
}
