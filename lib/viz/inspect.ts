/**
 * Looking at the data: unit statistics, unit consistency across voices, the realised mix ratio, and an
 * HTML rendering of an LM sequence with its modalities coloured. Pure functions over a built dataset.
 */
import type { AlignedUtterance, LmSequence, SequenceSource } from "../data/types";
import type { Vocab } from "../tokenizers/special";
import { SPECIAL_NAMES, N_SPECIAL } from "../tokenizers/special";
import { Rng } from "../rng";

/** How the text BPE cuts the spoken words: what tells BPE alignment from word alignment (notebook 06). */
export interface WordPieceStats {
  /** word spans in the corpus */
  words: number;
  /** share of words cut into two or more BPE pieces */
  splitShare: number;
  /** mean BPE pieces per word */
  piecesPerWord: number;
}

/**
 * Word pieces over aligned utterances. Example: words "the" (1 piece) and "sat" (2 pieces "s" + "at")
 * -> { words: 2, splitShare: 0.5, piecesPerWord: 1.5 }.
 */
export function wordPieceStats(paired: readonly AlignedUtterance[]): WordPieceStats {
  let words = 0;
  let split = 0;
  let pieces = 0;
  for (const u of paired) {
    const perWord = new Map<number, number>();
    for (const t of u.tokenSpans) perWord.set(t.wordIndex, (perWord.get(t.wordIndex) ?? 0) + 1);
    for (const s of u.spans) {
      if (s.kind !== "word") continue;
      const k = perWord.get(s.wordIndex) ?? 0;
      words++;
      pieces += k;
      if (k > 1) split++;
    }
  }
  if (words === 0)
    throw new Error(
      "wordPieceStats: the utterances have no word spans; pass a built dataset's paired utterances (ds.paired)",
    );
  return { words, splitShare: split / words, piecesPerWord: pieces / words };
}

export interface UnitStats {
  /** frames (units) in the corpus */
  frames: number;
  /** distinct units that occur */
  unitsUsed: number;
  /** K of the unit model */
  nUnits: number;
  /** mean unit frames per word span */
  framesPerWord: number;
  /** share of frames that are silence spans */
  silenceShare: number;
  /** share of frames kept by run-length dedup (the paper keeps duplicates) */
  dedupKeep: number;
  /** unigram entropy of the units in bits (log2 K at most) */
  entropyBits: number;
  /** occurrences per unit id */
  counts: number[];
}

export function unitStats(paired: readonly AlignedUtterance[], nUnits: number): UnitStats {
  const counts = new Array<number>(nUnits).fill(0);
  let frames = 0;
  let kept = 0;
  let wordFrames = 0;
  let words = 0;
  let sil = 0;
  for (const u of paired) {
    for (let i = 0; i < u.units.length; i++) {
      const x = u.units[i];
      if (x < 0 || x >= nUnits)
        throw new Error(
          `utterance ${u.id}: unit id ${x} at frame ${i} is outside 0..${nUnits - 1}: the unit model and the corpus disagree; rebuild the dataset`,
        );
      counts[x]++;
      if (i === 0 || u.units[i - 1] !== x) kept++;
    }
    frames += u.units.length;
    for (const s of u.spans) {
      if (s.kind === "word") {
        wordFrames += s.end - s.start;
        words++;
      } else sil += s.end - s.start;
    }
  }
  let entropy = 0;
  for (const c of counts) if (c > 0) entropy -= (c / frames) * Math.log2(c / frames);
  return {
    frames,
    unitsUsed: counts.filter((c) => c > 0).length,
    nUnits,
    framesPerWord: words ? wordFrames / words : 0,
    silenceShare: frames ? sil / frames : 0,
    dedupKeep: frames ? kept / frames : 0,
    entropyBits: entropy,
    counts,
  };
}

/** Levenshtein distance of two int arrays. Example: [1,2,3] vs [1,3] -> 1. */
export function editDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

export interface Consistency {
  /** mean normalised edit distance between unit strings of the same word spoken by different voices */
  sameWord: number;
  /** the same measure between different words (the chance level of the measure) */
  differentWords: number;
  pairs: number;
}

