import { test } from "node:test";
import assert from "node:assert/strict";
import { meanStd, macroScore, rowsFromEval, withMacroRows, summarize, type ResultRow } from "../../lib/eval/metrics";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test("meanStd: the worked example of the header, sample std (n - 1)", () => {
  const s = meanStd([0.4, 0.42, 0.44]);
  close(s.mean, 0.42);
  close(s.std, 0.02);
  assert.equal(s.n, 3);
  // n - 1, not n: [1, 3] has population std 1 but sample std sqrt(2)
  close(meanStd([1, 3]).std, Math.SQRT2);
  assert.deepEqual(meanStd([0.7]), { mean: 0.7, std: 0, n: 1 });
  assert.throws(() => meanStd([]), /no values/);
});

test("macro score = mean of S2S and T2T; macro rows per run and benchmark", () => {
  close(macroScore(0.4, 0.5), 0.45);
  const base = { run: "r1", model: "lst", n: 10, seed: 0 };
  const rows: ResultRow[] = [
    { ...base, benchmark: "hs", direction: "S2S", accuracy: 0.4 },
    { ...base, benchmark: "hs", direction: "T2T", accuracy: 0.6 },
    { ...base, benchmark: "sc", direction: "S2S", accuracy: 0.5 },
  ];
  const out = withMacroRows(rows);
  assert.equal(out.length, 4);
  const macro = out.filter((r) => r.direction === "macro");
  assert.equal(macro.length, 1);
  assert.equal(macro[0].benchmark, "hs");
  close(macro[0].accuracy, 0.5);
  // idempotent: old macro rows are replaced
  assert.equal(withMacroRows(out).length, 4);
});

test("rowsFromEval copies cells and meta", () => {
  const rows = rowsFromEval(
    { cells: [{ benchmark: "sc", direction: "T2T", n: 4, correct: 3, accuracy: 0.75, chance: 0.5 }] },
    { run: "a-1", model: "a", seed: 2, group: { mixRatio: "1:2" } },
  );
  assert.deepEqual(rows, [
    {
      run: "a-1",
      model: "a",
      benchmark: "sc",
      direction: "T2T",
      accuracy: 0.75,
      n: 4,
      seed: 2,
      group: { mixRatio: "1:2" },
    },
  ]);
});

test("summarize: mean ± std over seeds per model, benchmark, direction; a repeated seed is an error", () => {
  const row = (model: string, seed: number, accuracy: number): ResultRow => ({
    run: `${model}-${seed}`,
    model,
    benchmark: "hs",
    direction: "S2S",
    accuracy,
    n: 100,
    seed,
  });
  const s = summarize([row("lst", 0, 0.4), row("base", 0, 0.3), row("lst", 1, 0.42), row("lst", 2, 0.44)]);
  assert.deepEqual(
    s.map((x) => [x.model, x.n, x.seeds]),
    [
      ["lst", 3, [0, 1, 2]],
      ["base", 1, [0]],
    ],
  );
  close(s[0].mean, 0.42);
  close(s[0].std, 0.02);
  assert.throws(() => summarize([row("lst", 0, 0.4), row("lst", 0, 0.5)]), /two rows for model 'lst'.*seed 0/);
  // the same model name under two group values is two cells
  const g = (v: string, seed: number): ResultRow => ({ ...row("lst", seed, 0.5), group: { mixRatio: v } });
  assert.equal(summarize([g("1:1", 0), g("1:2", 0)]).length, 2);
});
