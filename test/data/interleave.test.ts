import { test } from "node:test";
import assert from "node:assert/strict";
import { SequenceBuilder, interleave, speechFrames, textOfWords, modalityCounts } from "../../lib/data/interleave";
import { makeTrainSource } from "../../lib/data/source";
import { encodeItem, concatSequences } from "../../lib/data/bench-encode";
import type { AlignedUtterance } from "../../lib/data/types";
import { BOS, EOS, SPEECH, TEXT, makeVocab } from "../../lib/tokenizers/special";
import { Rng } from "../../lib/rng";

const vocab = makeVocab(100, 10); // units are LM ids 100..109
/** word-level test encoder: each word -> 50 + its length (a stand-in for BPE ids) */
const enc = { encode: (t: string) => t.trim().split(/\s+/).filter(Boolean).map((w) => 50 + w.length) };

/** "the cat sat": sil[0,1) the[1,3) cat[3,5) sil[5,6) sat[6,9) sil[9,10); "sat" has two BPE pieces [6,7) [7,9) */
function catSat(): AlignedUtterance {
  return {
    id: "u",
    text: "the cat sat",
    words: ["the", "cat", "sat"],
    wordChars: [[0, 3], [4, 7], [8, 11]],
    voice: "v",
    units: Int32Array.from([0, 1, 1, 2, 2, 0, 3, 4, 4, 0]),
    spans: [
      { kind: "sil", start: 0, end: 1, wordIndex: -1 },
      { kind: "word", start: 1, end: 3, wordIndex: 0 },
      { kind: "word", start: 3, end: 5, wordIndex: 1 },
      { kind: "sil", start: 5, end: 6, wordIndex: -1 },
      { kind: "word", start: 6, end: 9, wordIndex: 2 },
      { kind: "sil", start: 9, end: 10, wordIndex: -1 },
    ],
    tokenSpans: [
      { start: 1, end: 3, tokenId: 7, wordIndex: 0 },
      { start: 3, end: 5, tokenId: 8, wordIndex: 1 },
      { start: 6, end: 7, tokenId: 9, wordIndex: 2 },
      { start: 7, end: 9, tokenId: 10, wordIndex: 2 },
    ],
  };
}

