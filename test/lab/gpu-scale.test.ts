import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import {
  ASSUMED_GPU_TFLOPS,
  LAB_MIX,
  SCALES,
  resolveExperiment,
  type ExperimentConfig,
} from "../../lib/experiment/experiment";
import { expandGrid, gridEntries, GRIDS, selectGrid } from "../../lib/experiment/grids";
import {
  describeTflops,
  estimatedStepMs,
  parseTflops,
  runFlops,
  scaleBudget,
  tflopsFor,
} from "../../lib/experiment/scale-budget";
import { formatPlan, planGrid } from "../../lib/experiment/plan";
import { gridStatus, scaleRuns } from "../../lib/experiment/grid-study";
import { RunStore } from "../../lib/experiment/runs";
import { runKey } from "../../lib/experiment/run-layout";
import { configHash } from "../../lib/config";
import { derivedSizes } from "../../lib/model/config";
import { modelSizeConfig } from "../../lib/model/sizes";

const ROOT = path.resolve(__dirname, "..", "..");
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-gpuscale-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const { small, gpu } = SCALES;
const names = (runs: { spec: { name: string }; seed: number }[]): string[] =>
  runs.map((r) => `${r.spec.name}/${r.seed}`);
const MODELS = ["baseline", "lst-static", "lst-aligned", "lst-curriculum"];

test("the phonetic 16x cell is opt-in: the default expansion keeps the 1x and 4x cells, where budget:16x selects it", () => {
  // the default expansion: the 1x and 4x cells only, as before the 16x cell existed
  const cells = (mult: string) => MODELS.map((m) => `${m}-phonetic-${mult}/1`);
  assert.deepEqual(names(expandGrid("phoneticPatching", small, [1])), [...cells("1x"), ...cells("4x")]);
  assert.equal(gridEntries("phoneticPatching", small).length, 8);
  assert.equal(gridEntries("phoneticPatching", small, true).length, 12);
  assert.deepEqual(names(selectGrid("phoneticPatching", small, [1])), [...cells("1x"), ...cells("4x")]);
  // named by its key it runs, at every scale: 16x the scale's steps
  for (const scale of [small, gpu, SCALES.smoke]) {
    const sel = selectGrid("phoneticPatching", scale, [1, 2], { budget: "16x" });
    assert.deepEqual(
      names(sel),
      MODELS.flatMap((m) => [`${m}-phonetic-16x/1`, `${m}-phonetic-16x/2`]),
    );
    for (const e of sel) {
      const cfg = resolveExperiment(e.spec, scale);
      assert.equal(cfg.train.steps, (scale.train.steps as number) * 16, scale.name);
      assert.equal(cfg.data.units.source, "phonetic");
      assert.deepEqual(e.group, { model: e.spec.name.replace(/-phonetic-16x$/, ""), units: "phonetic", budget: "16x" });
    }
  }
  // a filter on another key leaves it out; with both keys it is one run
  assert.deepEqual(names(selectGrid("phoneticPatching", small, [1], { model: "baseline" })), [
    "baseline-phonetic-1x/1",
    "baseline-phonetic-4x/1",
  ]);
  assert.deepEqual(names(selectGrid("phoneticPatching", small, [1], { budget: "16x", model: "lst-aligned" })), [
    "lst-aligned-phonetic-16x/1",
  ]);
  // the 16x run of a model is its 4x run with 4x the steps: same data, model, patching and mix
  const at = (budget: string, model: string): ExperimentConfig =>
    resolveExperiment(selectGrid("phoneticPatching", small, [1], { budget, model })[0].spec, small);
  for (const m of MODELS) {
    const a = at("4x", m);
    const b = at("16x", m);
    assert.notEqual(runKey(a), runKey(b));
    assert.deepEqual({ ...b, name: a.name, train: { ...b.train, steps: a.train.steps } }, a);
  }
  // the other grids have no opt-in entries
  for (const name of Object.keys(GRIDS))
    if (name !== "phoneticPatching")
      assert.equal(gridEntries(name, small, true).length, gridEntries(name, small).length);
});

