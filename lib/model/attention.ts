/**
 * Attention for the baseline and for LST's three modules: rotary embeddings, causal self-attention (dense,
 * or block-local for a sliding window; masks in masks.ts), cross-attention over gathered key groups or dense
 * under a mask (cross-masks.ts), and the pre-norm transformer block.
 * On webgpu the rotary embedding and the attention itself run as fused kernels (lib/webgpu/rope.ts,
 * attention.ts: one dispatch forward each); the composed ops below are what every other backend runs.
 */
import * as tf from "@tensorflow/tfjs-core";
import { attendCompact } from "./compact-attention";
import { FUSED, fusedKernel } from "../webgpu/names";
import { customGradOne, gatherRows, linear, ParamFactory, RMSNorm, rmsNormalize, SwiGLU } from "./layers";
import type { AttnMask, TensorCache } from "./masks";

/**
 * Rotary tables for q and k [B, H, n, dh], rotate-half form (as the peer):
 *   rope(x) = x * cos + [-x2 | x1] * sin,   x = [x1 | x2] (halves of the head dim)
 * The tables are [n, dh], so they broadcast over the leading B, H (TensorFlow's fast broadcast, unlike a
 * table broadcast over middle axes). sin carries the sign of the rotation ([-sin | sin]), and the q tables
 * carry the attention scale 1/sqrt(dh), so `applyRope` is two multiplies and an add.
 */
export function ropeTables(cache: TensorCache, n: number, dh: number, theta: number): RopeTables {
  const half = dh / 2;
  const build = (which: "cos" | "sin", scale: number) => {
    const data = new Float32Array(n * dh);
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < half; i++) {
        const ang = t / Math.pow(theta, (2 * i) / dh);
        const c = which === "cos" ? Math.cos(ang) : Math.sin(ang);
        data[t * dh + i] = (which === "cos" ? c : -c) * scale;
        data[t * dh + half + i] = c * scale;
      }
    }
    return tf.tensor2d(data, [n, dh]);
  };
  const key = `rope:${n}:${dh}:${theta}`;
  const qScale = 1 / Math.sqrt(dh);
  return {
    qCos: cache.get(`${key}:qcos`, () => build("cos", qScale)),
    qSin: cache.get(`${key}:qsin`, () => build("sin", qScale)),
    kCos: cache.get(`${key}:kcos`, () => build("cos", 1)),
    kSin: cache.get(`${key}:ksin`, () => build("sin", 1)),
  };
}

/** The rotary tables of one sequence length: [n, dh] each, the q pair scaled by 1/sqrt(dh). */
export interface RopeTables {
  qCos: tf.Tensor2D;
  qSin: tf.Tensor2D;
  kCos: tf.Tensor2D;
  kSin: tf.Tensor2D;
}

/** [x2 | x1] for x = [x1 | x2] [B,H,n,dh] (halves of the last axis). */
function swapHalves(x: tf.Tensor): tf.Tensor {
  const [B, H, n, dh] = x.shape;
  const halves = tf.reshape(x, [B * H * n, 2, dh / 2]); // [B,H,n,dh] -> [BHn, 2, dh/2]
  return tf.reshape(tf.reverse(halves, 1), x.shape); // [x2 | x1], back to [B,H,n,dh]
}

/**
 * rope(x) = x * cos + swap(x) * sin for x [B, H, n, dh] with one pair of tables [n, dh]. swap is its own
 * inverse, so the fused gradient is the same form: dx = dy * cos + swap(dy * sin).
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  if (x.size > 0 && fusedKernel(FUSED.rope)) return tf.engine().runKernel(FUSED.rope, { x, cos, sin }) as tf.Tensor4D; // lib/webgpu/rope.ts
  const fused = customGradOne((t: tf.Tensor) => ({
    value: tf.add(tf.mul(t, cos), tf.mul(swapHalves(t), sin)),
    gradFunc: (dy: tf.Tensor) => tf.add(tf.mul(dy, cos), swapHalves(tf.mul(dy, sin))),
  }));
  return fused(x) as tf.Tensor4D;
}

/**
 * The fused attention kernel (lib/webgpu/attention.ts): transpose(softmax(q k^T + mask) v, [...outPerm, 3]) for
 * q, k, v with their rows on axis `rowAxis` (2: [D0,D1,n,dh], 1: [D0,n,D1,dh]), one dispatch forward and four
 * backward. `causal`: every mask hides keys j > i; `window` W > 0: the mask is blocked [B|1,1,nb,W,2W].
 */
