import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveExperiment, labScale, SCALES } from "../../lib/experiment/experiment";
import { expandGrid, gridEntries, GRIDS, selectGrid } from "../../lib/experiment/grids";
import { experimentModelConfig } from "../../lib/experiment/study";
import { configHash } from "../../lib/config";
import { runKey } from "../../lib/experiment/run-layout";

const smoke = SCALES.smoke;

test("an experiment resolves at a scale with the scale's data, size and training", () => {
  const cfg = resolveExperiment(
    { name: "lst-static", variant: "lst", patching: { scheme: "static", patchSize: 4 } },
    smoke,
  );
  assert.equal(cfg.data.name, "smoke");
  assert.equal(cfg.size, "smoke");
  assert.equal(cfg.train.steps, smoke.train.steps);
  assert.equal(cfg.patching.patchSize, 4);
  assert.equal(cfg.budget, "compute");
  assert.deepEqual(cfg.mix.mixRatio, [1, 2]);
  // the CPU scales add speech-only documents; the paper scale trains on the paper's mix; a spec overrides either
  assert.equal(cfg.mix.speechOnlyFrac, 0.3);
  assert.equal(resolveExperiment({ name: "b", variant: "baseline" }, SCALES.paper).mix.speechOnlyFrac, 0);
  assert.equal(
    resolveExperiment({ name: "b", variant: "baseline", mix: { speechOnlyFrac: 0 } }, smoke).mix.speechOnlyFrac,
    0,
  );
  assert.throws(() => resolveExperiment({ name: "b", mix: { speechOnly: 0 } as never }, smoke), /speechOnly/);
});

test("curriculum and mixed patching evaluate with static patches; aligned evaluates aligned", () => {
  const cur = resolveExperiment({ name: "c", patching: { scheme: "curriculum" } }, smoke);
  assert.equal(cur.patching.scheme, "curriculum");
  assert.equal(cur.evalPatching.scheme, "static");
  const al = resolveExperiment({ name: "a", patching: { scheme: "aligned" } }, smoke);
  assert.equal(al.evalPatching.scheme, "aligned");
});

test("unknown keys and impossible combinations are rejected with the key named", () => {
  assert.throws(() => resolveExperiment({ name: "x", tarin: {} } as never, smoke), /unknown experiment key 'tarin'/);
  assert.throws(() => resolveExperiment({ name: "x", train: { stpes: 3 } } as never, smoke), /train\.stpes/);
  assert.throws(
    () => resolveExperiment({ name: "x", variant: "baseline", patching: { scheme: "static" } }, smoke),
    /patching applies to LST only/,
  );
  assert.throws(() => resolveExperiment({ name: "x", variant: "gpt" as never }, smoke), /variant must be/);
  assert.throws(() => labScale("huge"), /unknown lab scale 'huge'/);
});

test("the seed is part of the config, so seeds are different runs", () => {
  const a = resolveExperiment({ name: "b", variant: "baseline", seed: 1 }, smoke);
  const b = resolveExperiment({ name: "b", variant: "baseline", seed: 2 }, smoke);
  assert.notEqual(configHash(a), configHash(b));
  assert.equal(configHash(a), configHash(resolveExperiment({ name: "b", variant: "baseline", seed: 1 }, smoke)));
});

test("every grid expands to resolvable experiments, one per entry and seed", () => {
  for (const name of Object.keys(GRIDS)) {
    const runs = expandGrid(name, smoke, [1, 2]);
    assert.equal(runs.length, gridEntries(name, smoke).length * 2, name); // opt-in entries run when selected
    const hashes = new Set(runs.map((r) => configHash(resolveExperiment(r.spec, smoke))));
    assert.equal(hashes.size, runs.length, `grid ${name} has two runs with the same config`);
  }
  assert.equal(expandGrid("default", SCALES.small).length, 9);
  // calibration: units x budget x mix x model at a CPU scale; the paper scale has no separate 'paper mix' half
  assert.equal(GRIDS.calibration(SCALES.small).length, 16);
  assert.equal(GRIDS.calibration(SCALES.paper).length, 8);
  assert.throws(() => expandGrid("nope", smoke), /unknown grid 'nope'/);
});

