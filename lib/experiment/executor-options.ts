/**
 * The executor's options (executor.ts) and their check: `resolveExecutor` rejects an unknown key or a bad
 * value with an error naming the fix, before anything is submitted.
 */
import { shellExport, type SlurmResources } from "./slurm";

export interface ExecutorOptions extends SlurmResources {
  kind: "local" | "processes" | "slurm";
  /** processes: worker processes at once (default 2) */
  jobs?: number;
  /** environment of each task, on top of this process's (LST_BACKEND and LST_DATA_DIR are passed on when set) */
  env?: Record<string, string>;
  /** wait for every task to end and return the results (default true); false (slurm) returns after submitting */
  wait?: boolean;
  /** submit only the runs whose latest task failed */
  resubmitFailed?: boolean;
  /** how often the state is read while waiting (ms; default 5 s for slurm, 1 s for processes) */
  pollMs?: number;
  /** where submission folders go (default: `jobs` beside the run store) */
  jobsRoot?: string;
  /** the node binary tasks run (default: this one; on a cluster, a path valid on the nodes) */
  node?: string;
  /** where progress lines go (default console.log) */
  log?: (line: string) => void;
}

const KEYS = [
  "kind",
  "jobs",
  "env",
  "wait",
  "resubmitFailed",
  "pollMs",
  "jobsRoot",
  "node",
  "log",
  "partition",
  "time",
  "cpus",
  "mem",
  "gres",
  "throttle",
  "sbatch",
];

/** Check an executor option object (unknown keys and bad values are errors naming the fix). */
export function resolveExecutor(o: ExecutorOptions | ExecutorOptions["kind"] | undefined): ExecutorOptions {
  const x: ExecutorOptions = typeof o === "string" ? { kind: o } : (o ?? { kind: "local" });
  for (const k of Object.keys(x))
    if (!KEYS.includes(k)) throw new Error(`unknown executor option '${k}': use ${KEYS.join(", ")}`);
  if (!["local", "processes", "slurm"].includes(x.kind))
    throw new Error(`executor kind must be 'local', 'processes' or 'slurm', got '${String(x.kind)}'`);
  if (x.jobs !== undefined && !(Number.isInteger(x.jobs) && x.jobs > 0))
    throw new Error(`jobs must be a positive integer, got ${x.jobs}`);
  checkTaskEnv(x.env);
  if (x.wait === false && x.kind !== "slurm")
    throw new Error(`wait: false needs the slurm executor (the ${x.kind} executor's work ends with this process)`);
  return x;
}

/** Check the tasks' environment: names a shell can export, string values (quoted in task.sh by shq). */
function checkTaskEnv(env: unknown): void {
  if (env === undefined) return;
  if (typeof env !== "object" || env === null || Array.isArray(env))
    throw new Error(`env must be an object of NAME: value strings, got ${JSON.stringify(env)}`);
  for (const [k, v] of Object.entries(env)) {
    shellExport(k, ""); // throws on a name that is not a variable name
    if (typeof v !== "string") throw new Error(`env ${k} must be a string, got ${JSON.stringify(v)}`);
  }
}
