/**
 * A tiled float32 matmul for tfjs's webgpu `BatchMatMul`: the kernel is re-registered as a wrapper that runs
 * the WGSL below when the shapes suit it and tfjs's own kernel otherwise (`LST_WEBGPU_FUSED=0` always takes
 * tfjs's). The name stays `BatchMatMul`, so the model, tf.matMul and its gradient need no change;
 * `matmulStats()` counts which path each call took (the parity case reads it to prove the fast one ran).
 *
 * It runs when: both inputs are float32; the last dimension of each input is a multiple of 4 (every global
 * read is one vec4 along it); M, N >= 32 and K >= 16 (smaller products go to tfjs's reduce / split-K
 * programs); the batch dimensions broadcast as "equal, or one side 1" (a [2,3] batch against [2,3], [1] or
 * none); at most 65535 batches. Every transposeA / transposeB combination is supported: tfjs's vec4 program
 * does not take transposeB (dx = dy W^T of every linear layer's backward), which falls to its scalar one.
 *
 * Tiling. A workgroup of 16 x 16 threads computes a BM x 64 tile of C = A B (BM = 16 RM; RM = 4 rows a thread
 * for a 64 x 64 tile, RM = 8 for 128 x 64 once there are enough tiles to fill a GPU); thread (tx, ty) owns
 * rows ty*RM .. ty*RM+RM-1 and columns tx*4 .. tx*4+3 of it, RM x 4 accumulators in registers. The K
 * dimension goes in steps of BK = 16: each step, the workgroup copies A's BM x BK block and B's BK x 64 block
 * into workgroup memory, k-major, as vec4s of 4 rows (As) or 4 columns (Bs), then every thread does, per k,
 * one vec4 read of As, one of Bs and RM vec4 multiply-adds. The next step's global reads are issued into
 * registers before this step's arithmetic (a software pipeline of depth 1).
 *
 *   As[k * BM/4 + m/4][m % 4] = A[row0 + m, k0 + k]       Bs[k * 16 + n/4][n % 4] = B[k0 + k, col0 + n]
 *
 * Global loads: thread t (0..255) loads vec4 number e = t + 256 l (l = 0 .. BM BK/1024 - 1) of A's block.
 * Untransposed A is row-major [M, K], so a vec4 holds 4 k of one row: row = e / 4, kq = e % 4, and its 4
 * values scatter to As[(4 kq + j) * BM/4 + row/4][row % 4]. Transposed A is [K, M]: a vec4 holds 4 rows of
 * one k, k = e / (BM/4), mq = e % (BM/4), and lands whole in As[k * BM/4 + mq]. B likewise, mirrored
 * (untransposed [K, N]: whole vec4s; transposed [N, K]: scattered). A vec4 is in or out of range as a whole
 * because the dimension it runs along is a multiple of 4; out-of-range values read as 0.
 *
 * Worked example (a test): A [40, 20] x B [20, 36], no transposes: M 40, N 36, K 20, one 64 x 64 tile
 * (dispatch [1, 1, 1]), K in 2 steps, k0 = 0 and 16. In step k0 = 16, thread t = 4 loads A's vec4 e = 4:
 * row 1, kq 0, A[1, 16..19], which lands in As[j * 16 + 0][1] for j = 0..3 (k = 16 + j, row 1); t = 5 has
 * row 1, kq 1, A[1, 20..23], past K: zeros. For B, t = 3 loads B[16, 12..15] into Bs[3] whole, and t = 70
 * (k = 16 + 4 = 20) zeros. Thread (tx 2, ty 1) owns C[4..7, 8..11]; threads with ty >= 10 (rows >= 40) or
 * tx >= 9 (columns >= 36) write nothing. C[b, r, c] is written at b M N + r N + c, value by value.
 *
 * f16 tiles (opt-in: `LST_WEBGPU_F16=1` on a device with `shader-f16`, lib/webgpu/features.ts `f16On`; never
 * on by default): tensors stay float32 and the global reads are the same; the stores round each value to f16 in
 * As / Bs (`vec4<f16>`, half the workgroup memory), and the multiply-adds widen them back and accumulate in f32.
 * So the only loss is f16's rounding of the inputs (u = 2^-11 relative; below 6.1e-5 f16 is subnormal, a fixed
 * step of 6e-8, and past 65504 infinite). Effect on training, measured on lavapipe (Mesa 25.0.7) with the
 * parity child, `LST_BACKEND=webgpu LST_WEBGPU_F16=1 node --import tsx test/core/webgpu-parity-child.ts`
 * against `LST_WEBGPU_F16=0` (4 steps, lr 1e-2; all 467 tiled matmuls took f16, 779 smaller ones tfjs's f32):
 *   run              max |loss diff|   max rel grad-norm diff   max |ending NLL diff|
 *   baseline         2.4e-5            1.1e-4                   1.2e-3
 *   lst-static       3.7e-3            3.8e-2                   3.1e-2
 *   lst-aligned      2.8e-4            5.0e-3                   5.8e-3
 *   lst-curriculum   2.8e-4            4.0e-3                   6.2e-3
 *   lst-entropy      7.6e-5            8.3e-4                   4.5e-4
 * (float32 against tensorflow: loss <= 3.3e-7.) The first step's losses agree to 1e-5; the gap opens with the
 * updates. Not from subnormals: scaling the tiles by 256 before the rounding (values down to 2.4e-7 stay
 * normal) left lst-static's gap at 3.75e-3. Plausibly the rounding itself, amplified by AdamW, whose first
 * steps move each parameter by about lr sign(g): a gradient element near 0 whose sign the rounding flips moves
 * 2 lr the other way. That is over the parity test's tolerances (loss 1e-4, gradient norm 1e-3): f16 stays an
 * experiment switch, not a default.
 */
