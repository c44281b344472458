/**
 * One AdamW step over the flat parameter vector in one dispatch (lib/train/adamw.ts calls it from
 * `applyOnDevice` / `updateOnDevice` when `fusedKernel(FUSED.adamw)`; its composed path takes about 3 kernels
 * a parameter plus 15 passes). Per value i of the flat vectors w, g, m, v (one thread each), with the squared
 * global gradient norm n2 read on the device and the same float32 arithmetic, in the same order, as the
 * composed path:
 *   s  = clip / max(sqrt(n2), clip)                  (clip > 0; else s = 1 and cm, cv are 1-b1, 1-b2 as given)
 *   cm = s (1 - b1);   cv = (s s) (1 - b2)
 *   m' = m b1 + g cm;  v' = v b2 + (g g) cv
 *   w' = (decayed(i) ? w (1 - lr wd) : w) - m' / (sqrt(v') + eps sqrt(bc2)) * (lr sqrt(bc2) / bc1)
 * with bc1 = 1 - b1^t, bc2 = 1 - b2^t for the step t (from 1) computed on the host, the way the composed path
 * folds them. The output is [3, total]: row 0 the new w, row 1 m', row 2 v'; the caller slices it.
 *
 * Which values decay: `decayRanges` lists the decayed ranges of the flat vector as ascending bounds
 * [start0, end0, start1, end1, ...] (the matrices' and embeddings' places; `decayedRanges` builds them). Value i decays when the number of
 * bounds <= i is odd, found by a binary search over the bounds (a few dozen ints, uploaded each step: no
 * per-value mask to store). A NaN norm propagates as in tfjs's `maximum` (NaN wins).
 *
 * Worked example (a test): parameters of sizes 3 (a gain, rank 1), 4 ([2, 2]), 4 (rank 1) and 6 ([2, 3]) sit
 * at offsets 0, 3, 7 and 11 of a 17-value vector; the decayed ranges are [3, 7) and [11, 17), so
 * decayRanges = [3, 7, 11, 17]. Value 5: one bound (3) is <= 5, odd, decayed. Value 7: two (3, 7), even, not.
 * Value 16: three, decayed. Value 2: none, not.
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { disposeInfo, flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup; one thread per value */
const WG = 256;

/** The hyperparameters of one step (the kernel's attrs). */
export interface AdamWStepAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** max global gradient norm; 0 = no clipping */
  clip: number;
  lr: number;
  /** the step being taken, from 1 */
  step: number;
  /** decayed ranges of the flat vector as [start0, end0, start1, end1, ...], ascending (see the header) */
  decayRanges: number[];
}

/**
 * The decayed ranges of the flat vector as ascending bounds [start0, end0, ...], adjacent ones merged (the
 * fused kernel's `decayRanges`). Example: parameters [3], [2, 2], [4], [2, 3] -> [3, 7, 11, 17].
 */
export function decayedRanges(slots: readonly { offset: number; decay: boolean; param: { size: number } }[]): number[] {
  const out: number[] = [];
  for (const s of slots) {
    if (!s.decay || s.param.size === 0) continue;
    if (out.length > 0 && out[out.length - 1] === s.offset) out[out.length - 1] = s.offset + s.param.size;
    else out.push(s.offset, s.offset + s.param.size);
  }
  return out;
}

/** Whether flat value i decays under `ranges` (the shader's search, in TypeScript, for the test). */
export function isDecayed(ranges: readonly number[], i: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid] <= i) lo = mid + 1;
    else hi = mid;
  }
  return (lo & 1) === 1;
}

const BODY = `
fn decayed(i: i32) -> bool {
  // how many bounds are <= i (an upper-bound binary search); odd = inside a decayed range
  var lo = 0;
  var hi = uniforms.nBounds;
  while (lo < hi) {
    let mid = (lo + hi) / 2;
    if (D[mid] <= i) { lo = mid + 1; } else { hi = mid; }
  }
  return (lo & 1) == 1;
}

fn main(i: i32) {
  if (i >= uniforms.total) { return; }
  var cm = uniforms.omb1;
  var cv = uniforms.omb2;
  if (uniforms.clip > 0.0) {
    let norm = sqrt(NS[0]);
    let big = select(max(norm, uniforms.clip), norm, isnan(norm));
    let s = uniforms.clip / big;
    cm = s * uniforms.omb1;
    cv = (s * s) * uniforms.omb2;
  }
  let g = G[i];
  let m = M[i] * uniforms.b1 + g * cm;
  let v = V[i] * uniforms.b2 + (g * g) * cv;
  let step = (m / (sqrt(v) + uniforms.epsc)) * uniforms.stepc;
  var w = W[i];
  if (decayed(i)) { w = w * uniforms.keep; }
  result[i] = w - step;
  result[uniforms.total + i] = m;
  result[2 * uniforms.total + i] = v;
}`;

type TensorMaker = WebgpuBackendLike & {
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Int32Array): tf.TensorInfo;
};

function forward(backend: WebgpuBackendLike, inputs: tf.NamedTensorInfoMap, a: AdamWStepAttrs): tf.TensorInfo {
  const { w, g, m, v, normSq } = inputs as Record<string, tf.TensorInfo>;
  const total = w.shape[0];
  for (const [k, x] of Object.entries({ g, m, v }))
    if (x.shape.length !== 1 || x.shape[0] !== total)
      throw new Error(`${FUSED.adamw}: ${k} has shape [${x.shape}], w has [${total}]`);
  const bc1 = 1 - Math.pow(a.beta1, a.step);
  const bc2 = 1 - Math.pow(a.beta2, a.step);
  // no ranges: one bound past the end, so no value counts an odd number of bounds
  const bounds = a.weightDecay > 0 && a.decayRanges.length > 0 ? a.decayRanges : [2 ** 31 - 1];
  const d = (backend as TensorMaker).makeTensorInfo([bounds.length], "int32", Int32Array.from(bounds));
  const out = runWgsl(
    backend,
    {
      key: "adamw",
      outputShape: [3, total],
      inputs: ["W", "G", "M", "V", "NS", "D"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(total, WG),
      uniforms: [
        { name: "total", type: "i32" },
        { name: "nBounds", type: "i32" },
        { name: "clip", type: "f32" },
        { name: "b1", type: "f32" },
        { name: "b2", type: "f32" },
        { name: "omb1", type: "f32" },
        { name: "omb2", type: "f32" },
        { name: "epsc", type: "f32" },
        { name: "stepc", type: "f32" },
        { name: "keep", type: "f32" },
      ],
      body: BODY,
    },
    [w, g, m, v, normSq, d],
    [
      total,
      bounds.length,
      a.clip,
      a.beta1,
      a.beta2,
      1 - a.beta1,
      1 - a.beta2,
      a.eps * Math.sqrt(bc2),
      (a.lr * Math.sqrt(bc2)) / bc1,
      1 - a.lr * a.weightDecay,
    ],
  );
  disposeInfo(backend, d);
  return out;
}

export function registerAdamW(): void {
  registerFused({
    name: FUSED.adamw,
    forward: ({ inputs, backend, attrs }) => forward(backend, inputs, attrs as unknown as AdamWStepAttrs),
  });
}
