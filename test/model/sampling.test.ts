import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../lib/rng";
import { GREEDY, checkSampling, samplingDistribution, sampleToken } from "../../lib/model/sampling";

/** An Rng whose draws are given. */
const draws = (...us: number[]) => ({ next: () => us.shift() as number }) as unknown as Rng;
const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => Math.round(x * 1000) / 1000);

test("sampling: the worked example of sampling.ts (logits [1, 3, 2, 0])", () => {
  const logits = [1, 3, 2, 0];
  assert.equal(sampleToken(logits, GREEDY, draws()), 1);
  assert.deepEqual(
    round(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 1 })),
    [0.087, 0.644, 0.237, 0.032],
  );
  assert.deepEqual(round(samplingDistribution(logits, { temperature: 1, topK: 2, topP: 1 })), [0, 0.731, 0.269, 0]);
  assert.deepEqual(round(samplingDistribution(logits, { temperature: 1, topK: 0, topP: 0.8 })), [0, 0.644, 0.237, 0]);
  const topP = { temperature: 1, topK: 0, topP: 0.8 };
  assert.equal(sampleToken(logits, topP, draws(0.5)), 1);
  assert.equal(sampleToken(logits, topP, draws(0.9)), 2);
  // temperature sharpens (0.5) or flattens (2) the distribution
  assert.ok(samplingDistribution(logits, { temperature: 0.5, topK: 0, topP: 1 })[1] > 0.644);
  assert.ok(samplingDistribution(logits, { temperature: 2, topK: 0, topP: 1 })[1] < 0.644);
});

test("sampling: bans, ties, determinism per seed, and bad options", () => {
  assert.equal(sampleToken([1, 3, 3, 0], GREEDY, draws()), 1, "greedy takes the first of tied maxima");
  assert.equal(
    sampleToken([1, 3, 2, 0], GREEDY, draws(), (id) => id === 1),
    2,
  );
  assert.throws(() => sampleToken([1, 2], GREEDY, draws(), () => true), /every token is banned/);
  assert.throws(() => sampleToken([1, NaN], GREEDY, draws()), /logit 1 is NaN/);
  const logits = Array.from({ length: 50 }, (_, i) => Math.sin(i));
  const opts = { temperature: 1, topK: 20, topP: 0.9 };
  const run = (seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: 30 }, () => sampleToken(logits, opts, rng));
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
  // top-k 20 never picks outside the 20 largest logits
  const kept = new Set(
    Array.from(logits.keys())
      .sort((a, b) => logits[b] - logits[a])
      .slice(0, 20),
  );
  for (const id of run(3)) assert.ok(kept.has(id));
  assert.throws(() => checkSampling({ temperature: -1, topK: 0, topP: 1 }), /temperature must be a finite number >= 0/);
  assert.throws(() => checkSampling({ temperature: 1, topK: 1.5, topP: 1 }), /topK must be an integer >= 0/);
  assert.throws(() => checkSampling({ temperature: 1, topK: 0, topP: 1.5 }), /topP must be in \(0, 1\]/);
});
