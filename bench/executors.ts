/**
 * Wall-clock of one smoke grid (the default grid at the smoke scale, seed 1: 3 runs) under each executor, each
 * into a fresh run store, side by side, with the scheduling overhead per task.
 *
 *   npx tsx bench/executors.ts            (or `npm run bench -- executors`)
 *
 * Overhead per task = (wall-clock x slots - the seconds the runs themselves took) / tasks: the slot-seconds
 * a task costs beyond its run (node + tsx start, backend and dataset load, queueing, the executor's polling).
 * A run's own seconds are timed around runExperiment (local) or inside the task (`task-seconds ... run=`).
 * Slots: 1 for local, `jobs` for processes, min(tasks, CPUs / cpus-per-task) for slurm on this one node.
 * The slurm row needs a running Slurm (`npm run slurm:local -- start`); it is skipped, saying so, without one.
 */
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import {
  initBackend,
  labScale,
  runExperiment,
  runGrid,
  datasetFor,
  selectGrid,
  resolveExperiment,
  type ExecutorOptions,
} from "../lib";

const scale = labScale("smoke");
const seeds = [1];

function taskRunSeconds(jobs: string): number {
  let sum = 0;
  for (const d of fs.readdirSync(jobs)) {
    for (const f of fs.readdirSync(path.join(jobs, d)).filter((x) => /^task-\d+\.log$/.test(x))) {
      const m = /task-seconds total=[\d.]+ run=([\d.]+)/.exec(fs.readFileSync(path.join(jobs, d, f), "utf8"));
      if (!m) throw new Error(`no task-seconds line in ${path.join(jobs, d, f)}`);
      sum += Number(m[1]);
    }
  }
  return sum;
}

async function main(): Promise<void> {
  await initBackend({});
  const entries = selectGrid("default", scale, seeds);
  await datasetFor(resolveExperiment(entries[0].spec, scale)); // built or loaded once, outside every timing
  const tasks = entries.length;
  const rows: { executor: string; wall: number; run: number; slots: number }[] = [];

  // local: the runs one after another in this process
  const root0 = fs.mkdtempSync(path.join(os.tmpdir(), "lst-bench-exec-"));
  let t = Date.now();
  let run = 0;
  for (const e of entries) {
    const r0 = Date.now();
    await runExperiment(e.spec, { scale, runsRoot: path.join(root0, "runs") }, e.group);
    run += (Date.now() - r0) / 1000;
  }
  rows.push({ executor: "local", wall: (Date.now() - t) / 1000, run, slots: 1 });

  const remote: [string, ExecutorOptions, number][] = [["processes --jobs=2", { kind: "processes", jobs: 2 }, 2]];
  const slurmUp = spawnSync("sinfo", ["-h"]).status === 0;
  if (slurmUp) remote.push(["slurm", { kind: "slurm", pollMs: 1000 }, Math.min(tasks, os.cpus().length)]);
  else console.log("slurm: skipped (Slurm is not running here: `npm run slurm:local -- start`)");
  for (const [name, executor, slots] of remote) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "lst-bench-exec-"));
    t = Date.now();
    await runGrid("default", {
      scale,
      seeds,
      runsRoot: path.join(root, "runs"),
      executor: { ...executor, log: () => undefined },
    });
    rows.push({ executor: name, wall: (Date.now() - t) / 1000, run: taskRunSeconds(path.join(root, "jobs")), slots });
    fs.rmSync(root, { recursive: true, force: true });
  }
  fs.rmSync(root0, { recursive: true, force: true });

  console.log(
    `\nsmoke grid: 'default' at scale smoke, seeds ${seeds.join(",")} (${tasks} runs), ${os.cpus().length} CPUs`,
  );
  console.log("| executor | wall s | runs' own s | slots | overhead s/task |\n|---|---:|---:|---:|---:|");
  for (const r of rows)
    console.log(
      `| ${r.executor} | ${r.wall.toFixed(1)} | ${r.run.toFixed(1)} | ${r.slots} | ${((r.wall * r.slots - r.run) / tasks).toFixed(1)} |`,
    );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
