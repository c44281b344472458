/**
 * `CompiledStep`: runs training steps (step.ts) as TensorFlow graphs, one graph per step form, cached.
 *
 * Per step, with the batch's shape signature (B, T, P):
 *   1. each cached entry of that signature (most recently used first) is tried by a capture (trace.ts): the
 *      step's JS runs with no kernel executed, its ops checked against the entry's trace;
 *   2. on a match, the made tensors that changed are fed, the others are the graph's constants; an entry
 *      traced but not yet built becomes a graph now, feeding the made tensors whose values differ between
 *      the trace and this capture (the lr scalars, the batch's ids, ...). A constant that changes later
 *      (a padded batch changes the target count) rebuilds the graph with it fed;
 *   3. with no match the step runs eagerly while it is traced (a real step: nothing is wasted), and the trace
 *      becomes a new entry, up to `maxGraphs`; past that a step with no match stays eager (one log line).
 * The step's result is the same either way (StepTensors): nothing is assigned here. `commit` keeps it.
 *
 * A graph that TF refuses, or a session run that fails, turns the runner eager for the rest of the run
 * with one log line (`strict` throws instead): compiling may only make a run faster, never break it.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch, LanguageModel } from "../../model/types";
import type { AdamW } from "../adamw";
import { StepGraph } from "./graph";
import { AutoGuard, type StepReport } from "./guard";
import { nativeIds, nodeBackend, type HostValues, type NodeBackend } from "./native";
import { disposeStep, fromOutputs, stepOutputs, stepTensors, type StepTensors } from "./step";
import { captureStep, Mismatch, traceStep, type Capture, type StepFn, type Trace } from "./trace";

export interface CompiledStepOptions {
  /** most step forms kept (traced or built); default 8 */
  maxGraphs?: number;
  /** mark every node for XLA (graph.ts) */
  xla?: boolean;
  /** throw where the default falls back to eager (compile: "graph") */
  strict?: boolean;
  /**
   * compile: "auto": keep compiling only while a compiled step is measured faster than an eager one in this
   * run, and pause while the step's shapes keep changing (guard.ts)
   */
  adaptive?: boolean;
  log?: (line: string) => void;
}

export type { StepReport } from "./guard";

export interface CompiledStepStats {
  compiled: number;
  traced: number;
  eager: number;
  /** graphs built (rebuilds included) */
  built: number;
  mismatches: number;
  /** why the last capture that did not match stopped (for diagnosis) */
  lastMismatch?: string;
  graphs: { nodes: number; bytes: number; writeMs: number; loadMs: number; firstRunMs: number; fed: number }[];
}

interface Entry {
  key: string;
  trace: Trace;
  graph: StepGraph | null;
}

const sameValues = (a: HostValues, b: HostValues) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The batch's shape signature: steps of another signature never share a graph. */
export function shapeKey(batch: Batch): string {
  return `${batch.B}x${batch.T}x${batch.P ?? 0}`;
}

export class CompiledStep {
  readonly stats: CompiledStepStats = { compiled: 0, traced: 0, eager: 0, built: 0, mismatches: 0, graphs: [] };
  last: StepReport | null = null;
  private entries: Entry[] = [];
  private readonly maxGraphs: number;
  private capped = false;
  /** set when TF failed a graph: every later step is eager */
  private broken: string | null = null;
  private readonly guard: AutoGuard | null;
  private readonly be: NodeBackend;

  constructor(
    private readonly model: LanguageModel,
    private readonly opt: AdamW,
    private readonly opts: CompiledStepOptions = {},
  ) {
    const be = nodeBackend();
    if (!be)
      throw new Error(`a compiled step needs the tensorflow backend (tfjs-node); this one is '${tf.getBackend()}'`);
    this.be = be;
    this.maxGraphs = opts.maxGraphs ?? 8;
    this.guard = opts.adaptive ? new AutoGuard((l) => this.log(l)) : null;
  }

  /** Whether steps still go through graphs (false after a failure TF reported, with `strict` off). */
  get active(): boolean {
    return this.broken === null;
  }

