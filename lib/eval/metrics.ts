/**
 * Result rows and their statistics: the long format every table and figure reads.
 *
 *   one ResultRow = one run (one seed) x one benchmark x one direction
 *   macro score   = mean of the S2S and T2T accuracies of a benchmark (paper A.6)
 *   mean ± std    over seeds, with the *sample* standard deviation (n - 1 in the denominator):
 *                 accuracies [0.40, 0.42, 0.44] -> mean 0.42, std sqrt((0.02² + 0 + 0.02²) / 2) = 0.02
 *                 A single seed has std 0 (no spread observed); no seed at all is an error.
 */
import type { Direction } from "../data/bench-encode";
import type { EvalResult } from "./evaluate";

export type RowDirection = Direction | "macro";

export interface ResultRow {
  /** run directory name (the run store's key), unique per run */
  run: string;
  /** model / experiment label (the same for every seed of a configuration) */
  model: string;
  benchmark: string;
  direction: RowDirection;
  /** fraction correct, 0..1 */
  accuracy: number;
  /** items scored */
  n: number;
  seed: number;
  /** the knob values of a grid entry (e.g. { mixRatio: "1:2" }), flattened into columns by toCsv */
  group?: Record<string, string | number>;
  /** the code that made the run (experiment/provenance.ts), set on rows from the run store */
  code?: string;
}

export interface MeanStd {
  mean: number;
  /** sample standard deviation (n - 1); 0 when n = 1 */
  std: number;
  n: number;
}

/** Mean and sample standard deviation (see the header). */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) throw new Error("meanStd of no values: there are no runs (seeds) for this cell");
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/** The paper's macro score: mean of the speech (S2S) and text (T2T) accuracies. */
export function macroScore(s2s: number, t2t: number): number {
  return (s2s + t2t) / 2;
}

/** Rows of one run's EvalResult. */
export function rowsFromEval(
  result: Pick<EvalResult, "cells">,
  meta: { run: string; model: string; seed: number; group?: Record<string, string | number> },
): ResultRow[] {
  return result.cells.map((c) => {
    const row: ResultRow = {
      run: meta.run,
      model: meta.model,
      benchmark: c.benchmark,
      direction: c.direction,
      accuracy: c.accuracy,
      n: c.n,
      seed: meta.seed,
    };
    if (meta.group) row.group = { ...meta.group };
    return row;
  });
}

/** Append a 'macro' row for every (run, benchmark) that has both S2S and T2T rows. */
export function withMacroRows(rows: readonly ResultRow[]): ResultRow[] {
  const out = rows.filter((r) => r.direction !== "macro");
  const byKey = new Map<string, { s2s?: ResultRow; t2t?: ResultRow }>();
  for (const r of out) {
    const key = `${r.run}\u0000${r.benchmark}`;
    const e = byKey.get(key) ?? {};
    if (r.direction === "S2S") e.s2s = r;
    if (r.direction === "T2T") e.t2t = r;
    byKey.set(key, e);
  }
  for (const { s2s, t2t } of byKey.values()) {
    if (!s2s || !t2t) continue;
    out.push({ ...s2s, direction: "macro", accuracy: macroScore(s2s.accuracy, t2t.accuracy), n: s2s.n + t2t.n });
  }
  return out;
}

export interface SummaryRow extends MeanStd {
  model: string;
  benchmark: string;
  direction: RowDirection;
  /** the seeds that went into the mean */
  seeds: number[];
  group?: Record<string, string | number>;
}

/**
 * Mean ± std over seeds of every (model, benchmark, direction[, group]) cell, in order of first appearance.
 * Two rows of the same cell and seed mean the same run was listed twice: that is an error, not a second sample.
 */
export function summarize(rows: readonly ResultRow[]): SummaryRow[] {
  const cells = new Map<string, { first: ResultRow; acc: number[]; seeds: number[] }>();
  for (const r of rows) {
    const key = [r.model, r.benchmark, r.direction, r.group ? groupKey(r.group) : ""].join("\u0000");
    const c = cells.get(key) ?? { first: r, acc: [], seeds: [] };
    if (c.seeds.includes(r.seed)) {
      throw new Error(
        `summarize: two rows for model '${r.model}' ${r.benchmark} ${r.direction} seed ${r.seed} (runs '${c.first.run}' and '${r.run}'); give each seed once, or tell the configurations apart by their model name or group`,
      );
    }
    c.acc.push(r.accuracy);
    c.seeds.push(r.seed);
    cells.set(key, c);
  }
  return [...cells.values()].map(({ first, acc, seeds }) => {
    const s: SummaryRow = {
      model: first.model,
      benchmark: first.benchmark,
      direction: first.direction,
      ...meanStd(acc),
      seeds,
    };
    if (first.group) s.group = { ...first.group };
    return s;
  });
}

function groupKey(g: Record<string, string | number>): string {
  return Object.keys(g)
    .sort()
    .map((k) => `${k}=${g[k]}`)
    .join(",");
}
