/**
 * What a grid would train, before it trains: each run's state in the run store and an estimate of its
 * training time, for `--dry-run`, `runGrid(name, { cachedOnly: true })` and the line a notebook cell prints
 * before a long grid starts.
 *
 *   state     'cached' (finished by the code running now), 'stale' (finished by other code), 'unknown'
 *             (finished before provenance was recorded), 'partial' (started, resumes), 'new'
 *   estimate  steps x the measured step time of its model kind at this size and training shape:
 *             1. the finished runs of that shape in the run store (their metrics.jsonl `ms`): each run's median
 *                step, and of those the fastest run's. Other work on the cores only slows a run down, so the
 *                fastest is the nearest to quiet cores (on a shared 2-core machine the median run read 2.4x
 *                the quiet baseline step: 781 against 330 ms);
 *             2. else MEASURED_STEP_MS below, for the scale's own size (measured by bench/step-time.ts),
 *             3. else, at a GPU scale (its `assumedTflops`), the step's FLOPs at that sustained rate: an
 *                estimate from an assumption, and the plan says so (scale-budget.ts).
 *             `tflops` (`--dry-run --tflops=N`) puts every run to train on 3. at N TFLOP/s: what it would take on
 *             hardware of that measured rate (a GPU for the small scale's 16x cell, say); one rate per model
 *             kind (`--tflops=baseline:N,lst:M`) estimates each run at its kind's rate.
 *             Training only: evaluation and a first dataset build come on top.
 *
 * A data-controlled run's steps depend on the dataset (budgetSteps), which a plan does not build: it counts
 * the scale's steps and says so ('at least': the baseline runs about 2x with the lab mix).
 */
import fs from "fs";
import path from "path";
import { readMetrics, RunStore } from "./runs";
import { hasOwn } from "../config";
import { checkDirPath, runsDir } from "../paths";
import { resolveExperiment, type ExperimentConfig, type LabScale } from "./experiment";
import { selectGrid } from "./grids";
import { currentCode, runFreshness } from "./provenance";
import { estimatedStepMs, runFlops, tflopsFor, tflopsProblem, type Tflops } from "./scale-budget";

/**
 * Median ms per training step after warm-up, baseline and LST (static 4), at each scale's own size and shapes.
 * Measured with `npx tsx bench/step-time.ts --scale=<name> --steps=12` on the lab's 2-core machine (native
 * backend, cores shared with other jobs). 'paper' is not measured: it is sized for a GPU.
 */
export const MEASURED_STEP_MS: Record<string, { baseline: number; lst: number; by: string }> = {
  smoke: { baseline: 46, lst: 96, by: "npx tsx bench/step-time.ts --scale=smoke --steps=8" },
  small: { baseline: 448, lst: 782, by: "npx tsx bench/step-time.ts --scale=small --steps=12" },
};

export type RunState = "cached" | "stale" | "unknown" | "partial" | "new";

export interface PlannedRun {
  /** the run directory's name: the run's key (`runKey`, run-layout.ts) */
  id: string;
  name: string;
  seed: number;
  group: Record<string, string | number>;
  state: RunState;
  /** this command would train it (new, partial, or stale/unknown under rerunStale) */
  train: boolean;
  /** steps left to train (0 when it will not train) */
  steps: number;
  /** steps are a lower bound (data-controlled budget) */
  atLeast: boolean;
  /** estimated training time in ms, null when no step time is measured for it */
  ms: number | null;
  /** the measured step time it is estimated with (ms), null when none */
  stepMs: number | null;
  /** where that step time comes from, e.g. "measured by `npx tsx bench/step-time.ts ...`" */
  stepTime: string;
}

export interface GridPlan {
  grid: string;
  scale: string;
  seeds: number[];
  runsRoot: string;
  runs: PlannedRun[];
  /** the sum of the estimates of the runs to train; null when some have no measured step time */
  trainMs: number | null;
}

export interface PlanOptions {
  seeds?: number[];
  where?: Record<string, string | number>;
  runsRoot?: string;
  rerunStale?: boolean;
  /** estimate every run to train from its FLOPs at this sustained TFLOP/s, or its kind's (see the header) */
  tflops?: Tflops;
}

