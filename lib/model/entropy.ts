/**
 * A small unit n-gram LM for entropy patching (BLT-style; beyond the LST paper, which does not use it).
 *
 * BLT trains a separate small byte LM and starts a patch where the next-byte entropy is high. Here the
 * "small LM" is a Witten-Bell smoothed n-gram over speech units (order 2 = bigram, 3 = trigram), counted
 * on the training sequences' speech runs (contexts never cross a run boundary):
 *   p_0(u)        = (c(u) + 1) / (N + K)                                          (add-one unigram)
 *   p_k(u | ctx)  = (c(ctx u) + n(ctx) * p_{k-1}(u | ctx')) / (c(ctx) + n(ctx))   (ctx' drops the oldest unit)
 * with c(ctx) the count of the context, n(ctx) the number of distinct units seen after it, and p_k = p_{k-1}
 * for an unseen context. H(t) is the entropy (nats) of the distribution that predicts frame t from the
 * frames before it in its run, so a patch boundary at t means "the LM could not guess frame t".
 *
 * Boundary criteria (BLT `patcher.py`), inside each speech run (its first frame always starts a patch):
 *   global     H(t) > threshold
 *   monotonic  H(t) - H(t-1) > threshold   (a jump in uncertainty; robust to runs that are uniformly noisy)
 * Worked example (this exact case is a test): a bigram (order 2, K = 4 units) fitted on one run 0 1 0 1 0 1:
 *   counts   "" -> {0:3, 1:3}    "0" -> {1:3}    "1" -> {0:2}
 *   run      0       1       0       1       1       3       0       1
 *   H(t)     1.1935  0.5528  0.6739  0.5528  0.6739  0.6739  1.1935  0.5528   (nats)
 *   H(0) is the unigram's; after the unseen unit 3 the bigram backs off to the unigram again.
 *   global, threshold 1.0 -> patches [6, 2];  monotonic, threshold 0.3 -> [6, 2] (H rises by 0.52 at frame 6)
 */
import type { LmSequence } from "../types";
import { lengthsFromBoundaries, splitLongPatches } from "./patch-ids";

export const ENTROPY_MODEL_FORMAT = "lst-lab-unit-ngram";
export const ENTROPY_MODEL_VERSION = 1;

/** The serialized model: plain JSON, counts as [unit, count] pairs per context key ("3,7" = units 3 then 7). */
export interface UnitEntropyModelJson {
  format: string;
  version: number;
  order: number;
  unitOffset: number;
  nUnits: number;
  counts: Record<string, [number, number][]>;
}

export class UnitEntropyModel {
  /** per context key: total count and distinct followers, filled lazily */
  private readonly totals = new Map<string, { c: number; n: number }>();
  /** entropy of the next-unit distribution per context key (contexts repeat a lot) */
  private readonly entropyCache = new Map<string, number>();
  /** calibrated thresholds per "mode:meanLen" */
  private readonly thresholdCache = new Map<string, number>();

  constructor(
    readonly order: number,
    readonly unitOffset: number,
    readonly nUnits: number,
    private readonly counts: Map<string, Map<number, number>>,
    /** the sequences the model was fitted on (kept for threshold calibration; empty when loaded from JSON) */
    readonly fitSample: readonly LmSequence[] = [],
  ) {
    if (!Number.isInteger(order) || order < 1 || order > 5)
      throw new Error(`entropy model order must be an integer in 1..5, got ${order}`);
    if (!Number.isInteger(nUnits) || nUnits < 1) throw new Error(`entropy model needs nUnits >= 1, got ${nUnits}`);
  }

  private total(key: string): { c: number; n: number } {
    let t = this.totals.get(key);
    if (!t) {
      const m = this.counts.get(key);
      let c = 0;
      if (m) for (const v of m.values()) c += v;
      t = { c, n: m ? m.size : 0 };
      this.totals.set(key, t);
    }
    return t;
  }

