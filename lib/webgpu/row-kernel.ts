/**
 * The row kernels of the fused RMSNorm and cross-entropy (rms-norm.ts, cross-entropy.ts): one reduction per row
 * of a [rows, C] view, in one of two variants that `runRowKernel` picks and counts.
 *
 * Tree variant (`rowLayout`): a workgroup of 128 threads is split into teams of
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
 */
import * as tf from "@tensorflow/tfjs-core";
import { enableMarker, subgroupMinSize, subgroupsOn } from "./features";
import { flatDispatch, runWgsl, type WebgpuBackendLike } from "./program";

/** threads per workgroup of the row kernels */
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

/** Uniforms of the tree variant: `team` from `rowLayout`. */
const ROW_UNIFORMS = [
  { name: "rows", type: "i32" as const },
  { name: "c", type: "i32" as const },
  { name: "team", type: "i32" as const },
];

const stats = { subgroup: 0, tree: 0 };

/** Row-kernel dispatches of the subgroup variant and of the shared-memory tree. */
export function rowKernelStats(): { subgroup: number; tree: number } {
  return { ...stats };
}

/** Count one dispatch of a row kernel (see `rowKernelStats`). */
function countRowKernel(subgroup: boolean): void {
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

/** One row kernel in both variants (see the header). */
export interface RowKernel {
  /** the tree variant's shader key; the subgroup variant's is `<key>_sg` */
  key: string;
  outputShape: number[];
  /** names of the bound inputs, in the order of the tensors */
  inputs: string[];
  /** the subgroup variant: WGSL run once per row (`subgroupRowKernel`'s `rowCode`) */
  subgroupRow: string;
  /** the tree variant: workgroup arrays of ROW_THREADS, then `fn main(index: i32)` opening with ROW_PRELUDE */
  treeBody: string;
}

/**
 * Run `k` over `rows` rows of `c` values: the subgroup variant where `subgroupsOn()`, else the tree. Both get
 * the uniforms `rows` and `c`, then `perGroup` (subgroup) or `team` (tree).
 */
export function runRowKernel(
  b: WebgpuBackendLike,
  k: RowKernel,
  tensors: tf.TensorInfo[],
  rows: number,
  c: number,
): tf.TensorInfo {
  const sg = subgroupsOn();
  countRowKernel(sg);
  const common = {
    outputShape: k.outputShape,
    inputs: k.inputs,
    workgroupSize: [WG, 1, 1] as [number, number, number],
  };
  if (sg) {
    const perGroup = subgroupRowsPerGroup();
    return runWgsl(
      b,
      {
        ...common,
        key: `${k.key}_sg`,
        dispatch: flatDispatch(rows, perGroup),
        uniforms: SUBGROUP_ROW_UNIFORMS,
        body: subgroupRowKernel(k.subgroupRow),
      },
      tensors,
      [rows, c, perGroup],
    );
  }
  const { team, rowsPerGroup } = rowLayout(c);
  return runWgsl(
    b,
    { ...common, key: k.key, dispatch: flatDispatch(rows, rowsPerGroup), uniforms: ROW_UNIFORMS, body: k.treeBody },
    tensors,
    [rows, c, team],
  );
}
