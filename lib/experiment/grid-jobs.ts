/**
 * Grid submissions and their state. When a grid runs on the `processes` or `slurm` executor, each invocation
 * writes a submission folder next to the run store (`data/jobs/` beside `data/runs/`; both must be on a
 * filesystem every node mounts):
 *
 *   data/jobs/<grid>-<scale>-<time>-<rand>/
 *     submission.json   { format, grid, scale, executor, jobId, runsRoot, dataRoot, host, pid, tasks: [...] }
 *     task.sh           the batch script (slurm)
 *     task-<i>.log      task i's output (stdout and stderr)
 *     task-<i>.exit     { code, signal } (processes: written by the parent when the task's process ends)
 *
 * Task i runs `tasks[i]`: a fully resolved experiment config, its group and its run directory, so a task
 * computes exactly the run the submitter asked for. A run's state comes from the run store (`done`), the
 * Slurm queue and these files; see `runStates`.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { randomBytes } from "crypto";
import { readJsonFile, writeJsonAtomic } from "../files";
import type { ExperimentConfig } from "./experiment";
import { lockHolder, pidAlive } from "./lock";
import type { QueuedTask } from "./slurm";

export const SUBMISSION_FORMAT = 1;

export interface TaskSpec {
  index: number;
  name: string;
  seed: number;
  /** the run's directory in the store (absolute) */
  dir: string;
  config: ExperimentConfig;
  group: Record<string, string | number>;
}

export interface Submission {
  format: number;
  grid: string;
  scale: string;
  executor: "processes" | "slurm";
  /** Slurm's job id (slurm), set once sbatch answered */
  jobId?: string;
  createdAt: string;
  /** the submission folder (absolute) */
  folder: string;
  runsRoot: string;
  dataRoot?: string;
  /** the submitting process */
  host: string;
  pid: number;
  tasks: TaskSpec[];
}

export type RunState = "done" | "pending" | "running" | "failed" | "missing";

export interface RunStatus {
  name: string;
  seed: number;
  dir: string;
  state: RunState;
  /** "slurm 12_3" or "process 3 of <folder>" for a submitted run */
  task?: string;
  log?: string;
  /** why: squeue's reason, the lock's holder, or the task's exit */
  detail?: string;
  submission?: Submission;
}

export function taskLog(sub: Submission, i: number): string {
  return path.join(sub.folder, `task-${i}.log`);
}

/** A new submission folder under `jobsRoot`, with submission.json written. */
export function createSubmission(
  jobsRoot: string,
  s: Omit<Submission, "format" | "createdAt" | "folder" | "host" | "pid">,
): Submission {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  const folder = path.resolve(jobsRoot, `${s.grid}-${s.scale}-${stamp}-${randomBytes(2).toString("hex")}`);
  const sub: Submission = {
    format: SUBMISSION_FORMAT,
    createdAt: new Date().toISOString(),
    folder,
    host: os.hostname(),
    pid: process.pid,
    ...s,
  };
  fs.mkdirSync(folder, { recursive: true });
  saveSubmission(sub);
  return sub;
}

export function saveSubmission(sub: Submission): void {
  writeJsonAtomic(path.join(sub.folder, "submission.json"), sub);
}

/** Read a submission file, with an error naming the path and the fix. */
export function readSubmission(file: string): Submission {
  let sub: Submission;
  try {
    sub = JSON.parse(fs.readFileSync(file, "utf8")) as Submission;
  } catch (e) {
    throw new Error(
      `cannot read the grid submission ${file} on host ${os.hostname()} (${(e as Error).message}): the jobs folder beside the run store must be on a filesystem every node mounts (set LST_DATA_DIR to such a place)`,
    );
  }
  if (sub.format !== SUBMISSION_FORMAT)
    throw new Error(
      `grid submission ${file} has format ${String(sub.format)}, this lab reads ${SUBMISSION_FORMAT}: resubmit the grid`,
    );
  return sub;
}

