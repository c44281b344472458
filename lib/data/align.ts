/**
 * Alignment: from an utterance's word timings (seconds, from the TTS) and its unit frames, the frame span
 * of every word, the silence spans between words, and the spans of the BPE tokens inside each word.
 * This stands in for the paper's Wav2Vec2+CTC forced aligner: with synthesized speech the timings are known,
 * and the `jitterFrames` knob adds the aligner's boundary noise back (the paper's ±20-40 ms ablation).
 *
 * Worked example (25 Hz frames, 10 frames of units; the TTS says "the" at 0.08-0.20 s and "cat" at 0.24-0.36 s):
 *   word frames     the: round(0.08*25)=2 .. round(0.20*25)=5   cat: 6 .. 9
 *   spans           sil[0,2) word0[2,5) sil[5,6) word1[6,9) sil[9,10)       (they tile 0..10)
 *   BPE tokens      "the" (chars 0-3) and " cat" (chars 3-7; its leading space is not spoken, so it counts 3 chars)
 *   tokenSpans      [2,5)=id("the")  [6,9)=id(" cat")
 * A word whose frames round to nothing still gets one frame (taken from the following gap or word) so that
 * every word keeps a span; BPE tokens split a word's frames in proportion to their spoken characters.
 */
import type { AlignedUtterance, Span, TokenSpan, Utterance } from "./types";
import { Rng } from "../rng";

export interface AlignOptions {
  frameRate: number;
  /** max boundary shift in frames (uniform in [-k, k]) applied to every word boundary; 0 = exact */
  jitterFrames: number;
  seed: number;
}

/** Anything that encodes text to BPE ids with character offsets (lib/tokenizers/bpe.ts). */
export interface OffsetEncoder {
  encodeWithOffsets(text: string): { ids: number[]; offsets: [number, number][] };
}

/** Word frame ranges [start, end) from timings: non-empty, ordered, non-overlapping, within nFrames. */
export function wordFrames(utt: Utterance, nFrames: number, frameRate: number): [number, number][] {
  const n = utt.words.length;
  if (n === 0) throw new Error(`utterance '${utt.text.slice(0, 40)}' has no word timings: cannot align it`);
  if (n > nFrames) throw new Error(`utterance has ${n} words but only ${nFrames} frames: too short to align`);
  const out: [number, number][] = [];
  let prevEnd = 0;
  for (let i = 0; i < n; i++) {
    const w = utt.words[i];
    // keep room for the remaining words (one frame each)
    const maxStart = nFrames - (n - i);
    let s = Math.min(Math.max(Math.round(w.start * frameRate), prevEnd), maxStart);
    let e = Math.min(Math.max(Math.round(w.end * frameRate), s + 1), nFrames - (n - i - 1));
    if (e <= s) e = s + 1;
    out.push([s, e]);
    prevEnd = e;
  }
  return out;
}

/** Move each internal boundary by up to ±k frames, keeping every word non-empty and the order intact. */
export function jitterWordFrames(words: [number, number][], nFrames: number, k: number, rng: Rng): [number, number][] {
  if (k <= 0) return words.map(([s, e]) => [s, e]);
  const out = words.map(([s, e]) => [s, e] as [number, number]);
  for (let i = 0; i < out.length; i++) {
    const lo = i === 0 ? 0 : out[i - 1][1];
    const [s0, e0] = out[i];
    const s = Math.min(Math.max(s0 + rng.range(-k, k), lo), e0 - 1);
    const hi = i === out.length - 1 ? nFrames : out[i + 1][0];
    const e = Math.min(Math.max(e0 + rng.range(-k, k), s + 1), Math.max(hi, s + 1));
    out[i] = [s, e];
  }
  return out;
}

/** Word and silence spans tiling 0..nFrames. */
export function spansFromWordFrames(words: [number, number][], nFrames: number): Span[] {
  const spans: Span[] = [];
  let t = 0;
  words.forEach(([s, e], i) => {
    if (s > t) spans.push({ kind: "sil", start: t, end: s, wordIndex: -1 });
    spans.push({ kind: "word", start: s, end: e, wordIndex: i });
    t = e;
  });
  if (t < nFrames) spans.push({ kind: "sil", start: t, end: nFrames, wordIndex: -1 });
  return spans;
}

/**
 * BPE token spans inside each word: the tokens overlapping the word's characters share its frames in
 * proportion to their spoken characters (leading spaces/punctuation outside the word do not count).
 * Tokens that would get zero frames are merged into the previous token of the word.
 */
export function tokenSpansFor(utt: Utterance, words: [number, number][], enc: OffsetEncoder): TokenSpan[] {
  const { ids, offsets } = enc.encodeWithOffsets(utt.text);
  const out: TokenSpan[] = [];
  utt.words.forEach((w, wi) => {
    const toks: { id: number; chars: number }[] = [];
    for (let j = 0; j < ids.length; j++) {
      const a = Math.max(offsets[j][0], w.charStart);
      const b = Math.min(offsets[j][1], w.charEnd);
      if (b > a) toks.push({ id: ids[j], chars: b - a });
    }
    const [s, e] = words[wi];
    if (toks.length === 0) {
      out.push({ start: s, end: e, tokenId: -1, wordIndex: wi });
      return;
    }
    const total = toks.reduce((acc, x) => acc + x.chars, 0);
    let acc = 0;
    let start = s;
    for (let j = 0; j < toks.length; j++) {
      acc += toks[j].chars;
      const end = j === toks.length - 1 ? e : s + Math.round(((e - s) * acc) / total);
      if (end > start) {
        out.push({ start, end, tokenId: toks[j].id, wordIndex: wi });
        start = end;
      }
    }
  });
  return out;
}

/** Align one utterance whose units are already computed. */
export function alignUtterance(
  id: string,
  utt: Utterance,
  units: Int32Array,
  enc: OffsetEncoder,
  opts: AlignOptions,
): AlignedUtterance {
  const nFrames = units.length;
  let words = wordFrames(utt, nFrames, opts.frameRate);
  words = jitterWordFrames(words, nFrames, opts.jitterFrames, new Rng(opts.seed));
  const spans = spansFromWordFrames(words, nFrames);
  const tokenSpans = tokenSpansFor(utt, words, enc);
  return {
    id,
    text: utt.text,
    words: utt.words.map((w) => w.word),
    wordChars: utt.words.map((w) => [w.charStart, w.charEnd] as [number, number]),
    voice: utt.voice, units, spans, tokenSpans };
}

/** Check the invariants every aligned utterance must hold; throws naming the first violation. */
export function checkAlignment(a: AlignedUtterance): void {
  const n = a.units.length;
  let t = 0;
  for (const s of a.spans) {
    if (s.start !== t || s.end <= s.start) throw new Error(`alignment ${a.id}: span [${s.start},${s.end}) does not continue at frame ${t}`);
    t = s.end;
  }
  if (t !== n) throw new Error(`alignment ${a.id}: spans end at ${t}, but there are ${n} frames`);
  for (const s of a.spans.filter((x) => x.kind === "word")) {
    const toks = a.tokenSpans.filter((x) => x.wordIndex === s.wordIndex);
    let u = s.start;
    for (const x of toks) {
      if (x.start !== u || x.end <= x.start) throw new Error(`alignment ${a.id}: token span [${x.start},${x.end}) of word ${s.wordIndex} does not continue at ${u}`);
      u = x.end;
    }
    if (u !== s.end) throw new Error(`alignment ${a.id}: token spans of word ${s.wordIndex} end at ${u}, not ${s.end}`);
  }
}
