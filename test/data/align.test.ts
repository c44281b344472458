import { test } from "node:test";
import assert from "node:assert/strict";
import { alignUtterance, checkAlignment, wordFrames, spansFromWordFrames, jitterWordFrames } from "../../lib/data/align";
import type { Utterance } from "../../lib/data/types";
import { Rng } from "../../lib/rng";

/** A test encoder: one id per character run split at spaces, the space kept as a prefix (like a BPE chunk). */
const charEnc = {
  encodeWithOffsets(text: string) {
    const ids: number[] = [];
    const offsets: [number, number][] = [];
    const re = / ?[a-z]{1,2}/g; // pieces of at most 2 letters: "the" -> "th","e"
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      ids.push(100 + m.index);
      offsets.push([m.index, m.index + m[0].length]);
    }
    return { ids, offsets };
  },
};

function utt(): Utterance {
  return {
    text: "the cat",
    voice: "test",
    sampleRate: 16000,
    audio: new Float32Array(16000 * 0.4), // 0.4 s = 10 frames at 25 Hz
    words: [
      { word: "the", start: 0.08, end: 0.2, charStart: 0, charEnd: 3 },
      { word: "cat", start: 0.24, end: 0.36, charStart: 4, charEnd: 7 },
    ],
    phonemes: [],
  };
}

test("the worked example of the header: word frames, silence spans and token spans", () => {
  const u = utt();
  assert.deepEqual(wordFrames(u, 10, 25), [[2, 5], [6, 9]]);
  const a = alignUtterance("ex", u, new Int32Array(10), charEnc, { frameRate: 25, jitterFrames: 0, seed: 1 });
  assert.deepEqual(
    a.spans.map((s) => [s.kind, s.start, s.end]),
    [["sil", 0, 2], ["word", 2, 5], ["sil", 5, 6], ["word", 6, 9], ["sil", 9, 10]],
  );
  // "the" = "th" (2 chars) + "e" (1 char) share 3 frames 2:1; " ca"+"t": the space is not spoken -> "ca" 2, "t" 1
  assert.deepEqual(a.tokenSpans.map((t) => [t.start, t.end, t.wordIndex]), [[2, 4, 0], [4, 5, 0], [6, 8, 1], [8, 9, 1]]);
  assert.deepEqual(a.wordChars, [[0, 3], [4, 7]]);
  checkAlignment(a);
});

test("spans tile the utterance even when words round to zero frames or overlap", () => {
  const u = utt();
  u.words[0] = { ...u.words[0], start: 0.1, end: 0.1 }; // zero-length word
  u.words[1] = { ...u.words[1], start: 0.05, end: 0.12 }; // overlaps the first
  const a = alignUtterance("x", u, new Int32Array(10), charEnc, { frameRate: 25, jitterFrames: 0, seed: 1 });
  checkAlignment(a);
  assert.ok(a.spans.filter((s) => s.kind === "word").every((s) => s.end > s.start));
});

test("boundary jitter moves boundaries by at most k and keeps the tiling", () => {
  const words: [number, number][] = [[2, 8], [10, 15], [16, 30], [33, 40]];
  for (let seed = 0; seed < 50; seed++) {
    const j = jitterWordFrames(words, 45, 2, new Rng(seed));
    j.forEach(([s, e], i) => {
      assert.ok(e > s);
      assert.ok(Math.abs(s - words[i][0]) <= 2 && Math.abs(e - words[i][1]) <= 2, `seed ${seed}`);
      if (i > 0) assert.ok(s >= j[i - 1][1]);
    });
    const spans = spansFromWordFrames(j, 45);
    assert.equal(spans[0].start, 0);
    assert.equal(spans[spans.length - 1].end, 45);
  }
});

test("an utterance without word timings gets a clear error", () => {
  const u = utt();
  u.words = [];
  assert.throws(() => alignUtterance("x", u, new Int32Array(10), charEnc, { frameRate: 25, jitterFrames: 0, seed: 1 }), /no word timings/);
});
