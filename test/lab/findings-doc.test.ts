import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import path from "path";
import { detectable, normalQuantile, seedsToDetect } from "../../lib/eval/detectable";
import { gapDiffs, type ItemOutcome, type RunItems } from "../../lib/eval/paired";
import { FINDINGS, GAP_FINDINGS, PAPER_FINDINGS, findingId, type Finding } from "../../lib/experiment/findings";
import { findingsReport } from "../../lib/experiment/verdicts";
import {
  RESULT_SECTIONS,
  SECTION7,
  docVerdictRows,
  docVerdicts,
  readBlock,
  replaceBlock,
  sectionBlock,
  sectionOf,
  summaryMarkdown,
  verdictLine,
} from "../../lib/experiment/results-doc";
import { dropSuperseded } from "../../lib/experiment/old-rows";
import { SCALES } from "../../lib/experiment/experiment";
import { gridEntries } from "../../lib/experiment/grids";

const ROOT = path.resolve(__dirname, "../..");
const RESULTS_MD = path.join(ROOT, "docs", "results.md");

/** Runs of a model on `bench` `dir` cells, one per seed: item i is right when right(seed, i). */
function runs(
  model: string,
  seeds: number[],
  right: (seed: number, i: number) => boolean,
  n = 200,
  cells: [string, ItemOutcome["direction"]][] = [["hs", "S2S"]],
): RunItems[] {
  return seeds.map((seed) => {
    const items: ItemOutcome[] = [];
    for (const [benchmark, direction] of cells)
      for (let i = 0; i < n; i++)
        items.push({ id: `${benchmark}-${i}`, benchmark, direction, correct: right(seed, i) });
    return { run: `${model}-${seed}`, model, seed, items };
  });
}

test("normalQuantile: the two quantiles an MDE uses, symmetry and the tails", () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.8) - 0.841621) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.01) + 2.326348) < 1e-6);
  assert.equal(normalQuantile(0.5), 0);
  assert.throws(() => normalQuantile(1), /p must be in \(0, 1\)/);
});

test("detectable and seedsToDetect: the worked example in paired.ts", () => {
  // 3 seeds of 200 items of ±0.5 (variance 0.25) shifted to seed means 0, 0.02, 0.04
  const diffs = [0, 0.02, 0.04].map((m) => Array.from({ length: 200 }, (_, i) => m + (i % 2 ? 0.5 : -0.5)));
  const d = detectable(diffs);
  assert.ok(Math.abs(d.itemVar - 0.00125) < 1e-12, `${d.itemVar}`);
  assert.ok(Math.abs(d.seedVar - 0.00125) < 1e-12, "the item noise bounds the seed variance from below");
  assert.ok(Math.abs(d.se - Math.sqrt(0.00125 / 3)) < 1e-12);
  assert.ok(Math.abs(d.mde - 0.0572) < 5e-4, `${d.mde}`);
  assert.equal(seedsToDetect(d, 0.03), 11);
  // 4x the items quarters the item noise (no seed-to-seed part here): 3 seeds
  assert.equal(seedsToDetect(d, 0.03, 800), 3);
  // a seed-to-seed spread larger than the item noise is what sets the seeds
  const spread = [0, 0.1, 0.2].map((m) => Array.from({ length: 200 }, (_, i) => m + (i % 2 ? 0.5 : -0.5)));
  const s = detectable(spread);
  assert.ok(Math.abs(s.seedVar - 0.01) < 1e-12);
  assert.equal(seedsToDetect(s, 0.05), Math.ceil(0.01 * (s.z / 0.05) ** 2));
  assert.throws(() => seedsToDetect(s, 0), /effect must be > 0/);
  // identical answers everywhere: no variance, nothing to scale
  assert.ok(Number.isNaN(seedsToDetect(detectable([[0, 0, 0]]), 0.05)));
});

test("gapDiffs: (A - B) - (C - D) per seed and item, matched by id; a seed missing one model is left out", () => {
  const a = runs("A", [1, 2], (_, i) => i < 60, 100);
  const b = runs("B", [1, 2], (_, i) => i < 20, 100);
  const c = runs("C", [1, 2, 3], (_, i) => i < 30, 100);
  const d = runs("D", [1, 2, 3], (_, i) => i < 20, 100);
  // reversed item order in one run changes nothing: items are matched by id
  d[0] = { ...d[0], items: [...d[0].items].reverse() };
  const g = gapDiffs(a, b, c, d, "hs", "S2S");
  assert.deepEqual(g.seeds, [1, 2]);
  assert.deepEqual(g.unpaired, [3]);
  const mean = g.diffs[0].reduce((s, x) => s + x, 0) / 100;
  assert.ok(Math.abs(mean - (0.4 - 0.1)) < 1e-12);
});