test("the gpu scale: gpuSmall on the paper data under the lab mix, its rows and steps; every grid resolves there", () => {
  assert.equal(gpu.name, "gpu");
  assert.equal(gpu.size, "gpuSmall");
  assert.equal(gpu.data, "paper");
  assert.deepEqual(gpu.mix, LAB_MIX);
  assert.equal(gpu.assumedTflops, ASSUMED_GPU_TFLOPS);
  assert.deepEqual(
    [gpu.train.steps, gpu.train.batchSize, gpu.train.seqLen, gpu.train.globalLen, gpu.train.maxRawLen],
    [3000, 32, 384, 384, 1024],
  );
  // the CPU scales are timed, not estimated
  assert.equal(SCALES.small.assumedTflops, undefined);
  assert.equal(SCALES.smoke.assumedTflops, undefined);
  for (const name of Object.keys(GRIDS)) {
    const runs = expandGrid(name, gpu, [1], true);
    const hashes = new Set(runs.map((r) => configHash(resolveExperiment(r.spec, gpu))));
    assert.equal(hashes.size, runs.length, `grid ${name} has two runs with the same config at the gpu scale`);
  }
  assert.deepEqual(
    selectGrid("scaling", gpu, [1], { model: "baseline" }).map((e) => e.spec.size),
    ["cpuSmall", "gpuSmall", "gpuBase"],
  );
  // its own size's scaling entry is the main job's run, as at the other scales
  const main = selectGrid("default", gpu, [1]).map((e) => runKey(resolveExperiment(e.spec, gpu)));
  const own = selectGrid("scaling", gpu, [1], { size: "gpuSmall" }).map((e) => runKey(resolveExperiment(e.spec, gpu)));
  for (const k of own) assert.ok(main.includes(k));
});

test("a run's FLOPs come from its shapes: the baseline by hand, LST's local modules on maxRawLen rows, hours at a rate", () => {
  const base = resolveExperiment({ name: "baseline", variant: "baseline" }, gpu);
  const f = runFlops(base);
  assert.equal(f.globalUnitsPerStep, 32 * 384);
  assert.equal(f.rawTokensPerStep, 32 * 384);
  // PaLM-style count (lib/model/flops.ts): 6 x tokens x (layers x (4d^2 + 3df + 2 span d) + d V), V = textVocab + K
  const m = modelSizeConfig("gpuSmall", "baseline", 2000 + 501);
  const d = m.dModel;
  const ffn = derivedSizes(m).ffnGlobal;
  const macs = m.nLayers * (4 * d * d + 3 * d * ffn + 2 * 384 * d) + d * 2501;
  assert.equal(f.flopsPerStep, 6 * 32 * 384 * macs);
  assert.equal(f.steps, 3000);
  assert.equal(f.flops, 3000 * f.flopsPerStep);
  assert.equal(f.atLeast, false);
  const lst = runFlops(resolveExperiment({ name: "lst-static", patching: { scheme: "static", patchSize: 4 } }, gpu));
  assert.equal(lst.kind, "lst");
  assert.equal(lst.globalUnitsPerStep, 32 * 384);
  assert.equal(lst.rawTokensPerStep, 32 * 1024);
  assert.ok(lst.flopsPerStep > f.flopsPerStep, "LST pays for its local modules on 1024-token rows");
  assert.equal(runFlops(resolveExperiment({ name: "b", variant: "baseline", budget: "data" }, gpu)).atLeast, true);
  // hours = FLOPs / rate; 16x the steps is 16x the FLOPs
  const one = scaleBudget(gpu);
  assert.equal(one.tflops, ASSUMED_GPU_TFLOPS);
  assert.deepEqual(
    one.rows.map((r) => r.kind),
    ["baseline", "lst"],
  );
  assert.equal(one.rows[0].flops, f.flops);
  assert.equal(one.rows[0].hours, f.flops / (ASSUMED_GPU_TFLOPS * 1e12) / 3600);
  const sixteen = scaleBudget(gpu, { mult: 16, tflops: 40 });
  assert.equal(sixteen.rows[1].steps, 48000);
  assert.equal(sixteen.rows[1].flops, 16 * one.rows[1].flops);
  assert.ok(Math.abs(sixteen.rows[1].hours - 8 * one.rows[1].hours) < 1e-9);
  assert.equal(estimatedStepMs(base, 20), f.flopsPerStep / 20e9);
  assert.throws(() => scaleBudget(small), /scale 'small' states no assumedTflops .*pass tflops/);
  assert.throws(() => scaleBudget(gpu, { tflops: 0 }), /must be > 0 TFLOP\/s, got 0/);
  assert.throws(() => scaleBudget(gpu, { mult: 1.5 }), /mult must be an integer >= 1, got 1.5/);
});

