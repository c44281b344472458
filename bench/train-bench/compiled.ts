/**
 * The compiled-step side of bench/train-bench.ts (`--compile=off,graph[,xla]`): the same model and batches as
 * the eager run, each step through lib/train/compiled-step/ (one TensorFlow graph per step form, run in a
 * session), its new state kept where the loss and the norm are finite, as lib/train/train.ts does.
 *
 * What a compiled step's time is made of (`--profile`), per timed step, medians:
 *   capture   the step's JS replayed with no kernel run (checks the op sequence, collects the fed values)
 *   session   TF_SessionRun of the graph: every kernel of the step, TF's own threads and fusions
 *   overhead  ids, value comparisons, wrapping the outputs as tfjs tensors
 * and once per step form: the trace (an eager step), writing and loading the SavedModel, and the graph's first
 * run (grappler's rewrites; XLA's compile with --compile=xla). The session time by phase comes from pruned runs of
 * the same graph: fetching only the loss runs the forward pass, the squared norm adds the backward pass, all
 * outputs the optimiser. The binding runs sessions with null run options,
 * so it gives no per-op step stats: time inside the graph is one figure (docs/speed.md says what bounds it).
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AdamW, Batch, LanguageModel } from "../../lib";
import { CompiledStep, type StepReport } from "../../lib/internal";

/** The step runners the bench compares: `off` is the eager step (train.ts's), the others compiled. */
export const BENCH_COMPILE = ["off", "graph", "xla"] as const;
export type BenchCompile = (typeof BENCH_COMPILE)[number];

/** The run name's prefix: `tfjs` (eager, the peer ratios' key), `tfjs-graph`, `tfjs-xla`. */
export const tfjsName = (c: BenchCompile) => (c === "off" ? "tfjs" : `tfjs-${c}`);

/** Medians of a compiled run's timed steps and the one-off costs of its graphs (ms). */
export interface CompiledProfile {
  /** timed steps that ran through a graph (the others were traced or eager) */
  compiledSteps: number;
  timedSteps: number;
  captureMs: number;
  sessionMs: number;
  overheadMs: number;
  graphs: { nodes: number; bytes: number; writeMs: number; loadMs: number; firstRunMs: number; fed: number }[];
  /** session ms of pruned runs, inside the graph (`--profile`: CompiledStep.phaseTimes, fetching loss / norm / all) */
  phases?: { forward: number; gradients: number; step: number } | null;
  /** traced ops of the first step form, by op name (top 12) */
  topOps: [string, number][];
  ops: number;
}

export function makeRunner(model: LanguageModel, opt: AdamW, c: BenchCompile): CompiledStep | null {
  return c === "off" ? null : new CompiledStep(model, opt, { strict: true, xla: c === "xla" });
}

/** One compiled step at lr 4e-4 (the bench's), kept when finite; returns the loss and the step's report. */
export async function compiledStep(
  runner: CompiledStep,
  batch: Batch,
  nTargets: number,
): Promise<{ loss: number; report: StepReport }> {
  const s = runner.step(batch, 4e-4, nTargets);
  const flat = tf.tidy(() => tf.concat([tf.reshape(s.loss, [1]), tf.reshape(s.normSq, [1])]));
  const [loss, normSq] = await flat.data();
  flat.dispose();
  if (!Number.isFinite(loss) || !Number.isFinite(normSq)) {
    runner.discard(s);
    throw new Error(`train-bench: a compiled step gave loss ${loss}, squared norm ${normSq}`);
  }
  runner.commit(s);
  return { loss, report: runner.last as StepReport };
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);

/** The profile of a compiled run from its timed steps' reports. */
export function compiledProfile(runner: CompiledStep, reports: StepReport[]): CompiledProfile {
  const done = reports.filter((r) => r.how === "compiled");
  const form = runner.describe()[0];
  const topOps = form
    ? Object.entries(form.byOp)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
    : [];
  return {
    compiledSteps: done.length,
    timedSteps: reports.length,
    captureMs: median(done.map((r) => r.captureMs)),
    sessionMs: median(done.map((r) => r.sessionMs)),
    overheadMs: median(done.map((r) => r.overheadMs)),
    graphs: runner.stats.graphs,
    topOps,
    ops: form?.ops ?? 0,
  };
}

/** The printed lines of one compiled run's profile. */
export function profileLines(name: string, p: CompiledProfile, stepMs: number): string[] {
  const f = (x: number) => x.toFixed(1);
  const lines = [
    `${name}: ${p.compiledSteps} of ${p.timedSteps} timed steps through the graph; median ${f(stepMs)} ms = capture ${f(p.captureMs)} + session ${f(p.sessionMs)} + feed/fetch ${f(p.overheadMs)} (+ the loss read)`,
  ];
  for (const g of p.graphs)
    lines.push(
      `  graph: ${g.nodes} nodes, ${(g.bytes / 1024).toFixed(0)} KiB, ${g.fed} fed; write ${f(g.writeMs)} ms, load ${f(g.loadMs)} ms, first run ${f(g.firstRunMs)} ms`,
    );
  if (p.phases)
    lines.push(
      `  session of pruned runs (median of 5): forward ${f(p.phases.forward)}, forward + backward ${f(p.phases.gradients)}, whole step ${f(p.phases.step)} ms`,
    );
  lines.push(`  ${p.ops} traced ops; most frequent: ${p.topOps.map(([op, n]) => `${op} ${n}`).join(", ")}`);
  lines.push("  (per-op times inside the session: none; the binding runs TF_SessionRun with no RunOptions/step stats)");
  return lines;
}
