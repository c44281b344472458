/**
 * Fused rotary embedding on webgpu: one dispatch forward and one backward, in place of the composed
 * `applyRope` of lib/model/attention.ts (a reshape, a reverse, two products and an add forward; as many again
 * backward). For x [B,H,n,dh] and tables cos, sin [n,dh], with c' the partner column of c in the other half
 * (c' = c + dh/2 for c < dh/2, c - dh/2 otherwise, so swap(x)[c] = x[c']):
 *   rope(x)[b,h,t,c] = x[b,h,t,c] cos[t,c] + x[b,h,t,c'] sin[t,c]
 * swap is its own inverse, so the gradient has the same form with the sin column taken at c' instead of c:
 *   dx[b,h,t,c] = dy[b,h,t,c] cos[t,c] + dy[b,h,t,c'] sin[t,c']      (= dy cos + swap(dy sin))
 * One shader does both; the uniform `sinAtPartner` (0 forward, 1 backward) picks the sin column.
 * Index arithmetic: thread i is value i of x: row r = i / dh (over B*H*n rows), t = r % n, c = i % dh.
 * Worked example (a test, test/webgpu/cases/rope.ts): dh = 2, one position, x = [1, 2], cos = [0.5, 0.5],
 * sin = [-1, 1] -> rope(x) = [1*0.5 + 2*(-1), 2*0.5 + 1*1] = [-1.5, 2]; for dy = [1, 0]:
 * dx = [1*0.5 + 0*sin[1], 0*0.5 + 1*sin[0]] = [0.5, -1].
 * The tables are constants (as in the composed form, whose custom gradient reaches only x): no gradient to them.
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup; one thread per value */
const WG = 128;

function rope(b: WebgpuBackendLike, x: tf.TensorInfo, cos: tf.TensorInfo, sin: tf.TensorInfo, backward: boolean) {
  const dh = x.shape[x.shape.length - 1];
  const n = x.shape[x.shape.length - 2];
  const size = x.shape.reduce((p, q) => p * q, 1);
  if (dh % 2 !== 0 || cos.shape.join() !== `${n},${dh}` || sin.shape.join() !== `${n},${dh}`)
    throw new Error(
      `${FUSED.rope}: x [${x.shape}] needs even dh and tables [${n},${dh}], got [${cos.shape}], [${sin.shape}]`,
    );
  return runWgsl(
    b,
    {
      key: "rope",
      outputShape: x.shape.slice(),
      inputs: ["X", "Cos", "Sin"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(size, WG),
      uniforms: [
        { name: "size", type: "i32" },
        { name: "n", type: "i32" },
        { name: "dh", type: "i32" },
        { name: "sinAtPartner", type: "i32" },
      ],
      body: `fn main(i: i32) {
  if (i >= uniforms.size) { return; }
  let dh = uniforms.dh;
  let half = dh / 2;
  let r = i / dh;
  let c = i - r * dh;
  let t = r % uniforms.n;
  var p = c + half;
  if (c >= half) { p = c - half; }
  var sc = c;
  if (uniforms.sinAtPartner != 0) { sc = p; }
  result[i] = X[i] * Cos[t * dh + c] + X[r * dh + p] * Sin[t * dh + sc];
}`,
    },
    [x, cos, sin],
    [size, n, dh, backward ? 1 : 0],
  );
}

export function registerRope(): void {
  registerFused({
    name: FUSED.rope,
    forward: ({ inputs, backend }) =>
      rope(backend, inputs.x as tf.TensorInfo, inputs.cos as tf.TensorInfo, inputs.sin as tf.TensorInfo, false),
    grad: {
      kernelName: FUSED.rope,
      inputsToSave: ["cos", "sin"],
      gradFunc: (dy, saved) => ({
        x: () =>
          tf
            .engine()
            .runKernel(`${FUSED.rope}Grad`, { dy: dy as tf.Tensor, cos: saved[0], sin: saved[1] }) as tf.Tensor,
      }),
    },
  });
  registerFused({
    name: `${FUSED.rope}Grad`,
    forward: ({ inputs, backend }) =>
      rope(backend, inputs.dy as tf.TensorInfo, inputs.cos as tf.TensorInfo, inputs.sin as tf.TensorInfo, true),
  });
}
