/**
 * Multiple-choice scoring: which ending of a benchmark item does the model find most likely after the prompt?
 *
 * Each (item, ending) pair becomes one row `prompt ++ ending`; identical rows run once, the rest are grouped by
 * length into forward passes (batching.ts: by default a fixed row count over rows sorted by length), batched
 * with toBatch (with patch lengths from the eval patcher for LST) and run through `model.tokenNll` at token
 * level, through the model's own output head, so LST and the baselines are scored the same way whatever the
 * patching (paper §5: "mean log-prob per token of the ending tokens given the prompt").
 *
 * Which positions belong to the ending. A row of n = np + ne ids has inputs ids[0..n-2] and targets ids[1..n-1];
 * the ending ids ids[np..n-1] are the targets of input positions np-1 .. n-2. Worked example (a test):
 *   prompt   BOS <t> a          (np = 3)          ending  b c   (ne = 2)
 *   ids      BOS <t> a  b  c
 *   inputs   BOS <t> a  b        targets  <t> a  b  c
 *   position  0   1  2  3                 ending targets at positions 2, 3 = np-1 .. np+ne-2
 *
 * Normalisations (higher score = more likely):
 *   mean  -(sum of the ending's NLL) / ne      per token (the default; SpiritLM's choice)
 *   sum   -(sum of the ending's NLL)           favours short endings
 *   pmi   -(NLL(ending | prompt) - NLL(ending | BOS marker))   how much the prompt raises the ending's likelihood;
 *         the unconditional row is `BOS <m> ending` with <m> the ending's modality marker (<s> or <t>). It costs
 *         one more (short) row per ending.
 *
 * Long prompts (`maxLen`, e.g. the training length): a row with more than maxLen input positions keeps its first
 * two tokens (BOS and the modality marker) and drops the oldest prompt tokens after them. Worked example (a test),
 * maxLen 4:   BOS <s> u1 u2 u3 | e1 e2   (6 input positions)  ->  BOS <s> u3 | e1 e2   (4 input positions)
 * The first kept speech token then starts an aligned segment (the patchers need one there).
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkDeviceErrors } from "../backend";
import { toBatch, type BatchRow } from "../model/batch";
import { bucketLength, DEFAULT_BATCHING, planBatches, type Batching } from "./batching";
import type { LanguageModel } from "../model/types";
import type { EncodedItem } from "../data/bench-encode";
import { concatSequences } from "../data/bench-encode";
import type { LmSequence } from "../data/types";
import { BOS, SPEECH, TEXT } from "../tokenizers/special";

export type Norm = "mean" | "sum" | "pmi";
export const NORMS: readonly Norm[] = ["mean", "sum", "pmi"];

/** The inference-time patcher (model/patching.ts makePatcher gives one): patch lengths tiling seq.ids. */
export type EvalPatcher = (seq: LmSequence) => Int32Array;

export interface ScoreOptions {
  /** likelihood normalisation, default "mean" */
  norm?: Norm;
  /** required for LST models, must be absent for baselines */
  patcher?: EvalPatcher;
  /**
   * rows per forward pass, default 32: exactly, under batching "rows"; for the longest rows under "tokens",
   * where shorter rows go more at a time within the same padded-token budget (batching.ts)
   */
  batchSize?: number;
  /** how rows are grouped into forward passes: "rows" (the default) or "tokens" (batching.ts, DEFAULT_BATCHING) */
  batching?: Batching;
  /** called once per forward pass with its shape and real tokens (benches, progress) */
  onBatch?: (info: BatchInfo) => void;
  /** at most this many input positions per row, cutting the oldest prompt tokens (0 = no limit, the default) */
  maxLen?: number;
}

