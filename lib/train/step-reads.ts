/**
 * The host reads of training steps, batched: each step leaves its per-token NLL [B, T], its loss scalar and
 * its squared gradient norm on the device; `drain()` reads every pending step with one asynchronous transfer.
 *
 * Why: on a GPU backend a host read per step stalls the device, and webgpu under Node has no synchronous
 * read at all (`dataSync` throws `OffscreenCanvas is not defined`). train.ts drains after every step on the
 * CPU backends (so it can refuse a non-finite step before updating the weights, as before) and only on log,
 * checkpoint, eval and last steps on webgpu.
 *
 * Layout of the one read, for steps s1..sk: [nll(s1) (B*T values), loss(s1), normSq(s1), nll(s2), ...].
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkDeviceErrors } from "../backend";

export interface PendingStep<T> {
  /** whatever the caller needs to finish the step (step number, batch, lr, ...) */
  info: T;
  /** [B, T] per-token NLL (0 at ignored targets) */
  nll: tf.Tensor;
  /** the mean loss the gradients were taken of */
  value: tf.Scalar;
  /** squared global gradient norm (AdamW.gradNormSquared) */
  normSq: tf.Scalar;
}

export interface ReadStep<T> {
  info: T;
  nll: Float32Array;
  loss: number;
  /** sqrt of the squared norm, in float64 (as AdamW.gradNorm computes it) */
  gradNorm: number;
}

export class StepReads<T> {
  private pending: PendingStep<T>[] = [];

  /** steps waiting to be read */
  get size(): number {
    return this.pending.length;
  }

  /** Queue a step; its tensors now belong to this queue. */
  push(p: PendingStep<T>): void {
    this.pending.push(p);
  }

  /** Read every pending step (one host transfer), dispose their tensors, return them in order. */
  async drain(): Promise<ReadStep<T>[]> {
    const steps = this.pending;
    this.pending = [];
    if (steps.length === 0) return [];
    // [sum over steps of (B*T + 2)]
    const flat = tf.tidy(() =>
      tf.concat(steps.flatMap((p) => [tf.reshape(p.nll, [-1]), tf.reshape(p.value, [1]), tf.reshape(p.normSq, [1])])),
    );
    let values: Float32Array;
    try {
      values = (await flat.data()) as Float32Array;
      checkDeviceErrors(`reading ${steps.length} training step${steps.length === 1 ? "" : "s"}`);
    } finally {
      flat.dispose();
      for (const p of steps) tf.dispose([p.nll, p.value, p.normSq]);
    }
    const out: ReadStep<T>[] = [];
    let at = 0;
    for (const p of steps) {
      const n = p.nll.size;
      out.push({
        info: p.info,
        nll: values.slice(at, at + n),
        loss: values[at + n],
        gradNorm: Math.sqrt(values[at + n + 1]),
      });
      at += n + 2;
    }
    return out;
  }

  /** Drop every pending step unread (on an error). */
  dispose(): void {
    for (const p of this.pending) tf.dispose([p.nll, p.value, p.normSq]);
    this.pending = [];
  }
}