import * as tf from "@tensorflow/tfjs-core";
import { enableMarker, f16On } from "./features";
import { disposeInfo, MAX_WORKGROUPS, runWgsl, type WebgpuBackendLike } from "./program";

/** columns of C per workgroup (16 threads x 4) and the K step */
const BN = 64;
const BK = 16;
/** the smallest M and N, and K, the tiled kernel takes (below: tfjs's programs for small outputs) */
export const MATMUL_MIN_OUTER = 32;
export const MATMUL_MIN_INNER = 16;
/** with at least this many 128 x 64 tiles, 8 rows a thread (more reuse per load) pay off */
const BIG_TILE_WORKGROUPS = 256;

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

const stats = { fast: 0, fallback: 0, f16: 0 };

/**
 * How many BatchMatMul calls on webgpu ran the tiled kernel here (fast), of them with f16 tiles (f16), and
 * how many tfjs's own (fallback).
 */
export function matmulStats(): { fast: number; fallback: number; f16: number } {
  return { ...stats };
}

/** The problem a BatchMatMul call poses, or why the tiled kernel does not take it. */
export interface MatmulPlan {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** batches of A and B (1 = broadcast) */
  batchA: number;
  batchB: number;
  outShape: number[];
  /** rows a thread: 4 (64 x 64 tile) or 8 (128 x 64) */
  rm: 4 | 8;
}

const prod = (s: readonly number[]) => s.reduce((p, q) => p * q, 1);

/**
 * The tiled kernel's plan for a [..., M, K] x [..., K, N] product (after the transposes), or null where it
 * falls back (see the header). Example: [2,3,64,32] x [32,128] -> batch 6, batchB 1, 64 x 64 tiles.
 */
export function planMatmul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatmulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if ((transposeB ? bShape[rb - 1] : bShape[rb - 2]) !== k) return null;
  if (aShape[ra - 1] % 4 !== 0 || bShape[rb - 1] % 4 !== 0) return null;
  if (m < MATMUL_MIN_OUTER || n < MATMUL_MIN_OUTER || k < MATMUL_MIN_INNER) return null;
  // batch dims, right-aligned: each side equal to the broadcast or all 1
  const da = aShape.slice(0, -2);
  const db = bShape.slice(0, -2);
  const rank = Math.max(da.length, db.length);
  const outBatch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = da[da.length - rank + i] ?? 1;
    const y = db[db.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    outBatch.push(Math.max(x, y));
  }
  const batch = prod(outBatch);
  const batchA = prod(da);
  const batchB = prod(db);
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
  if (batch > MAX_WORKGROUPS || m * n * batch >= 2 ** 31) return null;
  const rm = batch * Math.ceil(m / 128) * Math.ceil(n / BN) >= BIG_TILE_WORKGROUPS ? 8 : 4;
  return { batch, m, n, k, batchA, batchB, outShape: [...outBatch, m, n], rm };
}

