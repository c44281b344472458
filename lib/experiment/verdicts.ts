/**
 * Every finding of findings.ts as a verdict, with what its measurement could detect: the one report the main
 * job, notebook 09 and docs/results.md (`npm run results`) all read, so they cannot disagree.
 *
 *   findingsReport(runs)   one row per finding (FINDINGS): report.ts's paired verdict for a two-cell finding,
 *                          the same statistics on (A - B) - (C - D) for a gap-against-gap one (`minus`), and
 *                          for each measured row its minimum detectable effect (lib/eval/paired.ts `detectable`)
 *                          and the seeds the paper's effect would need at the measured variance
 *
 * Example: the scaling finding "the LST - baseline gap widens with size" pairs, per seed and item,
 * (lst-static - baseline) at the scale's size minus (lst-static-smoke - baseline-smoke); with 3 seeds of 200
 * items its row reads like any other (Δ, interval, p, verdict), with `higher` = "lst-static-baseline".
 */
import { detectable, seedsToDetect, type Detectable } from "../eval/detectable";
import { cellMeanStd, gapDiffs, pairedBootstrap, pairedDiffs, type PairedOptions, type RunItems } from "../eval/paired";
import { meanStd } from "../eval/metrics";
import { FINDINGS, findingId, type Finding } from "./findings";
import { notRunResult, pairedResult, reproductionReport, type ReportRow } from "./report";

export interface FindingRow extends ReportRow {
  /** findingId(f): grid, comparison, cell */
  id: string;
  /** the §7 direction and the paper's exhibit */
  section: string;
  paper: string;
  /** the paper's own difference (fraction), NaN when the paper gives none */
  paperEffect: number;
  /** what this measurement could detect (null when not run) */
  detectable: Detectable | null;
  /** seeds for the paper's effect to clear 0 with 80% power at the measured variance (NaN: no effect or not run) */
  seedsForPaper: number;
}

/** The verdict row of a gap-against-gap finding (see the header). */
function gapRow(runs: readonly RunItems[], f: Finding & { minus: NonNullable<Finding["minus"]> }, opts: PairedOptions) {
  const of = (m: string) => runs.filter((r) => r.model === m);
  const [a, b, c, d] = [f.higher, f.lower, f.minus.higher, f.minus.lower].map(of);
  const gap = (x: readonly RunItems[], y: readonly RunItems[]) => {
    const { diffs } = pairedDiffs(x, y, f.benchmark, f.direction);
    return diffs.length ? meanStd(diffs.map((ds) => ds.reduce((s, v) => s + v, 0) / ds.length)) : null;
  };
  const have = [a, b, c, d].every((x) => cellMeanStd(x, f.benchmark, f.direction) !== null);
  const g1 = have ? gap(a, b) : null;
  const g2 = have ? gap(c, d) : null;
  const base = {
    claim: f.claim,
    grid: f.grid,
    cell: `${f.benchmark} ${f.direction}`,
    higher: `${f.higher}-${f.lower}`,
    lower: `${f.minus.higher}-${f.minus.lower}`,
    meanHigher: g1?.mean ?? NaN,
    stdHigher: g1?.std ?? NaN,
    meanLower: g2?.mean ?? NaN,
    stdLower: g2?.std ?? NaN,
    seeds: `${g1?.n ?? 0}/${g2?.n ?? 0}`,
  };
  const { seeds, diffs, unpaired } = have
    ? gapDiffs(a, b, c, d, f.benchmark, f.direction)
    : { seeds: [], diffs: [], unpaired: [] };
  if (seeds.length === 0)
    return { row: { ...base, ...notRunResult(have ? "the four models share no seed" : "") }, diffs };
  const r = pairedBootstrap(diffs, opts);
  return { row: { ...base, ...pairedResult(r, f, unpaired, "not run by all four models") }, diffs };
}

/** Every finding against the runs' per-item scores (lib/experiment/rescore.ts `runItems`), in `findings` order. */
export function findingsReport(
  runs: readonly RunItems[],
  findings: readonly Finding[] = FINDINGS,
  opts: PairedOptions = {},
): FindingRow[] {
  const plain = findings.filter((f) => f.minus === undefined);
  const plainRows = reproductionReport(runs, plain, opts);
  return findings.map((f) => {
    let row: ReportRow;
    let diffs: number[][];
    if (f.minus === undefined) {
      row = plainRows[plain.indexOf(f)];
      const of = (m: string) => runs.filter((r) => r.model === m);
      diffs = row.verdict === "not run" ? [] : pairedDiffs(of(f.higher), of(f.lower), f.benchmark, f.direction).diffs;
    } else ({ row, diffs } = gapRow(runs, { ...f, minus: f.minus }, opts));
    const det = diffs.length ? detectable(diffs, { level: opts.level }) : null;
    const effect = f.paperEffect ?? NaN;
    return {
      ...row,
      id: findingId(f),
      section: f.section ?? "",
      paper: f.paper ?? "",
      paperEffect: effect,
      detectable: det,
      seedsForPaper: det && effect > 0 ? seedsToDetect(det, effect) : NaN,
    };
  });
}
