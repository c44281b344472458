/**
 * Special tokens, kept in one place (as BLT's `tokenizers/constants.py`).
 *
 * The LM vocabulary is laid out as
 *   [ specials (0..4) | text BPE ids (5 .. 5+nText-1) | speech unit ids (5+nText .. 5+nText+nUnits-1) ]
 * The text BPE owns ids 0..nText+4 itself (specials first, then 256 bytes, then merges), so a text BPE id
 * *is* an LM id; a speech unit u has LM id `unitOffset + u`. `makeVocab` below does that arithmetic.
 */
export const PAD = 0; // padding, never a target
export const BOS = 1; // start of a document
export const EOS = 2; // end of a document (block-causal attention resets after it)
export const TEXT = 3; // `<t>`: a text segment starts
export const SPEECH = 4; // `<s>`: a speech segment starts
export const N_SPECIAL = 5;
export const SPECIAL_NAMES: readonly string[] = ["<pad>", "<bos>", "<eos>", "<t>", "<s>"];

export interface Vocab {
  /** total LM vocabulary size */
  size: number;
  /** number of text ids (specials included): text ids are 0..nText-1 */
  nText: number;
  /** number of speech units (k-means K) */
  nUnits: number;
  /** LM id of speech unit 0 */
  unitOffset: number;
}

/**
 * Example: makeVocab(300, 128) -> { size: 428, nText: 300, nUnits: 128, unitOffset: 300 };
 * unit 7 is LM id 307; LM id 4 is `<s>`.
 */
export function makeVocab(nText: number, nUnits: number): Vocab {
  if (!Number.isInteger(nText) || nText <= N_SPECIAL)
    throw new Error(`nText must be an integer > ${N_SPECIAL}, got ${nText}`);
  if (!Number.isInteger(nUnits) || nUnits < 1) throw new Error(`nUnits must be a positive integer, got ${nUnits}`);
  return { size: nText + nUnits, nText, nUnits, unitOffset: nText };
}

export function isUnitId(v: Vocab, id: number): boolean {
  return id >= v.unitOffset && id < v.size;
}

/** LM id of speech unit `u`; throws on an id outside 0..nUnits-1 (an unknown unit). */
export function unitToId(v: Vocab, u: number): number {
  if (!Number.isInteger(u) || u < 0 || u >= v.nUnits) {
    throw new Error(
      `unknown speech unit id ${u}: this vocabulary has ${v.nUnits} units (0..${v.nUnits - 1}); rebuild the data with the same quantizer`,
    );
  }
  return v.unitOffset + u;
}
