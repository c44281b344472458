/**
 * Tables for notebooks and the CLI: plain row objects (showTable and danfo take them as they are).
 *
 *   summaryTable(rows)         mean ± std over seeds per model, benchmark and direction
 *   pairedTable(items, ref)    mean ± std, and each model's paired difference to a reference model with its
 *                              95% interval, one-sided p and verdict (lib/eval/paired.ts)
 *   budgetTable(runs)          steps, global units, raw tokens and FLOPs each run spent
 *   tierTable(runs)            accuracy per benchmark tier and item type (issue: what a small run shows);
 *                              tierTableOfItems for per-item scores from elsewhere (the chain tier)
 *   mixRatioTable(ds, ratios)  the realised token shares of the mix-ratio knob
 *   patchLengthTable(ds, ...)  mean speech-patch length per patching scheme
 *   bpePieces(bpe, text)       the BPE pieces of a text
 *
 * The tables that compare runs warn (once) when the runs come from different code (provenance.ts).
 */
import type { Dataset } from "../data/build";
import { speechDocument } from "../data/interleave";
import { meanStd, summarize, type ResultRow, type RowDirection } from "../eval/metrics";
import { cellMeanStd, comparePaired, formatPaired, type PairedOptions, type RunItems } from "../eval/paired";
import { accuracyBy } from "../eval/evaluate";
import type { ItemScore } from "../eval/score";
import type { BpeTokenizer } from "../tokenizers/bpe";
import type { DeepPartial } from "../config";
import {
  makePatcher,
  meanSpeechPatchLen,
  needsEntropyModel,
  resolvePatchingConfig,
  type PatchingConfig,
} from "../model/patching";
import type { UnitEntropyModel } from "../model/entropy";
import { mixShares } from "./inspect";
import { LAB_MIX } from "../experiment/experiment";
import { datasetSource, entropyModelFor, type StudyRun } from "../experiment/study";
import { warnIfMixedCode } from "../experiment/provenance";

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
  return summarize(rows).map((s) => ({
    model: s.model,
    ...(s.group ?? {}),
    benchmark: s.benchmark,
    direction: s.direction,
    "accuracy %": `${pct(s.mean)} ± ${pct(s.std)}`,
    seeds: s.n,
  }));
}

export interface PairedTableOptions extends PairedOptions {
  /** the model every other one is compared with (a run's config name, e.g. 'baseline') */
  reference: string;
  /** directions (default S2S, T2T, macro) */
  directions?: RowDirection[];
  /** benchmarks (default: every benchmark the runs scored) */
  benchmarks?: string[];
}

/** The paired verdict of a table cell, for "model - reference" with no expected direction. */
export type PairedSide = "ahead" | "behind" | "within noise";

/**
 * One row per model (the reference included, with empty paired columns), benchmark and direction: accuracy
 * mean ± std over seeds, and the paired difference to the reference with its 95% interval, one-sided p for
 * "model > reference" and where the interval lies: 'ahead' (above 0), 'behind' (below 0), 'within noise'.
 */
