/**
 * The model's ops that lib/webgpu/ fuses, gathered for the kernel bench (bench/webgpu-kernels.ts), which times
 * each one with the fused kernels on and off. Each is the function the model itself calls, so the bench times
 * exactly what a training step runs; `selfAttention` builds one attention layer with its rotary tables and
 * causal mask at the bench's shapes.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyRope, attend, ropeTables, SelfAttention, type RopeTables } from "./attention";
import { crossEntropyNll, ParamFactory, rmsNormalize, swiglu } from "./layers";
import { selfAttentionMask, TensorCache, type AttnMask } from "./masks";

export interface BenchAttention {
  /** x [B,T,d] -> [B,T,d]: the qkv projection, rotary embeddings, causal attention and the output projection */
  apply: (x: tf.Tensor) => tf.Tensor;
  rope: RopeTables;
  mask: AttnMask;
  dispose: () => void;
}

export function fusedOps() {
  return {
    rmsNormalize,
    swiglu,
    applyRope,
    crossEntropyNll,
    /** causal self-attention of q, k, v [B,H,T,dh] under `mask` -> [B,T,H*dh] (the core, no projections) */
    attendCausal: (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: AttnMask) =>
      attend(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, mask.mask, true),
    selfAttention(B: number, T: number, d: number, H: number): BenchAttention {
      const cache = new TensorCache();
      const params = new ParamFactory(1, 0.02, "bench");
      const att = new SelfAttention(params, "attn", d, H);
      const rope = ropeTables(cache, T, d / H, 10000);
      const mask = selfAttentionMask(cache, B, T, 0, null);
      return {
        apply: (x) => att.apply(x as tf.Tensor3D, rope, mask),
        rope,
        mask,
        dispose: () => {
          cache.dispose();
          tf.dispose(params.variables);
        },
      };
    },
  };
}
