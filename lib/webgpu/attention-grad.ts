/**
 * The index arithmetic of the fused attention (attention.ts) and its gradient kernels. Shared with the forward:
 * `attentionLayout` (sizes and strides, passed as uniforms so one compiled shader serves every shape of one
 * head width), `prelude` (the WGSL helpers below) and `dispatchFor`.
 *
 * Layout. q [A0, A1, A2, dh] holds G = D0 * D1 groups of nq rows: the row axis is `rowAxis` (2: [D0, D1, nq,
 * dh], as attend's [B,H,n,dh]; 1: [D0, nq, D1, dh], as the compact form's [N,nq,H,dh]), D0 = A0 and D1 the
 * other axis. Group g = d0 * D1 + d1; row i of group g starts at d0*s0 + d1*s1 + i*si (`rowQ`; `rowK` for k
 * and v, `rowO` for the output y and its gradient dy, which are laid out as transpose(y, [...outPerm, 3])).
 * The mask is read at d0*m0 + d1*m1 + i*mi + j*mj (a broadcast axis has stride 0), and with a window W > 0
 * (the blocked layout [M0, M1, nb, W, 2W] of lib/model/masks.ts) plus W - (i / W) * W: row (blk, r) of a
 * block is row i = blk * W + r of [nb * W, 2W], and key j sits in slot s = j - (blk - 1) * W.
 * Worked example (a test, test/webgpu/cases/attention.ts "blocked window n5 W2"): n = 5, W = 2 -> nb = 3;
 * query i = 3 (block 1, row r = 1) scores keys 0..3 (`keyLo` = (3/2 - 1) * 2 = 0, `keyHi` = min(3 + 1,
 * (3/2 + 1) * 2) = 4); key j = 2 is read at mask offset 3 * 4 + 2 * 1 + 2 - (3/2) * 2 = 14 = row 3, slot 2
 * (position (1 - 1) * 2 + 2 = 2), which masks.ts's example allows, as it hides keys 0 and 1 (i - j >= W).
 *
 * Backward (flash-attention 2, no atomics; p = exp(s - lse)):
 *   stats  per query row:  lse_i = log sum_j exp(s_ij),  D_i = sum_c dy_ic y_ic     -> [2, G, nq] (attention.ts)
 *   dq     per query row:  dq_i = sum_j p_ij (dy_i . v_j - D_i) k_j
 *   dk     per key row:    dk_j = sum_i p_ij (dy_i . v_j - D_i) q_i
 *   dv     per key row:    dv_j = sum_i p_ij dy_i
 * The log-sum-exp is recomputed (one pass of q k^T) rather than saved by the forward: a kernel writes one
 * buffer, so saving it would cost the forward a copy and the backward a zero gradient of the same size.
 * dk and dv are one shader run twice (`which`), so each dispatch keeps only its own accumulator in registers.
 * A dk/dv workgroup takes 64 key rows and walks the query tiles that can see them: from its first key on when
 * causal, blocks k0 / W .. kLast / W + 1 with a window. */
import * as tf from "@tensorflow/tfjs-core";
import { MAX_WORKGROUPS, runWgsl, type WebgpuBackendLike, type WgslUniform } from "./program";

/** threads per workgroup: one query row (forward, stats, dq) or one key row (dk, dv) each */
export const WG = 64;

export interface AttentionAttrs {
  /** every mask hides keys j > i (self-attention): key tiles past a workgroup's last query are skipped */
  causal: boolean;
  /** 0: the mask broadcasts against [A0, A1, A2, nk]; W > 0: the blocked mask [M0, M1, nb, W, 2W] */
  window: number;
  /** the axis of the rows in q, k, v: 2 ([D0, D1, n, dh]) or 1 ([D0, n, D1, dh]) */
  rowAxis: number;
  /** the output is transpose(y, [...outPerm, 3]) for y laid out as q */
  outPerm: number[];
}

/** What the kernels need to know about one call: sizes, the uniforms (in `UNIFORMS` order), the output shape. */
export interface AttentionLayout {
  G: number;
  nq: number;
  nk: number;
  dh: number;
  outShape: number[];
  uniforms: number[];
}

const NAMES = "g d1 nq nk qs0 qs1 qsi ks0 ks1 ksi o0 o1 oi m0 m1 mi mj w causal which".split(" ");
export const UNIFORMS: WgslUniform[] = NAMES.map((name) => ({ name, type: "i32" }));