test("a throughput is one rate or one per model kind: parseTflops reads both forms and names what it cannot read", () => {
  assert.equal(parseTflops("13"), 13);
  assert.equal(parseTflops("13.5"), 13.5);
  assert.equal(parseTflops(" 20 "), 20);
  assert.deepEqual(parseTflops("baseline:13,lst:4.8"), { baseline: 13, lst: 4.8 });
  assert.deepEqual(parseTflops("lst:4.8, baseline:13"), { baseline: 13, lst: 4.8 });
  const forms = "give a number > 0 (e.g. 13 or 13.5) or one per model kind (e.g. baseline:13,lst:4.8)";
  const bad = (text: string, why: string) =>
    assert.throws(() => parseTflops(text), {
      message: `cannot read '${text}' as a sustained TFLOP/s: ${why}; ${forms}`,
    });
  bad("lsr:4", "unknown model kind 'lsr' (the kinds: baseline, lst)");
  bad("baseline:13,lsr:4", "unknown model kind 'lsr' (the kinds: baseline, lst)");
  bad("baseline:13", "no rate for lst (the per-kind form names every kind)");
  bad("baseline:13,lst:0", "lst's rate 0 is not > 0");
  bad("baseline:x,lst:4", "baseline's rate 'x' is not a number");
  bad("baseline:13,baseline:2,lst:4", "'baseline' is given twice");
  bad("0", "0 is not > 0");
  bad("-1", "-1 is not > 0");
  bad("NaN", "'NaN' is not a number");
  bad("", "it is empty");
  assert.equal(tflopsFor(20, "lst"), 20);
  assert.equal(tflopsFor({ baseline: 13, lst: 4.8 }, "lst"), 4.8);
  assert.equal(describeTflops(20), "20 TFLOP/s");
  assert.equal(describeTflops({ baseline: 13, lst: 4.8 }), "baseline 13, lst 4.8 TFLOP/s");
});

