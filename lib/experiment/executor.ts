/**
 * Where a grid's runs execute. `runGrid(name, { executor })` and `npm start -- --executor=...` take one of:
 *
 *   local       (default) every run in this process, one after another
 *   processes   `jobs` worker processes on this machine; each runs one missing run through the lab's CLI
 *               (scripts/task.ts) into the shared run store
 *   slurm       one `sbatch --array=0-N%K` per grid invocation; task i runs the i-th missing run through the
 *               same CLI, on whichever node Slurm picks (the run store must be on a shared filesystem)
 *
 * Runs already finished, or in flight in an earlier submission (pending or running in Slurm, or locked by a
 * live process), are not submitted again. While waiting, a line reports pending / running / done / failed
 * per run whenever it changes (from squeue and the run store); a failed task prints its log path and the last
 * lines of its log; when every task has ended the grid's results come back from the store. `wait: false`
 * (slurm) returns after submitting; a later call (or --status) picks the state and the results up from the
 * store. Interrupting a wait (Ctrl-C, a notebook's interrupt) leaves Slurm's tasks running and prints how to
 * cancel them. `resubmitFailed` submits only the runs whose latest task failed; they resume from their last
 * checkpoint.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { spawn, type ChildProcess } from "child_process";
import { writeFileAtomic, writeJsonAtomic } from "../files";
import { cacheDir } from "../paths";
import type { ExperimentConfig } from "./experiment";
import { RunStore } from "./runs";
import { checkSlurm, sbatch, sbatchArgs, shellExport, shq, squeue, type QueuedTask } from "./slurm";
import { resolveExecutor, type ExecutorOptions } from "./executor-options";
import {
  createSubmission,
  formatStates,
  listSubmissions,
  logTail,
  runStates,
  saveSubmission,
  summarizeStates,
  taskLog,
  type RunStatus,
  type Submission,
  type TaskSpec,
} from "./grid-jobs";

export { resolveExecutor, type ExecutorOptions } from "./executor-options";

/** The lab's root: where scripts/task.ts lives and tasks start. */
export const LAB_ROOT = path.resolve(__dirname, "..", "..");

/** One run of the grid as the executor sees it. */
export interface ExecRun {
  config: ExperimentConfig;
  group: Record<string, string | number>;
}

export interface ExecContext {
  grid: string;
  scale: string;
  runsRoot: string;
  dataRoot?: string;
  /** build a run's dataset before submitting (once per data config), so tasks only read it */
  prepare: (cfg: ExperimentConfig) => Promise<unknown>;
  onProgress?: (stage: string, done: number, total: number) => void;
}

function jobsRootOf(x: ExecutorOptions, runsRoot: string): string {
  return path.resolve(x.jobsRoot ?? path.join(path.dirname(path.resolve(runsRoot)), "jobs"));
}

/** Fail early, on this machine, if the run store or the jobs folder cannot be written. */
function checkWritable(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.probe-${os.hostname()}-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(
      `the ${what} ${dir} is not writable (${(e as Error).message}): every task writes there; choose a writable path on a filesystem every node mounts (LST_DATA_DIR)`,
    );
  }
}

function runList(runs: ExecRun[], runsRoot: string): { name: string; seed: number; dir: string; run: ExecRun }[] {
  const store = new RunStore(path.resolve(runsRoot));
  return runs.map((run) => ({ name: run.config.name, seed: run.config.seed, dir: store.runDir(run.config), run }));
}

/** The state of each run of a grid (no waiting, nothing submitted). */
export function gridState(runs: ExecRun[], ctx: Pick<ExecContext, "runsRoot">, opts: ExecutorOptions): RunStatus[] {
  const list = runList(runs, ctx.runsRoot);
  const subs = listSubmissions(jobsRootOf(opts, ctx.runsRoot), ctx.runsRoot);
  const queue: QueuedTask[] = subs.some((s) => s.executor === "slurm") ? squeue() : [];
  return runStates(list, subs, queue);
}

/** Print a grid's state: a summary line, one line per run, and the scancel command of what is in flight. */
export function printGridState(states: RunStatus[], log: (line: string) => void = (l) => console.log(l)): void {
  log(summarizeStates(states));
  for (const l of formatStates(states)) log(l);
  const jobs = [
    ...new Set(
      states
        .filter((s) => (s.state === "pending" || s.state === "running") && s.submission?.jobId)
        .map((s) => s.submission?.jobId),
    ),
  ];
  if (jobs.length) log(`cancel with: scancel ${jobs.join(" ")}`);
}

/** The environment each task gets on top of the submitter's. */
function taskEnv(x: ExecutorOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ["LST_BACKEND", "LST_DATA_DIR"]) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return { ...env, ...(x.env ?? {}) };
}

