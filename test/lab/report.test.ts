import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { PAPER_FINDINGS, reproductionReport, reportMarkdown, type Finding } from "../../lib/experiment/report";
import type { ItemOutcome, RunItems } from "../../lib/eval/paired";
import { accuracyCells } from "../../lib/eval/evaluate";
import type { ItemScore } from "../../lib/eval/score";
import { RunStore } from "../../lib/experiment/runs";
import { SCALES, resolveExperiment, type LabScale } from "../../lib/experiment/experiment";
import { expandGrid } from "../../lib/experiment/grids";
import { scaleRuns } from "../../lib/experiment/grid-study";
import { runItems } from "../../lib/experiment/rescore";
import { pairedTable } from "../../lib/viz/tables";
import { pairedBars } from "../../lib/viz/figures";
import { reportFigure } from "../../lib/viz/data-figures";

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const f: Finding = { claim: "A > B", grid: "g", benchmark: "sc", direction: "T2T", higher: "A", lower: "B" };

/** Runs of a model, one per seed: item i is right when right(seed, i). */
function runs(model: string, seeds: number[], right: (seed: number, i: number) => boolean, n = 200): RunItems[] {
  return seeds.map((seed) => {
    const items: ItemOutcome[] = [];
    for (let i = 0; i < n; i++)
      items.push({ id: `sc-${i}`, benchmark: "sc", direction: "T2T", correct: right(seed, i) });
    return { run: `${model}-${seed}`, model, seed, items };
  });
}

test("the header's example: a fixed per-item lead of 40 of 200 items reproduces, with mean ± std beside it", () => {
  const [r] = reproductionReport(
    [
      ...runs("A", [1, 2, 3], (_, i) => i % 2 === 0 || i % 10 === 1 || i % 10 === 3),
      ...runs("B", [1, 2, 3], (_, i) => i % 2 === 0),
    ],
    [f],
  );
  assert.equal(r.verdict, "reproduces");
  assert.ok(Math.abs(r.delta - 0.2) < 1e-12);
  assert.ok(r.lo > 0.16 && r.hi < 0.24, `[${r.lo}, ${r.hi}]`);
  assert.equal(r.p, 1 / 10001);
  assert.ok(Math.abs(r.meanHigher - 0.7) < 1e-12 && r.stdHigher < 1e-12);
  assert.equal(r.seeds, "3/3");
  assert.equal(r.pairedSeeds, 3);
  assert.equal(r.items, 200);
  assert.equal(r.why, "");
  assert.match(
    reportMarkdown([r]),
    /\| A > B \| sc T2T \| A 70\.0 ± 0\.0 \| B 50\.0 ± 0\.0 \| \+20\.0 \[\+1\d\.\d, \+2\d\.\d\] \| <0\.001 \| 3\/3 \| reproduces \|/,
  );
});

test("identical models are inconclusive, a fixed lag contradicts, one seed says so in the note, missing is not run", () => {
  const same = (_: number, i: number) => i % 3 === 0;
  const id = reproductionReport(
    [...runs("A", [1, 2, 3], same), ...runs("B", [1, 2, 3], same)],
    [{ ...f, ifNot: "why not" }],
  )[0];
  assert.equal(id.verdict, "inconclusive");
  assert.equal(id.delta, 0);
  assert.equal(id.p, 1);
  assert.equal(id.why, "why not");
  const lag = reproductionReport(
    [...runs("A", [1, 2], (_, i) => i < 50), ...runs("B", [1, 2], (_, i) => i < 100)],
    [f],
  )[0];
  assert.equal(lag.verdict, "contradicts");
  assert.ok(Math.abs(lag.delta + 0.25) < 1e-12);
  const one = reproductionReport(
    [...runs("A", [1], (_, i) => i < 150), ...runs("B", [1, 2], (_, i) => i < 100)],
    [f],
  )[0];
  assert.equal(one.verdict, "reproduces");
  assert.match(
    one.note,
    /one paired seed: the interval covers item noise only; seeds 2 run by one model only are left out/,
  );
  const missing = reproductionReport(
    runs("A", [1, 2], () => true),
    [f],
  )[0];
  assert.equal(missing.verdict, "not run");
  assert.match(reportMarkdown([missing]), /\| A > B \| sc T2T \|.*\| – \| – \| 2\/0 \| not run \|/);
  const disjoint = reproductionReport([...runs("A", [1], () => true), ...runs("B", [2], () => true)], [f])[0];
  assert.equal(disjoint.verdict, "not run");
  assert.equal(disjoint.note, "the two models share no seed");
});