function fusedAttend(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor | null,
  attrs: { causal: boolean; window: number; rowAxis: number; outPerm: number[] },
): tf.Tensor4D {
  const m = mask ?? tf.scalar(0); // no mask: a 0 that broadcasts everywhere
  const y = tf.engine().runKernel(FUSED.attention, { q, k, v, mask: m }, attrs as unknown as tf.NamedAttrMap);
  if (!mask) m.dispose(); // the gradient keeps its own reference
  return y as tf.Tensor4D;
}

/** Whether the fused attention kernel runs here, for these (non-empty) queries and keys. */
const useFusedAttention = (q: tf.Tensor, k: tf.Tensor) => q.size > 0 && k.size > 0 && fusedKernel(FUSED.attention);

/**
 * softmax(q k^T + mask) v for q [B,H,nq,dh], k/v [B,H,nk,dh], mask [B|1,1,nq,nk] or none -> [B, nq, H*dh].
 * `causal`: the mask hides every key j > i (self-attention), which the fused kernel skips.
 */
export function attend(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor | null,
  causal = false,
): tf.Tensor3D {
  const [B, H, nq, dh] = q.shape;
  if (useFusedAttention(q, k)) {
    const y = fusedAttend(q, k, v, mask, { causal, window: 0, rowAxis: 2, outPerm: [0, 2, 1] }); // [B,nq,H,dh]
    return tf.reshape(y, [B, nq, H * dh]); // [B,nq,H,dh] -> [B,nq,C]
  }
  const qk = tf.matMul(q, k, false, true); // [B,H,nq,nk]
  const y = tf.matMul(tf.softmax(mask ? tf.add(qk, mask) : qk), v); // [B,H,nq,dh]
  return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, nq, H * dh]); // [B,H,nq,dh] -> [B,nq,H,dh] -> [B,nq,C]
}

/**
 * Block-local attention for a sliding window W (mask layout 'blocked' of masks.ts): the n positions are
 * padded to nb*W and cut into blocks; block b's W queries attend to the 2W keys of blocks b-1 and b.
 * q/k/v [B,H,n,dh], mask [B|1,1,nb,W,2W] -> [B, n, H*dh].
 * The fused kernel reads q, k, v unpadded: query i scores keys [(i/W - 1) W, i] only, at the mask slot
 * j - (i/W - 1) W of row i (attention-grad.ts; worked example in test/webgpu/cases/attention.ts).
 */
export function attendBlocked(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor, W: number): tf.Tensor3D {
  const [B, H, n, dh] = q.shape;
  if (useFusedAttention(q, k)) {
    const y = fusedAttend(q, k, v, mask, { causal: true, window: W, rowAxis: 2, outPerm: [0, 2, 1] }); // [B,n,H,dh]
    return tf.reshape(y, [B, n, H * dh]); // [B,n,H,dh] -> [B,n,C]
  }
  const nb = Math.ceil(n / W);
  const pad = nb * W - n;
  const blocks = (t: tf.Tensor4D): tf.Tensor5D =>
    tf.reshape(
      pad > 0
        ? tf.pad(t, [
            [0, 0],
            [0, 0],
            [0, pad],
            [0, 0],
          ])
        : t,
      [B, H, nb, W, dh],
    ); // [B,H,n,dh] -> [B,H,nb,W,dh]
  const withPrevious = (t: tf.Tensor5D) => {
    const prev = tf.pad(tf.slice(t, [0, 0, 0, 0, 0], [B, H, nb - 1, W, dh]), [
      [0, 0],
      [0, 0],
      [1, 0],
      [0, 0],
      [0, 0],
    ]); // block b-1 at index b, zeros at 0
    return tf.concat([prev, t], 3); // [B,H,nb,2W,dh]
  };
  const qk = tf.matMul(blocks(q), withPrevious(blocks(k)), false, true); // [B,H,nb,W,2W]
  const y = tf.matMul(tf.softmax(tf.add(qk, mask)), withPrevious(blocks(v))); // [B,H,nb,W,dh]
  const flat = tf.reshape(y, [B, H, nb * W, dh]); // [B,H,nb,W,dh] -> [B,H,nb*W,dh]
  const cut = pad > 0 ? tf.slice(flat, [0, 0, 0, 0], [B, H, n, dh]) : flat;
  return tf.reshape(tf.transpose(cut, [0, 2, 1, 3]), [B, n, H * dh]); // [B,H,n,dh] -> [B,n,H,dh] -> [B,n,C]
}

