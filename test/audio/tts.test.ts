import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createTts,
  textWords,
  timingsFromEvents,
  TRAIN_VOICES,
  TEST_VOICES,
  TTS_SAMPLE_RATE,
  type EspeakEvent,
} from "../../lib/audio/tts";
import type { Utterance } from "../../lib/data/types";

const STORY =
  "on monday dora took her purple cup to the castle. at the castle dora saw her friend hana. " +
  "hana wanted the cup, but dora said no. later dora drank from the cup at the castle.";

test("textWords: whitespace tokens with surrounding punctuation stripped, offsets into the text", () => {
  const ws = textWords(`hi, "bob"! -- ok`);
  assert.deepEqual(
    ws.map((w) => [w.word, w.charStart, w.charEnd]),
    [
      ["hi", 0, 2],
      ["bob", 5, 8],
      ["ok", 14, 16],
    ],
  );
  assert.deepEqual(
    textWords("don't stop-go 3.5"),
    textWords("don't stop-go 3.5").filter((w) => w.word.length > 0),
  );
  assert.deepEqual(
    textWords("don't stop-go 3.5").map((w) => w.word),
    ["don't", "stop-go", "3.5"],
  );
});

test("timingsFromEvents: the worked example of the doc comment", () => {
  const ev = (type: string, tp: number, ms: number, id?: string): EspeakEvent => ({
    type,
    text_position: tp,
    word_length: 0,
    audio_position: ms,
    id,
  });
  const events = [
    ev("word", 1, 0),
    ev("phoneme", 1, 11, "ð"),
    ev("phoneme", 1, 58, "ə"),
    ev("word", 5, 107),
    ev("phoneme", 5, 156, "k"),
    ev("phoneme", 5, 202, "æ"),
    ev("phoneme", 5, 373, "t"),
    ev("phoneme", 8, 418, ""),
    ev("end", 8, 500),
  ];
  const { words, phonemes } = timingsFromEvents("the cat", events, 0.5);
  assert.deepEqual(words, [
    { word: "the", start: 0, end: 0.107, charStart: 0, charEnd: 3 },
    { word: "cat", start: 0.107, end: 0.418, charStart: 4, charEnd: 7 },
  ]);
  assert.deepEqual(
    phonemes.map((p) => [p.phoneme, p.start, p.end, p.wordIndex]),
    [
      ["ð", 0, 0.058, 0],
      ["ə", 0.058, 0.107, 0],
      ["k", 0.107, 0.202, 1],
      ["æ", 0.202, 0.373, 1],
      ["t", 0.373, 0.418, 1],
      ["_", 0.418, 0.5, -1],
    ],
  );
});

test("timingsFromEvents: two eSpeak words inside one token merge; a token eSpeak skips gets a zero-length timing", () => {
  const ev = (type: string, tp: number, ms: number, id?: string): EspeakEvent => ({
    type,
    text_position: tp,
    word_length: 0,
    audio_position: ms,
    id,
  });
  // "a 42 # b": "42" is spoken as two words (positions 3 and 4), "#" is no word, "b" at position 8
  const events = [
    ev("word", 1, 0),
    ev("phoneme", 1, 0, "ə"),
    ev("word", 3, 100),
    ev("phoneme", 3, 100, "f"),
    ev("word", 4, 300),
    ev("phoneme", 4, 300, "t"),
    ev("word", 8, 500),
    ev("phoneme", 8, 500, "b"),
    ev("end", 8, 600),
  ];
  const { words } = timingsFromEvents("a 42 # b", events, 0.6);
  assert.deepEqual(
    words.map((w) => [w.word, w.start, w.end]),
    [
      ["a", 0, 0.1],
      ["42", 0.1, 0.5],
      ["b", 0.5, 0.6],
    ],
  );
  const skipped = timingsFromEvents("a b", [ev("word", 1, 0), ev("phoneme", 1, 0, "ə"), ev("end", 1, 200)], 0.2).words;
  assert.deepEqual(
    skipped.map((w) => [w.word, w.start, w.end]),
    [
      ["a", 0, 0.2],
      ["b", 0.2, 0.2],
    ],
  );
  assert.throws(() => timingsFromEvents("... --", [], 1), /has no words/);
});

test("timingsFromEvents: a word eSpeak merged into the previous one takes back its trailing phonemes", () => {
  const ev = (type: string, tp: number, ms: number, id?: string): EspeakEvent => ({
    type,
    text_position: tp,
    word_length: 0,
    audio_position: ms,
    id,
  });
  // "from the cup": eSpeak reports no word event for "the" and says f ɹ ʌ m ð ə under "from"
  const events = [
    ev("word", 1, 0),
    ...["f", "ɹ", "ʌ", "m", "ð", "ə"].map((p, i) => ev("phoneme", 1, i * 50, p)),
    ev("word", 10, 300),
    ev("phoneme", 10, 300, "k"),
    ev("phoneme", 10, 350, "ʌ"),
    ev("phoneme", 10, 400, "p"),
    ev("end", 12, 450),
  ];
  const counted = timingsFromEvents("from the cup", events, 0.45, (w) => (w === "the" ? 2 : 3));
  assert.deepEqual(
    counted.words.map((w) => [w.word, w.start, w.end]),
    [
      ["from", 0, 0.2],
      ["the", 0.2, 0.3],
      ["cup", 0.3, 0.45],
    ],
  );
  assert.deepEqual(
    counted.phonemes.map((p) => p.wordIndex),
    [0, 0, 0, 0, 1, 1, 2, 2, 2],
  );
  // without a counter: round(6 * 3 / 7) = 3 phonemes by letters
  const byLetters = timingsFromEvents("from the cup", events, 0.45);
  assert.deepEqual(
    byLetters.words.map((w) => [w.word, w.start, w.end]),
    [
      ["from", 0, 0.15],
      ["the", 0.15, 0.3],
      ["cup", 0.3, 0.45],
    ],
  );
});

