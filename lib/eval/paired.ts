/**
 * Paired statistics for comparing two models that answered the same benchmark items, over several seeds.
 *
 * Every model of a grid is scored on the same items, so the evidence is the per-item difference, not the
 * three seed means alone. For seed s (model A's run with seed s against model B's run with seed s) and item i:
 *
 *   d[s][i] = score_A(s, i) - score_B(s, i)       score = 1 if right, 0 if wrong (macro: the mean of S→S and T→T)
 *   mean    = mean over seeds of (mean over items of d[s][i])      = the difference of the two accuracies
 *
 * Hierarchical bootstrap (seeded, so the same inputs and seed give the same interval):
 *   repeat R times: draw S seeds with replacement from the S seeds; within each drawn seed draw its n_s items
 *   with replacement; the replicate is the mean over the drawn seeds of their drawn items' mean difference.
 *   95% interval = the 2.5% and 97.5% quantiles of the replicates; one-sided p for "A > B" = the share of
 *   replicates <= 0, as (count + 1) / (R + 1) so it is never exactly 0.
 * Resampling seeds carries the seed-to-seed spread (training noise) into the interval, resampling items the
 * finite benchmark. With one seed only item noise is covered: `seeds` says how many there were.
 *
 * Verdict, for differences oriented in the expected direction (A is the model expected to be higher):
 *   'reproduces'   the interval lies above 0;   'contradicts'  it lies below 0;   'inconclusive' otherwise.
 *
 * Worked example (a test): one seed, 400 items, A right on 200 items where B is wrong, equal elsewhere:
 *   d = [1 x 200, 0 x 200], mean 0.5, bootstrap std ~ sqrt(0.25 / 400) = 0.025, interval ~ [0.45, 0.55],
 *   p = 1 / (R + 1), verdict 'reproduces'. Identical models: d = 0 everywhere, interval [0, 0], p = 1,
 *   'inconclusive'.
 */
import { Rng } from "../rng";
import type { Direction } from "../data/bench-encode";
import { meanStd, type MeanStd, type RowDirection } from "./metrics";

export type PairedVerdict = "reproduces" | "contradicts" | "inconclusive";

/** What a per-item score needs (ItemScore in score.ts has these fields). */
export interface ItemOutcome {
  id: string;
  benchmark: string;
  direction: Direction;
  correct: boolean;
}

/** The per-item outcomes of one run: one model (configuration), one seed. */
export interface RunItems {
  /** run directory name, unique per run */
  run: string;
  model: string;
  seed: number;
  group?: Record<string, string | number>;
  /** the code that made the run (lib/experiment/provenance.ts), for the mixed-code warning */
  code?: string;
  items: readonly ItemOutcome[];
}

export interface PairedOptions {
  /** bootstrap replicates, default 10000 */
  resamples?: number;
  /** the bootstrap's seed, default 0 */
  seed?: number;
  /** interval coverage, default 0.95 */
  level?: number;
}

export interface PairedResult {
  /** mean difference (A - B), a fraction (0.05 = 5 points) */
  mean: number;
  /** the interval's ends */
  lo: number;
  hi: number;
  /** one-sided p-value for A > B */
  p: number;
  verdict: PairedVerdict;
  /** seeds paired, and items per seed (the first seed's; all seeds have the same items in a grid) */
  seeds: number;
  items: number;
  resamples: number;
  level: number;
}

/**
 * The per-item scores of one cell of a run, by item id: 1 right / 0 wrong, or for 'macro' the mean of the
 * item's S→S and T→T scores (items scored in only one of the two are left out).
 */
export function cellScores(
  items: readonly ItemOutcome[],
  benchmark: string,
  direction: RowDirection,
): Map<string, number> {
  const by = (d: Direction): Map<string, number> => {
    const m = new Map<string, number>();
    for (const it of items) {
      if (it.benchmark !== benchmark || it.direction !== d) continue;
      if (m.has(it.id))
        throw new Error(
          `item '${it.id}' appears twice in ${benchmark} ${d}: a run scores each item once per direction; check the run's eval.json`,
        );
      m.set(it.id, it.correct ? 1 : 0);
    }
    return m;
  };
  if (direction !== "macro") return by(direction);
  const s2s = by("S2S");
  const t2t = by("T2T");
  const out = new Map<string, number>();
  for (const [id, s] of s2s) {
    const t = t2t.get(id);
    if (t !== undefined) out.set(id, (s + t) / 2);
  }
  return out;
}

