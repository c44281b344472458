import { test } from "node:test";
import assert from "node:assert/strict";
import { stageProgress } from "../../lib/viz/progress";

test("stage progress prints the start, about every 10% and the end, once each", () => {
  const lines: string[] = [];
  const p = stageProgress({ log: (l) => lines.push(l.replace(/ \(\d+ s\)$/, "")) });
  for (let i = 0; i <= 100; i++) p("train x", i, 100);
  p("train x", 100, 100);
  assert.equal(lines.length, 11);
  assert.equal(lines[0], "train x 0/100");
  assert.equal(lines[10], "train x 100/100");
  p("eval", 0, 1);
  p("eval", 1, 1);
  assert.deepEqual(lines.slice(11), ["eval 0/1", "eval 1/1"]);
});
