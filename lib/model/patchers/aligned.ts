/**
 * Aligned patching (paper §2.2/2.3 and App. A.7): one patch per aligned segment, word or BPE-token spans
 * (`align`), silence as its own patches ('separate') or merged into a neighbouring word ('merged').
 */
import type { LmSequence } from "../../types";
import type { PatchingConfig, PatchSchemeDef } from "../patching-config";
import { lengthsFromBoundaries, splitLongPatches } from "../patch-ids";

/** Throw unless every speech run starts with an alignment mark (the data pipeline always sets one there). */
function checkAlignments(seq: LmSequence, marks: Uint8Array, name: string): void {
  for (let t = 0; t < seq.ids.length; t++) {
    const runStart = seq.isSpeech[t] && (t === 0 || !seq.isSpeech[t - 1]);
    if (runStart && !marks[t]) {
      throw new Error(
        `aligned patching needs alignments, but the speech run starting at token ${t} has no ${name} mark: ` +
          "build the sequences from aligned utterances (data/interleave.ts), or use scheme 'static' for unaligned speech",
      );
    }
  }
}

/**
 * Segments start where `wordStart` (align 'word') or `bpeStart` (align 'bpe') is set; silence segments are the
 * ones whose first frame has `silence` set. 'separate': every segment is a patch. 'merged' (the paper leaves the
 * side unstated): a silence joins the word before it in the same speech run, and a silence that opens the run
 * joins the first word after it; a run of silence only stays one patch. See the worked example in patching.ts.
 */
export function alignedPatchLengths(
  seq: LmSequence,
  align: "word" | "bpe",
  silence: "separate" | "merged",
  maxPatchLen = 0,
): Int32Array {
  const marks = align === "word" ? seq.wordStart : seq.bpeStart;
  checkAlignments(seq, marks, align === "word" ? "wordStart" : "bpeStart");
  let lengths: Int32Array;
  if (silence === "separate") {
    lengths = lengthsFromBoundaries(seq, (t) => marks[t] === 1);
  } else {
    // A word segment starts a patch unless it is the run's first word (then it joins the leading silence).
    let firstWordOfRun = -1;
    let runOf = -1;
    lengths = lengthsFromBoundaries(seq, (t, runStart) => {
      if (runOf !== runStart) {
        runOf = runStart;
        firstWordOfRun = -1;
        for (let u = runStart; u < seq.ids.length && seq.isSpeech[u]; u++) {
          if (marks[u] && !seq.silence[u]) {
            firstWordOfRun = u;
            break;
          }
        }
      }
      return marks[t] === 1 && !seq.silence[t] && t !== firstWordOfRun;
    });
  }
  return splitLongPatches(lengths, maxPatchLen);
}

export function alignedPatches(cfg: PatchingConfig): (seq: LmSequence) => Int32Array {
  return (seq) => alignedPatchLengths(seq, cfg.align, cfg.silence, cfg.maxPatchLen);
}

export const ALIGNED: PatchSchemeDef = {
  check(cfg) {
    if (cfg.align !== "word" && cfg.align !== "bpe")
      throw new Error(`patching.align must be 'word' or 'bpe', got '${cfg.align}'`);
    if (cfg.silence !== "separate" && cfg.silence !== "merged")
      throw new Error(`patching.silence must be 'separate' or 'merged', got '${cfg.silence}'`);
  },
  build: (cfg) => alignedPatches(cfg),
  needs: { entropyModel: false },
  evalScheme: "aligned",
};