/** Row-major strides of `shape`, 0 where a dimension is 1 (so a broadcast axis reads one place). */
function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = shape[a] === 1 ? 0 : s;
    s *= shape[a];
  }
  return out;
}

export function attentionLayout(
  q: tf.TensorInfo,
  k: tf.TensorInfo,
  mask: tf.TensorInfo,
  a: AttentionAttrs,
  which = 0,
): AttentionLayout {
  const fail = (why: string) => {
    throw new Error(
      `LstAttention: ${why} (q [${q.shape}], k [${k.shape}], mask [${mask.shape}], rowAxis ${a.rowAxis})`,
    );
  };
  if (q.shape.length !== 4 || k.shape.length !== 4 || (a.rowAxis !== 1 && a.rowAxis !== 2)) fail("q, k must be 4-d");
  const r = a.rowAxis;
  const b1 = r === 2 ? 1 : 2;
  const [D0, D1, nq, nk, dh] = [q.shape[0], q.shape[b1], q.shape[r], k.shape[r], q.shape[3]];
  if (k.shape[0] !== D0 || k.shape[b1] !== D1 || k.shape[3] !== dh) fail("k does not match q");
  const qs = strides(q.shape);
  const ks = strides(k.shape);
  const outShape = [...a.outPerm.map((x) => q.shape[x]), dh];
  const os = strides(outShape);
  const o = [0, b1, r].map((x) => os[a.outPerm.indexOf(x)]); // strides of d0, d1, the row
  let m: number[];
  const W = a.window;
  if (W > 0) {
    const nb = Math.ceil(nq / W);
    const [M0, M1] = mask.shape;
    const ok = mask.shape.length === 5 && r === 2 && nq === nk && (M0 === 1 || M0 === D0) && (M1 === 1 || M1 === D1);
    if (!ok || mask.shape.slice(2).join() !== `${nb},${W},${2 * W}`)
      fail(`blocked mask must be [B|1,1,${nb},${W},${2 * W}]`);
    m = [M0 === 1 ? 0 : M1 * nb * W * 2 * W, M1 === 1 ? 0 : nb * W * 2 * W, 2 * W, 1];
  } else {
    if (mask.shape.length > 4) fail("a dense mask has at most 4 dims");
    const full = [...q.shape.slice(0, 3), nk];
    const ms = [...new Array<number>(4 - mask.shape.length).fill(1), ...mask.shape];
    if (ms.some((d, x) => d !== 1 && d !== full[x])) fail(`the mask does not broadcast to [${full}]`);
    const st = strides(ms);
    m = [st[0], st[b1], st[r], st[3]];
  }
  const G = D0 * D1;
  const uniforms = [G, D1, nq, nk, qs[0], qs[b1], qs[r], ks[0], ks[b1], ks[r], ...o, ...m, W, a.causal ? 1 : 0, which];
  return { G, nq, nk, dh, outShape, uniforms };
}

/**
 * Rows per shared-memory tile: 2 tiles of T x dh floats, 2 x T more and the 8-byte range within WebGPU's
 * 16 KiB guarantee: 8 T (dh + 1) + 8 <= 16384. dh 16 -> 64, 32 -> 32, 64 -> 16, 128 -> 8.
 */
export function tileRows(dh: number): number {
  let t = 64;
  while (t > 1 && t * (dh + 1) > 2047) t /= 2;
  return t;
}

/** Workgroups: x over row blocks of WG, groups along y, folded into z past 65535 (`group()` undoes it). */
export function dispatchFor(rows: number, G: number): [number, number, number] {
  return [Math.ceil(rows / WG), Math.min(G, MAX_WORKGROUPS), Math.ceil(G / MAX_WORKGROUPS)];
}

