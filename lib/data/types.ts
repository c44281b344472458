/**
 * The data contracts shared by the pipeline stages:
 *   story text -> Utterance (audio + word/phoneme timings) -> AlignedUtterance (units + spans)
 *   -> LmSequence (interleaved ids with per-token speech annotations) -> patching / batches.
 * Times are in seconds; frames are unit frames (25 Hz by default, 40 ms each).
 */

// The records made below the data layer live there, so that audio, tokenizers and model never import data.
import type { LmSequence } from "../types";
export type { LmSequence } from "../types";
export type { PhonemeTiming, Utterance, WordTiming } from "../audio/types";

/**
 * A frame span [start, end) of an utterance: a word (wordIndex into `words`) or a silence (wordIndex -1).
 * The spans of an utterance tile 0..nFrames exactly: spans[0].start = 0, spans[i].end = spans[i+1].start,
 * last.end = nFrames, every span non-empty.
 */
export interface Span {
  kind: "word" | "sil";
  start: number;
  end: number;
  wordIndex: number;
}

/** A BPE-token span inside a word span: frames [start, end) carry text BPE id `tokenId`. */
export interface TokenSpan {
  start: number;
  end: number;
  tokenId: number;
  wordIndex: number;
}

/** An utterance turned into speech units and aligned to its words and BPE tokens. */
export interface AlignedUtterance {
  id: string;
  text: string;
  /** words as they appear in the text (what the TTS spoke) */
  words: string[];
  /** character range [start, end) of each word in `text` */
  wordChars: [number, number][];
  voice: string;
  /** one unit id (0..K-1) per frame */
  units: Int32Array;
  /** word and silence spans, tiling 0..units.length */
  spans: Span[];
  /** BPE-token spans; they tile every word span (silence spans are not covered) */
  tokenSpans: TokenSpan[];
}

/**
 * The training data as the trainer sees it: a deterministic, indexable stream of LM sequences (interleaved
 * speech-text and text-only documents, mixed by the mix-ratio knob; interleaving spans resampled per epoch).
 * `sequenceAt(i)` is a pure function of (data, seed, i), so a checkpoint only stores the next index.
 */
export interface SequenceSource {
  /** LM vocabulary size (text ids + speech units), see tokenizers/special.ts */
  vocabSize: number;
  /** LM id of speech unit 0 (ids >= unitOffset are speech) */
  unitOffset: number;
  sequenceAt(i: number): LmSequence;
}
