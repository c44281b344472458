/**
 * Fused attention on webgpu, flash-style: y = softmax(q k^T + mask) v in one dispatch, without the nq x nk
 * score matrix in memory, in place of the composed matmul, add, softmax, matmul and output transpose of
 * lib/model/attention.ts (`attend`, `attendBlocked`, `CrossAttention.applyDense`, `applyCompact`). Scores are
 * not scaled here: the callers fold 1/sqrt(dh) into q.
 *
 * Forward. A workgroup of WG = 64 threads takes 64 query rows of one group, one row a thread, its q row and
 * its output accumulator in registers. Key rows come in tiles of T (64 at dh <= 16, 32 at dh 32, 16 at dh 64,
 * 8 at dh 128: two T x dh tiles of k and v fit 16 KiB of workgroup memory), loaded by all 64 threads; each
 * thread scores its row against the tile and folds it into an online softmax:
 *   m' = max(m, max_u s_u),   l' = l e^(m - m') + sum_u e^(s_u - m'),   acc' = acc e^(m - m') + sum_u e^(s_u - m') v_u
 * and writes acc / l at the end. Keys outside a row's range [keyLo(i), keyHi(i)) are skipped: with `causal`
 * keys j > i (so the workgroup stops at the tile holding its last query), and with a window W (the blocked
 * mask of a sliding window) keys before block i / W - 1 or past block i / W. Inside the range the mask adds
 * its value (NEG = -1e9 hides a key: e^(NEG - m) is 0 once any allowed key is seen; every row has one).
 * The index arithmetic (layouts, mask strides, the blocked mask) and the backward are in attention-grad.ts;
 * the backward's first kernel, LstAttentionStats (per query row the log-sum-exp, by the same key loop without
 * v, and D = rowsum(dy y)), is here beside the forward. One dispatch forward, four backward (stats, dq, dk, dv).
 *
 * Worked example (a test, test/webgpu/cases/attention.ts "worked example"): dh = 1, one query q = 1 and
 * two keys k = [0, ln 3], v = [1, 5], no mask: scores [0, ln 3], softmax [1/4, 3/4], y = 1/4 + 15/4 = 4.
 * Online, in tiles of one key: m = 0, l = 1, acc = 1; then m' = ln 3, l' = 1/3 + 1 = 4/3,
 * acc' = 1/3 + 5 = 16/3, y = acc' / l' = 4.
 *
 * The output is written as transpose(y, [...outPerm, 3]) (y laid out as q), so the caller's transpose to
 * [B, n, H, dh] is part of this kernel; its gradient reads dy in that layout. Without a mask the caller
 * passes a scalar 0 (it broadcasts: every stride 0). The mask gets no gradient (masks are constants).
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  attentionGrad,
  attentionLayout,
  dispatchFor,
  KV_TILE,
  prelude,
  UNIFORMS,
  WG,
  type AttentionAttrs,
} from "./attention-grad";
import { FUSED } from "./names";
import { registerFused, runWgsl, type WebgpuBackendLike } from "./program";
import { registerRope } from "./rope";

function forwardBody(dh: number): string {
  return `${prelude(dh, true)}
${KV_TILE}
fn main(index: i32) {
  let g = group();
  let t = i32(localIndex);
  let q0 = i32(workgroupId.x) * WG;
  let i = q0 + t;
  let live = g < uniforms.g && i < uniforms.nq;
  var q: array<f32, DH>;
  var acc: array<f32, DH>;
  var s: array<f32, T>;
  var m = -BIG;
  var l = 0.0;
  var lo = 0;
  var hi = 0;
  if (live) {
    let qb = rowQ(g, i);
    for (var c = 0; c < DH; c++) { q[c] = Q[qb + c]; acc[c] = 0.0; }
    lo = keyLo(i);
    hi = keyHi(i);
  }
  let jRange = uniformRange(keyLo(q0), keyHi(min(uniforms.nq, q0 + WG) - 1));
  for (var j0 = jRange.x; j0 < jRange.y; j0 += T) {
    loadKvTile(g, j0, t);
    workgroupBarrier();
    if (live) {
      var tmax = -BIG;
      for (var u = 0; u < T; u++) {
        let j = j0 + u;
        var sc = -BIG;
        if (j >= lo && j < hi) {
          sc = maskAt(g, i, j);
          for (var c = 0; c < DH; c++) { sc += q[c] * Ks[u * DH + c]; }
          tmax = max(tmax, sc);
        }
        s[u] = sc;
      }
      if (tmax > -BIG) {
        let mNew = max(m, tmax);
        let r = exp(m - mNew);
        l = l * r;
        for (var c = 0; c < DH; c++) { acc[c] = acc[c] * r; }
        for (var u = 0; u < T; u++) {
          let j = j0 + u;
          if (j >= lo && j < hi) {
            let p = exp(s[u] - mNew);
            l += p;
            for (var c = 0; c < DH; c++) { acc[c] += p * Vs[u * DH + c]; }
          }
        }
        m = mNew;
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let ob = rowO(g, i);
    let inv = 1.0 / l;
    for (var c = 0; c < DH; c++) { result[ob + c] = acc[c] * inv; }
  }
}`;
}

type Info = tf.TensorInfo;

function forward(b: WebgpuBackendLike, q: Info, k: Info, v: Info, mask: Info, a: AttentionAttrs): Info {
  const L = attentionLayout(q, k, mask, a);
  if (v.shape.join() !== k.shape.join())
    throw new Error(`${FUSED.attention}: v [${v.shape}] is not k's shape [${k.shape}]`);
  const spec = {
    key: `attn_fwd_${L.dh}`,
    outputShape: L.outShape,
    inputs: ["Q", "K", "V", "M"],
    workgroupSize: [WG, 1, 1] as [number, number, number],
    dispatch: dispatchFor(L.nq, L.G),
    uniforms: UNIFORMS,
    body: forwardBody(L.dh),
  };
  return runWgsl(b, spec, [q, k, v, mask], L.uniforms);
}

/** [lse | D] [2 * G * nq] per query row (see the header). Inputs q, k, mask, y, dy. */
function statsBody(dh: number): string {
  return `${prelude(dh, true)}
var<workgroup> Ks: array<f32, T * DH>;
fn main(index: i32) {
  let g = group();
  let t = i32(localIndex);
  let q0 = i32(workgroupId.x) * WG;
  let i = q0 + t;
  let live = g < uniforms.g && i < uniforms.nq;
  var q: array<f32, DH>;
  var m = -BIG;
  var l = 0.0;
  var dd = 0.0;
  var lo = 0;
  var hi = 0;
  if (live) {
    let qb = rowQ(g, i);
    let ob = rowO(g, i);
    for (var c = 0; c < DH; c++) { q[c] = Q[qb + c]; dd += DY[ob + c] * Y[ob + c]; }
    lo = keyLo(i);
    hi = keyHi(i);
  }
  let jRange = uniformRange(keyLo(q0), keyHi(min(uniforms.nq, q0 + WG) - 1));
  for (var j0 = jRange.x; j0 < jRange.y; j0 += T) {
    for (var e = t; e < T * DH; e += WG) {
      let j = j0 + e / DH;
      var kv = 0.0;
      if (j < uniforms.nk && g < uniforms.g) { kv = K[rowK(g, j) + e % DH]; }
      Ks[e] = kv;
    }
    workgroupBarrier();
    if (live) {
      for (var u = 0; u < T; u++) {
        let j = j0 + u;
        if (j >= lo && j < hi) {
          var s = maskAt(g, i, j);
          for (var c = 0; c < DH; c++) { s += q[c] * Ks[u * DH + c]; }
          if (s > m) { l = l * exp(m - s) + 1.0; m = s; } else { l += exp(s - m); }
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    result[g * uniforms.nq + i] = m + log(l);
    result[(uniforms.g + g) * uniforms.nq + i] = dd;
  }
}`;
}