/** One scored item: the choice and everything needed to recompute it under another normalisation. */
export interface ItemScore {
  id: string;
  benchmark: string;
  direction: EncodedItem["direction"];
  type: string;
  tier: number;
  label: number;
  /** index of the highest score (the first one on ties) */
  chosen: number;
  correct: boolean;
  /** per-ending score under `norm` (higher = more likely) */
  scores: number[];
  /** per-ending summed NLL of the ending tokens given the prompt (nats) */
  nll: number[];
  /** per-ending number of ending tokens */
  nTokens: number[];
  /** pmi only: per-ending summed NLL of the ending after `BOS <m>` alone */
  nllUncond?: number[];
  /** maxLen only: prompt tokens dropped for the longest ending (absent when none were) */
  truncated?: number;
}

/** A row to score: ids (with annotations for the patcher) and where the ending's targets start. */
export interface ScoreRow {
  seq: LmSequence;
  /** first input position whose target is an ending token (= prompt length - 1) */
  from: number;
  /** number of ending tokens */
  count: number;
}

/** The row `prompt ++ ending` and the input positions of its ending targets (see the header example). */
export function endingRow(prompt: LmSequence, ending: LmSequence): ScoreRow {
  if (prompt.ids.length < 1) throw new Error("endingRow: empty prompt; a prompt holds at least BOS");
  if (ending.ids.length < 1) throw new Error("endingRow: empty ending; every ending needs at least one token");
  return { seq: concatSequences(prompt, ending), from: prompt.ids.length - 1, count: ending.ids.length };
}

/** Cut a row to at most maxLen input positions by dropping prompt tokens after BOS and the marker (see header). */
export function truncateRow(row: ScoreRow, maxLen: number): { row: ScoreRow; dropped: number } {
  const n = row.seq.ids.length;
  const drop = n - 1 - maxLen;
  if (drop <= 0) return { row, dropped: 0 };
  const keepHead = 2;
  if (row.from + 1 - keepHead < drop) {
    throw new Error(
      `a row of ${n} ids (ending of ${row.count}) cannot be cut to maxLen=${maxLen} input positions by dropping prompt tokens: raise maxLen to at least ${row.count + keepHead - 1}`,
    );
  }
  const cut = <T extends Int32Array | Uint8Array>(x: T): T => {
    const out = x.slice(0, n - drop) as T;
    out.set(x.subarray(keepHead + drop), keepHead);
    return out;
  };
  const seq: LmSequence = {
    ids: cut(row.seq.ids),
    isSpeech: cut(row.seq.isSpeech),
    wordStart: cut(row.seq.wordStart),
    silence: cut(row.seq.silence),
    bpeStart: cut(row.seq.bpeStart),
  };
  if (seq.isSpeech[keepHead] === 1) {
    // subtle: the cut lands inside a segment; the first kept frame must start one for the aligned patchers
    seq.wordStart[keepHead] = 1;
    seq.bpeStart[keepHead] = 1;
  }
  return { row: { seq, from: row.from - drop, count: row.count }, dropped: drop };
}

/** `BOS <m>` where <m> is the ending's modality marker: the prefix of the unconditional (pmi) row. */
function unconditionalPrefix(ending: LmSequence): LmSequence {
  const marker = ending.isSpeech[0] === 1 ? SPEECH : TEXT;
  const zeros = (): Uint8Array => new Uint8Array(2);
  return {
    ids: Int32Array.from([BOS, marker]),
    isSpeech: zeros(),
    wordStart: zeros(),
    silence: zeros(),
    bpeStart: zeros(),
  };
}

/** What one forward pass of endingNll held (ScoreOptions.onBatch): for benches and progress lines. */
export interface BatchInfo {
  /** rows in the batch (B) */
  rows: number;
  /** input positions each row is padded to */
  T: number;
  /** LST only: patches each row is padded to */
  P?: number;
  /** input positions that hold a row's token (the rest is padding) */
  tokens: number;
}

export interface NllOptions {
  /** how rows are grouped into forward passes (batching.ts), default "rows" */
  batching?: Batching;
  /** called once per forward pass, in order */
  onBatch?: (info: BatchInfo) => void;
}

