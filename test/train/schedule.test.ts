import { test } from "node:test";
import assert from "node:assert/strict";
import { lrAt } from "../../lib/train/schedule";

test("worked example of the header: lr 1, warmup 2, total 6, min 0.01", () => {
  const s = { lr: 1, warmupSteps: 2, totalSteps: 6, minLrRatio: 0.01 };
  const got = [0, 1, 2, 3, 4, 5].map((t) => lrAt(t, s));
  const want = [0.5, 1, 1, 0.7525, 0.2575, 0.01];
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `step ${i}: ${g} vs ${want[i]}`));
});

test("paper recipe: peak 4e-4 after 2,000 warmup steps, 0.01x at the end, monotone decay", () => {
  const s = { lr: 4e-4, warmupSteps: 2000, totalSteps: 200000, minLrRatio: 0.01 };
  assert.ok(Math.abs(lrAt(999, s) - 2e-4) < 1e-15);
  assert.equal(lrAt(2000, s), 4e-4);
  assert.ok(Math.abs(lrAt(199999, s) - 4e-6) < 1e-15);
  assert.ok(Math.abs(lrAt(2000 + 197999 / 2, s) - (4e-6 + 0.5 * (4e-4 - 4e-6))) < 1e-12);
  let prev = Infinity;
  for (let t = 2000; t < 200000; t += 997) {
    const lr = lrAt(t, s);
    assert.ok(lr <= prev);
    prev = lr;
  }
});

test("edge cases: no warmup, a single step, bad values", () => {
  assert.equal(lrAt(0, { lr: 1, warmupSteps: 0, totalSteps: 1, minLrRatio: 0.01 }), 1);
  assert.equal(lrAt(0, { lr: 1, warmupSteps: 0, totalSteps: 3, minLrRatio: 0.1 }), 1);
  assert.ok(Math.abs(lrAt(2, { lr: 1, warmupSteps: 0, totalSteps: 3, minLrRatio: 0.1 }) - 0.1) < 1e-12);
  assert.throws(() => lrAt(0, { lr: 1, warmupSteps: 0, totalSteps: 3, minLrRatio: 2 }), /minLrRatio/);
  assert.throws(() => lrAt(0, { lr: 1, warmupSteps: 0.5, totalSteps: 3, minLrRatio: 0 }), /warmupSteps/);
});
