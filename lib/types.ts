/**
 * Records shared across layers, kept at the bottom so that every import points down (lib/data builds them,
 * lib/model patches them, lib/eval scores them).
 */

/**
 * An LM sequence in the shared vocabulary (see tokenizers/special.ts), with per-token speech annotations
 * that the patchers read. All arrays have the length of `ids`. For a non-speech token every annotation is 0.
 *
 * Worked example (`<t>` = 3, `<s>` = 4, BOS = 1, text ids < unitOffset, units >= unitOffset):
 *   tokens     BOS <t> the  cat  <s>  u  u  u  u  u  u
 *   isSpeech    0   0   0    0    0   1  1  1  1  1  1
 *   wordStart   0   0   0    0    0   1  0  1  0  0  1     (segments: sil[5,6) word[6,9) sil[9,10)...)
 *   silence     0   0   0    0    0   1  0  0  0  0  1
 *   bpeStart    0   0   0    0    0   1  0  1  0  1  1     (the word "sat" = two BPE pieces "s"+"at")
 * `wordStart` marks the first frame of every aligned segment (word or silence); `bpeStart` marks the first
 * frame of every BPE-token span and of every silence segment. The first speech token after `<s>` always
 * starts a segment.
 */
export interface LmSequence {
  ids: Int32Array;
  isSpeech: Uint8Array;
  wordStart: Uint8Array;
  silence: Uint8Array;
  bpeStart: Uint8Array;
}
