/**
 * The BPE-speech baseline's view of the data: every run of speech units in an LM sequence is re-tokenized
 * by a BPE trained on unit sequences (tokenizers/unit-bpe.ts). Text tokens and markers are unchanged; the
 * LM vocabulary becomes [text ids | speech BPE ids] with the same unit offset.
 *
 * Example (unitOffset 100, merges (0,1)->3):  ids [1, 4, 100, 101, 100, 101, 102, 2] -> [1, 4, 103, 103, 102, 2]
 */
import type { LmSequence, SequenceSource } from "./types";
import { SequenceBuilder } from "./interleave";
import { UnitBpe } from "../tokenizers/unit-bpe";
import { makeVocab, type Vocab } from "../tokenizers/special";

export interface SpeechBpe {
  bpe: UnitBpe;
  /** the LM vocabulary over text ids and speech BPE ids */
  vocab: Vocab;
  apply(seq: LmSequence): LmSequence;
}

export function makeSpeechBpe(bpe: UnitBpe, unitVocab: Vocab): SpeechBpe {
  if (bpe.nUnits !== unitVocab.nUnits) throw new Error(`speech BPE was trained on ${bpe.nUnits} units but the data has ${unitVocab.nUnits}`);
  const vocab = makeVocab(unitVocab.nText, bpe.vocabSize);
  const apply = (seq: LmSequence): LmSequence => {
    const b = new SequenceBuilder();
    const out: { ids: number[]; speech: boolean[] } = { ids: [], speech: [] };
    let i = 0;
    while (i < seq.ids.length) {
      if (!seq.isSpeech[i]) {
        out.ids.push(seq.ids[i]);
        out.speech.push(false);
        i++;
        continue;
      }
      let j = i;
      while (j < seq.ids.length && seq.isSpeech[j]) j++;
      const units = Array.from(seq.ids.subarray(i, j), (id) => id - unitVocab.unitOffset);
      for (const t of bpe.encode(units)) {
        out.ids.push(vocab.unitOffset + t);
        out.speech.push(true);
      }
      i = j;
    }
    b.tokens(out.ids);
    const built = b.build();
    // Speech BPE tokens are speech tokens; alignment annotations do not survive merging (the baseline needs none).
    out.speech.forEach((s, k) => {
      built.isSpeech[k] = s ? 1 : 0;
      built.wordStart[k] = s && (k === 0 || !out.speech[k - 1]) ? 1 : 0;
      built.bpeStart[k] = built.wordStart[k];
    });
    return built;
  };
  return { bpe, vocab, apply };
}

/** Train the speech BPE on the unit strings of a set of sequences. */
export function trainSpeechBpe(seqs: LmSequence[], unitVocab: Vocab, vocabSize: number): SpeechBpe {
  const runs: number[][] = [];
  for (const s of seqs) {
    let i = 0;
    while (i < s.ids.length) {
      if (!s.isSpeech[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < s.ids.length && s.isSpeech[j]) j++;
      runs.push(Array.from(s.ids.subarray(i, j), (id) => id - unitVocab.unitOffset));
      i = j;
    }
  }
  return makeSpeechBpe(UnitBpe.train(runs, unitVocab.nUnits, vocabSize), unitVocab);
}

/** Wrap a training source so that its sequences come out re-tokenized. */
export function speechBpeSource(src: SequenceSource, sb: SpeechBpe): SequenceSource {
  return { vocabSize: sb.vocab.size, unitOffset: sb.vocab.unitOffset, sequenceAt: (i) => sb.apply(src.sequenceAt(i)) };
}