test("selectGrid keeps the runs whose group matches every where-value, compared as text", () => {
  const runs = selectGrid("calibration", SCALES.small, [1, 2], { units: "phonetic", budget: "1x", mix: "lab" });
  assert.deepEqual(
    runs.map((r) => `${r.spec.name}/${r.seed}`),
    ["baseline-phonetic-1x/1", "baseline-phonetic-1x/2", "lst-static-phonetic-1x/1", "lst-static-phonetic-1x/2"],
  );
  // numbers in a group match their text form (the CLI passes text)
  assert.equal(selectGrid("jitter", smoke, [1], { jitterFrames: "4" }).length, 1);
  // alternatives: two models of the 4x cell, for two seeds
  const two = selectGrid("phoneticPatching", smoke, [1, 2], { budget: "4x", model: "baseline|lst-aligned" });
  assert.deepEqual(two.map((e) => `${e.group.model}:${e.seed}`).sort(), [
    "baseline:1",
    "baseline:2",
    "lst-aligned:1",
    "lst-aligned:2",
  ]);
  assert.equal(selectGrid("default", smoke, [1]).length, 3);
  assert.throws(
    () => selectGrid("calibration", smoke, [1], { units: "phonetc" }),
    /grid 'calibration' has no entry whose group matches \{"units":"phonetc"\}/,
  );
});

test("a grid's entry at the scale's default value is the main job's (or the models grid's) run: same config, so same run key", () => {
  const small = labScale("small");
  // the run store keys a run by its config less its name (runKey), so sharing needs no name rule
  const key = (grid: string, where: Record<string, string | number> = {}) =>
    selectGrid(grid, small, [1], where).map((e) => runKey(resolveExperiment(e.spec, small)));
  const main = key("default");
  const models = key("models");
  for (const k of [
    ...key("patchSize", { patchSize: 4 }),
    ...key("curriculum", { schedule: "0.33-0.67" }),
    ...key("mixRatio", { mixRatio: "1:2" }),
    ...key("scaling", { size: "cpuSmall" }),
  ]) {
    assert.ok(main.includes(k), `${k} should be one of the main job's runs ${main.join(", ")}`);
  }
  for (const k of [...key("silence", { silence: "separate" }), ...key("jitter", { jitterFrames: 0 })])
    assert.ok(models.includes(k), `${k} should be one of the models grid's runs`);
  // and the other values stay runs of their own; the alignment grid has its own text BPE, so both its entries do
  assert.ok(!main.includes(key("patchSize", { patchSize: 6 })[0]));
  assert.ok(!main.includes(key("alignment", { alignment: "word" })[0]));
  assert.equal(resolveExperiment(selectGrid("alignment", small, [1])[0].spec, small).data.textVocab, 500);
  // the phonetic patching grid's baseline and static entries are the calibration grid's phonetic runs, at both budgets
  for (const budget of ["1x", "4x"]) {
    const calib = key("calibration", { units: "phonetic", budget, mix: "lab" });
    const phon = key("phoneticPatching", { budget });
    assert.deepEqual(phon.slice(0, 2), calib);
    assert.ok(!calib.includes(phon[2]) && !calib.includes(phon[3]));
  }
});

test("a size smaller than the scale's rows takes the scale's row length (the scaling grid's smoke size at small)", () => {
  const small = labScale("small");
  for (const e of selectGrid("scaling", small, [1], { size: "smoke" })) {
    const cfg = resolveExperiment(e.spec, small);
    const m = experimentModelConfig(cfg, 1200, 1100);
    assert.equal(m.maxSeqLen, cfg.variant === "lst" ? small.train.maxRawLen : Math.max(256, small.train.seqLen ?? 0));
    assert.equal(m.dModel, 32, "still the smoke size");
  }
  const main = resolveExperiment({ name: "lst-static", variant: "lst" }, small);
  assert.equal(experimentModelConfig(main, 1200, 1100).maxSeqLen, 1024, "the cpuSmall size keeps its own bound");
});