type Shape = string;

function shapeOf(cfg: ExperimentConfig): Shape {
  const kind = cfg.variant === "lst" ? "lst" : "baseline";
  const t = cfg.train;
  return [kind, cfg.size, t.batchSize, t.seqLen, t.globalLen, t.maxRawLen].join("/");
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Each finished run's median step time (ms), by shape (skips unreadable runs). */
function storeStepTimes(root: string): Map<Shape, number[]> {
  const out = new Map<Shape, number[]>();
  if (!fs.existsSync(root)) return out;
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    const dir = path.join(root, d.name);
    if (!d.isDirectory() || !fs.existsSync(path.join(dir, "done"))) continue;
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as { config?: ExperimentConfig };
      if (!meta.config?.train) continue;
      const ms = readMetrics(path.join(dir, "metrics.jsonl"))
        .slice(2)
        .map((m) => m.ms)
        .filter((x) => typeof x === "number" && x > 0);
      if (ms.length === 0) continue;
      const key = shapeOf(meta.config);
      out.set(key, [...(out.get(key) ?? []), median(ms)]);
    } catch {
      // a broken run directory is the run store's to report; a plan just does without its timing
    }
  }
  return out;
}

/** Steps a started-but-unfinished run has logged (its trainer's metrics), 0 when none. */
function loggedSteps(dir: string): number {
  try {
    const m = readMetrics(path.join(dir, "train", "metrics.jsonl"));
    return m.length ? m[m.length - 1].step + 1 : 0;
  } catch {
    return 0;
  }
}

/** The plan of a grid at a scale (see the header); reads the run store, trains and builds nothing. */
export function planGrid(name: string, scale: LabScale, opts: PlanOptions = {}): GridPlan {
  const runsRoot = opts.runsRoot ?? runsDir();
  checkDirPath(runsRoot, "run store");
  const store = new RunStore(runsRoot);
  const entries = selectGrid(name, scale, opts.seeds, opts.where);
  const measured = storeStepTimes(runsRoot);
  const code = currentCode().code;
  const bad = opts.tflops === undefined ? null : tflopsProblem(opts.tflops);
  if (bad !== null)
    throw new Error(
      `tflops (the sustained TFLOP/s to estimate with) must be a number > 0${typeof opts.tflops === "number" ? "" : " or one per kind, { baseline, lst }"}, got ${bad}`,
    );
  const tflops = opts.tflops ?? scale.assumedTflops;
  const runs: PlannedRun[] = entries.map((e) => {
    const cfg = resolveExperiment(e.spec, scale);
    const dir = store.runDir(cfg);
    const fresh = runFreshness(dir, code);
    const state: RunState =
      fresh === "current" ? "cached" : fresh === "absent" ? (fs.existsSync(dir) ? "partial" : "new") : fresh;
    const train =
      state === "new" ||
      state === "partial" ||
      (opts.rerunStale === true && (state === "stale" || state === "unknown"));
    const steps = train ? Math.max(0, cfg.train.steps - (state === "partial" ? loggedSteps(dir) : 0)) : 0;
    const kind = cfg.variant === "lst" ? "lst" : "baseline";
    const fromStore = measured.get(shapeOf(cfg));
    const table = hasOwn(MEASURED_STEP_MS, scale.name) ? MEASURED_STEP_MS[scale.name] : undefined;
    let stepMs: number | null = null;
    let stepTime = `${kind} ${cfg.size}: not measured (run \`npx tsx bench/step-time.ts --scale=${scale.name}\`)`;
    if (fromStore && opts.tflops === undefined) {
      stepMs = Math.min(...fromStore);
      const of =
        fromStore.length === 1
          ? `1 finished run in ${runsRoot}`
          : `the fastest of ${fromStore.length} finished runs in ${runsRoot} (the nearest to quiet cores)`;
      stepTime = `${kind} ${cfg.size} ${Math.round(stepMs)} ms: median step of ${of}`;
    } else if (table && table[kind] > 0 && cfg.size === scale.size && opts.tflops === undefined) {
      stepMs = table[kind];
      stepTime = `${kind} ${cfg.size} ${stepMs} ms: measured by \`${table.by}\``;
    } else if (tflops !== undefined) {
      stepMs = estimatedStepMs(cfg, tflops);
      const gflop = (runFlops(cfg).flopsPerStep / 1e9).toFixed(0);
      const why =
        opts.tflops === undefined
          ? `the scale's assumed rate, not measured: \`npx tsx bench/step-time.ts --scale=${scale.name}\` on the GPU measures it`
          : typeof opts.tflops === "number"
            ? "the rate given"
            : `the rate given for ${kind}`;
      stepTime = `${kind} ${cfg.size} ${Math.round(stepMs)} ms: estimated, ${gflop} GFLOP a step at ${tflopsFor(tflops, kind)} TFLOP/s sustained (${why})`;
    }
    return {
      id: path.basename(dir),
      name: cfg.name,
      seed: cfg.seed,
      group: e.group,
      state,
      train,
      steps,
      atLeast: train && cfg.budget === "data",
      ms: train ? (stepMs === null ? null : steps * stepMs) : 0,
      stepMs,
      stepTime,
    };
  });
  const toTrain = runs.filter((r) => r.train);
  const trainMs = toTrain.some((r) => r.ms === null) ? null : toTrain.reduce((a, r) => a + (r.ms as number), 0);
  return { grid: name, scale: scale.name, seeds: [...new Set(entries.map((e) => e.seed))], runsRoot, runs, trainMs };
}