/** WGSL helpers of every attention shader (see the header); `maskAt` needs the mask bound as M. */
export function prelude(dh: number, masked: boolean): string {
  return `const DH = ${dh};
const T = ${tileRows(dh)};
const WG = ${WG};
const BIG = 3.0e38;
var<workgroup> range: vec2<i32>;
// the loop bounds [lo, hi) of a workgroup as uniform values (a barrier inside the loop needs them: the
// builtins reach the shader through private variables, which WGSL's uniformity analysis treats as varying)
fn uniformRange(lo: i32, hi: i32) -> vec2<i32> {
  if (localIndex == 0u) { range = vec2<i32>(lo, hi); }
  return workgroupUniformLoad(&range);
}
fn group() -> i32 { return i32(workgroupId.y + workgroupId.z * numWorkgroups.y); }
fn rowQ(g: i32, i: i32) -> i32 { let a = g / uniforms.d1; return a * uniforms.qs0 + (g - a * uniforms.d1) * uniforms.qs1 + i * uniforms.qsi; }
fn rowK(g: i32, j: i32) -> i32 { let a = g / uniforms.d1; return a * uniforms.ks0 + (g - a * uniforms.d1) * uniforms.ks1 + j * uniforms.ksi; }
fn rowO(g: i32, i: i32) -> i32 { let a = g / uniforms.d1; return a * uniforms.o0 + (g - a * uniforms.d1) * uniforms.o1 + i * uniforms.oi; }
fn keyLo(i: i32) -> i32 {
  if (uniforms.w > 0) { return max(0, (i / uniforms.w - 1) * uniforms.w); }
  return 0;
}
fn keyHi(i: i32) -> i32 {
  var hi = uniforms.nk;
  if (uniforms.causal != 0) { hi = min(hi, i + 1); }
  if (uniforms.w > 0) { hi = min(hi, (i / uniforms.w + 1) * uniforms.w); }
  return hi;
}
${
  masked
    ? `fn maskAt(g: i32, i: i32, j: i32) -> f32 {
  let a = g / uniforms.d1;
  var at = a * uniforms.m0 + (g - a * uniforms.d1) * uniforms.m1 + i * uniforms.mi + j * uniforms.mj;
  if (uniforms.w > 0) { at = at + uniforms.w - (i / uniforms.w) * uniforms.w; }
  return M[at];
}`
    : ""
}`;
}

/** dq [q's shape]. Inputs q, k, v, mask, stats, dy. */
/**
 * The k and v tile of rows j0 .. j0+T-1 of group g in workgroup memory (zeros past nk), loaded by the WG threads
 * together (thread t takes values t, t + WG, ...): the forward and dq walk the same key tiles.
 */
export const KV_TILE = `var<workgroup> Ks: array<f32, T * DH>;
var<workgroup> Vs: array<f32, T * DH>;
fn loadKvTile(g: i32, j0: i32, t: i32) {
  for (var e = t; e < T * DH; e += WG) {
    let j = j0 + e / DH;
    var kv = 0.0;
    var vv = 0.0;
    if (j < uniforms.nk && g < uniforms.g) { let at = rowK(g, j) + e % DH; kv = K[at]; vv = V[at]; }
    Ks[e] = kv;
    Vs[e] = vv;
  }
}`;

function dqBody(dh: number): string {
  return `${prelude(dh, true)}
${KV_TILE}
fn main(index: i32) {
  let g = group();
  let t = i32(localIndex);
  let q0 = i32(workgroupId.x) * WG;
  let i = q0 + t;
  let live = g < uniforms.g && i < uniforms.nq;
  var q: array<f32, DH>;
  var dy: array<f32, DH>;
  var dq: array<f32, DH>;
  var lse = 0.0;
  var dd = 0.0;
  var lo = 0;
  var hi = 0;
  if (live) {
    let qb = rowQ(g, i);
    let ob = rowO(g, i);
    for (var c = 0; c < DH; c++) { q[c] = Q[qb + c]; dy[c] = DY[ob + c]; dq[c] = 0.0; }
    lse = S[g * uniforms.nq + i];
    dd = S[(uniforms.g + g) * uniforms.nq + i];
    lo = keyLo(i);
    hi = keyHi(i);
  }
  let jRange = uniformRange(keyLo(q0), keyHi(min(uniforms.nq, q0 + WG) - 1));
  for (var j0 = jRange.x; j0 < jRange.y; j0 += T) {
    loadKvTile(g, j0, t);
    workgroupBarrier();
    if (live) {
      for (var u = 0; u < T; u++) {
        let j = j0 + u;
        if (j >= lo && j < hi) {
          var s = maskAt(g, i, j);
          var dp = 0.0;
          for (var c = 0; c < DH; c++) { s += q[c] * Ks[u * DH + c]; dp += dy[c] * Vs[u * DH + c]; }
          let ds = exp(s - lse) * (dp - dd);
          for (var c = 0; c < DH; c++) { dq[c] += ds * Ks[u * DH + c]; }
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let qb = rowQ(g, i);
    for (var c = 0; c < DH; c++) { result[qb + c] = dq[c]; }
  }
}`;
}

