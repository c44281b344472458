/**
 * One parity case of a fused webgpu kernel (test/webgpu/kernel-parity.test.ts): `run` computes outputs and
 * gradients from seeded inputs with the lab's public model functions, so on webgpu it goes through the fused
 * kernel and on tensorflow through the composed ops; the two processes' numbers are compared.
 */
export interface KernelCase {
  name: string;
  /** kernels that must appear in tf.profile's list on webgpu (proof the fused path ran) */
  kernels: string[];
  /** named arrays: outputs and gradients (read with `readAll`: webgpu has no synchronous read in Node) */
  run: () => Promise<Record<string, number[]>>;
  /** max |a - b| / (1 + |b|) allowed per value (default 1e-4) */
  tol?: number;
}

import * as tf from "@tensorflow/tfjs-core";

/** Read every tensor of `build()` (run inside tf.tidy) as plain arrays, then dispose them. */
export async function readAll(build: () => Record<string, tf.Tensor>): Promise<Record<string, number[]>> {
  const ts = tf.tidy(build);
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = Array.from(await t.data());
  for (const t of Object.values(ts)) t.dispose();
  return out;
}

/** Seeded values in [-scale, scale) (a small LCG: the same numbers in every process). */
export function seeded(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
