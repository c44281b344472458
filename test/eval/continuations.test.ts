import { test } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend";
import { createModel } from "../../lib/model/create";
import { staticRule, type Generation } from "../../lib/model/generate";
import { BOS, EOS, SPEECH, TEXT, makeVocab } from "../../lib/tokenizers/special";
import { PHONE_SILENCE } from "../../lib/tokenizers/phonetic";
import { continueFrom, inLexiconRow, promptFor, type Continuation } from "../../lib/eval/continuations";
import { PhoneLexicon, collapseRuns, editDistance, transcribe, unitAgreement } from "../../lib/eval/transcribe";
import { continuationPatches } from "../../lib/viz/continuation-figure";

const vocab = makeVocab(30, 18); // text ids 0..29, units 0..17 = LM ids 30..47
/** A text codec over ids 5..29: each letter a..y is one id. */
const codec = {
  encode: (t: string) => Array.from(t.replace(/[^a-y]/g, ""), (ch) => 5 + ch.charCodeAt(0) - 97),
  decode: (ids: ArrayLike<number>) => Array.from(ids, (id) => String.fromCharCode(97 + id - 5)).join(""),
};

test("promptFor: the four directions of continuations.ts, and bad prompts named with the fix", () => {
  assert.deepEqual(Array.from(promptFor("T2T", { text: " ab " }, codec, vocab)), [BOS, TEXT, 5, 6]);
  assert.deepEqual(Array.from(promptFor("T2S", { text: "ab" }, codec, vocab)), [BOS, TEXT, 5, 6, SPEECH]);
  assert.deepEqual(Array.from(promptFor("S2T", { units: [0, 17] }, codec, vocab)), [BOS, SPEECH, 30, 47, TEXT]);
  assert.deepEqual(Array.from(promptFor("S2S", { units: [3] }, codec, vocab)), [BOS, SPEECH, 33]);
  assert.throws(() => promptFor("T2S", { text: "  " }, codec, vocab), /empty prompt: a T2S prompt is text/);
  assert.throws(() => promptFor("S2S", { units: [] }, codec, vocab), /empty prompt: a S2S prompt is speech/);
  assert.throws(
    () => promptFor("S2S", { units: [18] }, codec, vocab),
    /unknown speech unit id 18: this vocabulary has 18 units/,
  );
  assert.throws(() => promptFor("X2Y" as never, { text: "a" }, codec, vocab), /unknown direction 'X2Y'/);
});

test("transcribe: the worked example of transcribe.ts, with and without one-phoneme words", () => {
  const lex = new PhoneLexicon();
  lex.add("kite", [2, 3, 4]);
  lex.add("the", [5, 6]);
  lex.add("a", [6]);
  const units = [0, 5, 5, 6, 2, 2, 3, 3, 4, 0, 0, 6, 7, 7, 0];
  const t = transcribe(units, lex);
  assert.deepEqual([t.text, t.words, t.phonemes, t.covered], ["the kite | ?", ["the", "kite"], 7, 5]);
  const t1 = transcribe(units, lex, 1);
  assert.deepEqual([t1.text, t1.covered], ["the kite | a ?", 6]);
  assert.deepEqual(transcribe([PHONE_SILENCE, PHONE_SILENCE], lex), { text: "", words: [], phonemes: 0, covered: 0 });
  // the pooled row: 5 + 0 of 7 + 2 phonemes covered
  const row = inLexiconRow("m", "T2S", [Int32Array.from(units), Int32Array.of(8, 9)], lex);
  assert.deepEqual([row.phonemes, row.inLexicon, row.distinctWords, row.meanUnits], [9, 5 / 9, 2, 8.5]);
});

test("unit strings: edit distance, agreement, runs collapsed (the examples in transcribe.ts)", () => {
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
  assert.ok(Math.abs(unitAgreement([1, 2, 3], [1, 3]) - 2 / 3) < 1e-12);
  assert.equal(unitAgreement([], []), 1);
  assert.deepEqual(collapseRuns([3, 3, 7, 7, 3]), [3, 7, 3]);
});

test("continuationPatches: the worked example of continuation-figure.ts (a patch continued from the prompt)", () => {
  const ids = Int32Array.from([BOS, SPEECH, 30, 31, 32, 33, 34, 35]);
  const c = {
    generation: { prompt: ids.slice(0, 5), patchLengths: Int32Array.from([1, 1, 2, 3, 1]) } as Generation,
    sequence: { isSpeech: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1]) } as Continuation["sequence"],
  };
  assert.deepEqual(continuationPatches(c), [2, 1]);
  assert.deepEqual(continuationPatches({ ...c, generation: { ...c.generation, patchLengths: null } }), []);
});

test("continueFrom: a spoken continuation decoded, with LST's patch starts marked for display", async () => {
  await initBackend();
  const model = createModel({
    kind: "lst",
    vocabSize: vocab.size,
    dModel: 32,
    nLayers: 1,
    nHeads: 2,
    maxSeqLen: 64,
    lst: { dLocal: 16, nHeadsLocal: 2, decoderLayers: 1, unitOffset: vocab.unitOffset, textPath: "global" },
  });
  const opts = { rule: staticRule(2), maxTokens: 6, minTokens: 6, seed: 4 };
  const c = await continueFrom(model, "T2S", { text: "ab" }, { bpe: codec, vocab }, opts);
  assert.equal(c.units.length, 6, "minTokens keeps the continuation in speech");
  assert.ok(c.units.every((u) => u >= 0 && u < 18));
  assert.deepEqual(Array.from(c.sequence.ids.slice(0, 5)), [BOS, TEXT, 5, 6, SPEECH]);
  // static p = 2 after <s>: patch starts at continuation units 0, 2, 4
  assert.deepEqual(Array.from(c.sequence.wordStart.slice(5)), [1, 0, 1, 0, 1, 0]);
  assert.deepEqual(Array.from(c.generation.patchLengths as Int32Array), [1, 1, 1, 1, 1, 2, 2, 2]);
  const s2t = await continueFrom(model, "S2T", { units: [1, 2] }, { bpe: codec, vocab }, { ...opts, stopOnEos: true });
  assert.deepEqual(Array.from(s2t.promptUnits), [1, 2]);
  assert.ok(s2t.generation.ids.every((id) => id < vocab.unitOffset && id !== EOS));
  assert.equal(s2t.text, codec.decode(s2t.generation.ids));
  model.dispose();
});