  /** One step's tensors (nothing assigned): through a cached graph where one matches, else eagerly (traced). */
  step(batch: Batch, lr: number, nTargets: number): StepTensors {
    const out = this.stepOnce(batch, lr, nTargets, this.guard?.wantEager() ?? false);
    this.guard?.record(this.last as StepReport);
    return out;
  }

  /** One step; `paused`: eagerly, with no capture or trace (the auto guard's choice). */
  private stepOnce(batch: Batch, lr: number, nTargets: number, paused: boolean): StepTensors {
    const t0 = performance.now();
    const fn = this.stepFn(batch, lr, nTargets);
    const state = this.state();
    const report: StepReport = { how: "eager", captureMs: 0, buildMs: 0, sessionMs: 0, overheadMs: 0, totalMs: 0 };
    this.last = report;
    const key = shapeKey(batch);
    if (!this.broken && !paused) {
      for (const e of this.entries.filter((x) => x.key === key)) {
        const c0 = performance.now();
        let cap: Capture;
        try {
          cap = captureStep(this.be, e.trace, state, fn);
        } catch (err) {
          report.captureMs += performance.now() - c0;
          if (!(err instanceof Mismatch)) throw err;
          this.stats.mismatches++;
          this.stats.lastMismatch = err.message;
          // a trace that never matched a second step (e.g. it filled a shape cache) is not worth a slot
          if (!e.graph) this.entries = this.entries.filter((x) => x !== e);
          continue;
        }
        report.captureMs += performance.now() - c0;
        try {
          const out = this.runEntry(e, cap, state, report);
          if (out) {
            this.entries = [e, ...this.entries.filter((x) => x !== e)];
            this.stats.compiled++;
            report.how = "compiled";
            report.totalMs = performance.now() - t0;
            return out;
          }
        } finally {
          cap.release();
        }
        break; // the graph failed (and the runner is now eager): run this step eagerly below
      }
    }
    if (!this.broken && !paused && this.entries.length < this.maxGraphs) {
      try {
        const { result, trace } = traceStep(this.be, state, fn);
        this.entries.unshift({ key, trace, graph: null });
        this.stats.traced++;
        report.how = "traced";
        report.totalMs = performance.now() - t0;
        return result;
      } catch (err) {
        // the step's own error recurs in the eager run below; one of the recorder's turns the runner eager
        if (this.opts.strict) throw err;
        this.broken = `tracing failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
        this.log(`compiled step: ${this.broken}; training continues eagerly`);
      }
    }
    if (!this.broken && !paused && !this.capped) {
      this.capped = true;
      this.log(
        `compiled step: ${this.maxGraphs} step forms are cached; steps of a new form (shape ${key}) now run eagerly`,
      );
    }
    this.stats.eager++;
    const out = fn.run();
    report.totalMs = performance.now() - t0;
    return out;
  }

  /** The cached step forms: shape key, traced ops (and by op name), whether built, its fed tensors. */
  describe(): { key: string; ops: number; byOp: Record<string, number>; built: boolean; fed: number }[] {
    return this.entries.map((e) => {
      const byOp: Record<string, number> = {};
      for (const o of e.trace.ops) byOp[o.op] = (byOp[o.op] ?? 0) + 1;
      return { key: e.key, ops: e.trace.ops.length, byOp, built: e.graph !== null, fed: e.graph?.fedList.length ?? 0 };
    });
  }

  /**
   * Session time by phase, inside the graph (the binding has no per-op step stats), from pruned runs of the
   * graph that matches `batch`: fetching only the loss runs the forward pass (`forward`), the squared norm the
   * forward and backward passes (`gradients`), all outputs the whole step (`step`, the optimiser included).
   * Each fetch set is run once unmeasured (TF builds and optimises an executor per fetch set), then `reps`
   * rounds, interleaved; medians in ms. Null when no built graph matches. Changes nothing.
   */
  phaseTimes(
    batch: Batch,
    lr: number,
    nTargets: number,
    reps = 5,
  ): { forward: number; gradients: number; step: number } | null {
    const fn = this.stepFn(batch, lr, nTargets);
    const state = this.state();
    for (const e of this.entries) {
      if (!e.graph || e.key !== shapeKey(batch)) continue;
      let cap: Capture;
      try {
        cap = captureStep(this.be, e.trace, state, fn);
      } catch (err) {
        if (err instanceof Mismatch) continue;
        throw err;
      }
      try {
        const graph = e.graph;
        const ids = nativeIds(this.be, state);
        const run = (fetch?: number[]) => {
          const t0 = performance.now();
          const metas = graph.run(ids, cap.madeIds, fetch);
          const ms = performance.now() - t0;
          tf.dispose(metas.map((m) => this.be.createOutputTensor(m)));
          return ms;
        };
        const sets = [[0], [1], undefined];
        for (const f of sets) run(f);
        const times: number[][] = sets.map(() => []);
        for (let r = 0; r < reps; r++) sets.forEach((f, i) => times[i].push(run(f)));
        const [forward, gradients, step] = times.map((ms) => ms.sort((a, b) => a - b)[Math.floor(reps / 2)]);
        return { forward, gradients, step };
      } finally {
        cap.release();
      }
    }
    return null;
  }

  /** Keep a step's new state (parameters, m, v; the step count): the caller checked the loss and the norm. */
  commit(s: StepTensors): void {
    this.opt.commit(s.update);
    tf.dispose([s.loss, s.normSq, s.nll]);
  }

  /** Drop a step's tensors (a refused step). */
  discard(s: StepTensors): void {
    disposeStep(s);
  }

  dispose(): void {
    for (const e of this.entries) e.graph?.dispose();
    this.entries = [];
  }

  private log(line: string): void {
    (this.opts.log ?? console.log)(line);
  }

  /** Parameters, then AdamW m and v: the graph's state Placeholders, in slot order. */
  private state(): tf.Tensor[] {
    return [...this.model.variables, ...this.opt.moments];
  }

  private stepFn(batch: Batch, lr: number, nTargets: number): StepFn<StepTensors> {
    return {
      run: () => stepTensors(this.model, this.opt, batch, lr, nTargets),
      outputs: stepOutputs,
      dispose: disposeStep,
      abort: () => this.opt.discardPending(),
    };
  }

  /** Build the entry's graph if needed (feeding what changed), run it; null when TF failed and strict is off. */
  private runEntry(e: Entry, cap: Capture, state: tf.Tensor[], report: StepReport): StepTensors | null {
    const o0 = performance.now();
    const changed = new Set<number>();
    e.trace.made.forEach((m, k) => {
      if (!e.graph?.fed.has(k) && !sameValues(m.values, cap.made[k].values)) changed.add(k);
    });
    let buildMs = 0;
    let firstRun = false;
    try {
      if (!e.graph || changed.size > 0) {
        const b0 = performance.now();
        const fed = new Set([...(e.graph?.fed ?? []), ...changed]);
        e.graph?.dispose();
        e.graph = null;
        e.graph = new StepGraph(this.be, e.trace, fed, { xla: this.opts.xla });
        this.stats.built++;
        firstRun = true;
        buildMs = performance.now() - b0;
      }
      const stateIds = nativeIds(this.be, state);
      const s0 = performance.now();
      const metas = e.graph.run(stateIds, cap.madeIds);
      const sessionMs = performance.now() - s0;
      if (firstRun) {
        const c = e.graph.cost;
        this.stats.graphs.push({ ...c, firstRunMs: sessionMs, fed: e.graph.fedList.length });
      }
      const out = fromOutputs(metas.map((m) => this.be.createOutputTensor(m)));
      report.buildMs = buildMs;
      report.sessionMs = sessionMs;
      report.overheadMs = performance.now() - o0 - buildMs - sessionMs;
      return out;
    } catch (err) {
      if (this.opts.strict) throw err;
      e.graph?.dispose();
      this.broken = err instanceof Error ? err.message.split("\n")[0] : String(err);
      this.log(`compiled step: TensorFlow failed the step's graph (${this.broken}); training continues eagerly`);
      return null;
    }
  }
}
