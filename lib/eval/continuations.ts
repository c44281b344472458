/**
 * Prompts in the four directions and what a model says after them (model/generate.ts does the sampling):
 *
 *   T2T  BOS <t> bpe(text)          -> text          (a story goes on in writing)
 *   T2S  BOS <t> bpe(text) <s>      -> speech units  (it goes on aloud)
 *   S2T  BOS <s> units <t>          -> text          (a spoken prompt, continued in writing)
 *   S2S  BOS <s> units              -> speech units  (a spoken prompt goes on aloud)
 * the prompts of data/bench-encode.ts with the ending left for the model. A spoken prompt is the units of a held-out
 * utterance (a benchmark prompt, in a voice training never heard) or of a user's WAV (data/recording.ts unitsOfWav).
 *
 * `continueFrom` returns the continuation decoded: its text (BPE) or its unit ids (0..K-1), and the whole row as
 * an LmSequence whose `wordStart` marks LST's patch starts on speech (so viz/inspect.ts sequenceHtml draws a bar
 * at each), for display.
 *
 * `inLexiconRow` measures spoken continuations of a phonetic-unit model (transcribe.ts): the share of their
 * phonemes that fall inside story-world words, pooled over continuations, with how many stopped at once.
 */
import { BOS, SPEECH, TEXT, unitToId, type Vocab } from "../tokenizers/special";
import type { Direction } from "../data/bench-encode";
import { DIRECTIONS } from "../data/bench-encode";
import type { LmSequence } from "../data/types";
import type { BaselineLM } from "../model/baseline";
import type { LstLM } from "../model/lst";
import { generate, type GenerateOptions, type Generation } from "../model/generate";
import { transcribe, type PhoneLexicon, type Transcript } from "./transcribe";

/** What a prompt is made of: text for T2*, unit ids (0..K-1) for S2*. */
export interface PromptInput {
  text?: string;
  units?: ArrayLike<number>;
}

/** Anything that encodes and decodes text BPE (tokenizers/bpe.ts). */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** The prompt ids of a direction (see the header); an empty prompt or an unknown unit id is an error naming the fix. */
export function promptFor(direction: Direction, input: PromptInput, bpe: TextCodec, vocab: Vocab): Int32Array {
  if (!DIRECTIONS.includes(direction))
    throw new Error(`unknown direction '${String(direction)}': use one of ${DIRECTIONS.join(", ")}`);
  const out = [BOS];
  if (direction === "T2T" || direction === "T2S") {
    const text = (input.text ?? "").trim();
    if (text === "")
      throw new Error(
        `empty prompt: a ${direction} prompt is text: give at least one word (--prompt="anna took her kite")`,
      );
    out.push(TEXT, ...bpe.encode(text));
    if (direction === "T2S") out.push(SPEECH);
  } else {
    const units = input.units ?? [];
    if (units.length === 0)
      throw new Error(
        `empty prompt: a ${direction} prompt is speech: give its units (a held-out utterance, or a WAV through unitsOfWav)`,
      );
    out.push(SPEECH);
    for (let i = 0; i < units.length; i++) out.push(unitToId(vocab, units[i]));
    if (direction === "S2T") out.push(TEXT);
  }
  return Int32Array.from(out);
}

export interface Continuation {
  direction: Direction;
  generation: Generation;
  /** the continuation's text tokens decoded (the whole continuation for T2T / S2T) */
  text: string;
  /** the continuation's speech units, 0..K-1 (the whole continuation for T2S / S2S) */
  units: Int32Array;
  /** the prompt's speech units (S2T / S2S), else empty */
  promptUnits: Int32Array;
  /** prompt ++ continuation, speech flagged and LST's patch starts marked in `wordStart` (for sequenceHtml) */
  sequence: LmSequence;
}

/** The row as an LmSequence with LST's patch starts in `wordStart` (the first frame of every run is one anyway). */
function displaySequence(ids: Int32Array, unitOffset: number, patchLengths: Int32Array | null): LmSequence {
  const n = ids.length;
  const isSpeech = Uint8Array.from(ids, (id) => (id >= unitOffset ? 1 : 0));
  const wordStart = new Uint8Array(n);
  if (patchLengths) {
    let t = 0;
    for (const len of patchLengths) {
      if (t < n) wordStart[t] = isSpeech[t];
      t += len;
    }
  } else for (let t = 0; t < n; t++) wordStart[t] = isSpeech[t] && (t === 0 || !isSpeech[t - 1]) ? 1 : 0;
  return { ids, isSpeech, wordStart, silence: new Uint8Array(n), bpeStart: wordStart.slice() };
}

/** Prompt a model in one direction and decode what it says (see the header). */
export async function continueFrom(
  model: BaselineLM | LstLM,
  direction: Direction,
  input: PromptInput,
  ctx: { bpe: TextCodec; vocab: Vocab },
  opts: Omit<GenerateOptions, "unitOffset">,
): Promise<Continuation> {
  const { vocab } = ctx;
  const prompt = promptFor(direction, input, ctx.bpe, vocab);
  const generation = await generate(model, prompt, { ...opts, unitOffset: vocab.unitOffset });
  const ids = generation.ids;
  const speech = Array.from(ids).filter((id) => id >= vocab.unitOffset);
  const text = ctx.bpe.decode(Array.from(ids).filter((id) => id < vocab.unitOffset));
  const promptUnits = Array.from(prompt).filter((id) => id >= vocab.unitOffset);
  const all = new Int32Array(prompt.length + ids.length);
  all.set(prompt, 0);
  all.set(ids, prompt.length);
  return {
    direction,
    generation,
    text,
    units: Int32Array.from(speech, (id) => id - vocab.unitOffset),
    promptUnits: Int32Array.from(promptUnits, (id) => id - vocab.unitOffset),
    sequence: displaySequence(all, vocab.unitOffset, generation.patchLengths),
  };
}

/** One row of the in-lexicon table (see the header). */
export interface InLexiconRow {
  model: string;
  direction: Direction | string;
  continuations: number;
  /** continuations with no speech at all (the model stopped at once) */
  empty: number;
  /** mean units per continuation */
  meanUnits: number;
  /** phonemes (runs collapsed, silence left out) over all continuations */
  phonemes: number;
  /** share of them inside story-world words of at least minPhones phonemes */
  inLexicon: number;
  /** distinct words found */
  distinctWords: number;
  /** the first continuation's transcript, for a look */
  example: string;
}

/** The in-lexicon row of spoken continuations (unit id strings) under a lexicon. */
export function inLexiconRow(
  model: string,
  direction: Direction | string,
  spoken: readonly ArrayLike<number>[],
  lex: PhoneLexicon,
  minPhones = 2,
): InLexiconRow {
  const ts: Transcript[] = spoken.map((u) => transcribe(u, lex, minPhones));
  const phonemes = ts.reduce((a, t) => a + t.phonemes, 0);
  const covered = ts.reduce((a, t) => a + t.covered, 0);
  const units = spoken.reduce((a, u) => a + u.length, 0);
  return {
    model,
    direction,
    continuations: spoken.length,
    empty: spoken.filter((u) => u.length === 0).length,
    meanUnits: spoken.length ? units / spoken.length : 0,
    phonemes,
    inLexicon: phonemes ? covered / phonemes : 0,
    distinctWords: new Set(ts.flatMap((t) => t.words)).size,
    example: ts.find((t) => t.phonemes > 0)?.text ?? "",
  };
}
