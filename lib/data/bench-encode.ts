/**
 * Benchmark items -> LM sequences in the four directions the paper's model supports:
 *   S2S  prompt = BOS <s> units(prompt)          endings = units(ending)
 *   T2T  prompt = BOS <t> bpe(context)           endings = bpe(" " + ending)
 *   S2T  prompt = BOS <s> units(prompt) <t>      endings = bpe(" " + ending)
 *   T2S  prompt = BOS <t> bpe(context) <s>       endings = units(ending)
 * As in the paper (sHellaSwag), the prompt and each ending are synthesized separately, so every ending is
 * scored against the identical prompt audio; here their unit strings are concatenated (prompt ++ ending).
 * The ending sequences carry the speech annotations of their own alignment, so an aligned eval patcher works.
 */
import type { AlignedUtterance, LmSequence } from "./types";
import { SequenceBuilder, type TextEncoder } from "./interleave";
import { BOS, SPEECH, TEXT, type Vocab } from "../tokenizers/special";

export const DIRECTIONS = ["S2S", "T2T", "S2T", "T2S"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The fields of a benchmark item that encoding needs (lib/data/benchmarks.ts BenchItem has them all). */
export interface BenchItemLike {
  id: string;
  benchmark: string;
  context: string;
  endings: string[];
  label: number;
  type: string;
  tier: number;
}

/** A benchmark item with its prompt and endings synthesized and aligned (speech directions need them). */
export interface SpokenItem {
  item: BenchItemLike;
  prompt: AlignedUtterance;
  endings: AlignedUtterance[];
}

export interface EncodedItem {
  id: string;
  benchmark: string;
  direction: Direction;
  type: string;
  tier: number;
  label: number;
  prompt: LmSequence;
  endings: LmSequence[];
}

function speechOf(u: AlignedUtterance, vocab: Vocab, b = new SequenceBuilder()): SequenceBuilder {
  return b.speech(u, 0, u.units.length, vocab);
}

export function encodeItem(sp: SpokenItem, direction: Direction, enc: TextEncoder, vocab: Vocab): EncodedItem {
  const { item } = sp;
  if (item.endings.length !== sp.endings.length) {
    throw new Error(`item ${item.id}: ${item.endings.length} ending texts but ${sp.endings.length} spoken endings`);
  }
  const speechPrompt = direction === "S2S" || direction === "S2T";
  const speechEnding = direction === "S2S" || direction === "T2S";
  const p = new SequenceBuilder().token(BOS);
  if (speechPrompt) speechOf(sp.prompt, vocab, p.token(SPEECH));
  else p.token(TEXT).tokens(enc.encode(item.context.trim()));
  if (direction === "S2T") p.token(TEXT);
  if (direction === "T2S") p.token(SPEECH);
  const endings = item.endings.map((text, k) =>
    speechEnding ? speechOf(sp.endings[k], vocab).build() : new SequenceBuilder().tokens(enc.encode(` ${text.trim()}`)).build(),
  );
  return { id: item.id, benchmark: item.benchmark, direction, type: item.type, tier: item.tier, label: item.label, prompt: p.build(), endings };
}

/** Text-only encoding (T2T) for items without audio, e.g. the real benchmark files. */
export function encodeTextItem(item: BenchItemLike, enc: TextEncoder): EncodedItem {
  const prompt = new SequenceBuilder().token(BOS).token(TEXT).tokens(enc.encode(item.context.trim())).build();
  const endings = item.endings.map((t) => new SequenceBuilder().tokens(enc.encode(` ${t.trim()}`)).build());
  return { id: item.id, benchmark: item.benchmark, direction: "T2T", type: item.type, tier: item.tier, label: item.label, prompt, endings };
}

/** Concatenate two sequences (prompt ++ ending) keeping annotations. */
export function concatSequences(a: LmSequence, b: LmSequence): LmSequence {
  const cat = <T extends Int32Array | Uint8Array>(x: T, y: T, make: (n: number) => T): T => {
    const out = make(x.length + y.length);
    out.set(x, 0);
    out.set(y, x.length);
    return out;
  };
  return {
    ids: cat(a.ids, b.ids, (n) => new Int32Array(n)),
    isSpeech: cat(a.isSpeech, b.isSpeech, (n) => new Uint8Array(n)),
    wordStart: cat(a.wordStart, b.wordStart, (n) => new Uint8Array(n)),
    silence: cat(a.silence, b.silence, (n) => new Uint8Array(n)),
    bpeStart: cat(a.bpeStart, b.bpeStart, (n) => new Uint8Array(n)),
  };
}