  /** Next-unit distribution after `ctx` (unit ids 0..nUnits-1, oldest first; only the last order-1 are used). */
  distribution(ctx: readonly number[]): Float64Array {
    const K = this.nUnits;
    const uni = this.counts.get("") ?? new Map<number, number>();
    const { c: N } = this.total("");
    let p = new Float64Array(K);
    for (let u = 0; u < K; u++) p[u] = ((uni.get(u) ?? 0) + 1) / (N + K);
    const used = ctx.slice(Math.max(0, ctx.length - (this.order - 1)));
    // from the shortest context (the last unit) to the longest
    for (let k = 1; k <= used.length; k++) {
      const key = used.slice(used.length - k).join(",");
      const { c, n } = this.total(key);
      if (c === 0) continue;
      const follow = this.counts.get(key) as Map<number, number>;
      const next = new Float64Array(K);
      for (let u = 0; u < K; u++) next[u] = ((follow.get(u) ?? 0) + n * p[u]) / (c + n);
      p = next;
    }
    return p;
  }

  /** Entropy in nats of the next-unit distribution after `ctx`. */
  entropyAfter(ctx: readonly number[]): number {
    const used = ctx.slice(Math.max(0, ctx.length - (this.order - 1)));
    const key = `${used.length}:${used.join(",")}`;
    const hit = this.entropyCache.get(key);
    if (hit !== undefined) return hit;
    let h = 0;
    for (const q of this.distribution(used)) if (q > 0) h -= q * Math.log(q);
    this.entropyCache.set(key, h);
    return h;
  }

  /** H(t) for every token: the entropy predicting speech frame t from its run's previous frames; 0 for non-speech. */
  entropies(seq: LmSequence): Float64Array {
    const out = new Float64Array(seq.ids.length);
    let runStart = -1;
    for (let t = 0; t < seq.ids.length; t++) {
      if (!seq.isSpeech[t]) {
        runStart = -1;
        continue;
      }
      if (runStart < 0) runStart = t;
      const ctx: number[] = [];
      for (let s = Math.max(runStart, t - (this.order - 1)); s < t; s++) ctx.push(this.unitOf(seq.ids[s], s));
      out[t] = this.entropyAfter(ctx);
    }
    return out;
  }

  /** Patch lengths by the global or monotonic criterion (see the header), then split at maxPatchLen. */
  patchLengths(seq: LmSequence, threshold: number, mode: "global" | "monotonic", maxPatchLen = 0): Int32Array {
    const h = this.entropies(seq);
    const starts = mode === "global" ? (t: number) => h[t] > threshold : (t: number) => h[t] - h[t - 1] > threshold;
    return splitLongPatches(lengthsFromBoundaries(seq, starts), maxPatchLen);
  }

  /**
   * The threshold that makes speech patches average `meanLen` frames on `seqs` (the fit data by default).
   * Every run's first frame starts a patch anyway (R starts over F frames); the other F/meanLen - R boundaries
   * go to the frames with the highest criterion value c(t) (H(t), or H(t) - H(t-1) when monotonic), so the
   * threshold is the next value below them. Example: F = 12 frames in one run, meanLen 4 -> 3 boundaries,
   * 1 is the run start, so the 2 highest c(t) start patches and the threshold is the 3rd highest.
   */
  thresholdForMeanLength(
    meanLen: number,
    mode: "global" | "monotonic",
    seqs: readonly LmSequence[] = this.fitSample,
  ): number {
    if (!(meanLen >= 1)) throw new Error(`mean patch length must be >= 1, got ${meanLen}`);
    const key = `${mode}:${meanLen}`;
    const useCache = seqs === this.fitSample;
    const hit = useCache ? this.thresholdCache.get(key) : undefined;
    if (hit !== undefined) return hit;
    if (seqs.length === 0) {
      throw new Error(
        "this entropy model has no fit data to calibrate a threshold on (loaded from JSON?): pass the sequences, or set patching.entropyMeanLen = 0 and an explicit entropyThreshold",
      );
    }
    const values: number[] = [];
    let frames = 0;
    let starts = 0;
    for (const seq of seqs) {
      const h = this.entropies(seq);
      for (let t = 0; t < seq.ids.length; t++) {
        if (!seq.isSpeech[t]) continue;
        frames++;
        if (t === 0 || !seq.isSpeech[t - 1]) starts++;
        else values.push(mode === "global" ? h[t] : h[t] - h[t - 1]);
      }
    }
    const extra = Math.round(frames / meanLen) - starts;
    values.sort((a, b) => b - a);
    // no extra boundary wanted: above every value; all of them: below every value
    const threshold =
      extra <= 0 ? (values[0] ?? 0) + 1 : extra >= values.length ? (values[values.length - 1] ?? 0) - 1 : values[extra];
    if (useCache) this.thresholdCache.set(key, threshold);
    return threshold;
  }

