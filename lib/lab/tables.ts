/**
 * Tables for notebooks and the CLI: plain row objects (showTable and danfo take them as they are).
 *
 *   summaryTable(rows)         mean ± std over seeds per model, benchmark and direction
 *   budgetTable(runs)          steps, global units, raw tokens and FLOPs each run spent
 *   tierTable(runs)            accuracy per benchmark tier and item type (issue: what a small run shows)
 *   mixRatioTable(ds, ratios)  the realised token shares of the mix-ratio knob
 *   patchLengthTable(ds, ...)  mean speech-patch length per patching scheme
 *   bpePieces(bpe, text)       the BPE pieces of a text
 *
 * The tables that compare runs warn (once) when the runs come from different code (provenance.ts).
 */
import type { Dataset } from "../data/build";
import { speechDocument } from "../data/interleave";
import { meanStd, summarize, type ResultRow } from "../eval/metrics";
import { accuracyBy } from "../eval/evaluate";
import type { ItemScore } from "../eval/score";
import type { BpeTokenizer } from "../tokenizers/bpe";
import type { DeepPartial } from "../config";
import { makePatcher, meanSpeechPatchLen, resolvePatchingConfig, type PatchingConfig } from "../model/patching";
import type { UnitEntropyModel } from "../model/entropy";
import { mixShares } from "./inspect";
import { datasetSource, entropyModelFor, type StudyRun } from "./study";
import { warnIfMixedCode } from "./provenance";

const pct = (x: number) => (100 * x).toFixed(1);

export interface SummaryTableRow {
  model: string;
  benchmark: string;
  direction: string;
  "accuracy %": string;
  seeds: number;
  [group: string]: string | number;
}

/** Mean ± std (in %) over seeds, one row per model x benchmark x direction (group columns kept). */
export function summaryTable(rows: readonly ResultRow[]): SummaryTableRow[] {
  warnIfMixedCode(rows);
  return summarize(rows).map((s) => ({ model: s.model, ...(s.group ?? {}), benchmark: s.benchmark, direction: s.direction, "accuracy %": `${pct(s.mean)} ± ${pct(s.std)}`, seeds: s.n }));
}

interface RunResult {
  steps?: number;
  params?: { total: number };
  eval?: { items?: ItemScore[] };
}

/** What each run (first seed) spent: steps, global units, raw tokens by modality, FLOPs when logged. */
export function budgetTable(runs: readonly StudyRun[]): Record<string, string | number>[] {
  warnIfMixedCode(runs.flatMap((r) => r.rows));
  const firstSeed = new Map<string, StudyRun>();
  for (const r of runs) if (!firstSeed.has(r.config.name)) firstSeed.set(r.config.name, r);
  return [...firstSeed.values()].map((r) => {
    let units = 0;
    let speech = 0;
    let text = 0;
    let flops = 0;
    for (const m of r.metrics) {
      units += m.globalUnits;
      speech += m.rawTokens.speech;
      text += m.rawTokens.text;
      flops += m.flops ?? 0;
    }
    const res = r.record.result as RunResult;
    return {
      model: r.config.name,
      budget: r.config.budget,
      steps: r.metrics.length,
      params: res.params?.total ?? 0,
      globalUnits: units,
      rawSpeechTokens: speech,
      rawTextTokens: text,
      "raw tokens per global unit": units ? ((speech + text) / units).toFixed(2) : "-",
      "train GFLOPs": flops ? (flops / 1e9).toFixed(2) : "-",
    };
  });
}

/** Accuracy per difficulty tier or item type, mean ± std over the seeds of each model. */
export function tierTable(runs: readonly StudyRun[], field: "tier" | "type" = "tier"): Record<string, string | number>[] {
  warnIfMixedCode(runs.flatMap((r) => r.rows));
  const acc = new Map<string, { model: string; benchmark: string; direction: string; value: string | number; xs: number[]; n: number }>();
  for (const r of runs) {
    const items = (r.record.result as RunResult).eval?.items ?? [];
    for (const c of accuracyBy(items, field)) {
      const key = [r.config.name, c.benchmark, c.direction, c.value].join("\u0000");
      const e = acc.get(key) ?? { model: r.config.name, benchmark: c.benchmark, direction: c.direction, value: c.value, xs: [], n: c.n };
      e.xs.push(c.accuracy);
      acc.set(key, e);
    }
  }
  return [...acc.values()].map((e) => {
    const { mean, std } = meanStd(e.xs);
    return { model: e.model, benchmark: e.benchmark, direction: e.direction, [field]: e.value, items: e.n, "accuracy %": `${pct(mean)} ± ${pct(std)}`, seeds: e.xs.length };
  });
}

export interface MixRow {
  mixRatio: string;
  /** the interleaved token share the knob asks for */
  target: string;
  interleavedShare: string;
  textShare: string;
}

/** The realised interleaved / text-only token shares for each mix ratio (over the first n documents). */
export function mixRatioTable(ds: Dataset, ratios: [number, number][], n = 300): MixRow[] {
  return ratios.map(([i, t]) => {
    const s = mixShares(datasetSource(ds, { mixRatio: [i, t] }), n);
    return { mixRatio: `${i}:${t}`, target: (i / (i + t)).toFixed(3), interleavedShare: s.interleaved.toFixed(3), textShare: s.text.toFixed(3) };
  });
}

/** The schemes notebook 03 shows, as patching overrides. */
export const PATCHING_GALLERY: Record<string, DeepPartial<PatchingConfig>> = {
  "static p=4": { scheme: "static", patchSize: 4 },
  "aligned to words, silence separate": { scheme: "aligned", align: "word", silence: "separate" },
  "aligned to words, silence merged": { scheme: "aligned", align: "word", silence: "merged" },
  "aligned to BPE tokens": { scheme: "aligned", align: "bpe", silence: "separate" },
  "entropy (unit bigram, threshold for mean length 4)": { scheme: "entropy" },
};

/** Mean speech-patch length of each scheme over (up to) the first 200 paired utterances. */
export function patchLengthTable(ds: Dataset, schemes: Record<string, DeepPartial<PatchingConfig>> = PATCHING_GALLERY): Record<string, string | number>[] {
  const utts = ds.paired.slice(0, 200);
  let entropyModel: UnitEntropyModel | undefined;
  return Object.entries(schemes).map(([name, p]) => {
    const cfg = resolvePatchingConfig(p);
    if (cfg.scheme === "entropy" && !entropyModel) entropyModel = entropyModelFor(ds);
    const patcher = makePatcher(cfg, { totalSteps: 1, entropyModel });
    let sum = 0;
    for (const u of utts) {
      const seq = speechDocument(u, ds.vocab);
      sum += meanSpeechPatchLen(patcher(seq, 0), seq);
    }
    return { scheme: name, "mean speech patch length (frames)": (sum / utts.length).toFixed(2) };
  });
}

/** The BPE pieces of a text, with ids and character offsets. */
export function bpePieces(bpe: BpeTokenizer, text: string): { id: number; piece: string; start: number; end: number }[] {
  const { ids, offsets } = bpe.encodeWithOffsets(text);
  return ids.map((id, k) => ({ id, piece: JSON.stringify(text.slice(offsets[k][0], offsets[k][1])), start: offsets[k][0], end: offsets[k][1] }));
}