/** The log-sum-exp and D of every query row, [2 * G * nq]. */
function attentionStats(b: WebgpuBackendLike, q: Info, k: Info, mask: Info, y: Info, dy: Info, a: AttentionAttrs) {
  const L = attentionLayout(q, k, mask, a);
  const spec = {
    key: `attn_stats_${L.dh}`,
    outputShape: [2 * L.G * L.nq],
    inputs: ["Q", "K", "M", "Y", "DY"],
    workgroupSize: [WG, 1, 1] as [number, number, number],
    dispatch: dispatchFor(L.nq, L.G),
    uniforms: UNIFORMS,
    body: statsBody(L.dh),
  };
  return runWgsl(b, spec, [q, k, mask, y, dy], L.uniforms);
}

const attrsOf = (attrs: tf.NamedAttrMap) => attrs as unknown as AttentionAttrs;

/** Registers LstAttention (with LstAttentionStats and LstAttentionGrad) and the rotary embedding (rope.ts). */
export function registerAttention(): void {
  registerRope();
  const name = FUSED.attention;
  registerFused({
    name,
    forward: ({ inputs, backend, attrs }) => {
      const { q, k, v, mask } = inputs as Record<string, Info>;
      return forward(backend, q, k, v, mask, attrsOf(attrs));
    },
    grad: {
      kernelName: name,
      inputsToSave: ["q", "k", "v", "mask"],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [q, k, v, mask, y] = saved;
        // made once here, not inside a closure: each closure runs in its own tidy (tape.ts)
        const stats = tf.engine().runKernel(`${name}Stats`, { q, k, mask, y, dy: dy as tf.Tensor }, attrs);
        const ins = { q, k, v, mask, stats: stats as tf.Tensor, dy: dy as tf.Tensor };
        const grad = (which: string) => () =>
          tf.engine().runKernel(`${name}Grad`, ins, { ...attrs, which }) as tf.Tensor;
        return { q: grad("q"), k: grad("k"), v: grad("v") };
      },
    },
  });
  registerFused({
    name: `${name}Stats`,
    forward: ({ inputs, backend, attrs }) => {
      const { q, k, mask, y, dy } = inputs as Record<string, Info>;
      return attentionStats(backend, q, k, mask, y, dy, attrsOf(attrs));
    },
  });
  registerFused({
    name: `${name}Grad`,
    forward: ({ inputs, backend, attrs }) => {
      const ins = inputs as Record<"q" | "k" | "v" | "mask" | "stats" | "dy", Info>;
      return attentionGrad(backend, attrs.which as "q" | "k" | "v", ins, attrsOf(attrs));
    },
  });
}