/** A cell's accuracy from its per-item scores (the mean score). */
export function cellAccuracy(scores: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const v of scores.values()) sum += v;
  return sum / scores.size;
}

/** A cell's accuracy, mean ± std over the runs that scored it (null when none did). */
export function cellMeanStd(runs: readonly RunItems[], benchmark: string, direction: RowDirection): MeanStd | null {
  const acc = runs
    .map((r) => cellScores(r.items, benchmark, direction))
    .filter((m) => m.size > 0)
    .map(cellAccuracy);
  return acc.length ? meanStd(acc) : null;
}

/**
 * Per-item differences A - B for one cell, seed by seed: runs of A and B are paired by seed, items by id.
 * Seeds that only one model has are left out (`unpaired` lists them); a pair whose item sets differ is an
 * error, since the two runs did not answer the same benchmark.
 */
export function pairedDiffs(
  a: readonly RunItems[],
  b: readonly RunItems[],
  benchmark: string,
  direction: RowDirection,
): { seeds: number[]; diffs: number[][]; unpaired: number[] } {
  const bySeed = (runs: readonly RunItems[], who: string): Map<number, RunItems> => {
    const m = new Map<number, RunItems>();
    for (const r of runs) {
      const prev = m.get(r.seed);
      if (prev)
        throw new Error(
          `pairedDiffs: two runs of ${who} with seed ${r.seed} ('${prev.run}' and '${r.run}'); give each seed once`,
        );
      m.set(r.seed, r);
    }
    return m;
  };
  const ma = bySeed(a, "model A");
  const mb = bySeed(b, "model B");
  const seeds: number[] = [];
  const diffs: number[][] = [];
  const unpaired: number[] = [];
  const all = [...new Set([...ma.keys(), ...mb.keys()])].sort((x, y) => x - y);
  for (const seed of all) {
    const ra = ma.get(seed);
    const rb = mb.get(seed);
    if (!ra || !rb) {
      unpaired.push(seed);
      continue;
    }
    const sa = cellScores(ra.items, benchmark, direction);
    const sb = cellScores(rb.items, benchmark, direction);
    if (sa.size === 0 || sb.size === 0) {
      unpaired.push(seed);
      continue;
    }
    const d: number[] = [];
    for (const [id, va] of sa) {
      const vb = sb.get(id);
      if (vb === undefined) {
        throw new Error(
          `pairedDiffs: item '${id}' (${benchmark} ${direction}) was scored in run '${ra.run}' but not in '${rb.run}': paired runs must answer the same items (same dataset and eval.maxItems)`,
        );
      }
      d.push(va - vb);
    }
    if (d.length !== sb.size) {
      throw new Error(
        `pairedDiffs: run '${rb.run}' scored ${sb.size} items of ${benchmark} ${direction}, run '${ra.run}' ${sa.size}: paired runs must answer the same items (same dataset and eval.maxItems)`,
      );
    }
    seeds.push(seed);
    diffs.push(d);
  }
  return { seeds, diffs, unpaired };
}

/** The q-quantile (0..1) of sorted values, linear between neighbours. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** The verdict of an interval of differences oriented in the expected direction. */
export function pairedVerdict(lo: number, hi: number): PairedVerdict {
  if (lo > 0) return "reproduces";
  if (hi < 0) return "contradicts";
  return "inconclusive";
}

