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
 *
 * Two ways to clip. `apply(grads, lr, norm)` takes the norm as a number the caller has read (so it can refuse
 * a non-finite step first; the tensorflow, wasm and cpu backends train this way). `applyOnDevice(grads, lr,
 * normSq)` takes the squared norm as a device scalar and computes the clip factor on the device, so a GPU
 * step needs no host read (webgpu); a non-finite norm then shows up when the caller reads it later.
 * `updateOnDevice` is that update returned as new tensors, not assigned: a compiled step (lib/train/compiled-step/)
 * computes it inside its graph, and the caller `commit`s it only when the loss and the norm read finite.
 * On webgpu both device paths run the update as one fused kernel (lib/webgpu/adamw.ts, `nextFused`).
 */
import * as tf from "@tensorflow/tfjs-core";
import { stableName } from "../model/layers";
import { decayedRanges } from "../webgpu/adamw";
import { FUSED, fusedKernel } from "../webgpu/names";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** max global gradient norm; 0 = no clipping */
  clip: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 };

/** Rows of the two-stage sum of the squared gradients on webgpu (`gradNormSquared`). */
const SPLIT_SUM_ROWS = 256;

export interface AdamWState {
  t: number;
  /** per parameter (stable name), in the parameters' order */
  slots: { name: string; m: Float32Array; v: Float32Array }[];
}

/** New parameters (in the parameters' order) and moments of one step, not yet assigned (`AdamW.commit`). */
export interface AdamWUpdate {
  params: tf.Tensor[];
  m: tf.Tensor1D;
  v: tf.Tensor1D;
}

/** The concatenated gradients and their squares (the norm and the second moment both need them). */
interface Flat {
  g: tf.Tensor1D;
  g2: tf.Tensor1D;
}

interface Slot {
  param: tf.Variable;
  name: string;
  decay: boolean;
  /** where this parameter's values sit in the flat m, v and gradient vectors */
  offset: number;
}

/**
 * The moments of all parameters live in two flat vectors, and one step works on the concatenated gradient.
 * The arithmetic per value is that of the formula above, rearranged as torch does (the clip scale and the
 * bias corrections fold into scalars). What changes is the work: 13 passes over the flat vectors plus about
 * 3 small kernels per parameter, against about 19 kernels per parameter for a loop over tensors. The
 * optimiser is memory-bound (~3.6M values at the bench's reference size), so passes are what cost:
 * `npx tsx bench/optimizer-bench.ts` times a step of this against tfjs's own Adam with the same clipping.
 *
 * Worked example of the flat layout (also a test): parameters of shapes [3] and [2, 2] take offsets 0 and 3
 * of a 7-value vector; a gradient map {a: [1,2,3], b: [[4,5],[6,7]]} flattens to [1,2,3,4,5,6,7].
 */
export class AdamW {
  private t = 0;
  private readonly slots: Slot[];
  private readonly total: number;
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  /** the last gradients `gradNorm` flattened, kept for `apply` with the same map */
  private pending: { grads: tf.NamedTensorMap; flat: Flat } | null = null;

