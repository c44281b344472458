/**
 * The names of the lab's fused kernels, and whether one runs here. The model and the optimiser call a fused
 * kernel by name (`tf.engine().runKernel(FUSED.rmsNorm, ...)`) when `fusedKernel` says it is registered for
 * the active backend, and compose plain tf ops otherwise; only the webgpu backend registers them (lib/webgpu/
 * kernels.ts, from `initWebgpu`). So the tensorflow, wasm and cpu backends, and the compiled step, never see
 * them, and the model code does not import any WGSL.
 *
 * `LST_WEBGPU_FUSED=0` in the environment turns them off (read at each call): the composed ops run instead,
 * which is how the bench times a kernel against what it replaces and how a user rules a kernel out.
 */
import * as tf from "@tensorflow/tfjs-core";

export const FUSED = {
  /** x [..., C] -> x / rms(x) (no gain), gradient LstRmsNormGrad */
  rmsNorm: "LstRmsNorm",
  /** ab [..., 2f] -> silu(a) * b, gradient LstSwiGluGrad */
  swiglu: "LstSwiGlu",
  /** x [B,H,n,dh], cos/sin [n,dh] -> x cos + swap(x) sin */
  rope: "LstRope",
  /** q [.., nq, dh], k/v [.., nk, dh], additive mask (any broadcast) -> softmax(q k^T + mask) v, flash-style */
  attention: "LstAttention",
  /** logits [N, V], targets -> per-row NLL, gradient from the saved log-sum-exp */
  crossEntropy: "LstCrossEntropy",
  /** one AdamW step over the flat parameter vector */
  adamw: "LstAdamW",
} as const;

export type FusedName = (typeof FUSED)[keyof typeof FUSED];

/** Whether `name` runs as one fused kernel on the active backend now (see the header). */
export function fusedKernel(name: FusedName): boolean {
  if (process.env.LST_WEBGPU_FUSED === "0") return false;
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