/**
 * Unit consistency: do two voices saying the same word give the same units? 0 = identical strings,
 * ~differentWords = no better than two unrelated words. Normalised by the longer string.
 */
export function unitConsistency(
  paired: readonly AlignedUtterance[],
  opts: { pairs?: number; seed?: number } = {},
): Consistency {
  const byWord = new Map<string, { voice: string; units: Int32Array }[]>();
  for (const u of paired) {
    for (const s of u.spans) {
      if (s.kind !== "word") continue;
      const w = u.words[s.wordIndex].toLowerCase().replace(/[^a-z']/g, "");
      if (w.length < 3) continue;
      const list = byWord.get(w) ?? [];
      list.push({ voice: u.voice, units: u.units.subarray(s.start, s.end) });
      byWord.set(w, list);
    }
  }
  const words = [...byWord.keys()].sort();
  const rng = new Rng(opts.seed ?? 7);
  const nPairs = opts.pairs ?? 400;
  const norm = (a: Int32Array, b: Int32Array) => editDistance(a, b) / Math.max(1, a.length, b.length);
  let same = 0;
  let nSame = 0;
  let diff = 0;
  let nDiff = 0;
  for (let t = 0; t < nPairs * 4 && nSame < nPairs; t++) {
    const list = byWord.get(rng.pick(words))!;
    const a = rng.pick(list);
    const b = rng.pick(list);
    if (a.voice === b.voice) continue;
    same += norm(a.units, b.units);
    nSame++;
  }
  for (let t = 0; t < nPairs && words.length > 1; t++) {
    const w1 = rng.pick(words);
    const w2 = rng.pick(words);
    if (w1 === w2) continue;
    diff += norm(rng.pick(byWord.get(w1)!).units, rng.pick(byWord.get(w2)!).units);
    nDiff++;
  }
  return { sameWord: nSame ? same / nSame : NaN, differentWords: nDiff ? diff / nDiff : NaN, pairs: nSame };
}

/** The realised interleaved : text-only token shares of a training stream over its first n documents. */
export function mixShares(
  source: SequenceSource & { kindAt?: (i: number) => string },
  n = 400,
): { interleaved: number; text: number; speech: number } {
  const tok: Record<string, number> = { interleaved: 0, text: 0, speech: 0 };
  for (let i = 0; i < n; i++) {
    const kind = source.kindAt ? source.kindAt(i) : "interleaved";
    tok[kind] += source.sequenceAt(i).ids.length;
  }
  const total = tok.interleaved + tok.text + tok.speech;
  return { interleaved: tok.interleaved / total, text: tok.text / total, speech: tok.speech / total };
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * An LM sequence as HTML: text tokens blue (one box per BPE piece), speech units orange (`u17`), markers
 * grey; a bar marks every aligned segment start. `decode` maps a text id to its string.
 */
export function sequenceHtml(
  seq: LmSequence,
  vocab: Vocab,
  decode: (ids: number[]) => string,
  maxTokens = 400,
): string {
  const parts: string[] = [];
  const n = Math.min(seq.ids.length, maxTokens);
  for (let i = 0; i < n; i++) {
    const id = seq.ids[i];
    let label: string;
    let colour: string;
    if (id < N_SPECIAL) {
      label = SPECIAL_NAMES[id];
      colour = "#ddd";
    } else if (seq.isSpeech[i]) {
      label = `u${id - vocab.unitOffset}`;
      colour = seq.silence[i] ? "#fde2c0" : "#f9b26b";
    } else {
      label = decode([id]).replace(/ /g, "\u2423");
      colour = "#a9cdf5";
    }
    const bar = seq.isSpeech[i] && seq.wordStart[i] ? "border-left:2px solid #333;" : "";
    parts.push(
      `<span style="background:${colour};${bar}padding:1px 2px;margin:1px;border-radius:3px;font-family:monospace;font-size:11px">${esc(label)}</span>`,
    );
  }
  const more = seq.ids.length > n ? ` <i>… ${seq.ids.length - n} more</i>` : "";
  return `<div style="line-height:1.9">${parts.join("")}${more}</div>`;
}
