/**
 * The records the audio layer produces: an utterance (16 kHz mono audio) with its word and phoneme timings.
 * Times are in seconds. Tokenizers and data read them; they live here so that every import points down.
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