/** Every submission under `jobsRoot` for this run store, oldest first (unreadable folders are skipped). */
export function listSubmissions(jobsRoot: string, runsRoot: string): Submission[] {
  if (!fs.existsSync(jobsRoot)) return [];
  const out: Submission[] = [];
  for (const d of fs.readdirSync(jobsRoot)) {
    const f = path.join(jobsRoot, d, "submission.json");
    if (!fs.existsSync(f)) continue;
    try {
      const s = readSubmission(f);
      if (path.resolve(s.runsRoot) === path.resolve(runsRoot)) out.push(s);
    } catch {
      // a folder of another format or half-written: not ours to judge
    }
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The last `n` non-empty lines of a log (a task's error is at its end). */
export function logTail(file: string, n = 12): string {
  try {
    return fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-n)
      .join("\n");
  } catch {
    return `(no log at ${file}: the task never started, or its output folder is not shared with the node it ran on)`;
  }
}

interface TaskState {
  state: RunState;
  detail: string;
}

/** The state of task i of a submission whose run is not done. */
function taskState(sub: Submission, i: number, queue: Map<string, QueuedTask>): TaskState {
  if (sub.executor === "slurm") {
    if (sub.jobId === undefined) return { state: "missing", detail: "sbatch never answered" };
    const q = queue.get(`${sub.jobId}_${i}`);
    if (q)
      return q.state === "PENDING"
        ? { state: "pending", detail: q.reason }
        : { state: "running", detail: `${q.state} on ${q.reason}` };
    return { state: "failed", detail: `task ended without finishing its run` };
  }
  const exitFile = path.join(sub.folder, `task-${i}.exit`);
  if (fs.existsSync(exitFile)) {
    const x = readJsonFile(
      exitFile,
      "task exit record",
      "delete it and run the grid again: its run is then submitted again",
    ) as { code: number | null; signal: string | null };
    return {
      state: "failed",
      detail: x.signal
        ? `killed by ${x.signal}`
        : x.code === 0
          ? "exited without finishing its run"
          : `exit code ${x.code}`,
    };
  }
  const parentAlive = sub.host === os.hostname() && pidAlive(sub.pid);
  if (!parentAlive) return { state: "missing", detail: "its processes executor was stopped" };
  return fs.existsSync(path.join(sub.tasks[i].dir, "lock"))
    ? { state: "running", detail: "worker process" }
    : { state: "pending", detail: "waiting for a worker process" };
}

/**
 * The state of each run: done (the store has it), running or pending (a task of a submission is on it, or
 * some process holds its lock), failed (its latest task ended without finishing it), missing (never submitted).
 */
export function runStates(
  runs: { name: string; seed: number; dir: string }[],
  subs: Submission[],
  queue: QueuedTask[],
): RunStatus[] {
  const q = new Map(queue.map((t) => [`${t.jobId}_${t.task}`, t]));
  return runs.map((r) => {
    const base = { name: r.name, seed: r.seed, dir: r.dir };
    if (fs.existsSync(path.join(r.dir, "done"))) return { ...base, state: "done" as const };
    let latest: RunStatus | null = null;
    for (const sub of subs) {
      const t = sub.tasks.find((x) => x.dir === r.dir);
      if (!t) continue;
      const st = taskState(sub, t.index, q);
      const task =
        sub.executor === "slurm"
          ? `slurm ${sub.jobId ?? "?"}_${t.index}`
          : `process ${t.index} of ${path.basename(sub.folder)}`;
      const s: RunStatus = { ...base, ...st, task, log: taskLog(sub, t.index), submission: sub };
      if (st.state === "running" || st.state === "pending") return s; // in flight: that is its state
      latest = s;
    }
    // not in flight in any submission: a live lock means some other process (a notebook, npm start) computes it
    const holder = lockHolder(path.join(r.dir, "lock"));
    if (holder && !holder.stale)
      return { ...base, state: "running" as const, detail: holder.message.replace(/^waiting for \S+: /, "") };
    if (latest && latest.state === "failed") return latest;
    return { ...base, state: "missing" as const };
  });
}

/** "3 done, 1 running, 2 pending, 0 failed of 6" */
export function summarizeStates(states: RunStatus[]): string {
  const n = (s: RunState) => states.filter((x) => x.state === s).length;
  const missing = n("missing") ? `, ${n("missing")} not submitted` : "";
  return `${n("done")} done, ${n("running")} running, ${n("pending")} pending, ${n("failed")} failed${missing} of ${states.length}`;
}

/** One line per run, for --status. */
export function formatStates(states: RunStatus[]): string[] {
  return states.map((s) => {
    const head = `  ${`${s.name} seed ${s.seed}`.padEnd(34)} ${s.state.padEnd(8)}`;
    const where = s.task ? ` ${s.task}` : "";
    const why = s.detail && s.state !== "done" ? ` (${s.detail})` : "";
    const log = s.log && s.state !== "done" ? `\n      log ${s.log}` : "";
    return `${head}${where}${why}${log}`;
  });
}
