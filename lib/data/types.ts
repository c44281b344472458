/**
 * The data contracts shared by the pipeline stages:
 *   story text -> Utterance (audio + word/phoneme timings) -> AlignedUtterance (units + spans)
 *   -> LmSequence (interleaved ids with per-token speech annotations) -> patching / batches.
 * Times are in seconds; frames are unit frames (25 Hz by default, 40 ms each).
 */

/** One word of a synthesized utterance, with its start/end time in seconds. */
export interface WordTiming {
  word: string;
  start: number;
  end: number;
  /** character offsets of the word in the utterance text: text.slice(charStart, charEnd) === word */
  charStart: number;
  charEnd: number;
}

/** One phoneme with its time span and the index of the word it belongs to (-1 for a pause). */
export interface PhonemeTiming {
  phoneme: string;
  start: number;
  end: number;
  wordIndex: number;
}

/** A synthesized (or loaded) utterance: 16 kHz mono audio and its timings. */
export interface Utterance {
  text: string;
  voice: string;
  sampleRate: number;
  audio: Float32Array;
  words: WordTiming[];
  phonemes: PhonemeTiming[];
}

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
 * An LM sequence in the shared vocabulary (see tokenizers/special.ts), with per-token speech annotations
 * that the patchers read. All arrays have the length of `ids`. For a non-speech token every annotation is 0.
 *
 * Worked example (`<t>` = 3, `<s>` = 4, BOS = 1, text ids < unitOffset, units >= unitOffset):
 *   tokens     BOS <t> the  cat  <s>  u  u  u  u  u  u
 *   isSpeech    0   0   0    0    0   1  1  1  1  1  1
 *   wordStart   0   0   0    0    0   1  0  1  0  0  1     (segments: sil[5,6) word[6,9) sil[9,10)...)
 *   silence     0   0   0    0    0   1  0  0  0  0  1
 *   bpeStart    0   0   0    0    0   1  0  1  0  1  1     (the word "sat" = two BPE pieces "s"+"at")
 * `wordStart` marks the first frame of every aligned segment (word or silence); `bpeStart` marks the first
 * frame of every BPE-token span and of every silence segment. The first speech token after `<s>` always
 * starts a segment.
 */
export interface LmSequence {
  ids: Int32Array;
  isSpeech: Uint8Array;
  wordStart: Uint8Array;
  silence: Uint8Array;
  bpeStart: Uint8Array;
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