export function pairedTable(runs: readonly RunItems[], opts: PairedTableOptions): Record<string, string | number>[] {
  const directions = opts.directions ?? ["S2S", "T2T", "macro"];
  const ref = runs.filter((r) => r.model === opts.reference);
  if (ref.length === 0)
    throw new Error(
      `pairedTable: no runs of the reference model '${opts.reference}'; pick one of ${[...new Set(runs.map((r) => r.model))].join(", ")}`,
    );
  const benchmarks = opts.benchmarks ?? [...new Set(runs.flatMap((r) => r.items.map((i) => i.benchmark)))];
  const models = [...new Set(runs.map((r) => r.model))];
  const out: Record<string, string | number>[] = [];
  for (const model of models) {
    const mine = runs.filter((r) => r.model === model);
    for (const benchmark of benchmarks) {
      for (const direction of directions) {
        const cell = cellMeanStd(mine, benchmark, direction);
        if (!cell) continue;
        const { mean, std, n } = cell;
        const row: Record<string, string | number> = {
          model,
          ...(mine[0].group ?? {}),
          benchmark,
          direction,
          "accuracy %": `${pct(mean)} ± ${pct(std)}`,
          seeds: n,
        };
        const key = `Δ vs ${opts.reference} [95% CI]`;
        const c = model === opts.reference ? null : comparePaired(mine, ref, benchmark, direction, opts);
        row[key] = c ? formatPaired(c) : "–";
        row.p = c ? (c.p < 0.001 ? "<0.001" : c.p.toFixed(3)) : "–";
        row.verdict = c
          ? ((c.verdict === "reproduces"
              ? "ahead"
              : c.verdict === "contradicts"
                ? "behind"
                : "within noise") satisfies PairedSide)
          : "–";
        out.push(row);
      }
    }
  }
  return out;
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
export function tierTable(
  runs: readonly StudyRun[],
  field: "tier" | "type" = "tier",
): Record<string, string | number>[] {
  warnIfMixedCode(runs.flatMap((r) => r.rows));
  return tierTableOfItems(
    runs.map((r) => ({ model: r.config.name, items: (r.record.result as RunResult).eval?.items ?? [] })),
    field,
  );
}

/** The same from per-item scores, one entry per run (e.g. lab.extraBenchmarkItems for the chain tier). */
export function tierTableOfItems(
  runs: readonly { model: string; items: readonly ItemScore[] }[],
  field: "tier" | "type" = "tier",
): Record<string, string | number>[] {
  const acc = new Map<
    string,
    { model: string; benchmark: string; direction: string; value: string | number; xs: number[]; n: number }
  >();
  for (const r of runs) {
    for (const c of accuracyBy(r.items, field)) {
      const key = [r.model, c.benchmark, c.direction, c.value].join("\u0000");
      const e = acc.get(key) ?? {
        model: r.model,
        benchmark: c.benchmark,
        direction: c.direction,
        value: c.value,
        xs: [],
        n: c.n,
      };
      e.xs.push(c.accuracy);
      acc.set(key, e);
    }
  }
  return [...acc.values()].map((e) => {
    const { mean, std } = meanStd(e.xs);
    return {
      model: e.model,
      benchmark: e.benchmark,
      direction: e.direction,
      [field]: e.value,
      items: e.n,
      "accuracy %": `${pct(mean)} ± ${pct(std)}`,
      seeds: e.xs.length,
    };
  });
}

export interface MixRow {
  mixRatio: string;
  /** the interleaved token share the knob asks for */
  target: string;
  interleavedShare: string;
  textShare: string;
  speechOnlyShare: string;
}

/**
 * The realised token shares of each mix ratio (over the first n documents), with the speech-only document
 * fraction the lab trains with (LAB_MIX's unless given). `interleavedShare` and `textShare` are shares of the
 * interleaved + text-only tokens (what the ratio's `target` controls); `speechOnlyShare` is of all tokens.
 */
export function mixRatioTable(
  ds: Dataset,
  ratios: [number, number][],
  n = 300,
  speechOnlyFrac = LAB_MIX.speechOnlyFrac,
): MixRow[] {
  return ratios.map(([i, t]) => {
    const s = mixShares(datasetSource(ds, { mixRatio: [i, t], speechOnlyFrac }), n);
    return {
      mixRatio: `${i}:${t}`,
      target: (i / (i + t)).toFixed(3),
      interleavedShare: (s.interleaved / (s.interleaved + s.text)).toFixed(3),
      textShare: (s.text / (s.interleaved + s.text)).toFixed(3),
      speechOnlyShare: s.speech.toFixed(3),
    };
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
export function patchLengthTable(
  ds: Dataset,
  schemes: Record<string, DeepPartial<PatchingConfig>> = PATCHING_GALLERY,
): Record<string, string | number>[] {
  const utts = ds.paired.slice(0, 200);
  let entropyModel: UnitEntropyModel | undefined;
  return Object.entries(schemes).map(([name, p]) => {
    const cfg = resolvePatchingConfig(p);
    if (needsEntropyModel(cfg) && !entropyModel) entropyModel = entropyModelFor(ds);
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
export function bpePieces(
  bpe: BpeTokenizer,
  text: string,
): { id: number; piece: string; start: number; end: number }[] {
  const { ids, offsets } = bpe.encodeWithOffsets(text);
  return ids.map((id, k) => ({
    id,
    piece: JSON.stringify(text.slice(offsets[k][0], offsets[k][1])),
    start: offsets[k][0],
    end: offsets[k][1],
  }));
}
