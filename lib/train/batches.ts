/**
 * The training batch stream: SequenceSource + Patcher -> Batch, under a per-step budget, pure in the step.
 *
 * Packing: row k of the run (k = step * batchSize + b) concatenates the documents
 * sequenceAt(base_k), sequenceAt(base_k + 1), ... (each BOS ... EOS) and cuts the concatenation at the row
 * length; the rest of the last document is dropped. base_k = (k + offset(seed)) * stride gives every row its
 * own block of document indices, so `batchAt(step)` needs no state and a resumed run reads exactly the batches
 * it would have read (the source is itself pure in the index, lib/data/types.ts).
 *   baseline  a row holds seqLen + 1 ids (seqLen input positions)
 *   lst       a row holds as many ids as fit in globalLen patches of input tokens and maxRawLen input tokens;
 *             the patch lengths of each document come from the patcher (called with the step), the last
 *             patch is cut with the row
 * Worked example (this exact case is a test): d0 = BOS <s> u u u u u EOS, d1 = BOS <t> w EOS, ...
 *   baseline, seqLen 10:      ids = d0 + BOS <t> w (11 ids: 10 inputs, 5 speech + 5 text)
 *   lst, globalLen 5, maxRawLen 12, static p = 4:
 *     patch lengths d0 [1,1,4,1,1], d1 [1,1,1,1]; the first 5 patches hold 8 tokens, so the row is
 *     d0 + BOS (9 ids) with lengths [1,1,4,1,1,1]: 8 inputs in 5 patches, the last target (BOS) opens patch 5.
 *
 * Budgets (paper §4): compute-controlled = every model processes the same global units per step (baseline T
 * tokens = LST P patches per row) for the same steps, so LST reads more raw tokens; data-controlled = the same
 * raw tokens in total, so the baseline runs more steps. `measureStream` measures a stream's raw tokens per step;
 * the one budget rule that turns it into steps per run is `budgetSteps` (lib/experiment/study.ts).
 */
import type { LmSequence, SequenceSource } from "../data/types";
import { toBatch, type BatchRow } from "../model/batch";
import { checkPatchLengths } from "../model/patch-ids";
import type { Patcher } from "../model/patching";
import type { Batch, ModelKind } from "../model/types";
import { hashSeed } from "../rng";

export interface BatchStreamOptions {
  kind: ModelKind;
  batchSize: number;
  /** baseline: input tokens per row */
  seqLen: number;
  /** LST: patches per row (the global sequence length) */
  globalLen: number;
  /** LST: input tokens per row at most (the local modules' length) */
  maxRawLen: number;
  /** LST: how documents are cut into patches */
  patcher?: Patcher;
  seed: number;
}

export interface StreamBatch {
  batch: Batch;
  /** input tokens of the batch by modality (padding excluded) */
  rawTokens: { speech: number; text: number };
  /** positions of the global sequence that hold data: baseline input tokens, LST patches with an input token */
  globalUnits: number;
}

export interface BatchStream {
  readonly kind: ModelKind;
  /** input positions per row (T of every batch) */
  readonly T: number;
  batchAt(step: number): StreamBatch;
}