test("speech annotations: the worked example of lib/data/types.ts", () => {
  const u = catSat();
  // speech for words [1, 3): from the end of "the" (frame 3) to the end of the utterance
  assert.deepEqual(speechFrames(u, 1, 3), [3, 10]);
  assert.equal(textOfWords(u, 0, 1), "the");
  assert.equal(textOfWords(u, 1, 3), " cat sat");
  const s = new SequenceBuilder().token(BOS).token(SPEECH).speech(u, 3, 10, vocab).build();
  assert.deepEqual([...s.ids], [BOS, SPEECH, 102, 102, 100, 103, 104, 104, 100]);
  assert.deepEqual([...s.isSpeech], [0, 0, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual([...s.wordStart], [0, 0, 1, 0, 1, 1, 0, 0, 1]);
  assert.deepEqual([...s.silence], [0, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.deepEqual([...s.bpeStart], [0, 0, 1, 0, 1, 1, 1, 0, 1]);
});

test("an interleaved document alternates markers and covers every word once", () => {
  const u = catSat();
  for (let seed = 0; seed < 20; seed++) {
    const s = interleave(u, enc, vocab, new Rng(seed), { spanRatio: 2, minTextWords: 1, maxTextWords: 2 });
    assert.equal(s.ids[0], BOS);
    assert.equal(s.ids[s.ids.length - 1], EOS);
    const markers = [...s.ids].filter((x) => x === TEXT || x === SPEECH);
    for (let i = 1; i < markers.length; i++) assert.notEqual(markers[i], markers[i - 1]);
    assert.equal(s.ids[1] === TEXT || s.ids[1] === SPEECH, true);
  }
});

/** a synthetic aligned corpus: n words of 5 frames each, one silence frame between words */
function corpus(n: number, words: number): AlignedUtterance[] {
  return Array.from({ length: n }, (_, k) => {
    const ws = Array.from({ length: words }, (_, i) => `w${(i + k) % 7}`);
    const text = ws.join(" ");
    const spans: AlignedUtterance["spans"] = [];
    const tokenSpans: AlignedUtterance["tokenSpans"] = [];
    let f = 0;
    const wordChars: [number, number][] = [];
    let c = 0;
    ws.forEach((w, i) => {
      spans.push({ kind: "sil", start: f, end: f + 1, wordIndex: -1 });
      spans.push({ kind: "word", start: f + 1, end: f + 6, wordIndex: i });
      tokenSpans.push({ start: f + 1, end: f + 6, tokenId: 60, wordIndex: i });
      wordChars.push([c, c + w.length]);
      c += w.length + 1;
      f += 6;
    });
    return { id: `c${k}`, text, words: ws, wordChars, voice: "v", units: new Int32Array(f).fill(3), spans, tokenSpans };
  });
}

test("interleaving obeys the span-ratio knob (text words : speech words)", () => {
  const data = corpus(50, 60);
  for (const ratio of [1, 2, 4]) {
    let speechWords = 0;
    let textWords = 0;
    const rng = new Rng(ratio);
    for (const u of data) {
      const s = interleave(u, enc, vocab, rng, { spanRatio: ratio, minTextWords: 4, maxTextWords: 8 });
      for (let i = 0; i < s.ids.length; i++) if (s.isSpeech[i] && s.wordStart[i] && !s.silence[i]) speechWords++;
      textWords += [...s.ids].filter((x) => x >= 50 && x < 100).length;
    }
    const measured = textWords / speechWords;
    assert.ok(Math.abs(measured - ratio) / ratio < 0.15, `span ratio ${ratio}: measured ${measured.toFixed(2)}`);
  }
});

test("the training stream obeys the interleaved:text mix ratio in tokens", () => {
  const data = corpus(30, 40);
  const texts = ["one two three four five six", "a b c d e f g h i j k l"];
  for (const mixRatio of [[1, 4], [1, 2], [1, 1]] as [number, number][]) {
    const src = makeTrainSource(
      { vocab, enc, paired: data, textAt: (i) => texts[i % 2], interleave: { spanRatio: 2, minTextWords: 2, maxTextWords: 10 } },
      { mixRatio, speechOnlyFrac: 0, seed: 3 },
    );
    let inter = 0;
    let text = 0;
    for (let i = 0; i < 3000; i++) {
      const n = src.sequenceAt(i).ids.length;
      if (src.kindAt(i) === "interleaved") inter += n;
      else text += n;
    }
    const want = mixRatio[0] / mixRatio[1];
    assert.ok(Math.abs(inter / text - want) / want < 0.15, `mix ${mixRatio}: measured ${(inter / text).toFixed(3)}`);
    // deterministic: the same index gives the same sequence
    assert.deepEqual([...src.sequenceAt(17).ids], [...src.sequenceAt(17).ids]);
  }
});

test("benchmark items encode in all four directions", () => {
  const u = catSat();
  const item = { id: "i", benchmark: "sc", context: "the cat", endings: ["sat", "ran away"], label: 0, type: "t", tier: 1 };
  const sp = { item, prompt: u, endings: [u, u] };
  const s2s = encodeItem(sp, "S2S", enc, vocab);
  assert.deepEqual([...s2s.prompt.ids.slice(0, 2)], [BOS, SPEECH]);
  assert.equal(s2s.endings[0].isSpeech[0], 1);
  const t2t = encodeItem(sp, "T2T", enc, vocab);
  assert.deepEqual([...t2t.prompt.ids], [BOS, TEXT, 53, 53]);
  assert.deepEqual([...t2t.endings[1].ids], [53, 54]);
  const s2t = encodeItem(sp, "S2T", enc, vocab);
  assert.equal(s2t.prompt.ids[s2t.prompt.ids.length - 1], TEXT);
  const t2s = encodeItem(sp, "T2S", enc, vocab);
  assert.equal(t2s.prompt.ids[t2s.prompt.ids.length - 1], SPEECH);
  const full = concatSequences(t2s.prompt, t2s.endings[0]);
  assert.equal(full.ids.length, t2s.prompt.ids.length + t2s.endings[0].ids.length);
  assert.equal(modalityCounts(full).speech, u.units.length);
});