/** WGSL that loads vec4 number `e` of A's or B's block for K step `k0` into register `reg` (see the header). */
function loadSnippet(which: "A" | "B", transposed: boolean, bm: number, e: string, reg: string): string {
  if (which === "A" && !transposed)
    // [M, K]: 4 k of one row
    return `{ let row = ${e} / ${BK / 4}; let kq = ${e} % ${BK / 4};
      let gr = row0 + row; let gk = k0 + kq * 4;
      ${reg} = vec4<f32>(0.0);
      if (gr < uniforms.dimM && gk < uniforms.dimK) { ${reg} = A[aBase + (gr * uniforms.dimK + gk) / 4]; } }`;
  if (which === "A")
    // [K, M]: 4 rows of one k
    return `{ let kk = ${e} / ${bm / 4}; let mq = ${e} % ${bm / 4};
      let gk = k0 + kk; let gm = row0 + mq * 4;
      ${reg} = vec4<f32>(0.0);
      if (gk < uniforms.dimK && gm < uniforms.dimM) { ${reg} = A[aBase + (gk * uniforms.dimM + gm) / 4]; } }`;
  if (!transposed)
    // [K, N]: 4 columns of one k
    return `{ let kk = ${e} / ${BN / 4}; let nq = ${e} % ${BN / 4};
      let gk = k0 + kk; let gn = col0 + nq * 4;
      ${reg} = vec4<f32>(0.0);
      if (gk < uniforms.dimK && gn < uniforms.dimN) { ${reg} = B[bBase + (gk * uniforms.dimN + gn) / 4]; } }`;
  // [N, K]: 4 k of one column
  return `{ let col = ${e} / ${BK / 4}; let kq = ${e} % ${BK / 4};
      let gn = col0 + col; let gk = k0 + kq * 4;
      ${reg} = vec4<f32>(0.0);
      if (gn < uniforms.dimN && gk < uniforms.dimK) { ${reg} = B[bBase + (gn * uniforms.dimK + gk) / 4]; } }`;
}

/** WGSL that stores register `reg` (vec4 number `e`) into As or Bs (see the header); `t` is the tiles' type. */
function storeSnippet(which: "A" | "B", transposed: boolean, bm: number, e: string, reg: string, t: Tile): string {
  const scatter = which === "A" ? !transposed : transposed;
  const [arr, width] = which === "A" ? ["As", bm / 4] : ["Bs", BN / 4];
  if (!scatter) {
    const whole = which === "A" ? bm / 4 : BN / 4; // vec4s per k row of the block in memory order
    return `${arr}[${e}] = vec4<${t}>(${reg}); // k = e / ${whole}, vec4 e % ${whole}`;
  }
  // one row (A) or column (B) of 4 consecutive k: its 4 values go to 4 k rows of the block
  return `{ let o = ${e} / ${BK / 4}; let kq = ${e} % ${BK / 4};
      ${["x", "y", "z", "w"].map((c, j) => `${arr}[(kq * 4 + ${j}) * ${width} + o / 4][o % 4] = ${t}(${reg}.${c});`).join(" ")} }`;
}

/** The element type of the tiles in workgroup memory: f32, or f16 with `LST_WEBGPU_F16=1` (see the header). */
type Tile = "f32" | "f16";

/** The WGSL body for one tile shape, transpose pair and tile type; the key names all of them. */
function matmulBody(transposeA: boolean, transposeB: boolean, rm: number, tile: Tile): string {
  const bm = 16 * rm;
  const la = (bm * BK) / 4 / 256; // vec4 loads of A per thread per K step
  const lb = (BK * BN) / 4 / 256;
  const rq = rm / 4; // vec4s of As a thread reads per k
  const accs = Array.from({ length: rm }, (_, r) => `acc${r}`);
  const regs = (p: string, n: number) => Array.from({ length: n }, (_, l) => `${p}${l}`);
  const loads = () =>
    [
      ...regs("ra", la).map((r, l) => loadSnippet("A", transposeA, bm, `(t + ${256 * l})`, r)),
      ...regs("rb", lb).map((r, l) => loadSnippet("B", transposeB, bm, `(t + ${256 * l})`, r)),
    ].join("\n    ");
  const stores = [
    ...regs("ra", la).map((r, l) => storeSnippet("A", transposeA, bm, `(t + ${256 * l})`, r, tile)),
    ...regs("rb", lb).map((r, l) => storeSnippet("B", transposeB, bm, `(t + ${256 * l})`, r, tile)),
  ].join("\n      ");
  const fma = Array.from({ length: rq }, (_, q) => {
    const a = `a${q}`;
    return (
      `let ${a} = vec4<f32>(As[k * ${bm / 4} + ty * ${rq} + ${q}]);\n        ` +
      ["x", "y", "z", "w"]
        .map((c, j) => `${accs[4 * q + j]} = fma(vec4<f32>(${a}.${c}), b, ${accs[4 * q + j]});`)
        .join(" ")
    );
  }).join("\n        ");
  const writes = accs
    .map(
      (acc, r) => `{ let row = row0 + ty * ${rm} + ${r};
    if (row < uniforms.dimM) {
      let base = cBase + row * uniforms.dimN;
      ${["x", "y", "z", "w"].map((c, j) => `if (col + ${j} < uniforms.dimN) { result[base + col + ${j}] = ${acc}.${c}; }`).join("\n      ")}
    } }`,
    )
    .join("\n  ");
  return `${enableMarker(tile === "f16" ? ["f16"] : [])}
var<workgroup> As: array<vec4<${tile}>, ${(BK * bm) / 4}>;
var<workgroup> Bs: array<vec4<${tile}>, ${(BK * BN) / 4}>;

fn main(index: i32) {
  let t = i32(localIndex);
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let col0 = i32(workgroupId.x) * ${BN};
  let row0 = i32(workgroupId.y) * ${bm};
  let batch = i32(workgroupId.z);
  // batch offsets in vec4s (0 for a broadcast side)
  let aBase = batch * uniforms.strideA;
  let bBase = batch * uniforms.strideB;
  ${accs.map((a) => `var ${a} = vec4<f32>(0.0);`).join(" ")}
  ${[...regs("ra", la), ...regs("rb", lb)].map((r) => `var ${r}: vec4<f32>;`).join(" ")}
  var k0 = 0;
  ${loads()}
  let steps = (uniforms.dimK + ${BK - 1}) / ${BK};
  for (var s = 0; s < steps; s++) {
    workgroupBarrier();
    ${stores}
    workgroupBarrier();
    k0 = k0 + ${BK};
    if (s + 1 < steps) {
    ${loads()}
    }
    for (var k = 0; k < ${BK}; k++) {
      let b = vec4<f32>(Bs[k * ${BN / 4} + tx]);
      ${fma}
    }
  }
  let cBase = batch * uniforms.dimM * uniforms.dimN;
  let col = col0 + tx * 4;
  ${writes}
}`;
}