function checkUtterance(u: Utterance, text: string): void {
  const dur = u.audio.length / u.sampleRate;
  assert.equal(u.sampleRate, TTS_SAMPLE_RATE);
  assert.ok(dur > 0.5, `duration ${dur}`);
  const ws = textWords(text);
  assert.equal(u.words.length, ws.length, "every word of the text is timed");
  let prev = 0;
  u.words.forEach((w, i) => {
    assert.equal(text.slice(w.charStart, w.charEnd), w.word);
    assert.equal(w.word, ws[i].word);
    assert.ok(
      w.start >= prev - 1e-9 && w.end >= w.start && w.end <= dur + 1e-9,
      `word ${i} '${w.word}' ${w.start}-${w.end} after ${prev}, audio ${dur}`,
    );
    assert.ok(w.end > w.start, `word '${w.word}' is spoken, so it lasts > 0`);
    prev = w.end;
  });
  let pe = 0;
  for (const p of u.phonemes) {
    assert.ok(
      p.start >= pe - 1e-9 && p.end > p.start && p.end <= dur + 1e-9,
      `phoneme ${p.phoneme} ${p.start}-${p.end}`,
    );
    assert.ok(p.wordIndex >= -1 && p.wordIndex < u.words.length);
    if (p.wordIndex >= 0) {
      const w = u.words[p.wordIndex];
      assert.ok(p.start >= w.start - 1e-9 && p.end <= w.end + 1e-9, `phoneme ${p.phoneme} inside word '${w.word}'`);
    }
    pe = p.end;
  }
  // the audio is not silent and within [-1, 1]
  let rms = 0;
  let peak = 0;
  for (const x of u.audio) {
    rms += x * x;
    peak = Math.max(peak, Math.abs(x));
  }
  assert.ok(
    Math.sqrt(rms / u.audio.length) > 0.01 && peak <= 1.05,
    `rms ${Math.sqrt(rms / u.audio.length)} peak ${peak}`,
  );
}

test("synthesize: 16 kHz audio, every word timed, monotone timings within the audio, for every voice", async () => {
  const tts = await createTts();
  for (const v of [...TRAIN_VOICES, ...TEST_VOICES]) {
    const u = tts.synthesize(STORY, v);
    assert.equal(u.voice, v.name);
    assert.equal(u.text, STORY);
    checkUtterance(u, STORY);
  }
});

test("synthesize: punctuation, numbers and hyphens still give one timing per word", async () => {
  const tts = await createTts();
  const text = `Mr. Smith's dog-house was 42 feet wide... "Yes!" -- ok`;
  const u = tts.synthesize(text, TRAIN_VOICES[0]);
  checkUtterance(u, text);
  assert.deepEqual(
    u.words.map((w) => w.word),
    ["Mr", "Smith's", "dog-house", "was", "42", "feet", "wide", "Yes", "ok"],
  );
});

test("voices differ: slower rate gives longer audio, train and test voices are disjoint", async () => {
  const tts = await createTts();
  const base = TRAIN_VOICES[0];
  const slow = tts.synthesize(STORY, { ...base, name: "slow", rate: 120 });
  const fast = tts.synthesize(STORY, { ...base, name: "fast", rate: 240 });
  assert.ok(slow.audio.length > 1.5 * fast.audio.length, `slow ${slow.audio.length} vs fast ${fast.audio.length}`);
  const a = tts.synthesize(STORY, TRAIN_VOICES[0]).audio;
  const b = tts.synthesize(STORY, TRAIN_VOICES[1]).audio;
  assert.notEqual(a.length, b.length);
  const names = new Set(TRAIN_VOICES.map((v) => v.voice));
  for (const v of TEST_VOICES) assert.ok(!names.has(v.voice), `test voice ${v.voice} is also a training voice`);
  const variant = (v: string) => v.split("+")[1];
  const trainVariants = new Set(TRAIN_VOICES.map((v) => variant(v.voice)));
  for (const v of TEST_VOICES)
    assert.ok(!trainVariants.has(variant(v.voice)), `test variant ${v.voice} is heard in training`);
});

test("synthesize is repeatable: the same text and voice give identical audio whatever came before", async () => {
  const tts = await createTts();
  const a = tts.synthesize(STORY, TRAIN_VOICES[3]);
  tts.synthesize("kai took his white hat to the river.", TEST_VOICES[0]);
  tts.synthesize("pia wanted the hat.", TRAIN_VOICES[1]);
  const b = tts.synthesize(STORY, TRAIN_VOICES[3]);
  assert.deepEqual(b.audio, a.audio);
  assert.deepEqual(b.words, a.words);
  assert.deepEqual(b.phonemes, a.phonemes);
});

test("synthesize: empty text and unknown voices throw clear errors", async () => {
  const tts = await createTts();
  assert.throws(() => tts.synthesize("   ", TRAIN_VOICES[0]), /text is empty/);
  assert.throws(
    () => tts.synthesize("hello", { name: "x", voice: "zz-nope", rate: 170, pitch: 50 }),
    /no voice 'zz-nope'/,
  );
  assert.throws(() => tts.synthesize("... !", TRAIN_VOICES[0]), /has no words/);
  assert.throws(() => tts.synthesize("la ".repeat(30000), TRAIN_VOICES[0]), /longer than 60000: split it/);
  // the engine still works after an error
  checkUtterance(tts.synthesize("hello there", TRAIN_VOICES[2]), "hello there");
});