/** Causal multi-head self-attention with RoPE, one fused q|k|v projection, no biases. */
export class SelfAttention {
  readonly wqkv: tf.Variable;
  readonly wo: tf.Variable;
  constructor(
    params: ParamFactory,
    name: string,
    readonly d: number,
    readonly nHeads: number,
  ) {
    this.wqkv = params.matrix(`${name}.wqkv`, d, 3 * d);
    this.wo = params.matrix(`${name}.wo`, d, d);
  }

  /**
   * x [B,n,C] -> [B,n,C]; `rope` from ropeTables(n, C/H); `mask` from selfAttentionMask (masks.ts);
   * `inGain` = the gain of the RMSNorm that produced x (folded into wqkv, see `linear`).
   */
  apply(x: tf.Tensor3D, rope: RopeTables, mask: AttnMask, inGain?: tf.Tensor): tf.Tensor3D {
    const [B, n, C] = x.shape;
    const H = this.nHeads;
    const dh = C / H;
    const qkv = tf.reshape(linear(x, this.wqkv as tf.Tensor2D, inGain), [B, n, 3, H, dh]); // [B,n,3C] -> [B,n,3,H,dh]
    const [qRaw, kRaw, v] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]), 0) as tf.Tensor4D[]; // [B,n,3,H,dh] -> [3,B,H,n,dh] -> 3 x [B,H,n,dh]
    const q = applyRope(qRaw, rope.qCos, rope.qSin); // scaled by 1/sqrt(dh)
    const k = applyRope(kRaw, rope.kCos, rope.kSin);
    const y = mask.window > 0 ? attendBlocked(q, k, v, mask.mask, mask.window) : attend(q, k, v, mask.mask, true);
    return linear(y, this.wo as tf.Tensor2D) as tf.Tensor3D;
  }
}

/**
 * Cross-attention with its own RMSNorms on queries and keys/values (BLT / the peer), no RoPE. Queries come
 * in N groups of nq; group g attends to its own nk key rows, gathered from `source` [M, C] at
 * `idx[g*nk .. g*nk+nk-1]` after the k|v projection (so each source row is projected once however often it
 * is read). `keyMask` [N,1,1,nk] (additive) hides padded key slots; null = every slot is a real key.
 * Example (LST decoder, crossAttnK = 2): group = one token, nq = 1, its keys = rows 2r, 2r+1 of the
 * [B*P*2, C] patch vectors, r = the patch it reads.
 */
export class CrossAttention {
  readonly qNorm: RMSNorm;
  readonly kvNorm: RMSNorm;
  readonly wq: tf.Variable;
  readonly wkv: tf.Variable;
  readonly wo: tf.Variable;
  constructor(
    params: ParamFactory,
    name: string,
    readonly d: number,
    readonly nHeads: number,
  ) {
    this.qNorm = new RMSNorm(params, `${name}.qNorm`, d);
    this.kvNorm = new RMSNorm(params, `${name}.kvNorm`, d);
    this.wq = params.matrix(`${name}.wq`, d, d);
    this.wkv = params.matrix(`${name}.wkv`, d, 2 * d);
    this.wo = params.matrix(`${name}.wo`, d, d);
  }

  /** xq [N,nq,C], source [M,C], idx [N*nk] rows of source -> the update [N,nq,C]. */
  apply(xq: tf.Tensor3D, source: tf.Tensor2D, idx: Int32Array, nk: number, keyMask: tf.Tensor4D | null): tf.Tensor3D {
    const [N, nq, C] = xq.shape;
    if (idx.length !== N * nk)
      throw new Error(`CrossAttention: ${idx.length} key indices for ${N} groups of ${nk} keys`);
    const H = this.nHeads;
    const dh = C / H;
    const q0 = tf.reshape(linear(this.qNorm.normalize(xq), this.wq as tf.Tensor2D, this.qNorm.gain), [N, nq, H, dh]); // [N,nq,C] -> [N,nq,H,dh]
    const q = tf.mul(tf.transpose(q0, [0, 2, 1, 3]), 1 / Math.sqrt(dh)) as tf.Tensor4D; // -> [N,H,nq,dh]
    const kvAll = linear(this.kvNorm.normalize(source), this.wkv as tf.Tensor2D, this.kvNorm.gain) as tf.Tensor2D; // [M,C] -> [M,2C]
    const kv = tf.reshape(gatherRows(kvAll, idx), [N, nk, 2, H, dh]); // [N*nk,2C] -> [N,nk,2,H,dh]
    const [k, v] = tf.unstack(tf.transpose(kv, [2, 0, 3, 1, 4]), 0) as tf.Tensor4D[]; // -> 2 x [N,H,nk,dh]
    return linear(attend(q, k, v, keyMask), this.wo as tf.Tensor2D) as tf.Tensor3D;
  }

