/**
 * Where a training step's time goes: the kernels tfjs's profiler recorded (`tf.profile`, forward and backward),
 * each with its name, its time and the module whose forward (or whose gradient) ran it, summed by kernel name
 * and by module. Pure: bench/train-bench/step-profile.ts records the kernels, this file only adds them up.
 *
 *   aggregateKernels([{ name: "MatMul", ms: 3, scope: "global" }, { name: "Add", ms: 1, scope: "global" },
 *                     { name: "MatMul", ms: 1, scope: "decoder" }])
 *   -> totalMs 5, kernels 3, dispatches 3,
 *      byKernel [{ name: "MatMul", count: 2, ms: 4, share: 0.8 }, { name: "Add", count: 1, ms: 1, share: 0.2 }]
 *      byScope  [{ name: "global", count: 2, ms: 4, share: 0.8 }, { name: "decoder", count: 1, ms: 1, share: 0.2 }]
 *      byPhase  [{ name: "other", count: 3, ms: 5, share: 1 }]   (no record named a phase)
 */

/** One kernel run: its name, its time in ms, and the module that ran it (undefined: outside every module). */
export interface KernelRecord {
  name: string;
  ms: number;
  scope?: string;
  /** e.g. forward, backward, optimizer */
  phase?: string;
}

export interface ProfileRow {
  name: string;
  count: number;
  ms: number;
  /** ms / the total of all kernels */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  kernels: number;
  /** kernels that launch device work: all but the metadata-only ones (`NO_DISPATCH`) and custom-gradient wrappers */
  dispatches: number;
  /** by kernel name, the most time first */
  byKernel: ProfileRow[];
  /** by module (kernels outside every module under `unscoped`), the most time first */
  byScope: ProfileRow[];
  /** by phase (records without one under `unscoped`), the most time first */
  byPhase: ProfileRow[];
}

/**
 * Kernels that change only a tensor's shape or name (no shader runs on webgpu, no copy on tensorflow), and the
 * profiler's record of a custom-gradient op's own time (its inner kernels are recorded separately).
 */
export const NO_DISPATCH = new Set(["Reshape", "Identity", "ExpandDims", "Squeeze"]);
const isWrapper = (name: string) => name.startsWith("forward (custom-gradient op");

function rows(groups: Map<string, { count: number; ms: number }>, total: number): ProfileRow[] {
  return [...groups.entries()]
    .map(([name, g]) => ({ name, count: g.count, ms: g.ms, share: total > 0 ? g.ms / total : 0 }))
    .sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
}

/** Sum kernel records by name and by module; a record with a non-finite or negative time is an error. */
export function aggregateKernels(records: readonly KernelRecord[], unscoped = "other"): ProfileSummary {
  const byKernel = new Map<string, { count: number; ms: number }>();
  const byScope = new Map<string, { count: number; ms: number }>();
  const byPhase = new Map<string, { count: number; ms: number }>();
  let total = 0;
  let dispatches = 0;
  for (const r of records) {
    if (!NO_DISPATCH.has(r.name) && !isWrapper(r.name)) dispatches++;
    if (!Number.isFinite(r.ms) || r.ms < 0)
      throw new Error(`aggregateKernels: kernel '${r.name}' has time ${r.ms} ms; expected a finite time >= 0`);
    total += r.ms;
    for (const [map, key] of [
      [byKernel, r.name],
      [byScope, r.scope ?? unscoped],
      [byPhase, r.phase ?? unscoped],
    ] as const) {
      const g = map.get(key) ?? { count: 0, ms: 0 };
      g.count++;
      g.ms += r.ms;
      map.set(key, g);
    }
  }
  return {
    totalMs: total,
    kernels: records.length,
    dispatches,
    byKernel: rows(byKernel, total),
    byScope: rows(byScope, total),
    byPhase: rows(byPhase, total),
  };
}

/** A markdown table of the first `top` rows: name, count, total ms, share. */
export function profileTable(title: string, rs: readonly ProfileRow[], top = 15): string {
  const lines = [`| ${title} | count | ms | share |`, "|---|---:|---:|---:|"];
  for (const r of rs.slice(0, top))
    lines.push(`| ${r.name} | ${r.count} | ${r.ms.toFixed(2)} | ${(100 * r.share).toFixed(1)}% |`);
  if (rs.length > top) {
    const rest = rs.slice(top);
    const sum = (f: (r: ProfileRow) => number) => rest.reduce((s, r) => s + f(r), 0);
    const share = (100 * sum((r) => r.share)).toFixed(1);
    lines.push(`| (${rest.length} more) | ${sum((r) => r.count)} | ${sum((r) => r.ms).toFixed(2)} | ${share}% |`);
  }
  return lines.join("\n");
}
