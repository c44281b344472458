import { test } from "node:test";
import assert from "node:assert/strict";
import { reproductionReport, reportMarkdown, type Finding } from "../../lib/lab/report";
import type { ResultRow } from "../../lib/eval/metrics";

const f: Finding = { claim: "A > B", grid: "g", benchmark: "sc", direction: "T2T", higher: "A", lower: "B" };
const rows = (model: string, accs: number[]): ResultRow[] =>
  accs.map((accuracy, i) => ({ run: `${model}-${i}`, model, benchmark: "sc", direction: "T2T", accuracy, n: 100, seed: i + 1 }));

test("the worked example of the header reproduces", () => {
  const [r] = reproductionReport([...rows("A", [0.7, 0.74, 0.72]), ...rows("B", [0.5, 0.52, 0.54])], [f]);
  assert.equal(r.verdict, "reproduces");
  assert.ok(Math.abs(r.delta - 0.2) < 1e-12);
});

test("within noise is inconclusive, the opposite beyond noise contradicts, one seed gives only the sign (direction only / opposite direction), missing is not run", () => {
  assert.equal(reproductionReport([...rows("A", [0.5, 0.6, 0.55]), ...rows("B", [0.52, 0.5, 0.54])], [f])[0].verdict, "inconclusive");
  assert.equal(reproductionReport([...rows("A", [0.3, 0.31, 0.32]), ...rows("B", [0.5, 0.52, 0.54])], [f])[0].verdict, "contradicts");
  assert.equal(reproductionReport([...rows("A", [0.9]), ...rows("B", [0.5])], [f])[0].verdict, "direction only");
  assert.equal(reproductionReport([...rows("A", [0.5]), ...rows("B", [0.9])], [f])[0].verdict, "opposite direction");
  const missing = reproductionReport(rows("A", [0.9, 0.8]), [f])[0];
  assert.equal(missing.verdict, "not run");
  assert.match(reportMarkdown([missing]), /\| A > B \| sc T2T \|.*not run \|/);
});
