/**
 * Fused RMSNorm on webgpu: y = x / sqrt(mean(x^2) + 1e-5) over the last axis of x [..., C] (no gain: the model
 * folds the gain into the next weight, lib/model/layers.ts `linear`). One dispatch forward and one backward,
 * where the composed form takes square, mean, add, rsqrt and mul forward and five ops backward.
 *
 * Layout (`rowLayout`, shared with cross-entropy.ts): a workgroup of 128 threads is split into teams of
 * `team` = min(128, next power of two >= C) threads, one team per row, so a narrow row does not leave most
 * of a workgroup idle (C = 16: 8 rows a workgroup; C >= 128: one). Each thread strides over its row's columns,
 * summing into a register; the team then halves a shared-memory array log2(team) times (a tree reduction),
 * and every thread reads the row's total from its team's slot 0. Workgroups fold into y past 65535.
 *
 * Subgroup variant (`subgroupsOn()`, lib/webgpu/features.ts: the device has `subgroups` and
 * LST_WEBGPU_SUBGROUPS is not 0): one subgroup per row, reduced by `subgroupAdd`, with no shared-memory tree and
 * no barrier (`subgroupRowKernel`). It assumes nothing WGSL leaves to the implementation: not the subgroup size
 * (lavapipe 8, NVIDIA 32, AMD 32 or 64; each subgroup counts its lanes, `subgroupAdd(1u)`, and ranks them,
 * `subgroupExclusiveAdd(1u)`, while all 128 threads are still active), nor which threads form a subgroup (its
 * lanes need not be consecutive `localIndex`es): a workgroup owns `perGroup` = 128 / (the adapter's smallest
 * subgroup size) consecutive rows, and each subgroup claims the next one from a workgroup atomic counter (its
 * elected lane adds 1, `subgroupMax` hands the number to every lane) until none is left. A row is whole in one
 * subgroup, so its lanes stride over its columns by the subgroup's size and one `subgroupAdd` gives the total.
 * The loop's exit depends on the claimed number, which WGSL's uniformity analysis cannot see is the same on
 * every lane of a subgroup: `main` turns the `subgroup_uniformity` diagnostic off for that.
 *
 * Backward, from x alone (r is recomputed: one more pass over a row already in cache, no saved tensor):
 *   dx = r (dy - y mean(dy y)) = r dy - r^3 x mean(dy x),   r = 1 / sqrt(mean(x^2) + 1e-5)
 * so one dispatch reduces sum(x^2) and sum(dy x) together (two shared arrays), then writes dx.
 *
 * Worked example (a case of test/webgpu/cases/rms-norm.ts): x = [2, 2, 2, -2]: mean(x^2) = 4, r = 1/2,
 * y = [1, 1, 1, -1]; for dy = [1, 0, 0, 0]: mean(dy y) = 1/4, dx = 1/2 ([1, 0, 0, 0] - y / 4)
 * = [0.375, -0.125, -0.125, 0.125].
 */
