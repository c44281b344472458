import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { endingRow, endingNll, scoreEndings, rescore, argmax, normalise, truncateRow } from "../../lib/eval/score";
import type { EncodedItem } from "../../lib/data/bench-encode";
import type { LmSequence } from "../../lib/data/types";
import { BOS, SPEECH, TEXT } from "../../lib/tokenizers/special";
import { FakeLM } from "./fake-model";

/** A text-only LmSequence (no speech annotations). */
function seq(ids: number[], speech = false): LmSequence {
  const z = () => new Uint8Array(ids.length);
  const s = speech ? Uint8Array.from(ids.map(() => 1)) : z();
  const w = z();
  if (speech && ids.length > 0) w[0] = 1;
  return { ids: Int32Array.from(ids), isSpeech: s, wordStart: w, silence: z(), bpeStart: w.slice() };
}

function item(id: string, prompt: number[], endings: number[][], label: number, speech = false): EncodedItem {
  return {
    id,
    benchmark: "sc",
    direction: speech ? "S2S" : "T2T",
    type: "t",
    tier: 0,
    label,
    prompt: seq(prompt),
    endings: endings.map((e) => seq(e, speech)),
  };
}

before(async () => {
  await initBackend();
});

const A = 10;
const B_ = 11;
const C = 12;

test("endingRow: the worked example of the header (ending targets at positions np-1 .. np+ne-2)", async () => {
  const r = endingRow(seq([BOS, TEXT, A]), seq([B_, C]));
  assert.deepEqual([...r.seq.ids], [BOS, TEXT, A, B_, C]);
  assert.equal(r.from, 2);
  assert.equal(r.count, 2);
  // through the fake model: only the targets b (after a) and c (after b) are summed
  const m = new FakeLM("baseline", 20, { [`${A},${B_}`]: 1.5, [`${B_},${C}`]: 0.25 }, 100);
  const nll = await endingNll(m, [r], undefined, 4);
  assert.ok(Math.abs(nll[0] - 1.75) < 1e-6, `got ${nll[0]}`);
});

test("the ending with the higher likelihood is chosen", async () => {
  const m = new FakeLM("baseline", 20, { [`${A}`]: 1, [`${B_}`]: 3 });
  const [s0, s1] = await scoreEndings(m, [
    item("x", [BOS, TEXT, C], [[A], [B_]], 0),
    item("y", [BOS, TEXT, C], [[B_], [A]], 0),
  ]);
  assert.equal(s0.chosen, 0);
  assert.equal(s0.correct, true);
  assert.deepEqual(
    s0.nll.map((x) => Math.round(x * 1e6) / 1e6),
    [1, 3],
  );
  assert.equal(s1.chosen, 1);
  assert.equal(s1.correct, false);
});

test("per-token (mean) and sum normalisation disagree on endings of different lengths", async () => {
  // ending 0: one token of NLL 2 (sum 2, mean 2); ending 1: four tokens of NLL 1 (sum 4, mean 1)
  const m = new FakeLM("baseline", 20, { [`${A}`]: 2, [`${B_}`]: 1 });
  const it = item("x", [BOS, TEXT, C], [[A], [B_, B_, B_, B_]], 1);
  const [mean] = await scoreEndings(m, [it], { norm: "mean" });
  const [sum] = await scoreEndings(m, [it], { norm: "sum" });
  assert.equal(mean.chosen, 1);
  assert.equal(sum.chosen, 0);
  assert.deepEqual(mean.nTokens, [1, 4]);
  // rescore re-decides without the model
  assert.equal(rescore([mean], "sum")[0].chosen, 0);
});

test("pmi: the prompt's effect on each ending decides, not the ending's prior likelihood", async () => {
  // prompt ends with C. ending A: NLL 1 after C and 1 after <t> (the prompt does not help, pmi 0);
  // ending B: NLL 2 after C but 4 after <t> (the prompt helps by 2 nats, pmi +2)
  const m = new FakeLM("baseline", 20, {
    [`${C},${A}`]: 1,
    [`${TEXT},${A}`]: 1,
    [`${C},${B_}`]: 2,
    [`${TEXT},${B_}`]: 4,
  });
  const it = item("x", [BOS, TEXT, C], [[A], [B_]], 1);
  const [mean] = await scoreEndings(m, [it], { norm: "mean" });
  const [pmi] = await scoreEndings(m, [it], { norm: "pmi" });
  assert.equal(mean.chosen, 0);
  assert.equal(pmi.chosen, 1);
  assert.deepEqual(pmi.nllUncond, [1, 4]);
  assert.deepEqual(pmi.scores, [0, 2]);
});

test("pmi: a speech ending is scored unconditionally after BOS <s>", async () => {
  const m = new FakeLM("baseline", 20, { [`${SPEECH},${A}`]: 0.5 }, 3);
  const it = item("x", [BOS, SPEECH, C], [[A], [B_]], 0, true);
  const [pmi] = await scoreEndings(m, [it], { norm: "pmi" });
  assert.deepEqual(pmi.nllUncond, [0.5, 3]);
});