/** Mean difference, seeded hierarchical-bootstrap interval, one-sided p and verdict (see the header). */
export function pairedBootstrap(diffs: readonly (readonly number[])[], opts: PairedOptions = {}): PairedResult {
  const resamples = opts.resamples ?? 10000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 100)
    throw new Error(`pairedBootstrap: resamples must be an integer >= 100, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`pairedBootstrap: level must be in (0, 1), got ${level}`);
  if (diffs.length === 0)
    throw new Error("pairedBootstrap: no seeds to compare; both models need runs with the same seed");
  diffs.forEach((d, s) => {
    if (d.length === 0) throw new Error(`pairedBootstrap: seed ${s} has no items; both runs must score the cell`);
    for (const x of d)
      if (!Number.isFinite(x)) throw new Error(`pairedBootstrap: seed ${s} has a non-finite difference ${x}`);
  });
  const S = diffs.length;
  const seedMean = (d: readonly number[]) => d.reduce((a, x) => a + x, 0) / d.length;
  const mean = diffs.reduce((a, d) => a + seedMean(d), 0) / S;
  const rng = new Rng(opts.seed ?? 0);
  const reps = new Float64Array(resamples);
  let atOrBelow = 0;
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (let k = 0; k < S; k++) {
      const d = diffs[rng.int(S)];
      const n = d.length;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += d[Math.floor(rng.next() * n)];
      total += sum / n;
    }
    const v = total / S;
    reps[r] = v;
    if (v <= 0) atOrBelow++;
  }
  reps.sort();
  const tail = (1 - level) / 2;
  const lo = quantile(reps, tail);
  const hi = quantile(reps, 1 - tail);
  return {
    mean,
    lo,
    hi,
    p: (atOrBelow + 1) / (resamples + 1),
    verdict: pairedVerdict(lo, hi),
    seeds: S,
    items: diffs[0].length,
    resamples,
    level,
  };
}

/** Pair two models' runs on one cell and bootstrap the difference A - B; null when no seed is paired. */
export function comparePaired(
  a: readonly RunItems[],
  b: readonly RunItems[],
  benchmark: string,
  direction: RowDirection,
  opts: PairedOptions = {},
): (PairedResult & { pairedSeeds: number[]; unpaired: number[] }) | null {
  const { seeds, diffs, unpaired } = pairedDiffs(a, b, benchmark, direction);
  if (seeds.length === 0) return null;
  return { ...pairedBootstrap(diffs, opts), pairedSeeds: seeds, unpaired };
}

/** A paired difference in points with its interval: "+3.8 [+1.2, +6.4]". */
export function formatPaired(r: Pick<PairedResult, "mean" | "lo" | "hi">): string {
  const pts = (x: number) => `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}`;
  return `${pts(r.mean)} [${pts(r.lo)}, ${pts(r.hi)}]`;
}

/**
 * Per-item differences of two gaps, seed by seed: (A - B) - (C - D), e.g. LST minus baseline at a larger model
 * size against the same at a smaller one ("the gap widens"). Items are matched by id across all four runs of a
 * seed; seeds that not all four models have are left out (`unpaired`).
 */
export function gapDiffs(
  a: readonly RunItems[],
  b: readonly RunItems[],
  c: readonly RunItems[],
  d: readonly RunItems[],
  benchmark: string,
  direction: RowDirection,
): { seeds: number[]; diffs: number[][]; unpaired: number[] } {
  const bySeed = (runs: readonly RunItems[]) => new Map(runs.map((r) => [r.seed, r] as const));
  const all = [a, b, c, d].map(bySeed);
  const seeds: number[] = [];
  const diffs: number[][] = [];
  const unpaired: number[] = [];
  const every = [...new Set([a, b, c, d].flatMap((rs) => rs.map((r) => r.seed)))].sort((x, y) => x - y);
  for (const seed of every) {
    const runs = all.map((m) => m.get(seed));
    const scores = runs.map((r) => (r ? cellScores(r.items, benchmark, direction) : new Map<string, number>()));
    if (scores.some((m) => m.size === 0)) {
      unpaired.push(seed);
      continue;
    }
    const [sa, sb, sc, sd] = scores;
    const out: number[] = [];
    for (const [id, va] of sa) {
      const [vb, vc, vd] = [sb.get(id), sc.get(id), sd.get(id)];
      if (vb === undefined || vc === undefined || vd === undefined)
        throw new Error(
          `gapDiffs: item '${id}' (${benchmark} ${direction}) was scored in run '${runs[0]?.run}' but not in all of the other three runs of seed ${seed}: the four models must answer the same items`,
        );
      out.push(va - vb - (vc - vd));
    }
    if (scores.some((m) => m.size !== sa.size))
      throw new Error(
        `gapDiffs: the four runs of seed ${seed} scored ${scores.map((m) => m.size).join(", ")} items of ${benchmark} ${direction}: they must answer the same items`,
      );
    seeds.push(seed);
    diffs.push(out);
  }
  return { seeds, diffs, unpaired };
}