import * as tf from "@tensorflow/tfjs-core";
import { FUSED } from "./names";
import { enableMarker, subgroupMinSize, subgroupsOn } from "./features";
import { flatDispatch, registerFused, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup of the row kernels (here and in cross-entropy.ts) */
export const ROW_THREADS = 128;
const WG = ROW_THREADS;

/**
 * Threads per row (a power of two, at most 128) and rows per workgroup for rows of `width` values.
 * Example: width 33 -> team 64, 2 rows a workgroup; width 1 -> team 1, 128 rows; width 1000 -> 128, 1.
 */
export function rowLayout(width: number): { team: number; rowsPerGroup: number } {
  let team = 1;
  while (team < width && team < WG) team *= 2;
  return { team, rowsPerGroup: WG / team };
}

/**
 * WGSL shared by the row kernels: `team`, `lane` (the thread's place in its team), `row` and `inRow` (row <
 * rows), for the uniforms `team` and `rows`. No early return: every thread must reach each barrier.
 */
export const ROW_PRELUDE = `
  let team = uniforms.team;
  let lane = i32(localIndex) % team;
  let group = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  let row = group * (${WG} / team) + i32(localIndex) / team;
  let inRow = row < uniforms.rows;`;

const ROW_UNIFORMS = [
  { name: "rows", type: "i32" as const },
  { name: "c", type: "i32" as const },
  { name: "team", type: "i32" as const },
];

const stats = { subgroup: 0, tree: 0 };

/** Row-reduction dispatches (here and in cross-entropy.ts) of the subgroup variant and of the shared-memory tree. */
export function rowKernelStats(): { subgroup: number; tree: number } {
  return { ...stats };
}

/** Count one dispatch of a row kernel (see `rowKernelStats`). */
export function countRowKernel(subgroup: boolean): void {
  if (subgroup) stats.subgroup++;
  else stats.tree++;
}

/**
 * Rows a workgroup of the subgroup variant owns: one per subgroup when subgroups are as small as the adapter
 * allows (a larger subgroup claims several in turn). Example: lavapipe (8 lanes) -> 16; NVIDIA (32) -> 4.
 * LST_WEBGPU_SUBGROUP_ROWS=<n> sets it (the parity cases use 64, so lavapipe's subgroups loop over 4 rows each).
 */
export function subgroupRowsPerGroup(): number {
  const forced = Number(process.env.LST_WEBGPU_SUBGROUP_ROWS);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  return Math.max(1, Math.floor(WG / Math.max(4, subgroupMinSize())));
}

/** Uniforms of the subgroup variant: `perGroup` from `subgroupRowsPerGroup`. */
export const SUBGROUP_ROW_UNIFORMS = [
  { name: "rows", type: "i32" as const },
  { name: "c", type: "i32" as const },
  { name: "perGroup", type: "i32" as const },
];

/**
 * The WGSL of a subgroup-variant row kernel (see the header): `rowCode` runs once per row a subgroup claims,
 * with `row`, `lane` (0 .. sgSize - 1) and `sgSize` in scope.
 */
export function subgroupRowKernel(rowCode: string): string {
  return `${enableMarker(["subgroups"])}
var<workgroup> nextRow: atomic<u32>;
@diagnostic(off, subgroup_uniformity)
fn main(index: i32) {
  let sgSize = i32(subgroupAdd(1u)); // every thread is active here: the subgroup's lanes, and this one's rank
  let lane = i32(subgroupExclusiveAdd(1u));
  let first = i32(workgroupId.y * numWorkgroups.x + workgroupId.x) * uniforms.perGroup;
  let end = min(first + uniforms.perGroup, uniforms.rows);
  loop {
    var claim = 0u;
    if (subgroupElect()) { claim = atomicAdd(&nextRow, 1u); } // workgroup memory starts at 0
    let row = first + i32(subgroupMax(claim));
    if (row >= end) { break; }
    ${rowCode}
  }
}`;
}

function forward(b: WebgpuBackendLike, x: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const sg = subgroupsOn();
  countRowKernel(sg);
  if (sg) {
    const perGroup = subgroupRowsPerGroup();
    return runWgsl(
      b,
      {
        key: "rms_norm_sg",
        outputShape: x.shape.slice(),
        inputs: ["X"],
        workgroupSize: [WG, 1, 1],
        dispatch: flatDispatch(rows, perGroup),
        uniforms: SUBGROUP_ROW_UNIFORMS,
        body: subgroupRowKernel(
          `let base = row * uniforms.c;
    var ss = 0.0;
    for (var col = lane; col < uniforms.c; col += sgSize) { let v = X[base + col]; ss += v * v; }
    let r = 1.0 / sqrt(subgroupAdd(ss) / f32(uniforms.c) + 1e-5);
    for (var col = lane; col < uniforms.c; col += sgSize) { result[base + col] = X[base + col] * r; }`,
        ),
      },
      [x],
      [rows, c, perGroup],
    );
  }
  const { team, rowsPerGroup } = rowLayout(c);
  return runWgsl(
    b,
    {
      key: "rms_norm",
      outputShape: x.shape.slice(),
      inputs: ["X"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(rows, rowsPerGroup),
      uniforms: ROW_UNIFORMS,
      body: `var<workgroup> red: array<f32, ${WG}>;
fn main(index: i32) {${ROW_PRELUDE}
  let base = row * uniforms.c;
  var ss = 0.0;
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) { let v = X[base + col]; ss += v * v; }
  }
  red[localIndex] = ss;
  workgroupBarrier();
  for (var h = team / 2; h > 0; h = h / 2) {
    if (lane < h) { red[localIndex] += red[i32(localIndex) + h]; }
    workgroupBarrier();
  }
  let r = 1.0 / sqrt(red[i32(localIndex) - lane] / f32(uniforms.c) + 1e-5);
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) { result[base + col] = X[base + col] * r; }
  }
}`,
    },
    [x],
    [rows, c, team],
  );
}

function backward(b: WebgpuBackendLike, x: tf.TensorInfo, dy: tf.TensorInfo): tf.TensorInfo {
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const sg = subgroupsOn();
  countRowKernel(sg);
  if (sg) {
    const perGroup = subgroupRowsPerGroup();
    return runWgsl(
      b,
      {
        key: "rms_norm_grad_sg",
        outputShape: x.shape.slice(),
        inputs: ["X", "DY"],
        workgroupSize: [WG, 1, 1],
        dispatch: flatDispatch(rows, perGroup),
        uniforms: SUBGROUP_ROW_UNIFORMS,
        body: subgroupRowKernel(
          `let base = row * uniforms.c;
    var acc = vec2<f32>(0.0); // (sum x^2, sum dy x)
    for (var col = lane; col < uniforms.c; col += sgSize) {
      let v = X[base + col];
      acc += vec2<f32>(v * v, v * DY[base + col]);
    }
    let tot = subgroupAdd(acc);
    let r = 1.0 / sqrt(tot.x / f32(uniforms.c) + 1e-5);
    let k = r * r * r * tot.y / f32(uniforms.c); // r^3 mean(dy x)
    for (var col = lane; col < uniforms.c; col += sgSize) {
      result[base + col] = r * DY[base + col] - k * X[base + col];
    }`,
        ),
      },
      [x, dy],
      [rows, c, perGroup],
    );
  }
  const { team, rowsPerGroup } = rowLayout(c);
  return runWgsl(
    b,
    {
      key: "rms_norm_grad",
      outputShape: x.shape.slice(),
      inputs: ["X", "DY"],
      workgroupSize: [WG, 1, 1],
      dispatch: flatDispatch(rows, rowsPerGroup),
      uniforms: ROW_UNIFORMS,
      body: `var<workgroup> redXX: array<f32, ${WG}>;
var<workgroup> redXD: array<f32, ${WG}>;
fn main(index: i32) {${ROW_PRELUDE}
  let base = row * uniforms.c;
  var xx = 0.0;
  var xd = 0.0;
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) {
      let v = X[base + col];
      xx += v * v;
      xd += v * DY[base + col];
    }
  }
  redXX[localIndex] = xx;
  redXD[localIndex] = xd;
  workgroupBarrier();
  for (var h = team / 2; h > 0; h = h / 2) {
    if (lane < h) {
      redXX[localIndex] += redXX[i32(localIndex) + h];
      redXD[localIndex] += redXD[i32(localIndex) + h];
    }
    workgroupBarrier();
  }
  let first = i32(localIndex) - lane;
  let r = 1.0 / sqrt(redXX[first] / f32(uniforms.c) + 1e-5);
  let k = r * r * r * redXD[first] / f32(uniforms.c); // r^3 mean(dy x)
  if (inRow) {
    for (var col = lane; col < uniforms.c; col += team) {
      result[base + col] = r * DY[base + col] - k * X[base + col];
    }
  }
}`,
    },
    [x, dy],
    [rows, c, team],
  );
}

export function registerRmsNorm(): void {
  registerFused({
    name: FUSED.rmsNorm,
    forward: ({ inputs, backend }) => forward(backend, inputs.x as tf.TensorInfo),
    grad: {
      kernelName: FUSED.rmsNorm,
      inputsToSave: ["x"],
      gradFunc: (dy, saved) => ({
        x: () => tf.engine().runKernel(`${FUSED.rmsNorm}Grad`, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor,
      }),
    },
  });
  registerFused({
    name: `${FUSED.rmsNorm}Grad`,
    forward: ({ inputs, backend }) => backward(backend, inputs.x as tf.TensorInfo, inputs.dy as tf.TensorInfo),
  });
}