test("a rate per kind: each row of a scale's budget and each run's step time at its own kind's rate", () => {
  const perKind = { baseline: 13, lst: 4.8 };
  const both = scaleBudget(gpu, { tflops: perKind, mult: 4 });
  assert.deepEqual(both.tflops, perKind);
  assert.equal(both.rows[0].kind, "baseline");
  assert.equal(both.rows[0].hours, scaleBudget(gpu, { tflops: 13, mult: 4 }).rows[0].hours);
  assert.equal(both.rows[1].kind, "lst");
  assert.equal(both.rows[1].hours, scaleBudget(gpu, { tflops: 4.8, mult: 4 }).rows[1].hours);
  const lst = resolveExperiment({ name: "lst-static", patching: { scheme: "static", patchSize: 4 } }, gpu);
  assert.equal(estimatedStepMs(lst, perKind), estimatedStepMs(lst, 4.8));
  assert.throws(() => scaleBudget(gpu, { tflops: { baseline: 13, lst: 0 } }), /must be > 0 TFLOP\/s, got lst 0$/);
  assert.throws(
    () => scaleBudget(gpu, { tflops: { baseline: 13, lsr: 4 } as never }),
    /got \{"baseline":13,"lsr":4\}: the per-kind form takes exactly baseline and lst/,
  );
  assert.throws(() => estimatedStepMs(lst, { baseline: NaN, lst: 4.8 }), /got baseline NaN$/);

  const runsRoot = tmp();
  const plan = planGrid("phoneticPatching", gpu, { where: { budget: "16x" }, runsRoot, tflops: perKind });
  assert.equal(plan.runs.length, 12);
  for (const r of plan.runs) {
    const cfg = resolveExperiment(
      selectGrid("phoneticPatching", gpu, [r.seed], { budget: "16x", model: r.group.model as string })[0].spec,
      gpu,
    );
    const kind = cfg.variant === "lst" ? "lst" : "baseline";
    assert.equal(r.stepMs, estimatedStepMs(cfg, perKind[kind]), r.name);
    assert.match(
      r.stepTime,
      new RegExp(`^${kind} .* at ${perKind[kind]} TFLOP/s sustained \\(the rate given for ${kind}\\)$`),
    );
  }
  assert.deepEqual(
    [...new Set(plan.runs.map((r) => r.stepTime.split(" ")[0]))].sort(),
    ["baseline", "lst"],
    "the cell has both kinds",
  );
  assert.throws(
    () => planGrid("default", gpu, { runsRoot, tflops: { baseline: 13, lst: -1 } }),
    /tflops .* must be a number > 0 or one per kind, \{ baseline, lst \}, got lst -1/,
  );
  assert.deepEqual(fs.readdirSync(runsRoot), [], "a plan writes nothing");
});

test("the CLIs take --tflops per kind, and a bad one is a usage error naming it", () => {
  const run = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, script), ...args], { cwd: ROOT, encoding: "utf8" });
  const ok = run("scripts/scale-budget.ts", "--scale=gpu", "--tflops=baseline:13,lst:4.8", "--mults=1");
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /hours at baseline 13, lst 4\.8 TFLOP\/s sustained \(given\)/);
  const rows = scaleBudget(gpu, { tflops: { baseline: 13, lst: 4.8 } }).rows;
  const hours = rows.map((r) => r.hours.toLocaleString("en-US", { maximumFractionDigits: 2 }).replace(".", "\\."));
  assert.match(ok.stdout, new RegExp(`\\| 1x \\| baseline \\|.*\\| ${hours[0]} \\|`));
  assert.match(ok.stdout, new RegExp(`\\| 1x \\| LST static 4 \\|.*\\| ${hours[1]} \\|`));
  const bad = run("scripts/scale-budget.ts", "--scale=gpu", "--tflops=lsr:4");
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--tflops: cannot read 'lsr:4' .*unknown model kind 'lsr'.*baseline:13,lst:4\.8/);
  assert.equal(bad.stdout, "", "nothing is printed before the usage error");
  const main = run("scripts/main.ts", "--scale=gpu", "--dry-run", "--tflops=baseline:13");
  assert.equal(main.status, 2, main.stderr);
  assert.match(main.stderr, /--tflops: cannot read 'baseline:13' .*no rate for lst/);
});

