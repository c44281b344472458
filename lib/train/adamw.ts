/**
 * AdamW with global-norm gradient clipping (paper §4: beta1 0.9, beta2 0.95, weight decay 0.1, clip 1.0).
 *
 * One step, for every parameter w with gradient g (t counts steps from 1):
 *   g  <- g * min(1, clip / ||g_all||)          (one norm over all gradients, as torch clip_grad_norm_)
 *   m  <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
 *   w  <- w - lr * wd * w                        (decoupled decay, before the Adam update as in torch.AdamW)
 *   w  <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * Decay applies to matrices and embeddings (rank >= 2) only: norm gains (and biases, if a model has them)
 * are rank-1 and stay undecayed, as in nanoGPT and BLT, since pulling a gain towards 0 shrinks a whole
 * activation rather than regularising a weight.
 *
 * The state (step count, m and v per parameter, keyed by the parameter's stable name) is exported as plain
 * Float32Arrays for checkpoints and restored exactly.
 */
import * as tf from "@tensorflow/tfjs-core";
import { stableName } from "../model/layers";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** max global gradient norm; 0 = no clipping */
  clip: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 };

export interface AdamWState {
  t: number;
  /** per parameter (stable name), in the parameters' order */
  slots: { name: string; m: Float32Array; v: Float32Array }[];
}

interface Slot {
  param: tf.Variable;
  name: string;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
}

export class AdamW {
  private t = 0;
  private readonly slots: Slot[];

  constructor(params: readonly tf.Variable[], readonly cfg: AdamWConfig = DEFAULT_ADAMW) {
    if (!(cfg.beta1 >= 0 && cfg.beta1 < 1 && cfg.beta2 >= 0 && cfg.beta2 < 1)) throw new Error(`AdamW betas must be in [0, 1), got ${cfg.beta1}, ${cfg.beta2}`);
    if (!(cfg.eps > 0)) throw new Error(`AdamW eps must be > 0, got ${cfg.eps}`);
    if (!(cfg.weightDecay >= 0)) throw new Error(`AdamW weightDecay must be >= 0, got ${cfg.weightDecay}`);
    if (!(cfg.clip >= 0)) throw new Error(`gradient clip must be >= 0 (0 = off), got ${cfg.clip}`);
    const seen = new Set<string>();
    this.slots = params.map((p) => {
      const name = stableName(p.name);
      if (seen.has(name)) throw new Error(`two parameters share the stable name '${name}': AdamW state is keyed by name`);
      seen.add(name);
      return {
        param: p,
        name,
        // tidy disposes the zeros, not the variables that now own their data
        m: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        v: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        decay: p.rank >= 2,
      };
    });
  }

  /** steps taken so far */
  get step(): number {
    return this.t;
  }

  /** Global L2 norm of the gradients, before clipping (one host sync). */
  gradNorm(grads: tf.NamedTensorMap): number {
    return tf.tidy(() => {
      const sq = this.slots.map((s) => tf.sum(tf.square(this.gradOf(grads, s))));
      return tf.sqrt(tf.addN(sq)).dataSync()[0];
    });
  }

  /**
   * Apply one update with learning rate `lr`. `grads` is keyed by variable name (as `tf.variableGrads`
   * returns it); `norm` is their global norm (from `gradNorm`), so the caller can refuse a non-finite step
   * before any weight changes. Does not dispose `grads`.
   */
  apply(grads: tf.NamedTensorMap, lr: number, norm: number): void {
    if (!Number.isFinite(norm)) throw new Error(`AdamW.apply got a non-finite gradient norm ${norm}: refuse the step before calling apply`);
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clip } = this.cfg;
    this.t++;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2 = 1 - Math.pow(b2, this.t);
    tf.tidy(() => {
      for (const s of this.slots) {
        const g = tf.mul(this.gradOf(grads, s), scale);
        const m = tf.add(tf.mul(s.m, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(s.v, b2), tf.mul(tf.square(g), 1 - b2));
        s.m.assign(m);
        s.v.assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        const decayed = s.decay && wd > 0 ? tf.mul(s.param, 1 - lr * wd) : s.param;
        s.param.assign(tf.sub(decayed, tf.mul(update, lr)));
      }
    });
  }

  getState(): AdamWState {
    return {
      t: this.t,
      slots: this.slots.map((s) => ({ name: s.name, m: s.m.dataSync() as Float32Array, v: s.v.dataSync() as Float32Array })),
    };
  }

  /** Restore a state from `getState` (names and sizes must match the parameters). */
  setState(state: AdamWState): void {
    if (state.slots.length !== this.slots.length) {
      throw new Error(`optimiser state has ${state.slots.length} slots but the model has ${this.slots.length} parameters: the checkpoint is from another model`);
    }
    state.slots.forEach((saved, i) => {
      const s = this.slots[i];
      if (saved.name !== s.name || saved.m.length !== s.param.size || saved.v.length !== s.param.size) {
        throw new Error(`optimiser slot ${i} is '${saved.name}' (${saved.m.length} values) but the parameter is '${s.name}' (${s.param.size}): the checkpoint is from another model`);
      }
      tf.tidy(() => {
        s.m.assign(tf.tensor(saved.m, s.param.shape));
        s.v.assign(tf.tensor(saved.v, s.param.shape));
      });
    });
    this.t = state.t;
  }

  dispose(): void {
    for (const s of this.slots) {
      s.m.dispose();
      s.v.dispose();
    }
  }

  private gradOf(grads: tf.NamedTensorMap, s: Slot): tf.Tensor {
    const g = grads[s.param.name];
    if (!g) throw new Error(`no gradient for parameter '${s.param.name}': pass every model variable to tf.variableGrads`);
    return g;
  }
}