export function makeBatchStream(source: SequenceSource, opts: BatchStreamOptions): BatchStream {
  const { kind, batchSize: B } = opts;
  if (!Number.isInteger(B) || B < 1) throw new Error(`batchSize must be a positive integer, got ${B}`);
  if (kind === "lst") {
    if (!opts.patcher)
      throw new Error("an LST batch stream needs a patcher: makePatcher(resolvePatchingConfig(...), { totalSteps })");
    if (!Number.isInteger(opts.globalLen) || opts.globalLen < 1)
      throw new Error(`globalLen (patches per row) must be a positive integer, got ${opts.globalLen}`);
    if (!Number.isInteger(opts.maxRawLen) || opts.maxRawLen < 1)
      throw new Error(`maxRawLen (raw tokens per row) must be a positive integer, got ${opts.maxRawLen}`);
  } else if (kind === "baseline") {
    if (opts.patcher) throw new Error("a baseline batch stream takes no patcher: drop it, or use kind 'lst'");
    if (!Number.isInteger(opts.seqLen) || opts.seqLen < 1)
      throw new Error(`seqLen (tokens per row) must be a positive integer, got ${opts.seqLen}`);
  } else {
    throw new Error(`batch stream kind must be 'baseline' or 'lst', got '${kind as string}'`);
  }
  const T = kind === "lst" ? opts.maxRawLen : opts.seqLen;
  // every document has >= 1 token, so T + 1 documents always fill a row
  const stride = T + 1;
  const offset = hashSeed(opts.seed, "batch-rows") % 2 ** 20;

  const docAt = (i: number): LmSequence => {
    const seq = source.sequenceAt(i);
    if (seq.ids.length === 0)
      throw new Error(`sequenceAt(${i}) returned an empty document: every document needs at least BOS`);
    return seq;
  };

  const baselineRow = (k: number): { row: BatchRow; seqs: LmSequence[] } => {
    const seqs: LmSequence[] = [];
    let n = 0;
    for (let j = 0; n < T + 1; j++) {
      const s = docAt((k + offset) * stride + j);
      seqs.push(s);
      n += s.ids.length;
    }
    return { row: { ids: concatIds(seqs, T + 1) }, seqs };
  };

  const lstRow = (k: number, step: number): { row: BatchRow; seqs: LmSequence[] } => {
    const P = opts.globalLen;
    const seqs: LmSequence[] = [];
    const lengths: number[] = [];
    let n = 0;
    for (let j = 0; n < T + 1 && lengths.length < P + 1; j++) {
      const s = docAt((k + offset) * stride + j);
      const l = (opts.patcher as Patcher)(s, step);
      checkPatchLengths(l, s);
      seqs.push(s);
      for (const x of l) lengths.push(x);
      n += s.ids.length;
    }
    // inputs (the first n-1 ids) must lie in patches 0..P-1: n - 1 <= sum of the first P lengths
    let firstP = 0;
    for (let j = 0; j < Math.min(P, lengths.length); j++) firstP += lengths[j];
    const len = Math.min(T + 1, firstP + 1, n);
    return { row: { ids: concatIds(seqs, len), patchLengths: cutLengths(lengths, len) }, seqs };
  };

  return {
    kind,
    T,
    batchAt(step: number): StreamBatch {
      if (!Number.isInteger(step) || step < 0)
        throw new Error(`batchAt needs a non-negative integer step, got ${step}`);
      const rows: BatchRow[] = [];
      const raw = { speech: 0, text: 0 };
      let globalUnits = 0;
      for (let b = 0; b < B; b++) {
        const k = step * B + b;
        const { row, seqs } = kind === "lst" ? lstRow(k, step) : baselineRow(k);
        rows.push(row);
        const inputs = row.ids.length - 1;
        const speech = countSpeech(seqs, inputs);
        raw.speech += speech;
        raw.text += inputs - speech;
        if (row.patchLengths) {
          // patches that hold at least one input token
          let t = 0;
          for (const l of row.patchLengths) {
            if (t >= inputs) break;
            globalUnits++;
            t += l;
          }
        } else {
          globalUnits += inputs;
        }
      }
      const batch = toBatch(rows, kind === "lst" ? { T, P: opts.globalLen } : { T });
      return { batch, rawTokens: raw, globalUnits };
    },
  };
}

/** The first `n` ids of the concatenated documents. */
function concatIds(seqs: readonly LmSequence[], n: number): Int32Array {
  const out = new Int32Array(n);
  let t = 0;
  for (const s of seqs) {
    if (t >= n) break;
    const take = Math.min(s.ids.length, n - t);
    out.set(s.ids.subarray(0, take), t);
    t += take;
  }
  return out;
}

/** Speech tokens among the first `n` tokens of the concatenated documents. */
function countSpeech(seqs: readonly LmSequence[], n: number): number {
  let t = 0;
  let speech = 0;
  for (const s of seqs) {
    for (let i = 0; i < s.ids.length && t < n; i++, t++) speech += s.isSpeech[i];
    if (t >= n) break;
  }
  return speech;
}

/** Patch lengths cut to tile exactly `n` tokens. Example: [1,1,4,1], n = 4 -> [1,1,2]. */
export function cutLengths(lengths: readonly number[], n: number): Int32Array {
  const out: number[] = [];
  let t = 0;
  for (const l of lengths) {
    if (t >= n) break;
    out.push(Math.min(l, n - t));
    t += l;
  }
  if (t < n) throw new Error(`patch lengths cover ${t} tokens, fewer than the ${n} to cut`);
  return Int32Array.from(out);
}

/** Mean raw tokens per global unit, and per step, over the first `steps` batches of a stream. */
export function measureStream(
  stream: BatchStream,
  steps: number,
): { tokensPerGlobalUnit: number; globalUnitsPerStep: number; rawTokensPerStep: number; speechFraction: number } {
  let raw = 0;
  let speech = 0;
  let units = 0;
  for (let s = 0; s < steps; s++) {
    const b = stream.batchAt(s);
    raw += b.rawTokens.speech + b.rawTokens.text;
    speech += b.rawTokens.speech;
    units += b.globalUnits;
  }
  return {
    tokensPerGlobalUnit: raw / units,
    globalUnitsPerStep: units / steps,
    rawTokensPerStep: raw / steps,
    speechFraction: speech / raw,
  };
}
