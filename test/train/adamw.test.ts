import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { AdamW, DEFAULT_ADAMW } from "../../lib/train/adamw";
import { Rng } from "../../lib/rng";

/** Plain-JS AdamW (float64) with global-norm clipping and decay on rank >= 2 only: the reference. */
function referenceSteps(init: number[][], decay: boolean[], grads: number[][][], lrs: number[]): number[][] {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd, clip } = DEFAULT_ADAMW;
  const w = init.map((x) => x.slice());
  const m = init.map((x) => x.map(() => 0));
  const v = init.map((x) => x.map(() => 0));
  grads.forEach((g, s) => {
    const t = s + 1;
    const norm = Math.sqrt(g.flat().reduce((a, x) => a + x * x, 0));
    const scale = norm > clip ? clip / norm : 1;
    w.forEach((wi, i) => {
      for (let j = 0; j < wi.length; j++) {
        const gij = g[i][j] * scale;
        m[i][j] = b1 * m[i][j] + (1 - b1) * gij;
        v[i][j] = b2 * v[i][j] + (1 - b2) * gij * gij;
        const upd = m[i][j] / (1 - b1 ** t) / (Math.sqrt(v[i][j] / (1 - b2 ** t)) + eps);
        if (decay[i]) wi[j] *= 1 - lrs[s] * wd;
        wi[j] -= lrs[s] * upd;
      }
    });
  });
  return w;
}

test("matches a plain-JS AdamW over 4 steps, with clipping active and decay on matrices only", async () => {
  await initBackend();
  const rng = new Rng(1);
  const gain = tf.variable(tf.tensor1d([1, -0.5, 0.25]), true, "t.adamw.gain");
  const mat = tf.variable(tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]), true, "t.adamw.mat");
  const opt = new AdamW([gain, mat]);
  const init = [Array.from(gain.dataSync()), Array.from(mat.dataSync())];
  const grads: number[][][] = [];
  const lrs = [0.1, 0.05, 0.02, 0.01];
  for (let s = 0; s < 4; s++) {
    // steps 0 and 2 have norms above the clip (1.0), steps 1 and 3 below
    const k = s % 2 === 0 ? 3 : 0.2;
    const g = [[0, 0, 0].map(() => rng.normal() * k), [0, 0, 0, 0].map(() => rng.normal() * k)];
    grads.push(g);
    const named = { [gain.name]: tf.tensor1d(g[0]), [mat.name]: tf.tensor2d(g[1], [2, 2]) };
    const norm = await opt.gradNorm(named);
    assert.ok(Math.abs(norm - Math.sqrt(g.flat().reduce((a, x) => a + x * x, 0))) < 1e-5);
    opt.apply(named, lrs[s], norm);
    tf.dispose(named);
  }
  const ref = referenceSteps(init, [false, true], grads, lrs);
  Array.from(gain.dataSync()).forEach((x, j) =>
    assert.ok(Math.abs(x - ref[0][j]) < 1e-5, `gain[${j}] ${x} vs ${ref[0][j]}`),
  );
  Array.from(mat.dataSync()).forEach((x, j) =>
    assert.ok(Math.abs(x - ref[1][j]) < 1e-5, `mat[${j}] ${x} vs ${ref[1][j]}`),
  );
  assert.equal(opt.step, 4);
  opt.dispose();
  gain.dispose();
  mat.dispose();
});

test("state round trip: a restored optimiser continues identically", async () => {
  await initBackend();
  const a = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]), true, "t.adamw.a");
  const b = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]), true, "t.adamw.b");
  const optA = new AdamW([a]);
  const g = (name: string, x: number) => ({ [name]: tf.tensor2d([x, -x, 2 * x, 0.5], [2, 2]) });
  for (const x of [0.3, -0.7]) {
    const ga = g(a.name, x);
    optA.apply(ga, 0.01, await optA.gradNorm(ga));
    tf.dispose(ga);
  }
  b.assign(a);
  const state = await optA.getState();
  // the state is keyed by stable name: rename the slot to b's
  const optB = new AdamW([b]);
  optB.setState({ t: state.t, slots: state.slots.map((s) => ({ ...s, name: "t.adamw.b" })) });
  const ga = g(a.name, 1.1);
  const gb = g(b.name, 1.1);
  optA.apply(ga, 0.01, await optA.gradNorm(ga));
  optB.apply(gb, 0.01, await optB.gradNorm(gb));
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
  assert.throws(() => optB.setState(state), /'t.adamw.a'.*'t.adamw.b'/);
  assert.throws(() => optA.apply(ga, 0.01, NaN), /non-finite/);
  tf.dispose([ga, gb]);
  optA.dispose();
  optB.dispose();
  a.dispose();
  b.dispose();
});