  toJSON(): UnitEntropyModelJson {
    const counts: Record<string, [number, number][]> = {};
    const keys = [...this.counts.keys()].sort();
    for (const k of keys) {
      const m = this.counts.get(k) as Map<number, number>;
      counts[k] = [...m.entries()].sort((a, b) => a[0] - b[0]);
    }
    return {
      format: ENTROPY_MODEL_FORMAT,
      version: ENTROPY_MODEL_VERSION,
      order: this.order,
      unitOffset: this.unitOffset,
      nUnits: this.nUnits,
      counts,
    };
  }

  static fromJSON(json: UnitEntropyModelJson): UnitEntropyModel {
    if (json.format !== ENTROPY_MODEL_FORMAT || json.version !== ENTROPY_MODEL_VERSION) {
      throw new Error(
        `not a unit entropy model of version ${ENTROPY_MODEL_VERSION}: got format '${json.format}' version ${json.version}; refit it with fitUnitEntropyModel`,
      );
    }
    const counts = new Map<string, Map<number, number>>();
    for (const [k, pairs] of Object.entries(json.counts)) counts.set(k, new Map(pairs));
    return new UnitEntropyModel(json.order, json.unitOffset, json.nUnits, counts);
  }

  private unitOf(id: number, t: number): number {
    const u = id - this.unitOffset;
    if (!(u >= 0 && u < this.nUnits)) {
      throw new Error(
        `token ${t} (id ${id}) is marked as speech but is not a unit id ${this.unitOffset}..${this.unitOffset + this.nUnits - 1}: fit the entropy model on this vocabulary`,
      );
    }
    return u;
  }
}

/**
 * Count unit n-grams over the speech runs of `seqs`. `nUnits` = vocabSize - unitOffset of the source.
 * Example: order 2 over one run of units [0,1,0,1] counts "" -> {0:2, 1:2}, "0" -> {1:2}, "1" -> {0:1}.
 */
export function fitUnitEntropyModel(
  seqs: Iterable<LmSequence>,
  opts: { unitOffset: number; nUnits: number; order?: number },
): UnitEntropyModel {
  const order = opts.order ?? 2;
  const counts = new Map<string, Map<number, number>>();
  const bump = (key: string, u: number) => {
    let m = counts.get(key);
    if (!m) counts.set(key, (m = new Map()));
    m.set(u, (m.get(u) ?? 0) + 1);
  };
  const sample: LmSequence[] = [];
  const model = new UnitEntropyModel(order, opts.unitOffset, opts.nUnits, counts, sample);
  for (const seq of seqs) {
    sample.push(seq);
    let run: number[] = [];
    for (let t = 0; t <= seq.ids.length; t++) {
      if (t < seq.ids.length && seq.isSpeech[t]) {
        const u = seq.ids[t] - opts.unitOffset;
        if (!(u >= 0 && u < opts.nUnits))
          throw new Error(
            `token ${t} (id ${seq.ids[t]}) is marked as speech but is not a unit id (unitOffset ${opts.unitOffset}, nUnits ${opts.nUnits})`,
          );
        // every context of length 0..order-1 that ends just before this frame, inside the run
        for (let k = 0; k <= Math.min(order - 1, run.length); k++) bump(run.slice(run.length - k).join(","), u);
        run.push(u);
      } else {
        run = [];
      }
    }
  }
  return model;
}