test("findings: unique ids, a §7 direction and a paper exhibit each, a section each, cells that their grid runs", () => {
  const ids = FINDINGS.map(findingId);
  assert.equal(new Set(ids).size, ids.length, "finding ids are unique");
  const small = SCALES.small;
  for (const f of FINDINGS) {
    const id = findingId(f);
    assert.ok(f.section && SECTION7[f.section], `${id}: section '${f.section}' is a §7 direction`);
    assert.ok(f.paper, `${id}: names the paper's exhibit`);
    assert.ok(sectionOf(f), id);
    const names = new Set(gridEntries(f.grid, small, true).map((e) => e.spec.name));
    for (const m of [f.higher, f.lower, ...(f.minus ? [f.minus.higher, f.minus.lower] : [])])
      assert.ok(
        names.has(m),
        `${id}: '${m}' is a run of grid '${f.grid}' at the small scale (${[...names].join(", ")})`,
      );
    if (f.paperEffect !== undefined) assert.ok(f.paperEffect > 0 && f.paperEffect < 0.2, `${id}: a fraction`);
  }
  assert.equal(FINDINGS.length, PAPER_FINDINGS.length + GAP_FINDINGS.length);
  assert.ok(PAPER_FINDINGS.every((f) => f.minus === undefined) && GAP_FINDINGS.every((f) => f.minus !== undefined));
});

test("F3 and F7 are findings: the data-controlled comparison exactly, and 1:2 against both neighbours per model", () => {
  const ids = FINDINGS.map(findingId);
  assert.ok(ids.includes("budget:lst-static>baseline-data:hs-macro"));
  for (const m of ["lst-static", "baseline"])
    for (const r of ["1-3", "1-1"]) assert.ok(ids.includes(`mixRatio:${m}>${m}-mix-${r}:hs-macro`), `${m} ${r}`);
});

test("findingsReport: a two-cell row as report.ts gives it, a gap row, MDE and the seeds for the paper's effect", () => {
  const plain: Finding = {
    claim: "A > B",
    grid: "g",
    benchmark: "hs",
    direction: "S2S",
    higher: "A",
    lower: "B",
    section: "7.1",
    paper: "Tab. 3",
    paperEffect: 0.05,
  };
  const gap: Finding = { ...plain, claim: "the gap widens", minus: { higher: "C", lower: "D" } };
  const notRun: Finding = { ...plain, higher: "X" };
  const items = [
    ...runs("A", [1, 2, 3], (s, i) => i < 80 + 2 * s),
    ...runs("B", [1, 2, 3], (_, i) => i < 70),
    ...runs("C", [1, 2, 3], (_, i) => i < 75),
    ...runs("D", [1, 2, 3], (_, i) => i < 70),
  ];
  const [p, g, n] = findingsReport(items, [plain, gap, notRun], { resamples: 500 });
  assert.equal(p.id, "g:A>B:hs-S2S");
  assert.ok(Math.abs(p.delta - 0.07) < 1e-12, `${p.delta}`);
  assert.equal(p.verdict, "reproduces");
  assert.ok(p.detectable && p.detectable.seeds === 3 && p.detectable.items === 200);
  assert.equal(p.seedsForPaper, seedsToDetect(p.detectable, 0.05));
  assert.equal(g.id, "g:(A-B)>(C-D):hs-S2S");
  assert.equal(g.higher, "A-B");
  assert.ok(Math.abs(g.delta - (0.07 - 0.025)) < 1e-12, `${g.delta}`);
  assert.ok(Math.abs(g.meanHigher - 0.07) < 1e-12 && Math.abs(g.meanLower - 0.025) < 1e-12);
  assert.equal(n.verdict, "not run");
  assert.equal(n.detectable, null);
  assert.ok(Number.isNaN(n.seedsForPaper));
});

