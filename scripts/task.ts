/**
 * One task of a grid submission (lib/experiment/executor.ts): run the i-th run of a submission into the shared run
 * store. The `processes` executor starts it as a worker process, the `slurm` executor as array task i.
 *
 *   npx tsx scripts/task.ts <submission folder>/submission.json <i>      (i defaults to $SLURM_ARRAY_TASK_ID)
 *
 * It prints where it runs and what, the run's progress, and at the end
 * `task-seconds total=… run=… maxrss=…MiB` (the bench reads it; maxrss is the task's peak memory). An error ends it with exit code 1 and the error as the last lines of its log.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend, describeBackend, stageProgress, runExperiment } from "../lib";
import { readSubmission } from "../lib/internal";

async function main(): Promise<void> {
  const t0 = Date.now();
  const [file, arg] = process.argv.slice(2);
  if (!file) throw new Error("usage: npx tsx scripts/task.ts <submission.json> <task index>");
  const sub = readSubmission(path.resolve(file));
  const index = Number(arg ?? process.env.SLURM_ARRAY_TASK_ID);
  const task = sub.tasks[index];
  if (!Number.isInteger(index) || !task)
    throw new Error(
      `task index '${arg ?? process.env.SLURM_ARRAY_TASK_ID}' is not one of 0..${sub.tasks.length - 1} of ${file}`,
    );
  console.log(
    `task ${index} of ${sub.tasks.length} (grid '${sub.grid}', ${sub.executor}): run ${task.name} seed ${task.seed} on host ${os.hostname()} pid ${process.pid}`,
  );
  try {
    fs.mkdirSync(sub.runsRoot, { recursive: true });
    const probe = path.join(sub.runsRoot, `.probe-${os.hostname()}-${process.pid}`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    throw new Error(
      `the run store ${sub.runsRoot} is not writable from host ${os.hostname()} (${(e as Error).message}): put it on a filesystem every node mounts read-write (LST_DATA_DIR) with permissions for this user`,
    );
  }
  console.log(describeBackend(await initBackend()));
  const t1 = Date.now();
  const run = await runExperiment(
    task.config,
    { runsRoot: sub.runsRoot, dataRoot: sub.dataRoot, onProgress: stageProgress() },
    task.group,
  );
  const t2 = Date.now();
  console.log(`done: ${run.record.dir}`);
  // maxRSS (KiB): the peak memory of this task, what Slurm's --mem must allow
  console.log(
    `task-seconds total=${((t2 - t0) / 1000).toFixed(2)} run=${((t2 - t1) / 1000).toFixed(2)} maxrss=${(process.resourceUsage().maxRSS / 1024).toFixed(0)}MiB`,
  );
}

main().catch((e: unknown) => {
  console.error(`task failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