/** A key that two rows share iff their ids and the annotations a patcher reads are equal. */
function seqKey(seq: LmSequence): string {
  let flags = "";
  for (let i = 0; i < seq.ids.length; i++) {
    flags += String.fromCharCode(
      seq.isSpeech[i] | (seq.wordStart[i] << 1) | (seq.silence[i] << 2) | (seq.bpeStart[i] << 3),
    );
  }
  return `${seq.ids.join(",")}|${flags}`;
}

/** Patches holding at least one of the first n-1 ids (the input positions of a row of n ids). */
function inputPatches(patchLengths: Int32Array, n: number): number {
  let covered = 0;
  let p = 0;
  while (covered < n - 1) covered += patchLengths[p++];
  return p;
}

/**
 * Summed NLL of each row's ending targets; results come back in the input order. Rows with equal ids and
 * annotations run once (a pmi unconditional row shared by the S2S and T2S forms of an item, or one row whose
 * prompt/ending split differs), which is exact: a row's NLLs do not depend on the other rows of its batch.
 * The rows are grouped by `opts.batching` (batching.ts; under "tokens" an LST batch also pads its patch count
 * to a bucket). One tf.tidy per forward; each batch's NLL [B, T] is read with one asynchronous read (webgpu has
 * no synchronous read), after the next batch's forward is queued, so a GPU is not left idle during the read.
 */
export async function endingNll(
  model: LanguageModel,
  rows: readonly ScoreRow[],
  patcher: EvalPatcher | undefined,
  batchSize: number,
  opts: NllOptions = {},
): Promise<Float64Array> {
  if (model.kind === "lst" && patcher === undefined) {
    throw new Error(
      "scoring an LST model needs an eval patcher: pass opts.patcher = makePatcher(cfg.evalPatching, ...) (lib/model/patching.ts)",
    );
  }
  if (model.kind !== "lst" && patcher !== undefined) {
    throw new Error(`a '${model.kind}' model takes no patcher: drop opts.patcher (patches are for LST only)`);
  }
  const batching = opts.batching ?? DEFAULT_BATCHING;
  // unique sequences, and for each the rows (input indices) that read it
  const uniq: LmSequence[] = [];
  const readers: number[][] = [];
  const seen = new Map<string, number>();
  rows.forEach((r, i) => {
    const key = seqKey(r.seq);
    let u = seen.get(key);
    if (u === undefined) {
      u = uniq.length;
      seen.set(key, u);
      uniq.push(r.seq);
      readers.push([]);
    }
    readers[u].push(i);
  });
  const lengths = uniq.map((seq) => seq.ids.length - 1);
  const plan = planBatches(lengths, batchSize, batching);
  const out = new Float64Array(rows.length);
  const run = (k: number): { idx: number[]; T: number; nllT: tf.Tensor } => {
    const { rows: idx, T } = plan[k];
    const batchRows: BatchRow[] = idx.map((u) =>
      patcher ? { ids: uniq[u].ids, patchLengths: patcher(uniq[u]) } : { ids: uniq[u].ids },
    );
    let P: number | undefined;
    if (patcher && batching === "tokens") {
      const most = Math.max(...batchRows.map((r) => inputPatches(r.patchLengths as Int32Array, r.ids.length)));
      P = Math.min(bucketLength(most), T); // most <= T, and T is a bucket or the longest row
    }
    const batch = toBatch(batchRows, { T, P });
    opts.onBatch?.({ rows: idx.length, T, P: batch.P, tokens: idx.reduce((a, u) => a + lengths[u], 0) });
    return { idx, T, nllT: tf.tidy(() => model.tokenNll(batch)) }; // nllT [B, T]
  };
  let next = plan.length > 0 ? run(0) : null;
  for (let k = 0; next !== null; k++) {
    const { idx, T, nllT } = next;
    try {
      next = k + 1 < plan.length ? run(k + 1) : null;
      const nll = await nllT.data();
      checkDeviceErrors("reading evaluation scores");
      idx.forEach((u, b) => {
        for (const i of readers[u]) {
          const { from, count } = rows[i];
          let sum = 0;
          for (let t = from; t < from + count; t++) sum += nll[b * T + t];
          out[i] = sum;
        }
      });
    } catch (e) {
      next?.nllT.dispose();
      throw e;
    } finally {
      nllT.dispose();
    }
  }
  return out;
}

