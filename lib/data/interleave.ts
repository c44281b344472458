/**
 * Interleaving: aligned speech-text pairs -> `<t> text … <s> units …` LM sequences, the way the paper builds
 * them (A.1.1): along the utterance, a random contiguous span of words is kept as text tokens and the
 * following span, about half as long (`spanRatio` = text words : speech words, default 2), as speech units;
 * each segment starts with its modality marker. Spans are resampled on every draw (so every epoch) from a seed.
 *
 * Worked example (words w0..w5, text spans of 2 words and speech spans of 1, starting with text):
 *   segments   text[w0 w1]  speech[w2]  text[w3 w4]  speech[w5]
 *   tokens     BOS <t> bpe(w0 w1) <s> units(sil+w2) <t> bpe(" w3 w4") <s> units(sil+w5+trailing sil) EOS
 * A speech segment covering words [a, b) takes the frames from the end of word a-1 (so the pause before
 * word a) to the end of word b-1, or to the end of the utterance when b is the last word.
 */
import type { AlignedUtterance, LmSequence } from "./types";
import { BOS, EOS, SPEECH, TEXT, type Vocab, unitToId } from "../tokenizers/special";
import { Rng } from "../rng";

export interface InterleaveOptions {
  /** text words : speech words in consecutive spans (the paper: about 2, i.e. the speech span is half as long) */
  spanRatio: number;
  /** text span length is uniform in [minTextWords, maxTextWords] */
  minTextWords: number;
  maxTextWords: number;
}

export const DEFAULT_INTERLEAVE: InterleaveOptions = { spanRatio: 2, minTextWords: 2, maxTextWords: 10 };

/** Anything that encodes text to BPE ids (lib/tokenizers/bpe.ts). */
export interface TextEncoder {
  encode(text: string): number[];
}

/** Accumulates tokens with their speech annotations. */
export class SequenceBuilder {
  private ids: number[] = [];
  private isSpeech: number[] = [];
  private wordStart: number[] = [];
  private silence: number[] = [];
  private bpeStart: number[] = [];

  /** Append one token with its annotation flags (0/1): the one place a row of every array grows. */
  frame(id: number, isSpeech: number, wordStart: number, silence: number, bpeStart: number): this {
    // subtle: the Int32Array of build() would turn NaN into id 0 (a special token) without a word
    if (!Number.isInteger(id) || id < 0) throw new Error(`token id ${id} at position ${this.ids.length} is not an integer id >= 0: check the tokenizer or unit model that produced it`);
    this.ids.push(id);
    this.isSpeech.push(isSpeech);
    this.wordStart.push(wordStart);
    this.silence.push(silence);
    this.bpeStart.push(bpeStart);
    return this;
  }

  token(id: number): this {
    return this.frame(id, 0, 0, 0, 0);
  }

  tokens(ids: readonly number[]): this {
    for (const id of ids) this.token(id);
    return this;
  }

  /** Append the unit frames [from, to) of an aligned utterance, with segment/silence/BPE annotations. */
  speech(a: AlignedUtterance, from: number, to: number, vocab: Vocab): this {
    const segStart = new Uint8Array(a.units.length);
    const sil = new Uint8Array(a.units.length);
    const bpe = new Uint8Array(a.units.length);
    for (const s of a.spans) {
      segStart[s.start] = 1;
      if (s.kind === "sil") {
        bpe[s.start] = 1;
        sil.fill(1, s.start, s.end);
      }
    }
    for (const t of a.tokenSpans) bpe[t.start] = 1;
    for (let f = from; f < to; f++) {
      // subtle: the first frame of a speech segment always starts an aligned segment
      this.frame(unitToId(vocab, a.units[f]), 1, f === from ? 1 : segStart[f], sil[f], f === from ? 1 : bpe[f]);
    }
    return this;
  }

  get length(): number {
    return this.ids.length;
  }

  build(): LmSequence {
    return {
      ids: Int32Array.from(this.ids),
      isSpeech: Uint8Array.from(this.isSpeech),
      wordStart: Uint8Array.from(this.wordStart),
      silence: Uint8Array.from(this.silence),
      bpeStart: Uint8Array.from(this.bpeStart),
    };
  }
}

/** Frame range of the speech segment covering words [a, b) (see the header). */
export function speechFrames(u: AlignedUtterance, a: number, b: number): [number, number] {
  const wordSpan = (i: number) => u.spans.find((s) => s.kind === "word" && s.wordIndex === i)!;
  const from = a === 0 ? 0 : wordSpan(a - 1).end;
  const to = b >= u.words.length ? u.units.length : wordSpan(b - 1).end;
  return [from, to];
}

/** Text of words [a, b) as it appears in the utterance, with a leading space when not at the start. */
export function textOfWords(u: AlignedUtterance, a: number, b: number): string {
  const end = b < u.words.length ? u.wordChars[b][0] : u.text.length;
  const s = u.text.slice(u.wordChars[a][0], end).trim();
  return a === 0 ? s : ` ${s}`;
}

/** One interleaved document: BOS, alternating text/speech segments, EOS. */
export function interleave(u: AlignedUtterance, enc: TextEncoder, vocab: Vocab, rng: Rng, opts: InterleaveOptions = DEFAULT_INTERLEAVE): LmSequence {
  if (!(opts.spanRatio > 0)) throw new Error(`interleave: spanRatio must be > 0, got ${opts.spanRatio}`);
  if (opts.minTextWords < 1 || opts.maxTextWords < opts.minTextWords) {
    throw new Error(`interleave: need 1 <= minTextWords <= maxTextWords, got ${opts.minTextWords}..${opts.maxTextWords}`);
  }
  const b = new SequenceBuilder().token(BOS);
  const n = u.words.length;
  let w = 0;
  let speechNext = rng.next() < 0.5;
  let lastText = rng.range(opts.minTextWords, opts.maxTextWords);
  while (w < n) {
    if (speechNext) {
      const len = Math.max(1, Math.round(lastText / opts.spanRatio));
      const end = Math.min(n, w + len);
      const [from, to] = speechFrames(u, w, end);
      b.token(SPEECH).speech(u, from, to, vocab);
      w = end;
    } else {
      lastText = rng.range(opts.minTextWords, opts.maxTextWords);
      const end = Math.min(n, w + lastText);
      b.token(TEXT).tokens(enc.encode(textOfWords(u, w, end)));
      w = end;
    }
    speechNext = !speechNext;
  }
  return b.token(EOS).build();
}

/** A text-only document: BOS <t> text EOS. */
export function textDocument(text: string, enc: TextEncoder): LmSequence {
  if (text.trim().length === 0) throw new Error("textDocument: empty text; give it at least one word");
  return new SequenceBuilder().token(BOS).token(TEXT).tokens(enc.encode(text)).token(EOS).build();
}

/** A speech-only document: BOS <s> units EOS (used at evaluation, and by the optional speech-only mix). */
export function speechDocument(u: AlignedUtterance, vocab: Vocab): LmSequence {
  return new SequenceBuilder().token(BOS).token(SPEECH).speech(u, 0, u.units.length, vocab).token(EOS).build();
}

/** Counts of speech and text words/tokens in a sequence, for checking the span and mix ratios. */
export function modalityCounts(seq: LmSequence): { speech: number; text: number } {
  let speech = 0;
  for (let i = 0; i < seq.isSpeech.length; i++) speech += seq.isSpeech[i];
  return { speech, text: seq.ids.length - speech };
}