  /**
   * The dense form: every query of a row attends to all nk keys of its row, `mask` [B,nq,nk] (additive,
   * from cross-masks.ts) keeping the ones it may read. xq [B,nq,C], kv from `denseCrossKv` -> the update
   * [B,nq,C]. Heads go first ([H,B,...]) so that the mask broadcasts over the leading axis.
   */
  applyDense(xq: tf.Tensor3D, kv: CrossKv, mask: tf.Tensor3D): tf.Tensor3D {
    const [B, nq, C] = xq.shape;
    const H = this.nHeads;
    const dh = C / H;
    const gain = tf.mul(this.qNorm.gain, 1 / Math.sqrt(dh)); // the qNorm gain and the score scale, folded into wq
    const q0 = tf.reshape(linear(this.qNorm.normalize(xq), this.wq as tf.Tensor2D, gain), [B, nq, H, dh]); // [B,nq,C] -> [B,nq,H,dh]
    const q = tf.transpose(q0, [2, 0, 1, 3]); // -> [H,B,nq,dh]
    if (useFusedAttention(q, kv.k)) {
      const attrs = { causal: false, window: 0, rowAxis: 2, outPerm: [1, 2, 0] }; // [H,B,nq,dh] -> [B,nq,H,dh]
      const y = fusedAttend(q as tf.Tensor4D, kv.k, kv.v, mask, attrs); // [B,nq,H,dh]
      return linear(tf.reshape(y, [B, nq, C]), this.wo as tf.Tensor2D) as tf.Tensor3D; // [B,nq,H,dh] -> [B,nq,C]
    }
    const qk = tf.matMul(q, kv.k, false, true); // [H,B,nq,nk]
    const y = tf.matMul(tf.softmax(tf.add(qk, mask)), kv.v); // [H,B,nq,dh]
    const rows = tf.reshape(tf.transpose(y, [1, 2, 0, 3]), [B, nq, C]); // [H,B,nq,dh] -> [B,nq,H,dh] -> [B,nq,C]
    return linear(rows, this.wo as tf.Tensor2D) as tf.Tensor3D;
  }

  /**
   * The compact form, for a few keys per query group: group g's nq queries attend to its own nk keys, k and v
   * [N,nk,C] (gathered by the caller, see lst-compact.ts), through products and sums over the head dim
   * instead of N*H tiny matmuls (compact-attention.ts). xq [N,nq,C], `keyMask` [N,1,1,nk] (additive) or
   * null -> the update [N,nq,C].
   */
  applyCompact(xq: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor4D | null): tf.Tensor3D {
    const [N, nq, C] = xq.shape;
    const nk = k.shape[1];
    const H = this.nHeads;
    const dh = C / H;
    const gain = tf.mul(this.qNorm.gain, 1 / Math.sqrt(dh)); // the qNorm gain and the score scale, folded into wq
    const q = tf.reshape(linear(this.qNorm.normalize(xq), this.wq as tf.Tensor2D, gain), [N, nq, H, dh]); // [N,nq,C] -> [N,nq,H,dh]
    const heads = (t: tf.Tensor3D) => tf.reshape(t, [N, nk, H, dh]) as tf.Tensor4D; // [N,nk,C] -> [N,nk,H,dh]
    if (useFusedAttention(q, k)) {
      // rows on axis 1: q [N,nq,H,dh] as it comes, the mask [N,1,1,nk] broadcasts as in attendCompact
      const attrs = { causal: false, window: 0, rowAxis: 1, outPerm: [0, 1, 2] };
      const y = fusedAttend(q as tf.Tensor4D, heads(k), heads(v), keyMask, attrs); // [N,nq,H,dh]
      return linear(tf.reshape(y, [N, nq, C]), this.wo as tf.Tensor2D) as tf.Tensor3D; // [N,nq,H,dh] -> [N,nq,C]
    }
    const y = tf.reshape(attendCompact(q as tf.Tensor4D, heads(k), heads(v), keyMask), [N, nq, C]); // [N,nq,H,dh] -> [N,nq,C]
    return linear(y, this.wo as tf.Tensor2D) as tf.Tensor3D;
  }
}

