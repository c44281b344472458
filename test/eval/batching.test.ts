import { test } from "node:test";
import assert from "node:assert/strict";
import { bucketLength, paddingWaste, planBatches } from "../../lib/eval/batching";
import { Rng } from "../../lib/rng";

test("bucketLength: the header's table, and every length fits its bucket", () => {
  const n = [5, 16, 17, 33, 65, 100, 129, 200, 257, 300, 513];
  assert.deepEqual(n.map(bucketLength), [16, 16, 20, 40, 80, 112, 160, 224, 320, 320, 640]);
  let prev = 0;
  for (let k = 1; k <= 2048; k++) {
    const b = bucketLength(k);
    assert.ok(b >= k && b >= prev, `bucket of ${k} is ${b}`);
    assert.ok(k <= 16 || b < 1.25 * k, `bucket of ${k} pads a quarter or more: ${b}`);
    prev = b;
  }
  assert.throws(() => bucketLength(0), /positive integer/);
});

test("planBatches: the worked example of the header (tokens and rows)", () => {
  const lengths = [3, 5, 20, 41, 45, 90, 100];
  const byLength = (plan: { rows: number[]; T: number }[]) => plan.map((b) => [b.rows.map((i) => lengths[i]), b.T]);
  assert.deepEqual(byLength(planBatches(lengths, 2, "tokens")), [
    [[3, 5, 20], 20],
    [[41, 45], 48],
    [[90, 100], 100],
  ]);
  assert.deepEqual(byLength(planBatches(lengths, 2, "rows")), [
    [[3, 5], 5],
    [[20, 41], 41],
    [[45, 90], 90],
    [[100], 100],
  ]);
  // waste of the token plan: 1 - 304 / (60 + 96 + 200)
  assert.ok(Math.abs(paddingWaste(lengths, planBatches(lengths, 2, "tokens")) - (1 - 304 / 356)) < 1e-12);
});

test("planBatches: every row once, within the budget, padded to a bucket; equal lengths keep their order", () => {
  const rng = new Rng(3);
  for (const batchSize of [1, 3, 16]) {
    const lengths = Array.from({ length: 300 }, () => 1 + rng.int(rng.next() < 0.5 ? 40 : 300));
    const longest = Math.max(...lengths);
    const budget = batchSize * Math.min(bucketLength(longest), longest);
    for (const batching of ["tokens", "rows"] as const) {
      const plan = planBatches(lengths, batchSize, batching);
      const all = plan.flatMap((b) => b.rows);
      assert.deepEqual(
        [...all].sort((a, b) => a - b),
        lengths.map((_, i) => i),
      );
      for (let k = 1; k < all.length; k++) {
        const [a, b] = [all[k - 1], all[k]];
        assert.ok(lengths[a] < lengths[b] || (lengths[a] === lengths[b] && a < b), "sorted, stable");
      }
      for (const b of plan) {
        assert.ok(b.rows.every((i) => lengths[i] <= b.T));
        if (batching === "rows") {
          assert.ok(b.rows.length <= batchSize);
          assert.equal(b.T, Math.max(...b.rows.map((i) => lengths[i])));
        } else {
          assert.ok(b.rows.length === 1 || b.rows.length * b.T <= budget, `${b.rows.length} x ${b.T} > ${budget}`);
          assert.ok(b.T === longest || b.T === bucketLength(b.T), `T ${b.T} is a bucket or the longest row`);
        }
      }
    }
    // the token plan runs fewer passes over few shapes
    const tokens = planBatches(lengths, batchSize, "tokens");
    const rows = planBatches(lengths, batchSize, "rows");
    assert.ok(tokens.length <= rows.length, `${tokens.length} token batches vs ${rows.length} row batches`);
    assert.ok(new Set(tokens.map((b) => b.T)).size <= new Set(rows.map((b) => b.T)).size);
  }
});

test("planBatches: edge cases and bad input", () => {
  assert.deepEqual(planBatches([], 4, "tokens"), []);
  assert.deepEqual(planBatches([7], 4, "tokens"), [{ rows: [0], T: 7 }]);
  // rows longer than a budget of one row still go one at a time
  assert.deepEqual(
    planBatches([50, 60], 1, "tokens").map((b) => b.rows.length),
    [1, 1],
  );
  assert.throws(() => planBatches([3], 0, "tokens"), /batchSize must be a positive integer, got 0/);
  assert.throws(() => planBatches([0], 2, "tokens"), /row 0 has 0 input positions/);
  assert.throws(() => planBatches([3], 2, "bytes" as "tokens"), /unknown batching 'bytes'/);
});