test("worked example of the flat layout: shapes [3] and [2, 2] flatten to one 7-value gradient", async () => {
  await initBackend();
  const a = tf.variable(tf.zeros([3]), true, "t.adamw.flat.a");
  const b = tf.variable(tf.zeros([2, 2]), true, "t.adamw.flat.b");
  const opt = new AdamW([a, b]);
  assert.equal(opt.size, 7);
  const named = { [b.name]: tf.tensor2d([4, 5, 6, 7], [2, 2]), [a.name]: tf.tensor1d([1, 2, 3]) };
  const flat = opt.flatten(named);
  assert.deepEqual(Array.from(flat.dataSync()), [1, 2, 3, 4, 5, 6, 7]);
  // the state splits the flat moments back per parameter, in the parameters' order
  opt.apply(named, 0.1, await opt.gradNorm(named));
  const state = await opt.getState();
  assert.deepEqual(
    state.slots.map((s) => [s.name, s.m.length]),
    [
      ["t.adamw.flat.a", 3],
      ["t.adamw.flat.b", 4],
    ],
  );
  assert.ok(Math.abs(state.slots[1].m[3] - (0.1 * 7) / Math.sqrt(140)) < 1e-6, "m = (1 - b1) * clipped g");
  tf.dispose([flat, named[a.name], named[b.name]]);
  opt.dispose();
  a.dispose();
  b.dispose();
});

test("a step leaves no tensors behind, also when gradNorm is called without apply", async () => {
  await initBackend();
  const w = tf.variable(tf.ones([4, 4]), true, "t.adamw.count");
  const opt = new AdamW([w]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const g = { [w.name]: tf.fill([4, 4], 0.5) };
    opt.apply(g, 0.01, await opt.gradNorm(g));
    tf.dispose(g);
  }
  assert.equal(tf.memory().numTensors, before);
  const g = { [w.name]: tf.fill([4, 4], 0.5) };
  await opt.gradNorm(g); // a refused step: the kept flat gradients go with the optimiser
  tf.dispose(g);
  opt.dispose();
  assert.equal(tf.memory().numTensors, before - 2);
  w.dispose();
});

test("applyOnDevice (clip factor on the device, no host read) matches apply within float32 rounding", async () => {
  await initBackend();
  const a = tf.variable(tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]), true, "t.adamw.dev.a");
  const b = tf.variable(tf.tensor2d([0.1, 0.2, -0.3, 0.4], [2, 2]), true, "t.adamw.dev.b");
  const optA = new AdamW([a]);
  const optB = new AdamW([b]);
  const before = tf.memory().numTensors;
  // norms 5.5 (clipped) and 0.055 (not clipped)
  for (const x of [1, 0.01]) {
    const ga = { [a.name]: tf.tensor2d([x, -2 * x, 3 * x, 4 * x], [2, 2]) };
    const gb = { [b.name]: tf.tensor2d([x, -2 * x, 3 * x, 4 * x], [2, 2]) };
    optA.apply(ga, 0.05, await optA.gradNorm(ga));
    const normSq = optB.gradNormSquared(gb);
    optB.applyOnDevice(gb, 0.05, normSq);
    tf.dispose([normSq, ga, gb]);
  }
  assert.equal(tf.memory().numTensors, before);
  const [va, vb] = [Array.from(a.dataSync()), Array.from(b.dataSync())];
  va.forEach((x, j) => assert.ok(Math.abs(x - vb[j]) < 1e-6, `[${j}] ${x} vs ${vb[j]}`));
  assert.notDeepEqual(va, [0.1, 0.2, -0.3, 0.4]);
  [optA, optB, a, b].forEach((x) => x.dispose());
});
