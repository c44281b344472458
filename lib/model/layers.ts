/**
 * Small building blocks shared by the baseline and LST: seeded named parameters, RMSNorm, linear maps,
 * the SwiGLU MLP, embedding lookup that trains on every backend, and the fused token-level cross-entropy.
 * Attention (RoPE, masks, self/cross-attention, the pre-norm block) lives in attention.ts.
 *
 * Conventions: weight matrices are stored [in, out] so that `x @ W` needs no transpose; every layer is
 * a plain class holding its `tf.Variable`s and a pure `apply` (call it inside `tf.tidy`).
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng, hashSeed } from "../rng";
import { FUSED, fusedKernel } from "../webgpu/names";

/**
 * The stable name of a variable. tfjs needs names unique per process, so a second live model with the same
 * parameter names gets a `#2` (`#3`, ...) suffix on the tfjs name; checkpoints must key on the stable name.
 * Example: stableName("global.layers.0.attn.wqkv#2") = "global.layers.0.attn.wqkv".
 */
export function stableName(name: string): string {
  return name.replace(/#\d+$/, "");
}

function uniqueVariableName(name: string): string {
  const live = tf.engine().registeredVariables;
  if (!(name in live)) return name;
  for (let i = 2; ; i++) if (!(`${name}#${i}` in live)) return `${name}#${i}`;
}

/**
 * Creates the parameters of one model in a stable order with stable dotted names. Values are a pure function
 * of (seed, stable name), so adding a module never changes the initial weights of another one.
 */
export class ParamFactory {
  constructor(
    private readonly seed: number,
    private readonly initStd: number,
    private readonly prefix: string = "",
    private readonly out: tf.Variable[] = [],
  ) {}

  /** A factory whose names start with `prefix.name.` and whose variables join the same list. */
  child(name: string): ParamFactory {
    return new ParamFactory(this.seed, this.initStd, this.fullName(name), this.out);
  }

  /** every variable created through this factory or its children, in creation order */
  get variables(): tf.Variable[] {
    return this.out;
  }

  /** A [rows, cols] matrix drawn from N(0, initStd^2) (the peer's init: std 0.02 everywhere). */
  matrix(name: string, rows: number, cols: number): tf.Variable {
    const full = this.fullName(name);
    const rng = new Rng(hashSeed(this.seed, full));
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = rng.normal() * this.initStd;
    return this.register(full, tf.tensor2d(data, [rows, cols]));
  }

  /** A norm gain of ones, [n]. */
  ones(name: string, n: number): tf.Variable {
    return this.register(this.fullName(name), tf.ones([n]));
  }

  private fullName(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  private register(full: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true, uniqueVariableName(full));
    init.dispose();
    this.out.push(v);
    return v;
  }
}

/** A one-input function with a custom gradient, as `tf.customGrad` takes it. */
type OneInputGrad = (
  x: tf.Tensor,
  save: tf.GradSaveFunc,
) => {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor;
};

/**
 * `tf.customGrad` for a function of one tensor. subtle: tfjs types the callback as variadic over
 * `Tensor | GradSaveFunc`, which no function of named parameters satisfies, so the cast lives here once.
 */
export function customGradOne(f: OneInputGrad): (x: tf.Tensor) => tf.Tensor {
  const g = tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x: tf.Tensor) => g(x);
}

/**
 * x [..., in] @ W [in, out] -> [..., out], as one 2-D matMul (fast on every backend). `rowGain` [in], when
 * given, scales the rows of W first: x @ (diag(g) W) = (x * g) @ W, which is how a preceding RMSNorm's gain
 * is applied (on the small [in, out] weight instead of the large [N, in] activations, forward and backward).
 */
export function linear(x: tf.Tensor, w: tf.Tensor2D, rowGain?: tf.Tensor): tf.Tensor {
  const [nIn, nOut] = w.shape;
  const lead = x.shape.slice(0, -1);
  if (x.shape[x.shape.length - 1] !== nIn) {
    throw new Error(`linear: input width ${x.shape[x.shape.length - 1]} does not match weight [${nIn}, ${nOut}]`);
  }
  const wg = rowGain ? (tf.mul(w, tf.reshape(rowGain, [nIn, 1])) as tf.Tensor2D) : w; // [in,out] * [in,1]
  const y = tf.matMul(tf.reshape(x, [-1, nIn]) as tf.Tensor2D, wg); // [..., in] -> [N, in] -> [N, out]
  return tf.reshape(y, [...lead, nOut]); // [N, out] -> [..., out]
}

