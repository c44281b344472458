import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PhonemeInventory,
  phoneticUnits,
  normalizePhoneme,
  PHONE_SILENCE,
  PHONE_UNK,
} from "../../lib/tokenizers/phonetic";
import { createTts, TRAIN_VOICES } from "../../lib/audio/tts";
import type { Utterance } from "../../lib/data/types";

function utt(phonemes: [string, number, number, number][], seconds: number): Utterance {
  return {
    text: "cat",
    voice: "test",
    sampleRate: 16000,
    audio: new Float32Array(Math.round(seconds * 16000)),
    words: [{ word: "cat", start: 0, end: 0.13, charStart: 0, charEnd: 3 }],
    phonemes: phonemes.map(([phoneme, start, end, wordIndex]) => ({ phoneme, start, end, wordIndex })),
  };
}

test("worked example: k 0-0.05, æ 0.05-0.13, pause -> units [2, 3, 3, 0, 0]", () => {
  const u = utt(
    [
      ["k", 0, 0.05, 0],
      ["ˈæ", 0.05, 0.13, 0],
      ["_", 0.13, 0.2, -1],
    ],
    0.2,
  );
  const inv = PhonemeInventory.fromUtterances([u]);
  assert.equal(inv.size, 4); // silence, <unk>, k, æ
  assert.equal(inv.id("k"), 2);
  assert.equal(inv.id("æ"), 3);
  assert.equal(inv.id("ˌæ"), 3);
  assert.equal(inv.id("_"), PHONE_SILENCE);
  assert.equal(inv.id("ʒ"), PHONE_UNK);
  assert.equal(inv.symbol(3), "æ");
  assert.equal(normalizePhoneme("ˈaʊ"), "aʊ");
  assert.deepEqual(Array.from(phoneticUnits(u, { frameRate: 25, noise: 0, seed: 1, inventory: inv })), [2, 3, 3, 0, 0]);
});

test("unknown phonemes map to <unk>; uncovered frames are silence; JSON round trip", () => {
  const inv = PhonemeInventory.fromUtterances([utt([["k", 0, 0.05, 0]], 0.1)]);
  const u = utt([["ʒ", 0.04, 0.09, 0]], 0.12);
  assert.deepEqual(Array.from(phoneticUnits(u, { frameRate: 25, noise: 0, seed: 1, inventory: inv })), [
    PHONE_SILENCE,
    PHONE_UNK,
    PHONE_SILENCE,
  ]);
  const back = PhonemeInventory.fromJSON(JSON.parse(JSON.stringify(inv.toJSON())));
  assert.equal(back.size, inv.size);
  assert.equal(back.id("k"), inv.id("k"));
  assert.throws(() => PhonemeInventory.fromJSON({ format: "x" }), /not a 'lst-phoneme-inventory' object/);
  assert.throws(() => PhonemeInventory.fromUtterances([utt([], 0.1)]), /no phonemes/);
  assert.throws(() => inv.symbol(99), /id 99 is outside/);
});

test("noise substitutes about the requested fraction, never with <unk> or the same id, deterministically", () => {
  const ps: [string, number, number, number][] = [];
  const syms = ["a", "b", "c", "d", "e"];
  for (let i = 0; i < 400; i++) ps.push([syms[i % 5], i * 0.04, (i + 1) * 0.04, 0]);
  const u = utt(ps, 16);
  const inv = PhonemeInventory.fromUtterances([u]);
  const clean = phoneticUnits(u, { frameRate: 25, noise: 0, seed: 1, inventory: inv });
  const noisy = phoneticUnits(u, { frameRate: 25, noise: 0.3, seed: 1, inventory: inv });
  assert.deepEqual(noisy, phoneticUnits(u, { frameRate: 25, noise: 0.3, seed: 1, inventory: inv }));
  let changed = 0;
  for (let i = 0; i < clean.length; i++) {
    if (noisy[i] !== clean[i]) changed++;
    assert.notEqual(noisy[i], PHONE_UNK);
    assert.ok(noisy[i] >= 0 && noisy[i] < inv.size);
  }
  assert.ok(changed > 0.24 * clean.length && changed < 0.36 * clean.length, `${changed}/${clean.length} changed`);
  assert.throws(
    () => phoneticUnits(u, { frameRate: 25, noise: 2, seed: 1, inventory: inv }),
    /noise must be in \[0, 1\]/,
  );
});

test("on synthesized speech: frame count as for acoustic units, words mostly non-silent", async () => {
  const tts = await createTts();
  const u = tts.synthesize("dora took her purple cup to the castle.", TRAIN_VOICES[0]);
  const inv = PhonemeInventory.fromUtterances([u]);
  const units = phoneticUnits(u, { frameRate: 25, noise: 0, seed: 1, inventory: inv });
  assert.equal(units.length, Math.round((u.audio.length / 16000) * 25));
  const w = u.words[4]; // "purple"
  const inside = Array.from(units.slice(Math.round(w.start * 25), Math.round(w.end * 25)));
  assert.ok(inside.length > 0 && inside.every((x) => x >= 2), `units of 'purple': ${inside}`);
});
