/**
 * The Slurm commands the `slurm` executor needs, with errors that say what to do: `sbatch` for one job array
 * per grid invocation, `squeue` for the state of its tasks (no accounting database is assumed, so no `sacct`),
 * `sinfo` for the partitions. Nothing here knows about grids; executor.ts does.
 *
 *   sbatch --parsable --array=0-5%2 --job-name=lst-default --output=<folder>/task-%a.log --chdir=<lab>
 *          --cpus-per-task=1 [--partition=P] [--time=T] [--mem=M] [--gres=G] [extra flags] <folder>/task.sh
 */
import { spawnSync } from "child_process";
import os from "os";

/** Resources of each task of a job array. */
export interface SlurmResources {
  /** partition (default: the cluster's default partition) */
  partition?: string;
  /** time limit per task, Slurm syntax: "30" (minutes), "2:00:00", "1-00:00:00" */
  time?: string;
  /** CPUs per task (default 1) */
  cpus?: number;
  /** memory per task, Slurm syntax: "4G", "8000M" */
  mem?: string;
  /** generic resources per task, e.g. "gpu:1" (pair with LST_BACKEND in env) */
  gres?: string;
  /** at most this many tasks of the array run at once (`--array=0-N%K`) */
  throttle?: number;
  /** extra sbatch flags, passed as they are, e.g. ["--account=speech", "--qos=short"] */
  sbatch?: string[];
}

export interface QueuedTask {
  jobId: string;
  task: number;
  /** PENDING, RUNNING, COMPLETING, ... */
  state: string;
  /** squeue's reason (pending) or node list (running) */
  reason: string;
}

const INSTALL =
  "install it (Debian: `apt-get install -y slurm-wlm munge`, then `npm run slurm:local -- start` for a one-machine cluster) or use the 'processes' executor";

/** Run a Slurm command; its stdout, or an Error saying whether Slurm is missing or not answering. */
function slurmCmd(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`Slurm is not installed here (no '${cmd}' on PATH): ${INSTALL}`);
    throw new Error(
      `${cmd} did not answer (${r.error.message}): is slurmctld running? (\`sinfo\`; on one machine \`npm run slurm:local -- start\`)`,
    );
  }
  if (r.status !== 0) {
    const err = (r.stderr || r.stdout || "").trim();
    if (
      /Unable to contact slurm controller|Could not establish a configuration source|Connection refused|Socket timed out|Zero Bytes were transmitted/i.test(
        err,
      )
    ) {
      throw new Error(
        `Slurm is not answering (${cmd}: ${err.split("\n")[0]}): start it (on one machine: \`npm run slurm:local -- start\`) or check slurmctld's log`,
      );
    }
    throw Object.assign(new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${err}`), { stderr: err });
  }
  return r.stdout;
}

/** The cluster's partitions (the default one first is marked by sinfo with '*', removed here). */
export function partitions(): string[] {
  return [
    ...new Set(
      slurmCmd("sinfo", ["-h", "-o", "%P"])
        .split("\n")
        .map((s) => s.trim().replace(/\*$/, ""))
        .filter((s) => s !== ""),
    ),
  ];
}

/** Check Slurm answers and the partition exists (before anything is submitted). */
export function checkSlurm(res: SlurmResources): void {
  const known = partitions();
  if (known.length === 0) throw new Error("Slurm answers but has no partition: add a PartitionName line to slurm.conf");
  if (res.partition !== undefined && !known.includes(res.partition)) {
    throw new Error(
      `unknown Slurm partition '${res.partition}': this cluster has ${known.join(", ")}. Fix the partition option (--partition=).`,
    );
  }
  if (res.cpus !== undefined && !(Number.isInteger(res.cpus) && res.cpus > 0))
    throw new Error(`cpus must be a positive integer, got ${res.cpus}`);
  if (res.throttle !== undefined && !(Number.isInteger(res.throttle) && res.throttle > 0))
    throw new Error(`throttle must be a positive integer, got ${res.throttle}`);
}

/** sbatch arguments of a job array of `n` tasks. */
export function sbatchArgs(
  res: SlurmResources,
  n: number,
  o: { name: string; logPattern: string; chdir: string; script: string },
): string[] {
  const args = [
    "--parsable",
    `--array=0-${n - 1}${res.throttle ? `%${res.throttle}` : ""}`,
    `--job-name=${o.name}`,
    `--output=${o.logPattern}`,
    `--chdir=${o.chdir}`,
    `--cpus-per-task=${res.cpus ?? 1}`,
  ];
  if (res.partition) args.push(`--partition=${res.partition}`);
  if (res.time) args.push(`--time=${res.time}`);
  if (res.mem) args.push(`--mem=${res.mem}`);
  if (res.gres) args.push(`--gres=${res.gres}`);
  return [...args, ...(res.sbatch ?? []), o.script];
}

/** Submit a job array; its job id. */
export function sbatch(args: string[]): string {
  let out: string;
  try {
    out = slurmCmd("sbatch", args);
  } catch (e) {
    const err = (e as { stderr?: string }).stderr ?? "";
    if (/invalid partition/i.test(err))
      throw new Error(`sbatch refused the partition: ${err}. This cluster has: ${partitions().join(", ")}`);
    throw e;
  }
  const id = out.trim().split(";")[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed '${out.trim()}', not a job id`);
  return id;
}

/** This user's queued and running array tasks, one per task (`squeue -r`). */
export function squeue(): QueuedTask[] {
  const out = slurmCmd("squeue", ["-h", "-r", "-u", os.userInfo().username, "-o", "%i|%T|%R"]);
  const tasks: QueuedTask[] = [];
  for (const line of out.split("\n")) {
    const [id, state, reason] = line.trim().split("|");
    const m = /^(\d+)_(\d+)$/.exec(id ?? "");
    if (m) tasks.push({ jobId: m[1], task: Number(m[2]), state, reason: reason ?? "" });
  }
  return tasks;
}

/** Shell-quote one word for a batch script. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A shell variable name: letters, digits and `_`, not starting with a digit. */
export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `export NAME='value'` for a batch script: the value is quoted (shq), the name must be a variable name, since a
 * name is written as it is: `--env='X;touch marker;Y=1'` would otherwise run `touch`.
 */
export function shellExport(name: string, value: string): string {
  if (!SHELL_NAME.test(name))
    throw new Error(
      `env name ${JSON.stringify(name)} is not a variable name: names are letters, digits and _, not starting with a digit (e.g. LST_BACKEND=cpu)`,
    );
  return `export ${name}=${shq(value)}`;
}
