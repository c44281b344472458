/**
 * The reproduction report: each expected direction of the paper (lst-paper.md §7) as a comparison of two
 * cells of the run store, with a verdict from paired per-item statistics (lib/eval/paired.ts):
 *
 *   d[s][i]  = score of the model expected higher - score of the one expected lower, on item i, seed s
 *   Δ        = the mean of d (= the difference of the two accuracies), with a seeded hierarchical-bootstrap
 *              95% interval (seeds resampled, then items within each seed) and a one-sided p for "higher > lower"
 *   'reproduces'   the interval lies above 0;  'contradicts'  it lies below 0;  'inconclusive' otherwise;
 *   'not run'      one of the two cells has no runs, or they share no seed
 * Runs are paired by seed (the same seed of both models) and items by id; mean ± std over seeds is shown next
 * to it, as before. With one paired seed the interval covers item noise only (the row's `note` says so).
 *
 * Example (a test): 3 seeds of 200 items, the higher model right on every item the lower one gets right and
 * on 40 more -> Δ = +20.0 points, interval about [+16.8, +23.2] (item noise only: the seeds agree),
 * p = 1 / 10001, 'reproduces'.
 *
 * The report warns (once) when the runs compared come from different code (provenance.ts).
 */
import type { RowDirection } from "../eval/metrics";
import { cellMeanStd, comparePaired, formatPaired, type PairedOptions, type RunItems } from "../eval/paired";
import { PAPER_FINDINGS, type Finding } from "./findings";
import { warnIfMixedCode } from "./provenance";

export { PAPER_FINDINGS, type Finding };

export type Verdict = "reproduces" | "contradicts" | "inconclusive" | "not run";

export interface ReportRow {
  claim: string;
  grid: string;
  cell: string;
  higher: string;
  lower: string;
  /** mean ± sample std over seeds of each cell's accuracy (fractions) */
  meanHigher: number;
  stdHigher: number;
  meanLower: number;
  stdLower: number;
  /** paired mean difference higher - lower over the paired seeds (fraction), NaN when not run */
  delta: number;
  /** its bootstrap interval and one-sided p for higher > lower */
  lo: number;
  hi: number;
  p: number;
  /** seeds of each cell, "3/3" */
  seeds: string;
  /** seeds run by both models (the paired ones) */
  pairedSeeds: number;
  /** items per seed in the cell */
  items: number;
  verdict: Verdict;
  /** the finding's likely reason when the verdict is not 'reproduces' */
  why: string;
  /** what limits the statistics (one paired seed, seeds only one model has), else "" */
  note: string;
}

/** A row's result fields: the paired interval, the verdict, and what explains or limits it. */
export type ReportResult = Pick<
  ReportRow,
  "delta" | "lo" | "hi" | "p" | "pairedSeeds" | "items" | "verdict" | "why" | "note"
>;

/** The result of a finding with no paired measurement (`note` says why, or "" when its runs are missing). */
export function notRunResult(note: string): ReportResult {
  return { delta: NaN, lo: NaN, hi: NaN, p: NaN, pairedSeeds: 0, items: 0, verdict: "not run", why: "", note };
}

/**
 * The result of a paired measurement (comparePaired or pairedBootstrap): its interval and verdict, the finding's
 * likely reason where it did not reproduce, and notes on one paired seed and on the seeds left out
 * (`leftOut` names them, e.g. "run by one model only").
 */
export function pairedResult(
  r: { mean: number; lo: number; hi: number; p: number; seeds: number; items: number; verdict: Verdict },
  f: Pick<Finding, "ifNot">,
  unpaired: readonly number[],
  leftOut: string,
): ReportResult {
  const notes: string[] = [];
  if (r.seeds === 1) notes.push("one paired seed: the interval covers item noise only");
  if (unpaired.length) notes.push(`seeds ${unpaired.join(",")} ${leftOut} are left out`);
  return {
    delta: r.mean,
    lo: r.lo,
    hi: r.hi,
    p: r.p,
    pairedSeeds: r.seeds,
    items: r.items,
    verdict: r.verdict,
    why: r.verdict === "reproduces" ? "" : (f.ifNot ?? ""),
    note: notes.join("; "),
  };
}

/**
 * Compare every finding against the per-item scores of measured runs (lib/experiment/rescore.ts `runItems` gives them
 * for StudyRuns). `opts` sets the bootstrap (replicates, seed, level); the default seed 0 makes it repeatable.
 */
export function reproductionReport(
  runs: readonly RunItems[],
  findings: readonly Finding[] = PAPER_FINDINGS,
  opts: PairedOptions = {},
): ReportRow[] {
  warnIfMixedCode(runs);
  return findings.map((f) => {
    const ra = runs.filter((r) => r.model === f.higher);
    const rb = runs.filter((r) => r.model === f.lower);
    const a = cellMeanStd(ra, f.benchmark, f.direction);
    const b = cellMeanStd(rb, f.benchmark, f.direction);
    const base = {
      claim: f.claim,
      grid: f.grid,
      cell: `${f.benchmark} ${f.direction}`,
      higher: f.higher,
      lower: f.lower,
      meanHigher: a?.mean ?? NaN,
      stdHigher: a?.std ?? NaN,
      meanLower: b?.mean ?? NaN,
      stdLower: b?.std ?? NaN,
      seeds: `${a?.n ?? 0}/${b?.n ?? 0}`,
    };
    const paired = a && b ? comparePaired(ra, rb, f.benchmark, f.direction, opts) : null;
    if (!paired) return { ...base, ...notRunResult(a && b ? "the two models share no seed" : "") };
    return { ...base, ...pairedResult(paired, f, paired.unpaired, "run by one model only") };
  });
}

/** "+3.8 [+1.2, +6.4]" for a row that ran, "–" otherwise. */
export function reportInterval(r: Pick<ReportRow, "delta" | "lo" | "hi">): string {
  return Number.isFinite(r.delta) ? formatPaired({ mean: r.delta, lo: r.lo, hi: r.hi }) : "–";
}

/** A p-value for a table: 3 significant digits, "<0.001" below that. */
export function formatP(p: number): string {
  if (!Number.isFinite(p)) return "–";
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** The report as a Markdown table (for the notebook and closing notes). */
export function reportMarkdown(report: readonly ReportRow[]): string {
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : "–");
  const lines = [
    "| paper finding | cell | higher (mean ± std) | lower (mean ± std) | paired Δ [95% CI] | p (one-sided) | seeds | verdict | likely reason if not |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of report) {
    const why = [r.why, r.note].filter((x) => x !== "").join(" (") + (r.why && r.note ? ")" : "");
    lines.push(
      `| ${r.claim} | ${r.cell} | ${r.higher} ${pct(r.meanHigher)} ± ${pct(r.stdHigher)} | ${r.lower} ${pct(r.meanLower)} ± ${pct(r.stdLower)} | ${reportInterval(r)} | ${formatP(r.p)} | ${r.seeds} | ${r.verdict} | ${why} |`,
    );
  }
  return lines.join("\n");
}
