/**
 * Running and reading grids: every run of a named grid (grids.ts) through one experiment's runner (study.ts),
 * where an executor puts it (executor.ts), and the finished runs of a scale read back from the run store for
 * the tables.
 *
 *   runGrid('patchSize')                          every run of a named grid, each seed, skipping finished runs
 *   runGrid('patchSize', { cachedOnly: true })    only what the run store has, nothing trains
 *   runGrid('phoneticPatching', { where: { budget: '16x' } })   a part of a grid; an opt-in cell by name
 *   gridStatus('calibration')                     each run's state under the executor's submissions
 *   scaleRuns(scale)                              the finished runs of every grid at a scale, with their groups
 */
import fs from "fs";
import path from "path";
import type { ResultRow } from "../eval/metrics";
import type { StepMetrics } from "../train/train";
import { runsDir } from "../paths";
import { RunStore } from "./runs";
import { resolveExperiment, labScale, type LabScale } from "./experiment";
import { expandGrid, GRIDS, selectGrid, type GridRun } from "./grids";
import { formatPlan, planGrid, planSummary } from "./plan";
import { executeGrid, gridState, resolveExecutor, type ExecRun, type ExecutorOptions } from "./executor";
import type { RunStatus } from "./grid-jobs";
import { datasetFor, runExperiment, type StudyOptions, type StudyRun } from "./study";

export interface GridOptions extends StudyOptions {
  seeds?: number[];
  /** keep only the entries whose group has these values, e.g. { units: "phonetic", budget: "1x" } */
  where?: Record<string, string | number>;
  /** return only the runs already finished in the store, train nothing, and log what is there and what is not */
  cachedOnly?: boolean;
  /** log the plan before training when its training is estimated to take longer than this, default 3 min
   *  (Infinity: never; the CLI prints its own plan before building the dataset) */
  announceAfterMs?: number;
  /**
   * where the runs execute (executor.ts): 'local' (default, in this process), 'processes' ({ kind, jobs }) or
   * 'slurm' ({ kind, partition, time, cpus, mem, gres, throttle, sbatch, env, wait, resubmitFailed })
   */
  executor?: ExecutorOptions | ExecutorOptions["kind"];
}

/** The runs of a grid as resolved configs with their groups (what an executor submits). */
function gridRuns(name: string, opts: GridOptions, scale: LabScale): ExecRun[] {
  return selectGrid(name, scale, opts.seeds, opts.where).map((e) => ({
    config: resolveExperiment(e.spec, scale),
    group: e.group,
  }));
}

/**
 * Run every entry of a named grid (finished runs come back from the store at once). With a `processes` or
 * `slurm` executor the missing runs execute there first; with `wait: false` only the runs finished so far come
 * back (a later call returns the rest).
 */
export async function runGrid(name: string, opts: GridOptions = {}): Promise<StudyRun[]> {
  const scale = opts.scale ?? labScale();
  const executor = resolveExecutor(opts.executor);
  if (executor.kind !== "local") {
    const runsRoot = opts.runsRoot ?? runsDir();
    const runs = gridRuns(name, opts, scale);
    const states = await executeGrid(
      runs,
      {
        grid: name,
        scale: scale.name,
        runsRoot,
        dataRoot: opts.dataRoot,
        prepare: (cfg) => datasetFor(cfg, opts),
        onProgress: opts.onProgress,
      },
      executor,
    );
    const done = runs.filter((_, i) => states[i].state === "done");
    const out: StudyRun[] = [];
    for (const r of done) out.push(await runExperiment(r.config, { ...opts, scale }, r.group));
    return out;
  }
  const entries: GridRun[] = selectGrid(name, scale, opts.seeds, opts.where);
  const log = opts.log ?? console.log;
  const plan = planGrid(name, scale, {
    seeds: opts.seeds,
    where: opts.where,
    runsRoot: opts.runsRoot,
    rerunStale: opts.rerunStale === true && opts.cachedOnly !== true,
  });
  if (opts.cachedOnly) {
    log(
      `${formatPlan(plan)}\n(cachedOnly: nothing trains; the ${plan.runs.filter((r) => r.state !== "new" && r.state !== "partial").length} finished runs come back)`,
    );
    const out: StudyRun[] = [];
    for (let i = 0; i < entries.length; i++) {
      const s = plan.runs[i].state;
      if (s !== "new" && s !== "partial")
        out.push(await runExperiment(entries[i].spec, { ...opts, scale, rerunStale: false }, entries[i].group));
    }
    return out;
  }
  const longer = opts.announceAfterMs ?? 3 * 60 * 1000;
  if (longer === Infinity) {
    // the caller announced the plan itself
  } else if (plan.trainMs === null ? plan.runs.some((r) => r.train) : plan.trainMs > longer) {
    log(
      `${planSummary(plan)}. Starting now (runGrid(name, { cachedOnly: true }) shows what is there without training).`,
    );
  } else if (plan.runs.some((r) => !r.train && (r.state === "stale" || r.state === "unknown"))) log(planSummary(plan));
  const out: StudyRun[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    opts.onProgress?.(`grid ${name}`, i, entries.length);
    out.push(await runExperiment(e.spec, { ...opts, scale }, e.group));
  }
  opts.onProgress?.(`grid ${name}`, entries.length, entries.length);
  return out;
}

/** The state of each run of a grid under an executor's submissions (for `--status`); nothing is started. */
export function gridStatus(name: string, opts: GridOptions = {}): RunStatus[] {
  const scale = opts.scale ?? labScale();
  return gridState(
    gridRuns(name, opts, scale),
    { runsRoot: opts.runsRoot ?? runsDir() },
    resolveExecutor(opts.executor ?? "slurm"),
  );
}

/**
 * The finished runs of a scale that belong to the grids as they are defined now (every grid by default, opt-in
 * cells included), with their grid groups, read from the store without training. Runs of other scales, and stale runs of an older
 * definition of the same name (another config, so another directory), are left out, so a table never mixes them.
 */
export function scaleRuns(
  scale: LabScale = labScale(),
  runsRoot = runsDir(),
  grids: string[] = Object.keys(GRIDS),
): StudyRun[] {
  const store = new RunStore(runsRoot);
  const seen = new Set<string>();
  const out: StudyRun[] = [];
  for (const g of grids) {
    for (const e of expandGrid(g, scale, scale.seeds, true)) {
      const config = resolveExperiment(e.spec, scale);
      const dir = store.runDir(config);
      // one row set per run and name: two grids sharing a run under one name show it once, under two names twice
      const key = `${dir}\u0000${config.name}`;
      if (seen.has(key) || !fs.existsSync(path.join(dir, "done"))) continue;
      seen.add(key);
      const record = store.load(dir, config.name);
      const params = (record.result as { params?: { total?: number } } | null)?.params?.total;
      const group = e.group.size !== undefined && params !== undefined ? { ...e.group, params } : e.group;
      out.push({
        config,
        record,
        group,
        rows: record.rows.map((r) => ({ ...r, group })),
        metrics: record.metrics as unknown as StepMetrics[],
      });
    }
  }
  return out;
}

/** The result rows of `scaleRuns` (one per run, benchmark and direction). */
export function scaleRows(
  scale: LabScale = labScale(),
  runsRoot = runsDir(),
  grids: string[] = Object.keys(GRIDS),
): ResultRow[] {
  return scaleRuns(scale, runsRoot, grids).flatMap((r) => r.rows);
}
