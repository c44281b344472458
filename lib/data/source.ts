/**
 * The training stream: a deterministic, indexable mix of interleaved speech-text documents (from the
 * aligned paired corpus, spans resampled on every draw) and text-only documents (from the unbounded text
 * corpus), mixed by the interleaved : text-only *token* ratio (`mixRatio`), plus a fraction of speech-only
 * documents (`speechOnlyFrac`, a knob beyond the paper). Neither has a default here: the lab's scales set
 * both (LAB_MIX / PAPER_MIX in lib/experiment/experiment.ts).
 *
 * Mixing arithmetic: with mean lengths Li (interleaved) and Lt (text-only) tokens, drawing an interleaved
 * document with probability p gives a token share p*Li : (1-p)*Lt. For a target ratio r = i/t:
 *   p = r*Lt / (Li + r*Lt)      e.g. r = 1/2, Li = 300, Lt = 60 -> p = 30/330 = 0.091
 */
import type { AlignedUtterance, LmSequence, SequenceSource } from "./types";
import { interleave, speechDocument, textDocument, type InterleaveOptions, type TextEncoder } from "./interleave";
import type { Vocab } from "../tokenizers/special";
import { Rng, hashSeed } from "../rng";

export interface MixOptions {
  /** interleaved : text-only token ratio as [interleaved, text], e.g. [1, 2] */
  mixRatio: [number, number];
  /** fraction of documents that are speech-only (0 = as the paper) */
  speechOnlyFrac: number;
  seed: number;
}

export interface SourceParts {
  vocab: Vocab;
  enc: TextEncoder;
  paired: AlignedUtterance[];
  /** the i-th text-only document's text (unbounded, deterministic) */
  textAt: (i: number) => string;
  interleave: InterleaveOptions;
}

export interface TrainSource extends SequenceSource {
  /** probability that a draw is an interleaved document */
  pInterleaved: number;
  /** the kind of the i-th draw */
  kindAt(i: number): "interleaved" | "text" | "speech";
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export function makeTrainSource(parts: SourceParts, mix: MixOptions): TrainSource {
  const [ri, rt] = mix.mixRatio;
  if (!(ri >= 0 && rt >= 0 && ri + rt > 0)) throw new Error(`mixRatio must be two non-negative numbers, not both 0, got [${ri}, ${rt}]`);
  if (ri > 0 && parts.paired.length === 0) throw new Error("mixRatio asks for interleaved documents but the dataset has no paired speech: build the data first");
  if (!(mix.speechOnlyFrac >= 0 && mix.speechOnlyFrac < 1)) throw new Error(`speechOnlyFrac must be in [0, 1), got ${mix.speechOnlyFrac}`);
  // Estimate mean document lengths from a fixed sample, to turn the token ratio into a draw probability.
  const est = new Rng(hashSeed(mix.seed, "mix-estimate"));
  const li = ri > 0 ? mean(Array.from({ length: 64 }, () => interleave(est.pick(parts.paired), parts.enc, parts.vocab, est, parts.interleave).ids.length)) : 1;
  const lt = rt > 0 ? mean(Array.from({ length: 64 }, (_, k) => textDocument(parts.textAt(1e9 + k), parts.enc).ids.length)) : 1;
  const r = rt === 0 ? Infinity : ri / rt;
  const pInterleaved = r === Infinity ? 1 : (r * lt) / (li + r * lt);

  const kindAt = (i: number): "interleaved" | "text" | "speech" => {
    const u = new Rng(hashSeed(mix.seed, "kind", i)).next();
    if (u < mix.speechOnlyFrac) return "speech";
    return (u - mix.speechOnlyFrac) / (1 - mix.speechOnlyFrac) < pInterleaved ? "interleaved" : "text";
  };
  const sequenceAt = (i: number): LmSequence => {
    if (!Number.isInteger(i) || i < 0) throw new Error(`sequenceAt needs a non-negative integer index, got ${i}`);
    const rng = new Rng(hashSeed(mix.seed, "doc", i));
    const kind = kindAt(i);
    if (kind === "text") return textDocument(parts.textAt(rng.int(2 ** 31)), parts.enc);
    const u = rng.pick(parts.paired);
    return kind === "speech" ? speechDocument(u, parts.vocab) : interleave(u, parts.enc, parts.vocab, rng, parts.interleave);
  };
  return { vocabSize: parts.vocab.size, unitOffset: parts.vocab.unitOffset, pInterleaved, kindAt, sequenceAt };
}
