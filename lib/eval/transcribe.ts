/**
 * Reading phonetic units back as words, with the lab's own tools (no ASR): a pronunciation lexicon of the story
 * world's words, and a segmentation of the unit string into its entries.
 *
 *   lexicon     every word of the training corpus as its aligned units said it (its frame span, runs collapsed,
 *               silence dropped), plus every story-world word as eSpeak spells it in each lab voice (IPA ->
 *               the inventory's ids), so accents and eSpeak's joins between words are covered
 *   transcribe  units -> runs collapsed -> chunks between silences -> each chunk cut into lexicon entries by
 *               dynamic programming: fewest phonemes left outside a word, then fewest words; what no entry
 *               covers is `?`
 * The in-lexicon rate of a continuation is the share of its phonemes inside words of at least `minPhones`
 * phonemes (default 2: a one-phoneme word such as "a" matches a stray vowel by chance).
 *
 * Worked example (a test; lexicon kite = k aɪ t, the = ð ə, a = ə; ids k 2, aɪ 3, t 4, ð 5, ə 6, silence 0):
 *   units    0 5 5 6 2 2 3 3 4 0 0 6 7 7 0
 *   runs     <sil> ð ə k aɪ t <sil> ə 7 <sil>   -> chunks [ð ə k aɪ t] and [ə 7]
 *   words    the kite | ?         covered 5 of 7 phonemes   (minPhones 1: the kite | a ?, 6 of 7)
 *
 * `unitAgreement` compares two unit strings: 1 - edit distance / the longer length (1 = identical).
 */
import { PHONE_SILENCE, PHONE_UNK, type PhonemeInventory } from "../tokenizers/phonetic";
import type { AlignedUtterance } from "../data/types";

/** Levenshtein distance of two id strings (two rows of the table). Example: [1,2,3] vs [1,3] -> 1. */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length];
}

/** 1 - editDistance / max length (1 when both are empty). Example: [1,2,3] vs [1,3] -> 2/3. */
export function unitAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - editDistance(a, b) / n;
}

/** Runs collapsed: [3,3,7,7,3] -> [3,7,3]. */
export function collapseRuns(units: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < units.length; i++) if (i === 0 || units[i] !== units[i - 1]) out.push(units[i]);
  return out;
}

export class PhoneLexicon {
  /** pronunciation key ("5,6") -> word */
  private readonly entries = new Map<string, string>();
  private longest = 0;

  /** Add a pronunciation (phoneme ids, runs collapsed); silence and <unk> are dropped, an empty one is ignored. */
  add(word: string, ids: readonly number[]): void {
    const key = collapseRuns(ids.filter((u) => u !== PHONE_SILENCE && u !== PHONE_UNK));
    if (key.length === 0) return;
    const k = key.join(",");
    if (!this.entries.has(k)) this.entries.set(k, word);
    this.longest = Math.max(this.longest, key.length);
  }

  /** Every word of aligned phonetic utterances as its frame span said it. */
  addAligned(utts: readonly AlignedUtterance[]): this {
    for (const u of utts)
      for (const s of u.spans)
        if (s.kind === "word")
          this.add(u.words[s.wordIndex].toLowerCase(), Array.from(u.units.subarray(s.start, s.end)));
    return this;
  }

  /** Words spelled in IPA phonemes ("k_ˈaɪ_t", tts/vocoder phonemizer output) -> inventory ids. */
  addSpelled(word: string, ipa: string, inventory: PhonemeInventory): void {
    const ids = ipa
      .trim()
      .split(/[\s_]+/)
      .filter((p) => p !== "")
      .map((p) => inventory.id(p));
    if (!ids.includes(PHONE_UNK)) this.add(word, ids);
  }

  get size(): number {
    return this.entries.size;
  }

  word(ids: readonly number[]): string | undefined {
    return this.entries.get(ids.join(","));
  }

  get maxLength(): number {
    return this.longest;
  }
}

export interface Transcript {
  /** words and `?` (phonemes no entry covers), chunks joined by " | " */
  text: string;
  /** the words found, in order */
  words: string[];
  /** phonemes (runs collapsed, silence left out) */
  phonemes: number;
  /** phonemes inside words of at least minPhones phonemes */
  covered: number;
}

/** Cut one chunk (no silence) into lexicon words (see the header); returns the tokens and the covered count. */
function segment(chunk: number[], lex: PhoneLexicon, minPhones: number): { tokens: string[]; covered: number } {
  const n = chunk.length;
  // best[i]: [phonemes outside words, words] for chunk[0..i); from[i]: where its last piece starts, word or null
  const best: [number, number][] = [[0, 0]];
  const from: { at: number; word: string | null }[] = [{ at: 0, word: null }];
  for (let j = 1; j <= n; j++) {
    let b: [number, number] = [best[j - 1][0] + 1, best[j - 1][1]];
    let f: { at: number; word: string | null } = { at: j - 1, word: null };
    for (let i = Math.max(0, j - lex.maxLength); i < j; i++) {
      const w = lex.word(chunk.slice(i, j));
      if (w === undefined || j - i < minPhones) continue;
      const c: [number, number] = [best[i][0], best[i][1] + 1];
      if (c[0] < b[0] || (c[0] === b[0] && c[1] < b[1])) [b, f] = [c, { at: i, word: w }];
    }
    best.push(b);
    from.push(f);
  }
  const tokens: string[] = [];
  for (let j = n; j > 0; j = from[j].at) {
    const w = from[j].word;
    if (w !== null) tokens.unshift(w);
    else if (tokens[0] !== "?") tokens.unshift("?");
  }
  return { tokens, covered: n - best[n][0] };
}

/** Phonetic units -> words (see the header). */
export function transcribe(units: ArrayLike<number>, lex: PhoneLexicon, minPhones = 2): Transcript {
  const runs = collapseRuns(units);
  const chunks: number[][] = [[]];
  for (const u of runs) {
    if (u === PHONE_SILENCE) chunks.push([]);
    else chunks[chunks.length - 1].push(u);
  }
  const parts: string[] = [];
  const words: string[] = [];
  let phonemes = 0;
  let covered = 0;
  for (const c of chunks.filter((x) => x.length > 0)) {
    const s = segment(c, lex, minPhones);
    parts.push(s.tokens.join(" "));
    words.push(...s.tokens.filter((t) => t !== "?"));
    phonemes += c.length;
    covered += s.covered;
  }
  return { text: parts.join(" | "), words, phonemes, covered };
}