/**
 * x / rms(x) over the last axis (eps 1e-5), no gain. One fused gradient, dx = r (dy - y mean(dy y)) with
 * r = 1/rms(x) and y the output, so the backward pass is four elementwise ops instead of autodiff's seven.
 */
export function rmsNormalize<T extends tf.Tensor>(x: T): T {
  if (x.size > 0 && fusedKernel(FUSED.rmsNorm)) return tf.engine().runKernel(FUSED.rmsNorm, { x }) as T; // lib/webgpu/rms-norm.ts
  const f = customGradOne((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(t), -1, true), 1e-5)); // [..., C] -> [..., 1]
    const y = tf.mul(t, r);
    save([y, r]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ys, rs] = saved;
        return tf.mul(rs, tf.sub(dy, tf.mul(ys, tf.mean(tf.mul(dy, ys), -1, true))));
      },
    };
  });
  return f(x) as T;
}

/**
 * RMSNorm over the last axis with a learned gain (eps 1e-5, as torch.nn.RMSNorm in the peer). Every norm
 * here feeds a linear map, so callers pass `normalize(x)` and `gain` to `linear` (see there); `apply` is
 * the plain x / rms(x) * gain.
 */
export class RMSNorm {
  readonly gain: tf.Variable;
  constructor(params: ParamFactory, name: string, dim: number) {
    this.gain = params.ones(`${name}.gain`, dim);
  }
  normalize<T extends tf.Tensor>(x: T): T {
    return rmsNormalize(x);
  }
  apply<T extends tf.Tensor>(x: T): T {
    return tf.mul(rmsNormalize(x), this.gain) as T;
  }
}

/** SwiGLU MLP: W2( silu(x W1) * (x W3) ), with W1|W3 fused into one [d, 2f] matrix. */
export class SwiGLU {
  readonly w13: tf.Variable;
  readonly w2: tf.Variable;
  constructor(params: ParamFactory, name: string, d: number, f: number) {
    this.w13 = params.matrix(`${name}.w13`, d, 2 * f);
    this.w2 = params.matrix(`${name}.w2`, f, d);
  }
  /** x [..., d] -> [..., d]; `inGain` = the gain of the RMSNorm that produced x (see `linear`). */
  apply<T extends tf.Tensor>(x: T, inGain?: tf.Tensor): T {
    const ab = linear(x, this.w13 as tf.Tensor2D, inGain); // [..., d] -> [..., 2f]
    return linear(swiglu(ab), this.w2 as tf.Tensor2D) as T; // [..., f] -> [..., d]
  }
}

/**
 * silu(a) * b for ab = [a | b] [..., 2f] -> [..., f], with one fused gradient (autodiff of split, sigmoid
 * and two products takes about twice the passes): with s = sigmoid(a),
 *   d/da = dy * b * s * (1 + a (1 - s)),   d/db = dy * a * s.
 */
export function swiglu(ab: tf.Tensor): tf.Tensor {
  if (fusedKernel(FUSED.swiglu)) return tf.engine().runKernel(FUSED.swiglu, { ab }) as tf.Tensor; // lib/webgpu/swiglu.ts
  const f = ab.shape[ab.shape.length - 1] / 2;
  const fused = customGradOne((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [a, b] = tf.split(x, [f, f], -1); // [..., 2f] -> 2 x [..., f]
    const s = tf.sigmoid(a);
    const silu = tf.mul(a, s);
    save([a, b, s, silu]);
    return {
      value: tf.mul(silu, b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [as, bs, ss, silus] = saved;
        const da = tf.mul(tf.mul(dy, bs), tf.add(ss, tf.sub(silus, tf.mul(silus, ss)))); // s (1 + a (1 - s)) = s + silu - silu s
        return tf.concat([da, tf.mul(dy, silus)], -1); // [..., 2f]
      },
    };
  });
  return fused(ab);
}

/** Backends whose gather gradient (UnsortedSegmentSum) is missing (wasm) or very slow (cpu: ~35 s a call). */
function needsCustomGatherGrad(): boolean {
  const b = tf.getBackend();
  return b === "wasm" || b === "cpu";
}