/** Keys and values of a dense cross-attention, heads first: [H,B,nk,dh] each. */
export interface CrossKv {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/**
 * The k|v projections of several cross-attentions (same width) over source rows [M,C], as one matmul: the
 * source is normalised once (each kvNorm's gain folds into its own wkv rows, see `linear`) and the layers'
 * wkv are concatenated -> [M, L*2C], layer i's keys at columns 2iC.., its values at (2i+1)C.. The LST
 * decoder's layers all read the same patch vectors.
 */
export function crossKvProjection(layers: readonly CrossAttention[], source: tf.Tensor2D): tf.Tensor2D {
  const C = source.shape[1];
  const scaled = layers.map((a) => tf.mul(a.wkv, tf.reshape(a.kvNorm.gain, [C, 1]))); // [C,2C] * [C,1]
  const w = (layers.length === 1 ? scaled[0] : tf.concat(scaled, 1)) as tf.Tensor2D; // [C, L*2C]
  return linear(rmsNormalize(source), w) as tf.Tensor2D;
}

/** `crossKvProjection` over one source [B,nk,C], heads first for `applyDense`. */
export function denseCrossKv(layers: readonly CrossAttention[], source: tf.Tensor3D): CrossKv[] {
  const [B, nk, C] = source.shape;
  const L = layers.length;
  const H = layers[0].nHeads;
  const dh = C / H;
  const rows = crossKvProjection(layers, tf.reshape(source, [B * nk, C]) as tf.Tensor2D); // [B,nk,C] -> [B*nk,C]
  const kv = tf.reshape(rows, [B, nk, 2 * L, H, dh]); // [B*nk,L*2C] -> [B,nk,2L,H,dh]
  const parts = tf.unstack(tf.transpose(kv, [2, 3, 0, 1, 4]), 0) as tf.Tensor4D[]; // -> [2L,H,B,nk,dh] -> 2L x [H,B,nk,dh]
  return layers.map((_, i) => ({ k: parts[2 * i], v: parts[2 * i + 1] }));
}

/** Pre-norm transformer block: x + Attn(RMSNorm x), then + SwiGLU(RMSNorm x). */
export class Block {
  readonly attnNorm: RMSNorm;
  readonly attn: SelfAttention;
  readonly mlpNorm: RMSNorm;
  readonly mlp: SwiGLU;
  constructor(params: ParamFactory, name: string, d: number, nHeads: number, ffn: number) {
    this.attnNorm = new RMSNorm(params, `${name}.attnNorm`, d);
    this.attn = new SelfAttention(params, `${name}.attn`, d, nHeads);
    this.mlpNorm = new RMSNorm(params, `${name}.mlpNorm`, d);
    this.mlp = new SwiGLU(params, `${name}.mlp`, d, ffn);
  }

  apply(x: tf.Tensor3D, rope: RopeTables, mask: AttnMask): tf.Tensor3D {
    const h = tf.add(x, this.attn.apply(this.attnNorm.normalize(x), rope, mask, this.attnNorm.gain)) as tf.Tensor3D;
    return tf.add(h, this.mlp.apply(this.mlpNorm.normalize(h), this.mlpNorm.gain)) as tf.Tensor3D;
  }
}

/** A stack of blocks named `${name}.layers.${i}`. */
export class BlockStack {
  readonly layers: Block[] = [];
  constructor(params: ParamFactory, name: string, nLayers: number, d: number, nHeads: number, ffn: number) {
    for (let i = 0; i < nLayers; i++) this.layers.push(new Block(params, `${name}.layers.${i}`, d, nHeads, ffn));
  }

  apply(x: tf.Tensor3D, rope: RopeTables, mask: AttnMask): tf.Tensor3D {
    let h = x;
    for (const layer of this.layers) h = layer.apply(h, rope, mask);
    return h;
  }
}
