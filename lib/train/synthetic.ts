/**
 * A small synthetic SequenceSource: hand-built LmSequences with speech runs and full alignment annotations,
 * for the patching, batching and training tests and for smoke runs of scripts/train.ts, so that they need no
 * TTS and no data build. A test fixture that scripts/train.ts (--data=synthetic) and bench/ also use, which is
 * why it lives in lib/ and not under test/ (docs/architecture.md).
 *
 * Vocabulary: makeVocab(16, 8) -> text ids 5..15, speech units 16..23 (LM ids), size 24.
 * A text word w (id 5..15) is spoken as frames of units derived from w (2 frames per unit, 2 or 3 units),
 * with one or two BPE pieces; silences use unit 16 and last 1..3 frames. One document in three is text-only.
 */
import type { LmSequence, SequenceSource } from "../data/types";
import { SequenceBuilder } from "../data/interleave";
import { BOS, EOS, SPEECH, TEXT, makeVocab } from "../tokenizers/special";
import { Rng, hashSeed } from "../rng";

export const SYNTHETIC_VOCAB = makeVocab(16, 8);

/** Builds an LmSequence token by token with its annotations, in the synthetic vocabulary's terms. */
export class SeqBuilder extends SequenceBuilder {
  tok(id: number): this {
    return this.token(id);
  }

  /** a silence segment of `n` frames */
  sil(n: number): this {
    for (let f = 0; f < n; f++) this.frame(SYNTHETIC_VOCAB.unitOffset, 1, f === 0 ? 1 : 0, 1, f === 0 ? 1 : 0);
    return this;
  }

  /** a word segment: units, with BPE pieces starting at the given frame offsets (0 always starts one) */
  word(units: readonly number[], bpeAt: readonly number[] = [0]): this {
    units.forEach((u, f) =>
      this.frame(SYNTHETIC_VOCAB.unitOffset + u, 1, f === 0 ? 1 : 0, 0, f === 0 || bpeAt.includes(f) ? 1 : 0),
    );
    return this;
  }
}

/** Frames of text word `w`: 2 or 3 units from 1..7, each repeated twice (units as the 25 Hz repeats). */
export function wordUnits(w: number): number[] {
  const n = 2 + (w % 2);
  const out: number[] = [];
  for (let j = 0; j < n; j++) {
    const u = 1 + ((w * 3 + j * 5) % 7);
    out.push(u, u);
  }
  return out;
}

/** Document i: text-only, or BOS + alternating <t>/<s> segments + EOS; the spoken words continue the text. */
export function syntheticSequence(seed: number, i: number): LmSequence {
  const rng = new Rng(hashSeed(seed, "synthetic", i));
  const b = new SeqBuilder().tok(BOS);
  let w = 5 + rng.int(11);
  const nextWord = () => (w = 5 + ((w - 5 + 1 + rng.int(3)) % 11));
  if (rng.int(3) === 0) {
    b.tok(TEXT);
    for (let k = 0, n = 3 + rng.int(6); k < n; k++) b.tok(nextWord());
    return b.tok(EOS).build();
  }
  for (let seg = 0, nSeg = 2 + rng.int(3); seg < nSeg; seg++) {
    if (seg % 2 === 0) {
      b.tok(TEXT);
      for (let k = 0, n = 2 + rng.int(3); k < n; k++) b.tok(nextWord());
    } else {
      b.tok(SPEECH).sil(1 + rng.int(3));
      for (let k = 0, n = 1 + rng.int(2); k < n; k++) {
        const units = wordUnits(nextWord());
        b.word(units, units.length > 4 ? [0, 2] : [0]);
        if (rng.int(2) === 0) b.sil(1 + rng.int(3));
      }
    }
  }
  return b.tok(EOS).build();
}

export function syntheticSource(seed = 0): SequenceSource {
  return {
    vocabSize: SYNTHETIC_VOCAB.size,
    unitOffset: SYNTHETIC_VOCAB.unitOffset,
    sequenceAt: (i) => syntheticSequence(seed, i),
  };
}
