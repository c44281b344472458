import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale, resolveExperiment } from "../../lib/experiment/experiment";
import { selectGrid } from "../../lib/experiment/grids";
import { runGrid, gridStatus } from "../../lib/experiment/grid-study";
import type { StudyRun } from "../../lib/experiment/study";
import { resolveExecutor } from "../../lib/experiment/executor";
import { checkSlurm } from "../../lib/experiment/slurm";
import { RunStore } from "../../lib/experiment/runs";
import { gridNumbers, storeDirs } from "./grid-compare";

// the smoke grid: the default grid at the smoke scale, one seed (baseline, LST static, LST curriculum)
const scale = labScale("smoke");
const grid = { scale, seeds: [1] };
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-exec-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
let local: StudyRun[] = [];

before(async () => {
  await initBackend({});
  local = await runGrid("default", { ...grid, runsRoot: path.join(tmp(), "runs") });
});

test("processes --jobs=2: every run lands in the store once, with the local executor's numbers; a rerun submits nothing", async () => {
  const root = path.join(tmp(), "runs");
  const lines: string[] = [];
  const runs = await runGrid("default", {
    ...grid,
    runsRoot: root,
    executor: { kind: "processes", jobs: 2, log: (l) => lines.push(l) },
  });
  assert.deepEqual(gridNumbers(runs), gridNumbers(local));
  assert.deepEqual(storeDirs(root), local.map((r) => r.record.id).sort());
  for (const id of storeDirs(root)) assert.ok(!fs.existsSync(path.join(root, id, "lock")));
  assert.match(
    lines[0],
    /grid 'default' on processes: 0 done, 0 running, 0 pending, 0 failed, 3 not submitted of 3; submitting 3/,
  );
  assert.ok(
    lines.some((l) => /\[processes\] 3 done, 0 running, 0 pending, 0 failed of 3/.test(l)),
    lines.join("\n"),
  );
  const jobs = path.join(path.dirname(root), "jobs");
  const [folder] = fs.readdirSync(jobs);
  for (let i = 0; i < 3; i++)
    assert.match(fs.readFileSync(path.join(jobs, folder, `task-${i}.log`), "utf8"), /task-seconds total=/);

  const again: string[] = [];
  const runs2 = await runGrid("default", {
    ...grid,
    runsRoot: root,
    executor: { kind: "processes", jobs: 2, log: (l) => again.push(l) },
  });
  assert.match(again[0], /3 done, .* of 3; submitting 0/);
  assert.deepEqual(gridNumbers(runs2), gridNumbers(local));
});

test("a task that dies is reported with its log path and error; the next invocation resubmits it and the grid completes", async () => {
  const root = path.join(tmp(), "runs");
  // a corrupt run directory makes the baseline's task fail, as a broken file on a shared disk would
  const cfg = resolveExperiment(selectGrid("default", scale, [1], { model: "baseline" })[0].spec, scale);
  const dir = new RunStore(root).runDir(cfg);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "run.json"), "{ not json");
  const lines: string[] = [];
  const exec = { kind: "processes" as const, jobs: 2, log: (l: string) => lines.push(l) };
  await assert.rejects(runGrid("default", { ...grid, runsRoot: root, executor: exec }), (e: Error) => {
    assert.match(
      e.message,
      /1 of 3 runs did not finish:\n {2}baseline seed 1: process 0 of default-smoke-\S+ failed \(exit code 1\); log \S+task-0\.log/,
    );
    assert.match(
      e.message,
      /task failed: run config \S+run\.json is corrupt \((?:truncated|not valid JSON|empty)\b[^)]*\): delete the directory/,
    );
    return true;
  });
  assert.ok(
    lines.some((l) => /failed: baseline seed 1 .*task-0\.log/.test(l)),
    "reported while waiting",
  );
  const st = gridStatus("default", { ...grid, runsRoot: root, executor: "processes" });
  assert.deepEqual(
    st.map((s) => s.state),
    ["failed", "done", "done"],
  );
  fs.rmSync(dir, { recursive: true });
  const runs = await runGrid("default", { ...grid, runsRoot: root, executor: exec });
  assert.match(
    lines.filter((l) => l.startsWith("grid"))[1],
    /2 done, 0 running, 0 pending, 1 failed of 3; submitting 1/,
  );
  assert.deepEqual(gridNumbers(runs), gridNumbers(local));
});

test("bad executor input gets a clear error", () => {
  assert.throws(() => resolveExecutor({ kind: "processes", job: 2 } as never), /unknown executor option 'job'/);
  assert.throws(
    () => resolveExecutor({ kind: "cluster" } as never),
    /executor kind must be 'local', 'processes' or 'slurm', got 'cluster'/,
  );
  assert.throws(() => resolveExecutor({ kind: "processes", wait: false }), /wait: false needs the slurm executor/);
  assert.throws(() => resolveExecutor({ kind: "processes", jobs: 0 }), /jobs must be a positive integer/);
  const path0 = process.env.PATH;
  process.env.PATH = tmp(); // no Slurm commands here
  try {
    assert.throws(
      () => checkSlurm({}),
      /Slurm is not installed here \(no 'sinfo' on PATH\): install it \(Debian: `apt-get install -y slurm-wlm munge`/,
    );
  } finally {
    process.env.PATH = path0;
  }
});

test("a run store the tasks cannot write is refused before anything starts", async () => {
  const file = path.join(tmp(), "a-file");
  fs.writeFileSync(file, "");
  await assert.rejects(
    runGrid("default", {
      ...grid,
      runsRoot: path.join(file, "runs"),
      executor: { kind: "processes", log: () => undefined },
    }),
    /the run store \S+ is not writable \(.*\): every task writes there/,
  );
});