/**
 * Rows of `table` [N, D] at `idx` -> [idx.length, D]. On `tensorflow` this is tf.gather; on wasm/cpu the
 * gradient is a scatter-add done in JS (the data is in process memory there, so reading it is cheap).
 */
export function gatherRows(table: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const [n, d] = table.shape;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= n || !Number.isInteger(idx[i])) {
      throw new Error(
        `gatherRows: index ${idx[i]} at position ${i} is outside 0..${n - 1}: check token ids against vocabSize ${n}`,
      );
    }
  }
  const ind = tf.tensor1d(idx, "int32");
  if (!needsCustomGatherGrad()) return tf.gather(table, ind);
  const gather = customGradOne((t: tf.Tensor) => ({
    value: tf.gather(t, ind),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync();
      const acc = new Float32Array(n * d);
      for (let i = 0; i < idx.length; i++) {
        const src = i * d;
        const dst = idx[i] * d;
        for (let c = 0; c < d; c++) acc[dst + c] += g[src + c];
      }
      return tf.tensor2d(acc, [n, d]);
    },
  }));
  return gather(table) as tf.Tensor2D;
}

/**
 * Per-row negative log-likelihood of `targets` under `logits` [N, V] -> [N]; 0 where the target is -1.
 * One fused custom gradient, d nll / d logits = softmax - onehot, built from the softmax the forward pass
 * saved: three passes over [N, V] in all (softmax; scale it; copy it with the N target entries lowered by
 * the scale), where autodiff of logSumExp takes about ten.
 * The value is exact without a second exponential pass: with m = argmax x, p = softmax(x) and lse the
 * log-sum-exp, p_m = exp(x_m - lse), so nll = lse - x_t = (max x - x_t) - log(max p); max p >= 1/V never
 * underflows.
 */
export function crossEntropyNll(logits: tf.Tensor2D, targets: Int32Array): tf.Tensor1D {
  const [n, v] = logits.shape;
  if (targets.length !== n) throw new Error(`crossEntropyNll: ${targets.length} targets for ${n} logit rows`);
  // (row, target) in the flattened logits; an ignored row points at its own column 0 (never another row's entry)
  const flat = new Int32Array(n);
  const keep = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    flat[i] = i * v;
    if (t === -1) continue;
    if (t < 0 || t >= v || !Number.isInteger(t)) {
      throw new Error(`target ${t} at position ${i} is outside 0..${v - 1} (or -1 = ignored): check vocabSize ${v}`);
    }
    flat[i] += t;
    keep[i] = 1;
  }
  if (n > 0 && fusedKernel(FUSED.crossEntropy)) {
    // lib/webgpu/cross-entropy.ts: outputs [nll, lse]; its gradient keeps its own references to lse and targets
    const tgt = tf.tensor1d(targets, "int32");
    const [nll, lse] = tf.engine().runKernel(FUSED.crossEntropy, { logits, targets: tgt }) as tf.Tensor[];
    tgt.dispose();
    lse.dispose();
    return nll as tf.Tensor1D;
  }
  const flatT = tf.tensor1d(flat, "int32");
  const keepT = tf.tensor1d(keep);
  const fused = customGradOne((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const probs = tf.softmax(x); // [N, V]
    const picked = tf.gather(tf.reshape(x, [-1]), flatT); // [N*V] -> [N]
    const gap = tf.sub(tf.max(x, 1), picked); // max x - x_t, [N]
    const nll = tf.sub(gap, tf.log(tf.max(probs, 1))); // lse - x_t, [N]
    save([probs]);
    return {
      value: tf.mul(nll, keepT),
      // subtle: tensors made outside `save` are disposed before the backward pass, so the gradient
      // rebuilds its constants from the JS arrays.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const scale = tf.mul(dy, tf.tensor1d(keep)); // [N]
        const scaled = tf.reshape(tf.mul(saved[0], tf.reshape(scale, [n, 1])), [n * v]); // [N,V] * [N,1] -> [N*V]
        const at = tf.tensor2d(flat, [n, 1], "int32"); // [N, 1] indices into [N*V]
        const lowered = tf.sub(tf.gather(scaled, tf.tensor1d(flat, "int32")), scale); // (p_t - 1) * scale, [N]
        return tf.reshape(tf.tensorScatterUpdate(scaled, at, lowered), [n, v]); // [N*V] -> [N, V]
      },
    };
  });
  return fused(logits) as tf.Tensor1D;
}
