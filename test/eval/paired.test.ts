import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cellScores,
  comparePaired,
  formatPaired,
  pairedBootstrap,
  pairedDiffs,
  pairedVerdict,
  type ItemOutcome,
  type RunItems,
} from "../../lib/eval/paired";
import type { Direction } from "../../lib/data/bench-encode";

/** A run's items: item i of each listed direction is right when right(i). */
function run(
  model: string,
  seed: number,
  n: number,
  right: (i: number) => boolean,
  directions: Direction[] = ["S2S", "T2T"],
  benchmark = "hs",
): RunItems {
  const items: ItemOutcome[] = [];
  for (const direction of directions)
    for (let i = 0; i < n; i++) items.push({ id: `${benchmark}-${i}`, benchmark, direction, correct: right(i) });
  return { run: `${model}-${seed}`, model, seed, items };
}

const base = (i: number) => i % 2 === 0; // right on half the items

test("identical models: Δ 0, interval [0, 0], p 1, inconclusive", () => {
  const a = [1, 2, 3].map((s) => run("A", s, 200, base));
  const b = [1, 2, 3].map((s) => run("B", s, 200, base));
  const r = comparePaired(a, b, "hs", "S2S");
  assert.ok(r);
  assert.equal(r.mean, 0);
  assert.equal(r.lo, 0);
  assert.equal(r.hi, 0);
  assert.equal(r.p, 1);
  assert.equal(r.verdict, "inconclusive");
  assert.deepEqual(r.pairedSeeds, [1, 2, 3]);
});

test("a fixed per-item lead reproduces, a fixed lag contradicts", () => {
  // A is right wherever B is, and on 40 more of 200 items: d = 1 on 40 items, 0 elsewhere, in every seed;
  // the seeds agree, so only item noise is left: std sqrt(0.2 x 0.8 / 200 / 3) = 0.0163, interval 0.2 ± 0.032
  const lead = (i: number) => base(i) || i % 10 === 1 || i % 10 === 3;
  const a = [1, 2, 3].map((s) => run("A", s, 200, lead));
  const b = [1, 2, 3].map((s) => run("B", s, 200, base));
  const r = comparePaired(a, b, "hs", "T2T");
  assert.ok(r);
  assert.ok(Math.abs(r.mean - 0.2) < 1e-12, `mean ${r.mean}`);
  assert.ok(Math.abs(r.lo - 0.168) < 0.006 && Math.abs(r.hi - 0.232) < 0.006, `interval [${r.lo}, ${r.hi}]`);
  assert.equal(r.verdict, "reproduces");
  assert.equal(r.p, 1 / 10001);
  const lag = comparePaired(b, a, "hs", "T2T");
  assert.ok(lag);
  assert.ok(Math.abs(lag.mean + 0.2) < 1e-12);
  assert.equal(lag.verdict, "contradicts");
  assert.equal(lag.p, 1);
});

test("the header's worked example: one seed, d = [1 x 200, 0 x 200] -> mean 0.5, interval about 0.5 ± 1.96 x 0.025", () => {
  const d = [...new Array(200).fill(1), ...new Array(200).fill(0)];
  const r = pairedBootstrap([d], { resamples: 20000, seed: 3 });
  assert.equal(r.mean, 0.5);
  assert.ok(Math.abs(r.lo - (0.5 - 1.96 * 0.025)) < 0.006, `lo ${r.lo}`);
  assert.ok(Math.abs(r.hi - (0.5 + 1.96 * 0.025)) < 0.006, `hi ${r.hi}`);
  assert.equal(r.seeds, 1);
  assert.equal(r.items, 400);
});

test("resampling seeds carries the seed spread: a lead in one seed and a lag in another is inconclusive", () => {
  const up = [...new Array(60).fill(1), ...new Array(140).fill(0)];
  const down = [...new Array(60).fill(-1), ...new Array(140).fill(0)];
  const r = pairedBootstrap([up, down, up.map(() => 0)]);
  assert.ok(Math.abs(r.mean) < 1e-12);
  assert.equal(r.verdict, "inconclusive");
  // items alone (one seed with the lead) would have cleared 0
  assert.equal(pairedBootstrap([up]).verdict, "reproduces");
});

test("the bootstrap is deterministic for a seed, and the seed matters only in the last digits", () => {
  const d = [0, 1, 2].map((s) =>
    Array.from({ length: 150 }, (_, i) => ((i * 7 + s) % 5 === 0 ? 1 : (i * 3 + s) % 11 === 0 ? -1 : 0)),
  );
  const a = pairedBootstrap(d, { seed: 42 });
  assert.deepEqual(pairedBootstrap(d, { seed: 42 }), a);
  const b = pairedBootstrap(d, { seed: 43 });
  assert.notDeepEqual(b, a);
  assert.equal(b.mean, a.mean);
  assert.ok(Math.abs(b.lo - a.lo) < 0.01 && Math.abs(b.hi - a.hi) < 0.01, `${a.lo}..${a.hi} vs ${b.lo}..${b.hi}`);
});

test("macro per item is the mean of its S→S and T→T scores; runs pair by seed and items by id", () => {
  const r = run("A", 1, 4, (i) => i < 2);
  // flip T2T of item 0 to wrong: item 0 scores (1 + 0) / 2
  const items = r.items.map((x) => (x.id === "hs-0" && x.direction === "T2T" ? { ...x, correct: false } : x));
  assert.deepEqual(
    [...cellScores(items, "hs", "macro").entries()],
    [
      ["hs-0", 0.5],
      ["hs-1", 1],
      ["hs-2", 0],
      ["hs-3", 0],
    ],
  );
  // seed 3 only A has: left out, and listed
  const p = pairedDiffs(
    [run("A", 1, 4, () => true), run("A", 3, 4, () => true)],
    [run("B", 1, 4, () => false), run("B", 2, 4, () => false)],
    "hs",
    "S2S",
  );
  assert.deepEqual(p.seeds, [1]);
  assert.deepEqual(p.unpaired, [2, 3]);
  assert.deepEqual(p.diffs, [[1, 1, 1, 1]]);
  assert.equal(comparePaired([run("A", 1, 4, base)], [run("B", 2, 4, base)], "hs", "S2S"), null);
});

test("runs that did not answer the same items, or a seed listed twice, are errors naming the runs", () => {
  assert.throws(
    () => pairedDiffs([run("A", 1, 5, base)], [run("B", 1, 4, base)], "hs", "S2S"),
    /item 'hs-4' .* scored in run 'A-1' but not in 'B-1'/,
  );
  assert.throws(
    () => pairedDiffs([run("A", 1, 4, base)], [run("B", 1, 5, base)], "hs", "S2S"),
    /run 'B-1' scored 5 items/,
  );
  assert.throws(
    () => pairedDiffs([run("A", 1, 4, base), run("A", 1, 4, base)], [run("B", 1, 4, base)], "hs", "S2S"),
    /two runs of model A with seed 1/,
  );
  assert.throws(() => pairedBootstrap([]), /no seeds/);
  assert.throws(() => pairedBootstrap([[1]], { resamples: 10 }), /resamples must be an integer >= 100/);
});

test("verdict and formatting", () => {
  assert.equal(pairedVerdict(0.01, 0.2), "reproduces");
  assert.equal(pairedVerdict(-0.2, -0.01), "contradicts");
  assert.equal(pairedVerdict(0, 0.2), "inconclusive");
  assert.equal(formatPaired({ mean: 0.038, lo: -0.012, hi: 0.0875 }), "+3.8 [−1.2, +8.8]");
});