test("report, table and figures from a synthetic run store: the default grid at a 3-seed smoke scale", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lst-report-"));
  made.push(root);
  const scale: LabScale = { ...SCALES.smoke, seeds: [1, 2, 3] };
  const store = new RunStore(root);
  // LST static is right on 20 more hs T2T items than the baseline and LST curriculum in every seed; S2S is the same for all
  const right = (model: string, seed: number, direction: string, i: number): boolean => {
    if (direction === "S2S") return (i + seed) % 4 === 0;
    const base = (i + seed) % 3 === 0;
    return model === "lst-static" ? base || i < 30 : base; // 20 of the first 30 items are wrong for the others
  };
  for (const e of expandGrid("default", scale)) {
    const cfg = resolveExperiment(e.spec, scale);
    const items: ItemScore[] = [];
    for (const direction of ["S2S", "T2T"] as const) {
      for (let i = 0; i < 120; i++) {
        const ok = right(cfg.name, cfg.seed, direction, i);
        items.push({
          id: `hs-test-${i}`,
          benchmark: "hs",
          direction,
          type: "place",
          tier: 2,
          label: 0,
          chosen: ok ? 0 : 1,
          correct: ok,
          scores: ok ? [0, -1, -2, -3] : [-1, 0, -2, -3],
          nll: [1, 1, 1, 1],
          nTokens: [1, 1, 1, 1],
        });
      }
    }
    await store.ensure(cfg, cfg.name, async () => ({
      eval: { norm: "mean", cells: accuracyCells(items), items },
      steps: 1,
      seed: cfg.seed,
      model: cfg.name,
      group: e.group,
    }));
  }
  const studyRuns = scaleRuns(scale, root, ["default"]);
  assert.equal(studyRuns.length, 9);
  const items = await runItems(studyRuns);
  assert.deepEqual([...new Set(items.map((r) => r.model))], ["baseline", "lst-static", "lst-curriculum"]);
  const report = reproductionReport(
    items,
    PAPER_FINDINGS.filter((x) => x.grid === "default"),
  );
  const t2t = report.find((r) => r.higher === "lst-static" && r.cell === "hs T2T");
  assert.ok(t2t);
  assert.equal(t2t.verdict, "reproduces");
  assert.ok(Math.abs(t2t.delta - 20 / 120) < 1e-12, `Δ ${t2t.delta}`);
  const s2s = report.find((r) => r.higher === "lst-static" && r.cell === "hs S2S");
  assert.equal(s2s?.verdict, "inconclusive");
  assert.equal(s2s?.delta, 0);
  // findings on cells this store has no runs for (sc T2T) are 'not run'
  assert.equal(report.find((r) => r.cell === "sc T2T")?.verdict, "not run");

  const table = pairedTable(items, { reference: "baseline", directions: ["T2T"] });
  assert.deepEqual(
    table.map((r) => [r.model, r.verdict]),
    [
      ["baseline", "–"],
      ["lst-static", "ahead"],
      ["lst-curriculum", "within noise"],
    ],
  );
  const lst = table[1];
  assert.match(String(lst["Δ vs baseline [95% CI]"]), /^\+16\.7 \[\+\d+\.\d, \+\d+\.\d\]$/);
  assert.match(String(lst["accuracy %"]), /^\d+\.\d ± \d+\.\d$/);

  const bars = pairedBars(items, { reference: "baseline", directions: ["T2T"] });
  assert.deepEqual(
    bars.data.map((d) => d.name),
    ["lst-static", "lst-curriculum"],
  );
  const e = bars.data[0].error_y;
  assert.ok(e && e.symmetric === false && e.arrayminus && e.array[0] > 0 && e.arrayminus[0] > 0);
  assert.ok(Math.abs((bars.data[0].y?.[0] as number) - 100 * (20 / 120)) < 1e-9);
  const fig = reportFigure(report);
  const bar = fig.data[0] as unknown as { x: number[]; error_x: { array: number[]; arrayminus: number[] } };
  const k = report.filter((r) => r.verdict !== "not run").indexOf(t2t);
  assert.ok(Math.abs(bar.x[k] - 100 * t2t.delta) < 1e-9);
  assert.ok(Math.abs(bar.error_x.arrayminus[k] - 100 * (t2t.delta - t2t.lo)) < 1e-9);
  assert.ok(Math.abs(bar.error_x.array[k] - 100 * (t2t.hi - t2t.delta)) < 1e-9);
});