function batchScript(sub: Submission, x: ExecutorOptions): string {
  const exports = Object.entries(taskEnv(x)).map(([k, v]) => shellExport(k, v));
  return [
    "#!/bin/bash",
    `# grid '${sub.grid}' (${sub.tasks.length} runs): array task i runs tasks[i] of submission.json through the lab's CLI`,
    ...exports,
    `cd ${shq(LAB_ROOT)}`,
    `exec ${shq(x.node ?? process.execPath)} --import tsx scripts/task.ts ${shq(path.join(sub.folder, "submission.json"))} "$SLURM_ARRAY_TASK_ID"`,
    "",
  ].join("\n");
}

/** Start the worker processes of a `processes` submission; resolves when all have exited. */
function runProcesses(sub: Submission, x: ExecutorOptions, stop: { children: Set<ChildProcess> }): Promise<void> {
  const jobs = x.jobs ?? 2;
  let next = 0;
  let running = 0;
  return new Promise((resolve) => {
    const launch = (): void => {
      while (running < jobs && next < sub.tasks.length) {
        const i = next++;
        const out = fs.openSync(taskLog(sub, i), "w");
        const child = spawn(
          x.node ?? process.execPath,
          ["--import", "tsx", "scripts/task.ts", path.join(sub.folder, "submission.json"), String(i)],
          {
            cwd: LAB_ROOT,
            env: { ...process.env, ...taskEnv(x) },
            stdio: ["ignore", out, out],
          },
        );
        fs.closeSync(out);
        running++;
        stop.children.add(child);
        child.on("exit", (code, signal) => {
          stop.children.delete(child);
          running--;
          writeJsonAtomic(path.join(sub.folder, `task-${i}.exit`), { code, signal });
          if (next >= sub.tasks.length && running === 0) resolve();
          else launch();
        });
      }
    };
    if (sub.tasks.length === 0) resolve();
    else launch();
  });
}

/**
 * Run the missing runs of a grid on the `processes` or `slurm` executor, wait for them (unless `wait: false`)
 * and throw, with each failed task's log, if any run did not finish. The caller then loads the results from the
 * store.
 */
export async function executeGrid(runs: ExecRun[], ctx: ExecContext, opts: ExecutorOptions): Promise<RunStatus[]> {
  const x = resolveExecutor(opts);
  if (x.kind === "local")
    throw new Error("executeGrid runs the 'processes' and 'slurm' executors; runGrid runs 'local' itself");
  const log = x.log ?? ((l: string) => console.log(l));
  const runsRoot = path.resolve(ctx.runsRoot);
  const jobsRoot = jobsRootOf(x, runsRoot);
  checkWritable(runsRoot, "run store");
  checkWritable(jobsRoot, "jobs folder");
  if (x.kind === "slurm") checkSlurm(x);

  const list = runList(runs, runsRoot);
  const before = gridState(runs, { runsRoot }, x);
  const submit = list.filter((_, i) =>
    x.resubmitFailed ? before[i].state === "failed" : before[i].state === "failed" || before[i].state === "missing",
  );
  const inFlight = before.filter((s) => s.state === "pending" || s.state === "running").length;
  log(
    `grid '${ctx.grid}' on ${x.kind}: ${summarizeStates(before)}; submitting ${submit.length}${inFlight ? `, waiting for ${inFlight} in flight` : ""}`,
  );

  let sub: Submission | null = null;
  const stop = { children: new Set<ChildProcess>() };
  let pool: Promise<void> = Promise.resolve();
  if (submit.length) {
    // build every dataset the runs need here, once, so the tasks only read them
    const seen = new Set<string>();
    for (const r of submit) {
      const key = JSON.stringify(r.run.config.data);
      if (!seen.has(key)) await ctx.prepare(r.run.config);
      seen.add(key);
    }
    const tasks: TaskSpec[] = submit.map((r, index) => ({
      index,
      name: r.name,
      seed: r.seed,
      dir: r.dir,
      config: r.run.config,
      group: r.run.group,
    }));
    // both roots absolute: tasks start in the lab's root, which need not be this process's working directory
    const dataRoot = path.resolve(ctx.dataRoot ?? cacheDir());
    sub = createSubmission(jobsRoot, { grid: ctx.grid, scale: ctx.scale, executor: x.kind, runsRoot, dataRoot, tasks });
    if (x.kind === "slurm") {
      const script = path.join(sub.folder, "task.sh");
      writeFileAtomic(script, batchScript(sub, x));
      fs.chmodSync(script, 0o755);
      sub.jobId = sbatch(
        sbatchArgs(x, tasks.length, {
          name: `lst-${ctx.grid}`,
          logPattern: path.join(sub.folder, "task-%a.log"),
          chdir: LAB_ROOT,
          script,
        }),
      );
      saveSubmission(sub);
      log(
        `submitted ${tasks.length} runs as Slurm job ${sub.jobId} (array 0-${tasks.length - 1}${x.throttle ? `%${x.throttle}` : ""}); logs in ${sub.folder}; cancel with: scancel ${sub.jobId}`,
      );
    } else {
      log(`running ${tasks.length} runs in ${x.jobs ?? 2} worker processes; logs in ${sub.folder}`);
      pool = runProcesses(sub, x, stop);
    }
  }
  if (x.wait === false) {
    log(`not waiting: \`--status\` (or runGrid again) shows the state and picks the results up from the store`);
    return gridState(runs, { runsRoot }, x);
  }
  return waitForGrid(runs, runsRoot, x, log, ctx, stop, pool);
}