/** Run the tiled kernel for a plan: [batchA, ., .] and [batchB, ., .] in, the product in outShape. */
function runTiled(
  backend: WebgpuBackendLike,
  reshape: KernelFunc,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  p: MatmulPlan,
  tile: Tile,
): tf.TensorInfo {
  // [...batchA, M|K, K|M] -> [batchA, ., .] (rank 3 keeps the shader key's ranks fixed)
  const a3 = reshape({ inputs: { x: a }, backend, attrs: { shape: [p.batchA, ...a.shape.slice(-2)] } });
  const b3 = reshape({ inputs: { x: b }, backend, attrs: { shape: [p.batchB, ...b.shape.slice(-2)] } });
  const bm = 16 * p.rm;
  const out = runWgsl(
    backend,
    {
      key: `matmul_${transposeA ? "t" : "n"}${transposeB ? "t" : "n"}_${bm}x${BN}x${BK}_v4_${tile}`,
      outputShape: [p.batch, p.m, p.n],
      inputs: ["A", "B"],
      inputComponents: [4, 4],
      workgroupSize: [16, 16, 1],
      dispatch: [Math.ceil(p.n / BN), Math.ceil(p.m / bm), p.batch],
      uniforms: [
        { name: "dimM", type: "i32" },
        { name: "dimN", type: "i32" },
        { name: "dimK", type: "i32" },
        { name: "strideA", type: "i32" },
        { name: "strideB", type: "i32" },
      ],
      body: matmulBody(transposeA, transposeB, p.rm, tile),
    },
    [a3, b3],
    [p.m, p.n, p.k, p.batchA === 1 ? 0 : (p.m * p.k) / 4, p.batchB === 1 ? 0 : (p.n * p.k) / 4],
  );
  // [batch, M, N] -> [...batch dims, M, N]
  const shaped = reshape({ inputs: { x: out }, backend, attrs: { shape: p.outShape } });
  for (const x of [a3, b3, out]) disposeInfo(backend, x);
  return shaped;
}

let registered = false;

/** Wrap webgpu's BatchMatMul (see the header); idempotent, and a no-op without the webgpu kernels. */
export function registerMatmul(): void {
  if (registered) return;
  const original = tf.getKernel("BatchMatMul", "webgpu");
  const reshapeKernel = tf.getKernel("Reshape", "webgpu");
  if (!original || !reshapeKernel) return;
  registered = true;
  const fallback = original.kernelFunc as unknown as KernelFunc;
  const reshape = reshapeKernel.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel("BatchMatMul", "webgpu");
  tf.registerKernel({
    ...original,
    kernelFunc: ((args: KernelArgs) => {
      const { a, b } = args.inputs;
      const transposeA = Boolean(args.attrs?.transposeA);
      const transposeB = Boolean(args.attrs?.transposeB);
      const plan =
        process.env.LST_WEBGPU_FUSED !== "0" && a.dtype === "float32" && b.dtype === "float32"
          ? planMatmul(a.shape, b.shape, transposeA, transposeB)
          : null;
      if (!plan) {
        stats.fallback++;
        return fallback(args);
      }
      const tile: Tile = f16On() ? "f16" : "f32";
      stats.fast++;
      if (tile === "f16") stats.f16++;
      return runTiled(args.backend as WebgpuBackendLike, reshape, a, b, transposeA, transposeB, plan, tile);
    }) as unknown as tf.KernelFunc,
  });
}