test("results doc: a block is replaced between its markers, verdict rows parse back, the summary rolls them up", () => {
  const f = FINDINGS[0];
  const [row] = findingsReport(
    runs(f.higher, [1], (_, i) => i < 60).concat(runs(f.lower, [1], (_, i) => i < 50)),
    [f],
    {
      resamples: 200,
    },
  );
  const line = verdictLine(row, "small");
  const doc = [
    "# r",
    "<!-- summary begin -->",
    "old",
    "<!-- summary end -->",
    "<!-- results:tab3:small begin -->",
    "old",
    "<!-- results:tab3:small end -->",
    "| claim (`" +
      findingId(FINDINGS[1]) +
      "`) | +4.1 | – | – | not re-paired (old rule: 2 spreads) | small, commit abc1234 | – | – |",
  ].join("\n");
  const out = replaceBlock(doc, "results:tab3:small", sectionBlock(RESULT_SECTIONS[0], "small", [], [row], []));
  assert.ok(readBlock(out, "results:tab3:small")?.includes(line));
  assert.ok(readBlock(out, "results:tab3:small")?.includes("`npm start`"), "a section without runs names its commands");
  assert.equal(readBlock(out, "summary"), "old");
  assert.throws(() => replaceBlock(doc, "results:nope:small", "x"), /no '<!-- results:nope:small begin -->'/);
  const rows = docVerdictRows(out);
  assert.deepEqual(
    rows.map((r) => [r.id, r.verdict, r.scale]),
    [
      [findingId(f), row.verdict, "small"],
      [findingId(FINDINGS[1]), "not re-paired", "small"],
    ],
  );
  const v = docVerdicts(out);
  assert.equal(v.get(findingId(FINDINGS[2]))?.verdict, "not run");
  const summary = summaryMarkdown(out);
  assert.match(summary, /\| 7\.1 model type: LST vs baseline, BPE speech \| .*1 not re-paired \(old rule\)/);
  assert.match(summary, /\| 7\.8 within-interleave span ratio \| not tested/);
});

test("docs/results.md lists every finding of findings.ts as a verdict row, and README.md carries its summary", () => {
  const doc = fs.readFileSync(RESULTS_MD, "utf8");
  const listed = new Set(docVerdictRows(doc).map((r) => r.id));
  const missing = FINDINGS.map(findingId).filter((id) => !listed.has(id));
  assert.deepEqual(missing, [], "every finding has a verdict row in docs/results.md (npm run results writes them)");
  for (const s of RESULT_SECTIONS) {
    assert.ok(doc.includes(`## ${s.title}`), `docs/results.md has the section '${s.title}'`);
    for (const c of s.commands) assert.ok(doc.includes(c), `section ${s.id} gives its command '${c}'`);
  }
  assert.equal(readBlock(doc, "summary"), summaryMarkdown(doc, FINDINGS, ""), "docs/results.md's summary is current");
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  assert.equal(
    readBlock(readme, "summary"),
    summaryMarkdown(doc, FINDINGS, "docs/results.md"),
    "README.md's summary is docs/results.md's (npm run results rewrites both)",
  );
});

test("dropSuperseded: an old-rule row goes once its id has a paired row; a table left empty goes whole", () => {
  const [a, b, c] = FINDINGS.map(findingId);
  const row = (id: string, verdict: string) =>
    `| claim (\`${id}\`) | +1.0 | – | – | ${verdict} | small, 3 seeds | – | – |`;
  const head = [
    "| finding (id) | paper Δ | paired Δ [95% CI] | p | verdict | measured | MDE | seeds |",
    "|---|---|---|---|---|---|---|---|",
  ];
  // the paired rows of a section, then its "Earlier measurements" (the same in the input and the output)
  const paired = ["## s", ...head, row(a, "**inconclusive**"), row(b, "**reproduces**"), "", "### Earlier", ""];
  const oldC = row(c, "not re-paired (old rule: 2 spreads)");
  const doc = [
    ...paired,
    ...[...head, row(a, "not re-paired (old rule: 2 spreads)"), oldC, ""], // a's old row goes, c's stays
    ...["text between", ""],
    ...[...head, row(b, "not re-paired (no test then)"), ""], // b's only old row: the whole table goes
    "end",
  ].join("\n");
  const { doc: out, dropped } = dropSuperseded(doc);
  assert.deepEqual(dropped, [a, b]);
  assert.equal(out, [...paired, ...head, oldC, "", "text between", "", "end"].join("\n"));
  assert.deepEqual(dropSuperseded(out), { doc: out, dropped: [] }, "a second pass changes nothing");
});

test("docs/results.md keeps no old-rule row that a paired row has superseded (npm run results drops them)", () => {
  const doc = fs.readFileSync(RESULTS_MD, "utf8");
  assert.deepEqual(dropSuperseded(doc).dropped, []);
});