async function waitForGrid(
  runs: ExecRun[],
  runsRoot: string,
  x: ExecutorOptions,
  log: (line: string) => void,
  ctx: ExecContext,
  stop: { children: Set<ChildProcess> },
  pool: Promise<void>,
): Promise<RunStatus[]> {
  const pollMs = x.pollMs ?? (x.kind === "slurm" ? 5000 : 1000);
  const t0 = Date.now();
  let interrupted = false;
  let wake: () => void = () => undefined;
  const onInt = (): void => {
    interrupted = true;
    wake();
  };
  process.on("SIGINT", onInt);
  let poolDone = false;
  void pool.then(() => {
    poolDone = true;
    wake();
  });
  const reported = new Set<string>();
  let lastLine = "";
  let lastAt = 0;
  try {
    for (;;) {
      const states = gridState(runs, { runsRoot }, x);
      const line = summarizeStates(states);
      const now = Date.now();
      if (line !== lastLine || now - lastAt > 60_000) {
        log(`  [${x.kind}] ${line} (${((now - t0) / 1000).toFixed(0)} s)`);
        lastLine = line;
        lastAt = now;
      }
      ctx.onProgress?.(`grid ${ctx.grid}`, states.filter((s) => s.state === "done").length, states.length);
      for (const s of states.filter((s) => s.state === "failed" && !reported.has(s.dir))) {
        reported.add(s.dir);
        log(
          `  failed: ${s.name} seed ${s.seed} (${s.task}, ${s.detail}); log ${s.log}:\n${indent(logTail(s.log as string))}`,
        );
      }
      const active = states.some((s) => s.state === "pending" || s.state === "running");
      if (!active && (x.kind === "slurm" || poolDone)) return finish(states, x);
      if (interrupted) throw new Error(interruptMessage(states, x, stop));
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, pollMs);
      });
      if (interrupted) throw new Error(interruptMessage(gridState(runs, { runsRoot }, x), x, stop));
    }
  } finally {
    process.removeListener("SIGINT", onInt);
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
}

function interruptMessage(states: RunStatus[], x: ExecutorOptions, stop: { children: Set<ChildProcess> }): string {
  if (x.kind === "processes") {
    for (const c of stop.children) c.kill("SIGTERM");
    return `interrupted: stopped ${stop.children.size} worker processes; their runs resume from their last checkpoints when the grid runs again`;
  }
  const jobs = [
    ...new Set(
      states
        .filter((s) => (s.state === "pending" || s.state === "running") && s.submission?.jobId)
        .map((s) => s.submission?.jobId),
    ),
  ];
  return `interrupted while waiting: the Slurm tasks keep running (${summarizeStates(states)}). See them with --status (or runGrid again); ${jobs.length ? `cancel them with: scancel ${jobs.join(" ")}` : "nothing is left in the queue"}`;
}

function finish(states: RunStatus[], x: ExecutorOptions): RunStatus[] {
  const bad = states.filter((s) => s.state !== "done");
  if (bad.length === 0) return states;
  const lines = bad.map((s) =>
    s.state === "failed"
      ? `  ${s.name} seed ${s.seed}: ${s.task} failed (${s.detail}); log ${s.log}\n${indent(logTail(s.log as string, 6))}`
      : `  ${s.name} seed ${s.seed}: ${s.state}`,
  );
  const again = x.kind === "slurm" ? "`--resubmit-failed` (runGrid with executor.resubmitFailed)" : "the same command";
  throw new Error(
    `${bad.length} of ${states.length} runs did not finish:\n${lines.join("\n")}\nFix the cause, then rerun with ${again}; each run resumes from its last checkpoint.`,
  );
}
