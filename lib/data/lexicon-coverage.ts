/**
 * How far a benchmark's text lies outside the story world's lexicon (story.ts `storyVocabulary`: a few hundred
 * lower-case words).
 * Models trained in the lab have read that lexicon only, so a real StoryCloze or HellaSwag item is mostly
 * words they never saw. The text BPE still encodes any text (it falls back to bytes) and the TTS speaks it;
 * this count says how much of what a model is scored on is out of its world.
 *
 * A word (tts.ts `textWords`: a whitespace token without its surrounding punctuation) is in the lexicon when,
 * lower-cased, it is made of the letters a-z (apostrophes and hyphens split it into runs) and every run is a
 * lexicon word. Worked example:
 *   "Lily gave the kite to Omar's friend." -> words lily gave the kite to omar's friend
 *   omar's -> runs "omar", "s"; "s" is not a lexicon word, so omar's is outside (the story world has no
 *   apostrophes); everything else is inside -> 1 of 7 words outside, the item counts as outside.
 */
import { textWords } from "../audio/tts";
import { storyVocabulary } from "./story";
import type { BenchItemLike } from "./bench-encode";

export interface LexiconCoverage {
  /** words in the story world's lexicon */
  lexiconSize: number;
  items: number;
  /** items with at least one word outside the lexicon (prompt or any ending) */
  itemsOutside: number;
  words: number;
  wordsOutside: number;
  /** the distinct outside words, lower-cased, most frequent first (ties alphabetical) */
  outside: string[];
}

let lexicon: Set<string> | null = null;

/** Is one word (as textWords gives it) inside the story world's lexicon? */
export function inStoryLexicon(word: string): boolean {
  lexicon ??= new Set(storyVocabulary());
  const w = word.toLowerCase();
  // a digit or a letter outside a-z (é) is never in the lexicon; apostrophes and hyphens split runs
  if (!/^[a-z'’-]+$/.test(w)) return false;
  return w.split(/['’-]+/).every((r) => r === "" || (lexicon as Set<string>).has(r));
}

/** Coverage of the items' prompts and endings by the story world's lexicon (see the header). */
export function lexiconCoverage(items: readonly BenchItemLike[]): LexiconCoverage {
  const counts = new Map<string, number>();
  let words = 0;
  let wordsOutside = 0;
  let itemsOutside = 0;
  for (const it of items) {
    let out = false;
    for (const text of [it.context, ...it.endings]) {
      for (const w of textWords(text)) {
        words++;
        if (inStoryLexicon(w.word)) continue;
        wordsOutside++;
        out = true;
        const key = w.word.toLowerCase();
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    if (out) itemsOutside++;
  }
  const outside = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
  lexicon ??= new Set(storyVocabulary());
  return { lexiconSize: lexicon.size, items: items.length, itemsOutside, words, wordsOutside, outside };
}
