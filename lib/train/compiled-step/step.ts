/**
 * One training step as a pure function of tensors: forward (`model.tokenNll`), loss = sum(nll) / nTargets,
 * tfjs's own gradients (`tf.variableGrads`), the squared global norm, and the AdamW update with the clip
 * factor on the device (`AdamW.updateOnDevice`): s = clip / max(||g||, clip). Nothing is assigned and no value
 * is read to the host, so the same step runs eagerly, is traced, or is replayed in capture mode (trace.ts),
 * and the caller decides afterwards whether to keep the new state (only where the loss and the norm are
 * finite: lib/train/train.ts).
 *
 * The graph's outputs, in order: loss, normSq, nll, m, v, then the parameters.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch, LanguageModel } from "../../model/types";
import type { AdamW, AdamWUpdate } from "../adamw";

export interface StepTensors {
  /** mean NLL over the targets (the value the gradients are of) */
  loss: tf.Scalar;
  /** squared global gradient norm, before clipping */
  normSq: tf.Scalar;
  /** [B, T] per-position NLL, 0 where the target is ignored */
  nll: tf.Tensor2D;
  update: AdamWUpdate;
}

/** The step's tensors as the graph's output list (see the file comment). */
export function stepOutputs(s: StepTensors): tf.Tensor[] {
  return [s.loss, s.normSq, s.nll, s.update.m, s.update.v, ...s.update.params];
}

/** The output list back as a step (the inverse of `stepOutputs`). */
export function fromOutputs(ts: tf.Tensor[]): StepTensors {
  const [loss, normSq, nll, m, v, ...params] = ts;
  return {
    loss: loss as tf.Scalar,
    normSq: normSq as tf.Scalar,
    nll: nll as tf.Tensor2D,
    update: { m: m as tf.Tensor1D, v: v as tf.Tensor1D, params },
  };
}

export function disposeStep(s: StepTensors): void {
  tf.dispose(stepOutputs(s));
}

/** The step for `batch` at learning rate `lr`; `nTargets` = the batch's targets that are not ignored. */
export function stepTensors(model: LanguageModel, opt: AdamW, batch: Batch, lr: number, nTargets: number): StepTensors {
  const kept: { nll?: tf.Tensor2D } = {};
  try {
    const outs = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const nll = model.tokenNll(batch); // [B,T], 0 where the target is ignored
        kept.nll = tf.keep(nll);
        return tf.div(tf.sum(nll), nTargets) as tf.Scalar;
      }, model.variables);
      const normSq = opt.gradNormSquared(grads);
      const update = opt.updateOnDevice(grads, lr, normSq);
      return stepOutputs({ loss: value, normSq, nll: kept.nll as tf.Tensor2D, update });
    });
    return fromOutputs(outs);
  } catch (e) {
    // a capture that stopped mid-step (or a failing kernel): the kept NLL is outside every tidy scope
    kept.nll?.dispose();
    throw e;
  }
}
