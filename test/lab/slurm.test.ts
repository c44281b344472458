/**
 * The slurm executor on a real Slurm: a one-machine cluster (`npm run slurm:local -- start`), started by this
 * test when none answers and it runs as root (npm install brings slurm-wlm and munge: scripts/system-deps.mjs).
 * Without Slurm installed this test fails with the install command; set LST_SKIP_SLURM=1 to skip it knowingly.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale, resolveExperiment } from "../../lib/experiment/experiment";
import { selectGrid } from "../../lib/experiment/grids";
import { runGrid, gridStatus } from "../../lib/experiment/grid-study";
import type { StudyRun } from "../../lib/experiment/study";
import { RunStore } from "../../lib/experiment/runs";
import { checkSlurm, squeue } from "../../lib/experiment/slurm";
import { gridNumbers, storeDirs } from "./grid-compare";

const skip = process.env.LST_SKIP_SLURM === "1" ? "LST_SKIP_SLURM=1" : false;
const scale = labScale("smoke");
const grid = { scale, seeds: [1] };
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-slurm-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
let local: StudyRun[] = [];

before(async () => {
  if (skip) return;
  if (spawnSync("sbatch", ["--version"]).error) {
    throw new Error(
      "Slurm is not installed: `apt-get install -y slurm-wlm munge` then `npm run slurm:local -- start` (or set LST_SKIP_SLURM=1 to skip the Slurm tests)",
    );
  }
  // a one-machine cluster is started here when none answers and we may (root: what CI and a bare machine's
  // `npm install && npm test` as root have); otherwise the message says how
  if (spawnSync("sinfo", ["-h"]).status !== 0 && process.getuid?.() === 0) {
    spawnSync("bash", [path.join(__dirname, "..", "..", "scripts", "slurm-local.sh"), "start"], { stdio: "inherit" });
  }
  if (spawnSync("sinfo", ["-h"]).status !== 0)
    throw new Error("Slurm is installed but not answering: start it with `npm run slurm:local -- start` (as root)");
  await initBackend({});
  local = await runGrid("default", { ...grid, runsRoot: path.join(tmp(), "runs") });
});

test(
  "a smoke grid as one Slurm job array: every run lands once, with the local executor's numbers",
  { skip },
  async () => {
    const root = path.join(tmp(), "runs");
    const lines: string[] = [];
    const runs = await runGrid("default", {
      ...grid,
      runsRoot: root,
      executor: { kind: "slurm", throttle: 2, pollMs: 500, log: (l) => lines.push(l) },
    });
    assert.deepEqual(gridNumbers(runs), gridNumbers(local));
    assert.deepEqual(storeDirs(root), local.map((r) => r.record.id).sort());
    assert.match(
      lines.join("\n"),
      /submitted 3 runs as Slurm job (\d+) \(array 0-2%2\); logs in \S+; cancel with: scancel \1/,
    );
    assert.ok(lines.some((l) => /\[slurm\] 3 done, 0 running, 0 pending, 0 failed of 3/.test(l)));
    const again: string[] = [];
    await runGrid("default", { ...grid, runsRoot: root, executor: { kind: "slurm", log: (l) => again.push(l) } });
    assert.match(again[0], /3 done, .* of 3; submitting 0/);
  },
);

test("wait: false, an interrupted wait, a failing task with its log, --resubmit-failed", { skip }, async () => {
  const root = path.join(tmp(), "runs");
  const cfg = resolveExperiment(selectGrid("default", scale, [1], { model: "lst-static" })[0].spec, scale);
  const bad = new RunStore(root).runDir(cfg);
  fs.mkdirSync(bad, { recursive: true });
  fs.writeFileSync(path.join(bad, "run.json"), "{ not json");
  const lines: string[] = [];
  const exec = { kind: "slurm" as const, pollMs: 500, log: (l: string) => lines.push(l) };

  const submitted = await runGrid("default", { ...grid, runsRoot: root, executor: { ...exec, wait: false } });
  assert.equal(submitted.length, 0, "nothing finished yet");
  const jobId = /Slurm job (\d+)/.exec(lines.join("\n"))?.[1] as string;
  assert.ok(
    squeue().some((t) => t.jobId === jobId),
    "the array is queued",
  );

  // interrupting a wait leaves the tasks running and says how to cancel them
  const waiting = runGrid("default", { ...grid, runsRoot: root, executor: exec });
  setTimeout(() => process.kill(process.pid, "SIGINT"), 300);
  await assert.rejects(
    waiting,
    new RegExp(`interrupted while waiting: the Slurm tasks keep running .*cancel them with: scancel ${jobId}`),
  );

  // the next call submits nothing, waits, and reports the failed task with its log and error
  await assert.rejects(runGrid("default", { ...grid, runsRoot: root, executor: exec }), (e: Error) => {
    assert.match(
      e.message,
      new RegExp(
        `1 of 3 runs did not finish:\\n  lst-static seed 1: slurm ${jobId}_1 failed \\(task ended without finishing its run\\); log \\S+task-1\\.log`,
      ),
    );
    assert.match(e.message, /task failed: run config \S+ is corrupt \((?:truncated|not valid JSON|empty)\b/);
    assert.match(e.message, /--resubmit-failed/);
    return true;
  });
  assert.equal(lines.filter((l) => /submitting [1-9]/.test(l)).length, 1, "only the first call submitted");
  const st = gridStatus("default", { ...grid, runsRoot: root });
  assert.deepEqual(
    st.map((s) => `${s.name}:${s.state}`),
    ["baseline:done", "lst-static:failed", "lst-curriculum:done"],
  );

  fs.rmSync(bad, { recursive: true });
  const runs = await runGrid("default", { ...grid, runsRoot: root, executor: { ...exec, resubmitFailed: true } });
  assert.match(lines.join("\n"), /submitted 1 runs as Slurm job \d+ \(array 0-0\)/);
  assert.deepEqual(gridNumbers(runs), gridNumbers(local));
});

test("an unknown partition is refused before submitting, naming the cluster's partitions", { skip }, async () => {
  await assert.rejects(
    runGrid("default", {
      ...grid,
      runsRoot: path.join(tmp(), "runs"),
      executor: { kind: "slurm", partition: "gpu-nope", log: () => undefined },
    }),
    /unknown Slurm partition 'gpu-nope': this cluster has debug\. Fix the partition option/,
  );
});

test("Slurm not answering is an error that says how to start it", { skip }, () => {
  // a copy of this cluster's config whose controller port nobody listens on
  const conf = path.join(tmp(), "slurm.conf");
  const real = fs.readFileSync(process.env.SLURM_CONF ?? "/etc/slurm/slurm.conf", "utf8");
  fs.writeFileSync(
    conf,
    real.replace(/^ClusterName=.*$/m, (l) => `${l}\nSlurmctldPort=6999`),
  );
  const saved = process.env.SLURM_CONF;
  process.env.SLURM_CONF = conf;
  try {
    assert.throws(
      () => checkSlurm({}),
      /Slurm is not answering \(sinfo: .*Unable to contact slurm controller.*\): start it \(on one machine: `npm run slurm:local -- start`\)/,
    );
  } finally {
    if (saved === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = saved;
  }
});
