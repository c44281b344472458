/**
 * Attention over a few keys per query group by products and sums (LST's compact form, lst-compact.ts), with
 * one fused gradient. Group g's nq queries q [N,nq,H,dh] attend to its own nk keys and values k, v [N,nk,H,dh]:
 *
 *   s[g,i,j,h] = sum_d q[g,i,h,d] k[g,j,h,d]      p = softmax over j of (s + mask)      y[g,i,h,:] = sum_j p v[g,j,h,:]
 *
 * For the LST decoder a group is one token (nq = 1) reading the k vectors of one patch; for the encoder a
 * group is one patch (nq = k queries) reading the lmax slots of its span. With so few keys, N*H batched
 * matmuls of [nq,dh] x [dh,nk] are slower than broadcast products; and autodiff of the products and sums
 * adds a ones-tensor multiply per sum and a reduction per broadcast, so the gradient is written out:
 *
 *   dp = sum_d dy v,   ds = p (dp - sum_j p dp),   dq = sum_j ds k,   dk = sum_i ds q,   dv = sum_i p dy
 *
 * Scores and probabilities are kept [N,nq,nk,H] (keys before heads), so the softmax gradient sums over axis 2
 * with no transpose; only the forward softmax transposes its (small) scores to put the keys last.
 */
import * as tf from "@tensorflow/tfjs-core";

/** q [N,nq,H,dh] (already scaled), k/v [N,nk,H,dh], `mask` [N,1,1,nk] (additive) or null -> [N,nq,H,dh]. */
export function attendCompact(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D | null): tf.Tensor4D {
  const [N, nq, H, dh] = q.shape;
  const nk = k.shape[1];
  const q5 = [N, nq, 1, H, dh];
  const kv5 = [N, 1, nk, H, dh];
  const p5 = [N, nq, nk, H, 1];
  /** sum over axis `axis` of x, or a reshape when that axis has length 1 */
  const sumOut = (x: tf.Tensor, axis: number, shape: number[]) =>
    x.shape[axis] === 1 ? tf.reshape(x, shape) : tf.reshape(tf.sum(x, axis), shape);
  const f = (qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, save: tf.GradSaveFunc) => {
    const s = tf.sum(tf.mul(tf.reshape(qi, q5), tf.reshape(ki, kv5)), -1); // [N,nq,1,H,dh] * [N,1,nk,H,dh] -> [N,nq,nk,H]
    const sT = tf.transpose(s, [0, 1, 3, 2]); // [N,nq,H,nk]
    const p = tf.transpose(tf.softmax(mask ? tf.add(sT, mask) : sT), [0, 1, 3, 2]); // [N,nq,nk,H]
    const y = tf.sum(tf.mul(tf.reshape(p, p5), tf.reshape(vi, kv5)), 2); // [N,nq,nk,H,1] * [N,1,nk,H,dh] -> [N,nq,H,dh]
    save([qi, ki, vi, p]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qs, ks, vs, ps] = saved;
        const dy5 = tf.reshape(dy, q5); // [N,nq,H,dh] -> [N,nq,1,H,dh]
        const dp = tf.sum(tf.mul(dy5, tf.reshape(vs, kv5)), -1); // [N,nq,nk,H]
        const ds = tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(ps, dp), 2, true))); // softmax gradient over the keys, [N,nq,nk,H]
        const ds5 = tf.reshape(ds, p5); // [N,nq,nk,H] -> [N,nq,nk,H,1]
        const dq = tf.sum(tf.mul(ds5, tf.reshape(ks, kv5)), 2); // [N,nq,H,dh]
        const dk = sumOut(tf.mul(ds5, tf.reshape(qs, q5)), 1, [N, nk, H, dh]); // [N,nq,nk,H,dh] -> [N,nk,H,dh]
        const dv = sumOut(tf.mul(tf.reshape(ps, p5), dy5), 1, [N, nk, H, dh]); // [N,nq,nk,H,dh] -> [N,nk,H,dh]
        return [dq, dk, dv];
      },
    };
  };
  // subtle: tfjs types the callback as variadic over `Tensor | GradSaveFunc` (see layers.ts customGradOne)
  const op = tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(q, k, v) as tf.Tensor4D;
}