test("batching does not change the scores; rows come back in input order", async () => {
  const table: Record<string, number> = {};
  for (let i = 10; i < 16; i++) table[`${i}`] = (i - 9) * 0.5;
  const items = [
    item("a", [BOS, TEXT, 10, 11, 12], [[13], [14, 15]], 0),
    item("b", [BOS, TEXT], [[15, 15, 15], [10]], 1),
    item("c", [BOS, TEXT, 12], [[11], [12], [13], [14]], 2),
  ];
  const one = await scoreEndings(new FakeLM("baseline", 20, table), items, { batchSize: 1 });
  const many = new FakeLM("baseline", 20, table);
  const all = await scoreEndings(many, items, { batchSize: 64 });
  assert.deepEqual(
    all.map((s) => s.nll),
    one.map((s) => s.nll),
  );
  assert.equal(many.seen.length, 1);
  assert.equal(many.seen[0].B, 8);
  assert.deepEqual(
    all.map((s) => s.chosen),
    [0, 1, 0],
  );
});

test("LST needs a patcher (and gets patch ids); a baseline refuses one", async () => {
  const it = item("x", [BOS, TEXT, C], [[A], [B_]], 0);
  const lst = new FakeLM("lst", 20, { [`${A}`]: 1 });
  await assert.rejects(() => scoreEndings(lst, [it]), /needs an eval patcher/);
  const ones = (s: LmSequence) => new Int32Array(s.ids.length).fill(1);
  const [s] = await scoreEndings(lst, [it], { patcher: ones });
  assert.equal(s.chosen, 0);
  assert.ok(lst.seen[0].patchIds !== undefined);
  await assert.rejects(() => scoreEndings(new FakeLM("baseline", 20, {}), [it], { patcher: ones }), /takes no patcher/);
});

test("bad items and options are refused with the reason", async () => {
  const m = new FakeLM("baseline", 20, {});
  await assert.rejects(() => scoreEndings(m, [item("x", [BOS], [[A]], 0)]), /at least 2/);
  await assert.rejects(() => scoreEndings(m, [item("x", [BOS], [[A], [B_]], 2)]), /label 2/);
  await assert.rejects(() => scoreEndings(m, [item("x", [BOS], [[A], [B_]], 0)], { batchSize: 0 }), /batchSize/);
});

test("helpers: argmax takes the first of ties; normalise", () => {
  assert.equal(argmax([1, 3, 3]), 1);
  assert.deepEqual(normalise("mean", [4, 2], [2, 1]), [-2, -2]);
  assert.throws(() => normalise("pmi", [1], [1]), /unconditional/);
});

test("scoring leaks no tensors", async () => {
  const m = new FakeLM("baseline", 20, { [`${A}`]: 1 });
  const items = [item("x", [BOS, TEXT, C], [[A], [B_]], 0), item("y", [BOS, TEXT], [[A, A], [B_]], 1)];
  await scoreEndings(m, items, { batchSize: 1 });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await scoreEndings(m, items, { batchSize: 1, norm: "pmi" });
  assert.equal(tf.memory().numTensors, before);
});

test("maxLen: the worked example of the header (keep BOS and the marker, drop the oldest prompt tokens)", () => {
  const [u1, u2, u3, e1, e2] = [20, 21, 22, 23, 24];
  const prompt: LmSequence = {
    ...seq([BOS, SPEECH, u1, u2, u3]),
    isSpeech: Uint8Array.from([0, 0, 1, 1, 1]),
    wordStart: Uint8Array.from([0, 0, 1, 0, 0]),
  };
  const { row, dropped } = truncateRow(endingRow(prompt, seq([e1, e2], true)), 4);
  assert.equal(dropped, 2);
  assert.deepEqual([...row.seq.ids], [BOS, SPEECH, u3, e1, e2]);
  assert.equal(row.from, 2);
  assert.equal(row.count, 2);
  assert.deepEqual([...row.seq.wordStart], [0, 0, 1, 1, 0], "the first kept frame starts a segment");
  // a row that fits is left alone; an ending that cannot fit is an error naming the smallest maxLen
  assert.equal(truncateRow(endingRow(prompt, seq([e1, e2], true)), 6).dropped, 0);
  assert.throws(() => truncateRow(endingRow(prompt, seq([e1, e2, e1, e2], true)), 4), /raise maxLen to at least 5/);
});

test("maxLen: scores equal those of the cut prompt, and the cut is recorded", async () => {
  const m = new FakeLM("baseline", 40, { [`${A}`]: 1, [`${B_}`]: 2, [`${C},${A}`]: 0.5 });
  const long = item("x", [BOS, TEXT, 30, 31, 32, C], [[A], [B_, B_]], 0);
  const cut = item("x", [BOS, TEXT, 32, C], [[A], [B_, B_]], 0);
  const [a] = await scoreEndings(m, [long], { maxLen: 5, norm: "pmi" });
  const [b] = await scoreEndings(m, [cut], { norm: "pmi" });
  assert.deepEqual(a.nll, b.nll);
  assert.deepEqual(a.nllUncond, b.nllUncond);
  assert.equal(a.truncated, 2);
  assert.equal(b.truncated, undefined);
  await assert.rejects(() => scoreEndings(m, [long], { maxLen: -1 }), /maxLen/);
});
