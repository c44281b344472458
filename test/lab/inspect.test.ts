import { test } from "node:test";
import assert from "node:assert/strict";
import { editDistance, unitStats, wordPieceStats, unitConsistency, sequenceHtml } from "../../lib/viz/inspect";
import { makeVocab } from "../../lib/tokenizers/special";
import type { AlignedUtterance } from "../../lib/data/types";

function utt(
  id: string,
  voice: string,
  units: number[],
  words: string[],
  spans: AlignedUtterance["spans"],
): AlignedUtterance {
  return {
    id,
    text: words.join(" "),
    words,
    wordChars: [],
    voice,
    units: Int32Array.from(units),
    spans,
    tokenSpans: [],
  };
}

test("edit distance on the worked examples", () => {
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
  assert.equal(editDistance([], [4, 4]), 2);
  assert.equal(editDistance([5, 6, 7], [5, 6, 7]), 0);
  assert.equal(editDistance([1, 2], [2, 1]), 2);
});

test("unit statistics count frames, words, silence and dedup", () => {
  // frames: sil [0,1) word [1,4) sil [4,5)
  const u = utt(
    "a",
    "v1",
    [0, 1, 1, 2, 0],
    ["cat"],
    [
      { kind: "sil", start: 0, end: 1, wordIndex: -1 },
      { kind: "word", start: 1, end: 4, wordIndex: 0 },
      { kind: "sil", start: 4, end: 5, wordIndex: -1 },
    ],
  );
  const s = unitStats([u], 4);
  assert.equal(s.frames, 5);
  assert.equal(s.unitsUsed, 3);
  assert.equal(s.framesPerWord, 3);
  assert.equal(s.silenceShare, 2 / 5);
  assert.equal(s.dedupKeep, 4 / 5);
  assert.deepEqual(s.counts, [2, 2, 1, 0]);
  assert.throws(() => unitStats([u], 2), /unit id 2 at frame 3 is outside 0..1/);
});

test("unit consistency is 0 for identical strings across voices and higher for different words", () => {
  const spans = [
    { kind: "word" as const, start: 0, end: 4, wordIndex: 0 },
    { kind: "word" as const, start: 4, end: 8, wordIndex: 1 },
  ];
  const a = utt("a", "v1", [1, 1, 2, 2, 7, 7, 8, 8], ["house", "river"], spans);
  const b = utt("b", "v2", [1, 1, 2, 2, 7, 7, 8, 8], ["house", "river"], spans);
  const c = unitConsistency([a, b], { pairs: 50 });
  assert.equal(c.sameWord, 0);
  assert.equal(c.differentWords, 1);
});

test("sequence HTML colours text, units and markers", () => {
  const vocab = makeVocab(10, 4);
  const seq = {
    ids: Int32Array.from([1, 3, 7, 4, 10, 11]),
    isSpeech: Uint8Array.from([0, 0, 0, 0, 1, 1]),
    wordStart: Uint8Array.from([0, 0, 0, 0, 1, 0]),
    silence: new Uint8Array(6),
    bpeStart: new Uint8Array(6),
  };
  const html = sequenceHtml(seq, vocab, (ids) => `w${ids[0]}`);
  assert.match(html, /&lt;bos&gt;/);
  assert.match(html, />w7</);
  assert.match(html, />u0</);
  assert.match(html, />u1</);
});

test("word pieces: the worked example of inspect.ts (the 1 piece, sat 2 pieces), and no words is an error", () => {
  const u = utt(
    "a",
    "v1",
    [0, 1, 1, 2, 2, 3],
    ["the", "sat"],
    [
      { kind: "word", start: 0, end: 2, wordIndex: 0 },
      { kind: "sil", start: 2, end: 3, wordIndex: -1 },
      { kind: "word", start: 3, end: 6, wordIndex: 1 },
    ],
  );
  u.tokenSpans = [
    { start: 0, end: 2, tokenId: 10, wordIndex: 0 },
    { start: 3, end: 4, tokenId: 11, wordIndex: 1 },
    { start: 4, end: 6, tokenId: 12, wordIndex: 1 },
  ];
  assert.deepEqual(wordPieceStats([u]), { words: 2, splitShare: 0.5, piecesPerWord: 1.5 });
  assert.throws(() => wordPieceStats([]), /no word spans/);
});