test("a dry-run plan at the gpu scale estimates from FLOPs and says so; tflops re-estimates; small keeps its measured times", () => {
  const runsRoot = tmp();
  const plan = planGrid("phoneticPatching", gpu, { where: { budget: "16x" }, runsRoot });
  assert.equal(plan.runs.length, 12);
  for (const r of plan.runs) {
    assert.equal(r.state, "new");
    assert.equal(r.steps, 48000);
    assert.ok(r.stepMs !== null && r.ms === r.steps * r.stepMs);
    assert.match(
      r.stepTime,
      /estimated, \d+ GFLOP a step at 20 TFLOP\/s sustained \(the scale's assumed rate, not measured/,
    );
  }
  const cfg = resolveExperiment(selectGrid("phoneticPatching", gpu, [1], { budget: "16x" })[0].spec, gpu);
  assert.equal(plan.runs[0].stepMs, estimatedStepMs(cfg, ASSUMED_GPU_TFLOPS));
  assert.match(formatPlan(plan), /12 runs, 0 cached, 12 to train, about [\d.]+ h of training/);
  const faster = planGrid("phoneticPatching", gpu, { where: { budget: "16x" }, runsRoot, tflops: 40 });
  assert.ok(Math.abs((faster.trainMs as number) - (plan.trainMs as number) / 2) < 1e-6);
  assert.match(faster.runs[0].stepTime, /at 40 TFLOP\/s sustained \(the rate given\)/);
  // the small scale: its measured step times, unless a rate is given (what its 16x cell would take on a GPU)
  const cpu = planGrid("phoneticPatching", small, { where: { budget: "16x" }, runsRoot });
  assert.match(cpu.runs[0].stepTime, /measured by `npx tsx bench\/step-time.ts --scale=small/);
  assert.match(
    planGrid("phoneticPatching", small, { where: { budget: "16x" }, runsRoot, tflops: 20 }).runs[0].stepTime,
    /estimated/,
  );
  assert.throws(() => planGrid("default", gpu, { runsRoot, tflops: -1 }), /tflops .* must be a number > 0, got -1/);
  assert.deepEqual(fs.readdirSync(runsRoot), [], "a plan writes nothing");
});

test("the 16x cell goes through an executor's status and comes back in scaleRuns once finished", async () => {
  const runsRoot = path.join(tmp(), "runs");
  // the slurm executor's view of the 16x cell before anything is submitted: every run missing, nothing started
  const states = gridStatus("phoneticPatching", {
    scale: gpu,
    where: { budget: "16x" },
    runsRoot,
    executor: "slurm",
  });
  assert.equal(states.length, 12);
  assert.ok(states.every((s) => s.state === "missing"));
  // a finished 16x run (a synthetic result) is read back with its group, beside the default cells
  const store = new RunStore(runsRoot);
  const scale = { ...SCALES.smoke, seeds: [1] };
  const e = selectGrid("phoneticPatching", scale, [1], { budget: "16x", model: "lst-aligned" })[0];
  const cfg = resolveExperiment(e.spec, scale);
  await store.ensure(cfg, cfg.name, async () => ({
    eval: { norm: "mean", cells: [], items: [] },
    steps: cfg.train.steps,
    seed: 1,
    model: cfg.name,
    group: e.group,
  }));
  const runs = scaleRuns(scale, runsRoot, ["phoneticPatching"]);
  assert.deepEqual(
    runs.map((r) => [r.config.name, r.group.budget]),
    [["lst-aligned-phonetic-16x", "16x"]],
  );
});

test("npm start's --dry-run plans the gpu scale's 16x cell under the slurm executor; --list-grids names the opt-in", () => {
  const runsRoot = tmp();
  const main = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/main.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
    });
  const dry = main(
    "--grid=phoneticPatching",
    "--where=budget:16x",
    "--scale=gpu",
    "--executor=slurm",
    "--gres=gpu:1",
    `--runs=${runsRoot}`,
    "--dry-run",
  );
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /train \(new\)\s+lst-aligned-phonetic-16x\s+3\s+48000/);
  assert.match(dry.stdout, /grid 'phoneticPatching' at scale 'gpu', seeds 1,2,3: 12 runs, 0 cached, 12 to train/);
  assert.match(dry.stdout, /estimated, \d+ GFLOP a step at 20 TFLOP\/s/);
  assert.deepEqual(fs.readdirSync(runsRoot), [], "a dry run writes nothing");
  const list = main("--list-grids", "--scale=small");
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /phoneticPatching\s+8 .*\(\+4 opt-in\)/);
  const budget = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/scale-budget.ts")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(budget.status, 0, budget.stderr);
  assert.match(budget.stdout, /\| 16x \| LST static 4 \| [\d.]+M \| 12,288 \| 32,768 \|/);
  assert.match(budget.stdout, /the scale's assumption, not measured/);
});