  constructor(
    params: readonly tf.Variable[],
    readonly cfg: AdamWConfig = DEFAULT_ADAMW,
  ) {
    if (!(cfg.beta1 >= 0 && cfg.beta1 < 1 && cfg.beta2 >= 0 && cfg.beta2 < 1))
      throw new Error(`AdamW betas must be in [0, 1), got ${cfg.beta1}, ${cfg.beta2}`);
    if (!(cfg.eps > 0)) throw new Error(`AdamW eps must be > 0, got ${cfg.eps}`);
    if (!(cfg.weightDecay >= 0)) throw new Error(`AdamW weightDecay must be >= 0, got ${cfg.weightDecay}`);
    if (!(cfg.clip >= 0)) throw new Error(`gradient clip must be >= 0 (0 = off), got ${cfg.clip}`);
    if (params.length === 0) throw new Error("AdamW needs at least one parameter");
    const seen = new Set<string>();
    let offset = 0;
    this.slots = params.map((p) => {
      const name = stableName(p.name);
      if (seen.has(name))
        throw new Error(`two parameters share the stable name '${name}': AdamW state is keyed by name`);
      seen.add(name);
      const slot = { param: p, name, decay: p.rank >= 2, offset };
      offset += p.size;
      return slot;
    });
    this.total = offset;
    // tidy disposes the zeros, not the variables that now own their data
    this.m = tf.tidy(() => tf.variable(tf.zeros([this.total]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([this.total]), false));
  }

  /** steps taken so far */
  get step(): number {
    return this.t;
  }

  /** Number of values over all parameters (the length of the flat m and v). */
  get size(): number {
    return this.total;
  }

  /** All gradients as one vector, in the parameters' order (the caller disposes it). */
  flatten(grads: tf.NamedTensorMap): tf.Tensor1D {
    return tf.tidy(() => {
      // [size_i] each, then [total]
      const parts = this.slots.map((s) => tf.reshape(this.gradOf(grads, s), [s.param.size]));
      return (parts.length === 1 ? parts[0] : tf.concat(parts)) as tf.Tensor1D;
    });
  }

  /**
   * Squared global L2 norm of the gradients, before clipping, as a device scalar (the caller disposes it).
   * Keeps the flattened gradients for `apply` / `applyOnDevice` with the same map.
   */
  gradNormSquared(grads: tf.NamedTensorMap): tf.Scalar {
    const g2 = this.flatFor(grads).g2;
    if (!fusedKernel(FUSED.adamw) || g2.size < SPLIT_SUM_ROWS * SPLIT_SUM_ROWS) return tf.sum(g2);
    // webgpu reduces a whole vector in one workgroup: sum SPLIT_SUM_ROWS row sums instead (one workgroup each)
    return tf.tidy(() => {
      const cols = Math.ceil(g2.size / SPLIT_SUM_ROWS);
      const padded = tf.pad(g2, [[0, SPLIT_SUM_ROWS * cols - g2.size]]); // [total] -> [R * cols], zeros after
      return tf.sum(tf.sum(tf.reshape(padded, [SPLIT_SUM_ROWS, cols]), 1)); // [R, cols] -> [R] -> []
    });
  }

  /** Global L2 norm of the gradients, before clipping (one asynchronous read). Keeps the flattened gradients for `apply`. */
  async gradNorm(grads: tf.NamedTensorMap): Promise<number> {
    const sum = this.gradNormSquared(grads);
    const sq = (await sum.data())[0];
    sum.dispose();
    return Math.sqrt(sq);
  }

  /**
   * Apply one update with learning rate `lr`. `grads` is keyed by variable name (as `tf.variableGrads`
   * returns it); `norm` is their global norm (from `gradNorm`), so the caller can refuse a non-finite step
   * before any weight changes. Does not dispose `grads`.
   */
  apply(grads: tf.NamedTensorMap, lr: number, norm: number): void {
    if (!Number.isFinite(norm))
      throw new Error(`AdamW.apply got a non-finite gradient norm ${norm}: refuse the step before calling apply`);
    const { beta1: b1, beta2: b2, clip } = this.cfg;
    const scale = clip > 0 && norm > clip ? clip / norm : 1;
    // the clip scale folds into the moments' coefficients: (1-b1) s g and (1-b2) s^2 g^2
    this.update(grads, lr, (1 - b1) * scale, (1 - b2) * scale * scale);
  }

  /**
   * `apply` with the clip factor computed on the device from `normSq` (from `gradNormSquared`), so the step
   * needs no host read: s = clip / max(||g||, clip) = min(1, clip / ||g||). Does not dispose `grads` or `normSq`.
   */
  applyOnDevice(grads: tf.NamedTensorMap, lr: number, normSq: tf.Scalar): void {
    if (this.fused()) {
      this.commit(this.nextFused(grads, lr, normSq));
      return;
    }
    const { beta1: b1, beta2: b2, clip } = this.cfg;
    if (clip <= 0) {
      this.update(grads, lr, 1 - b1, 1 - b2);
      return;
    }
    const [cm, cv] = tf.tidy(() => {
      const s = tf.div(clip, tf.maximum(tf.sqrt(normSq), clip));
      return [tf.mul(s, 1 - b1), tf.mul(tf.square(s), 1 - b2)];
    });
    this.update(grads, lr, cm, cv);
    tf.dispose([cm, cv]);
  }

  /**
   * The update `applyOnDevice` would make, as new tensors (parameters in the parameters' order, m and v),
   * without assigning them or counting the step: a compiled step (lib/train/compiled-step/) returns these
   * from its graph, and the caller keeps them (`commit`) only when the loss and the norm are finite.
   * Disposes the flattened gradients; does not dispose `grads` or `normSq`.
   */
  updateOnDevice(grads: tf.NamedTensorMap, lr: number, normSq: tf.Scalar): AdamWUpdate {
    if (this.fused()) return this.nextFused(grads, lr, normSq);
    const { beta1: b1, beta2: b2, clip } = this.cfg;
    if (clip <= 0) return this.next(grads, lr, 1 - b1, 1 - b2);
    const [cm, cv] = tf.tidy(() => {
      const s = tf.div(clip, tf.maximum(tf.sqrt(normSq), clip));
      return [tf.mul(s, 1 - b1), tf.mul(tf.square(s), 1 - b2)];
    });
    const u = this.next(grads, lr, cm, cv);
    tf.dispose([cm, cv]);
    return u;
  }

  /** Keep an update from `updateOnDevice` (or a compiled step): assign it and count the step. Disposes `u`. */
  commit(u: AdamWUpdate): void {
    if (u.params.length !== this.slots.length)
      throw new Error(`AdamW.commit got ${u.params.length} parameters for ${this.slots.length}`);
    this.m.assign(u.m);
    this.v.assign(u.v);
    this.slots.forEach((s, i) => s.param.assign(u.params[i] as tf.Tensor));
    tf.dispose([u.m, u.v, ...u.params]);
    this.t++;
  }

  /** The flat first and second moments (a compiled step feeds them to its graph). */
  get moments(): [tf.Variable, tf.Variable] {
    return [this.m, this.v];
  }

  /** One AdamW update whose moment coefficients (1-b1) s and (1-b2) s^2 are numbers or device scalars. */
  private update(grads: tf.NamedTensorMap, lr: number, cm: number | tf.Scalar, cv: number | tf.Scalar): void {
    this.commit(this.next(grads, lr, cm, cv));
  }

  /** The tensors of step t + 1 (the arithmetic of the class comment); disposes the flattened gradients. */
  private next(grads: tf.NamedTensorMap, lr: number, cm: number | tf.Scalar, cv: number | tf.Scalar): AdamWUpdate {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.cfg;
    const flat = this.flatFor(grads);
    this.pending = null;
    const t = this.t + 1;
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    try {
      return tf.tidy(() => {
        const m = tf.add(tf.mul(this.m, b1), tf.mul(flat.g, cm)) as tf.Tensor1D;
        const v = tf.add(tf.mul(this.v, b2), tf.mul(flat.g2, cv)) as tf.Tensor1D;
        // lr (m / bc1) / (sqrt(v / bc2) + eps) = m / (sqrt(v) + eps sqrt(bc2)) * (lr sqrt(bc2) / bc1), as torch writes it
        const step = tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps * Math.sqrt(bc2))), (lr * Math.sqrt(bc2)) / bc1);
        // [total] -> one [size_i] piece per parameter, each reshaped to the parameter's shape
        const pieces =
          this.slots.length === 1
            ? [step]
            : tf.split(
                step,
                this.slots.map((s) => s.param.size),
              );
        const params = this.slots.map((s, i) => {
          const decayed = s.decay && wd > 0 ? tf.mul(s.param, 1 - lr * wd) : s.param;
          return tf.sub(decayed, tf.reshape(pieces[i], s.param.shape));
        });
        return { m, v, params };
      });
    } finally {
      tf.dispose([flat.g, flat.g2]);
    }
  }

  /**
   * Whether the step runs as the fused kernel: registered on this backend (webgpu) and its [3, total] output
   * within one storage binding (`maxStorageBufferBindingSize`: 128 MiB on lavapipe, about 2 GiB on a GPU).
   */
  private fused(): boolean {
    if (!fusedKernel(FUSED.adamw)) return false;
    const limits = (tf.backend() as { device?: { limits?: Record<string, number> } }).device?.limits;
    return 3 * 4 * this.total <= (limits?.maxStorageBufferBindingSize ?? Infinity);
  }

  /**
   * `next` as one fused kernel (lib/webgpu/adamw.ts, webgpu only), the clip factor computed from `normSq` in
   * it: the parameters are concatenated into one flat vector, the kernel writes the new parameters, m and v
   * as one [3, total] tensor, and each parameter's piece is sliced back out. Dispatches: the concat (one per
   * 7 parameters, tfjs binds 8 buffers), the kernel, then one slice per parameter and two for m and v.
   */
  private nextFused(grads: tf.NamedTensorMap, lr: number, normSq: tf.Scalar): AdamWUpdate {
    const { beta1, beta2, eps, weightDecay, clip } = this.cfg;
    const flat = this.flatFor(grads);
    this.pending = null;
    const total = this.total;
    const attrs = {
      beta1,
      beta2,
      eps,
      weightDecay,
      clip,
      lr,
      step: this.t + 1,
      decayRanges: decayedRanges(this.slots),
    };
    try {
      return tf.tidy(() => {
        // [size_i] each, then [total]
        const parts = this.slots.map((s) => tf.reshape(s.param, [s.param.size]));
        const w = parts.length === 1 ? parts[0] : tf.concat(parts);
        const inputs = { w, g: flat.g, m: this.m, v: this.v, normSq };
        // [3, total]: rows new w, m, v
        const packed = tf.engine().runKernel(FUSED.adamw, inputs, attrs) as tf.Tensor2D;
        // [1, total] -> [total]
        const row = (r: number) => tf.reshape(tf.slice(packed, [r, 0], [1, total]), [total]) as tf.Tensor1D;
        // [1, size_i] at offset_i of row 0 -> the parameter's shape
        const params = this.slots.map((s) =>
          tf.reshape(tf.slice(packed, [0, s.offset], [1, s.param.size]), s.param.shape),
        );
        return { m: row(1), v: row(2), params };
      });
    } finally {
      tf.dispose([flat.g, flat.g2]);
    }
  }

  /** The step count and the moments, read from the device (asynchronously: webgpu has no synchronous read). */
  async getState(): Promise<AdamWState> {
    const m = (await this.m.data()) as Float32Array;
    const v = (await this.v.data()) as Float32Array;
    return {
      t: this.t,
      slots: this.slots.map((s) => ({
        name: s.name,
        m: m.slice(s.offset, s.offset + s.param.size),
        v: v.slice(s.offset, s.offset + s.param.size),
      })),
    };
  }

  /** Restore a state from `getState` (names and sizes must match the parameters). */
  setState(state: AdamWState): void {
    if (state.slots.length !== this.slots.length) {
      throw new Error(
        `optimiser state has ${state.slots.length} slots but the model has ${this.slots.length} parameters: the checkpoint is from another model`,
      );
    }
    const m = new Float32Array(this.total);
    const v = new Float32Array(this.total);
    state.slots.forEach((saved, i) => {
      const s = this.slots[i];
      if (saved.name !== s.name || saved.m.length !== s.param.size || saved.v.length !== s.param.size) {
        throw new Error(
          `optimiser slot ${i} is '${saved.name}' (${saved.m.length} values) but the parameter is '${s.name}' (${s.param.size}): the checkpoint is from another model`,
        );
      }
      m.set(saved.m, s.offset);
      v.set(saved.v, s.offset);
    });
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(m));
      this.v.assign(tf.tensor1d(v));
    });
    this.t = state.t;
  }

  dispose(): void {
    this.dropPending();
    this.m.dispose();
    this.v.dispose();
  }

  /** The flattened gradients of `grads`: the ones `gradNorm` kept if it saw this map, else new ones. */
  private flatFor(grads: tf.NamedTensorMap): Flat {
    if (this.pending && this.pending.grads === grads) return this.pending.flat;
    this.dropPending();
    const g = this.flatten(grads);
    const flat = { g, g2: tf.square(g) };
    this.pending = { grads, flat };
    return flat;
  }

  /** Drop the flattened gradients kept by `gradNormSquared` (a step abandoned before its update). */
  discardPending(): void {
    this.dropPending();
  }

  private dropPending(): void {
    if (this.pending) tf.dispose([this.pending.flat.g, this.pending.flat.g2]);
    this.pending = null;
  }

  private gradOf(grads: tf.NamedTensorMap, s: Slot): tf.Tensor {
    const g = grads[s.param.name];
    if (!g)
      throw new Error(`no gradient for parameter '${s.param.name}': pass every model variable to tf.variableGrads`);
    return g;
  }
}