/** 95 s -> '1.6 min'; 2 h -> '2.0 h'. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** One line: how many runs, how many cached, how many to train and for about how long. */
export function planSummary(plan: GridPlan): string {
  const n = (s: RunState) => plan.runs.filter((r) => r.state === s).length;
  const toTrain = plan.runs.filter((r) => r.train);
  const kept = plan.runs.filter((r) => !r.train && (r.state === "stale" || r.state === "unknown")).length;
  const parts = [`${n("cached")} cached`];
  if (n("stale")) parts.push(`${n("stale")} stale (other code)`);
  if (n("unknown")) parts.push(`${n("unknown")} of unknown code`);
  parts.push(`${toTrain.length} to train`);
  const est =
    toTrain.length === 0
      ? ""
      : plan.trainMs === null
        ? ", time unknown (no measured step time)"
        : `, about ${formatDuration(plan.trainMs)} of training${toTrain.some((r) => r.atLeast) ? " at least" : ""}`;
  const keep = kept
    ? `; ${kept} finished by other or unknown code are reused (rerunStale / --rerun-stale retrains them)`
    : "";
  return `grid '${plan.grid}' at scale '${plan.scale}', seeds ${plan.seeds.join(",")}: ${plan.runs.length} runs, ${parts.join(", ")}${est}${keep}`;
}

/** The plan as a table: one line per run, then the summary and where the step times come from. */
export function formatPlan(plan: GridPlan): string {
  const lines = [`  ${"state".padEnd(16)}${"run".padEnd(40)}${"seed".padStart(5)}${"steps".padStart(8)}  estimate`];
  for (const r of plan.runs) {
    const state = r.train ? `train (${r.state})` : r.state;
    const est = !r.train ? "-" : r.ms === null ? "unknown" : `${r.atLeast ? ">= " : ""}${formatDuration(r.ms)}`;
    lines.push(
      `  ${state.padEnd(16)}${r.name.padEnd(40)}${String(r.seed).padStart(5)}${(r.train ? String(r.steps) : "-").padStart(8)}  ${est}`,
    );
  }
  lines.push(planSummary(plan));
  const sources = [...new Set(plan.runs.filter((r) => r.train).map((r) => r.stepTime))];
  if (sources.length)
    lines.push(`step times (training only; evaluation comes on top):`, ...sources.map((s) => `  ${s}`));
  if (plan.runs.some((r) => r.atLeast))
    lines.push(
      "'>=': data-controlled runs train more steps than the scale's (set by the dataset, e.g. about 2x for the baseline with the lab mix)",
    );
  return lines.join("\n");
}
