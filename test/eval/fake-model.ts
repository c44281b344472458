/**
 * A hand-built LanguageModel for scoring tests: the NLL of a target depends only on (previous token, target),
 * read from a table, so every expected score can be computed by hand.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch, LanguageModel, ModelKind } from "../../lib/model/types";

export class FakeLM implements LanguageModel {
  readonly variables: tf.Variable[] = [];
  /** every batch seen, for checking how rows were batched */
  readonly seen: Batch[] = [];

  /**
   * @param nll   `"prev,target"` or `"target"` -> NLL in nats (the pair wins); any other target costs `fallback`
   */
  constructor(
    readonly kind: ModelKind,
    readonly vocabSize: number,
    private readonly nll: Record<string, number>,
    private readonly fallback = 5,
  ) {}

  tokenNll(batch: Batch): tf.Tensor2D {
    if (this.kind === "lst" && (batch.patchIds === undefined || batch.P === undefined))
      throw new Error("FakeLM(lst): batch without patches");
    this.seen.push(batch);
    const out = new Float32Array(batch.B * batch.T);
    for (let i = 0; i < out.length; i++) {
      const target = batch.targets[i];
      if (target < 0) continue;
      const prev = batch.inputs[i];
      out[i] = this.nll[`${prev},${target}`] ?? this.nll[`${target}`] ?? this.fallback;
    }
    return tf.tensor2d(out, [batch.B, batch.T]);
  }

  /** Logits whose log-softmax is not used by scoring: a uniform distribution. */
  logits(batch: Batch): tf.Tensor3D {
    return tf.zeros([batch.B, batch.T, this.vocabSize]) as tf.Tensor3D;
  }

  paramCount(): { total: number; byModule: Record<string, number> } {
    return { total: 0, byModule: {} };
  }

  dispose(): void {}
}