/** dk (which 0) or dv (which 1) [k's shape]. Inputs q, k, v, mask, stats, dy. */
function dkvBody(dh: number): string {
  return `${prelude(dh, true)}
var<workgroup> Qs: array<f32, T * DH>;
var<workgroup> Ys: array<f32, T * DH>;
var<workgroup> Ls: array<f32, T>;
var<workgroup> Ds: array<f32, T>;
fn main(index: i32) {
  let g = group();
  let t = i32(localIndex);
  let k0 = i32(workgroupId.x) * WG;
  let j = k0 + t;
  let live = g < uniforms.g && j < uniforms.nk;
  let isV = uniforms.which == 1;
  var kr: array<f32, DH>;
  var vr: array<f32, DH>;
  var acc: array<f32, DH>;
  if (live) {
    let kb = rowK(g, j);
    for (var c = 0; c < DH; c++) { kr[c] = K[kb + c]; vr[c] = V[kb + c]; acc[c] = 0.0; }
  }
  // the queries that can see a key of this block: i >= k0 when causal; blocks k0 / W .. kLast / W + 1
  let kLast = min(uniforms.nk, k0 + WG) - 1;
  var iBegin = 0;
  var iEnd = uniforms.nq;
  if (uniforms.causal != 0) { iBegin = k0; }
  if (uniforms.w > 0) {
    iBegin = max(iBegin, (k0 / uniforms.w) * uniforms.w);
    iEnd = min(iEnd, (kLast / uniforms.w + 2) * uniforms.w);
  }
  let iRange = uniformRange(iBegin, iEnd);
  for (var i0 = iRange.x; i0 < iRange.y; i0 += T) {
    for (var e = t; e < T * DH; e += WG) {
      let i = i0 + e / DH;
      var qv = 0.0;
      var yv = 0.0;
      if (i < uniforms.nq && g < uniforms.g) { qv = Q[rowQ(g, i) + e % DH]; yv = DY[rowO(g, i) + e % DH]; }
      Qs[e] = qv;
      Ys[e] = yv;
    }
    if (t < T) {
      let i = i0 + t;
      var lse = 0.0;
      var dd = 0.0;
      if (i < uniforms.nq && g < uniforms.g) {
        lse = S[g * uniforms.nq + i];
        dd = S[(uniforms.g + g) * uniforms.nq + i];
      }
      Ls[t] = lse;
      Ds[t] = dd;
    }
    workgroupBarrier();
    if (live) {
      for (var u = 0; u < T; u++) {
        let i = i0 + u;
        if (i < uniforms.nq && j >= keyLo(i) && j < keyHi(i)) {
          var s = maskAt(g, i, j);
          for (var c = 0; c < DH; c++) { s += Qs[u * DH + c] * kr[c]; }
          let p = exp(s - Ls[u]);
          if (isV) {
            for (var c = 0; c < DH; c++) { acc[c] += p * Ys[u * DH + c]; }
          } else {
            var dp = 0.0;
            for (var c = 0; c < DH; c++) { dp += Ys[u * DH + c] * vr[c]; }
            let ds = p * (dp - Ds[u]);
            for (var c = 0; c < DH; c++) { acc[c] += ds * Qs[u * DH + c]; }
          }
        }
      }
    }
    workgroupBarrier();
  }
  if (live) {
    let kb = rowK(g, j);
    for (var c = 0; c < DH; c++) { result[kb + c] = acc[c]; }
  }
}`;
}

type Info = tf.TensorInfo;

/** dq (`which` "q"), dk ("k") or dv ("v"), from the stats of `attentionStats`. */
export function attentionGrad(
  b: WebgpuBackendLike,
  which: "q" | "k" | "v",
  ins: { q: Info; k: Info; v: Info; mask: Info; stats: Info; dy: Info },
  a: AttentionAttrs,
): Info {
  const L = attentionLayout(ins.q, ins.k, ins.mask, a, which === "v" ? 1 : 0);
  const spec = {
    key: which === "q" ? `attn_dq_${L.dh}` : `attn_dkv_${L.dh}`,
    outputShape: (which === "q" ? ins.q : ins.k).shape.slice(),
    inputs: ["Q", "K", "V", "M", "S", "DY"],
    workgroupSize: [WG, 1, 1] as [number, number, number],
    dispatch: dispatchFor(which === "q" ? L.nq : L.nk, L.G),
    uniforms: UNIFORMS,
    body: which === "q" ? dqBody(L.dh) : dkvBody(L.dh),
  };
  return runWgsl(b, spec, [ins.q, ins.k, ins.v, ins.mask, ins.stats, ins.dy], L.uniforms);
}