/** Index of the largest value; the first one on ties. */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Scores of the endings under a normalisation, from their summed NLLs and token counts. */
export function normalise(
  norm: Norm,
  nll: readonly number[],
  nTokens: readonly number[],
  nllUncond?: readonly number[],
): number[] {
  if (norm === "sum") return nll.map((x) => -x);
  if (norm === "mean") return nll.map((x, k) => -x / nTokens[k]);
  if (nllUncond === undefined) throw new Error("pmi scores need the unconditional NLLs (nllUncond)");
  return nll.map((x, k) => nllUncond[k] - x);
}

/** Score every item's endings (all items in one batched pass). */
export async function scoreEndings(
  model: LanguageModel,
  items: readonly EncodedItem[],
  opts: ScoreOptions = {},
): Promise<ItemScore[]> {
  const norm = opts.norm ?? "mean";
  if (!NORMS.includes(norm)) throw new Error(`unknown norm '${String(norm)}': use one of ${NORMS.join(", ")}`);
  const batchSize = opts.batchSize ?? 32;
  const maxLen = opts.maxLen ?? 0;
  if (!Number.isInteger(maxLen) || maxLen < 0)
    throw new Error(`maxLen must be an integer >= 0 (0 = no limit), got ${maxLen}`);
  const rows: ScoreRow[] = [];
  const dropped: number[] = [];
  for (const it of items) {
    if (it.endings.length < 2)
      throw new Error(
        `item ${it.id} (${it.benchmark} ${it.direction}) has ${it.endings.length} endings; multiple choice needs at least 2`,
      );
    if (!Number.isInteger(it.label) || it.label < 0 || it.label >= it.endings.length) {
      throw new Error(`item ${it.id}: label ${it.label} is not an index into its ${it.endings.length} endings`);
    }
    let most = 0;
    for (const e of it.endings) {
      const r =
        maxLen > 0 ? truncateRow(endingRow(it.prompt, e), maxLen) : { row: endingRow(it.prompt, e), dropped: 0 };
      rows.push(r.row);
      most = Math.max(most, r.dropped);
    }
    dropped.push(most);
    if (norm === "pmi") for (const e of it.endings) rows.push(endingRow(unconditionalPrefix(e), e));
  }
  const nll = await endingNll(model, rows, opts.patcher, batchSize, { batching: opts.batching, onBatch: opts.onBatch });
  const out: ItemScore[] = [];
  let r = 0;
  items.forEach((it, i) => {
    const k = it.endings.length;
    const cond = Array.from(nll.subarray(r, r + k));
    r += k;
    let uncond: number[] | undefined;
    if (norm === "pmi") {
      uncond = Array.from(nll.subarray(r, r + k));
      r += k;
    }
    const nTokens = it.endings.map((e) => e.ids.length);
    const scores = normalise(norm, cond, nTokens, uncond);
    const chosen = argmax(scores);
    const s: ItemScore = {
      id: it.id,
      benchmark: it.benchmark,
      direction: it.direction,
      type: it.type,
      tier: it.tier,
      label: it.label,
      chosen,
      correct: chosen === it.label,
      scores,
      nll: cond,
      nTokens,
    };
    if (uncond) s.nllUncond = uncond;
    if (dropped[i] > 0) s.truncated = dropped[i];
    out.push(s);
  });
  return out;
}

/** Re-decide scored items under another normalisation without running the model again (pmi needs nllUncond). */
export function rescore(items: readonly ItemScore[], norm: Norm): ItemScore[] {
  return items.map((s) => {
    const scores = normalise(norm, s.nll, s.nTokens, s.nllUncond);
    const chosen = argmax(scores);
    return { ...s, scores, chosen, correct: chosen === s.label };
  });
}
