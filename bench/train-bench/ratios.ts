/**
 * The ratios of bench/train-bench.ts, from the per-round results. Every ratio pairs the two runs of the same
 * round (same load on a shared machine), then takes the median over rounds; "the strongest peer" of a model is
 * the peer configuration (eager or torch.compile) with the most tokens/s in its median round.
 *
 * Worked example (test/lab/bench-ratios.test.ts), size "reference", tokens/s per round:
 *   tfjs baseline [100, 120, 110]   tfjs lst [250, 240, 330]
 *   torch baseline [200, 100, 100]  torch.compile baseline [150, 160, 140]
 *   lst / baseline per round = [2.5, 2.0, 3.0] -> median 2.5, rounds 2.00-3.00
 *   strongest baseline peer: torch.compile (median round 150 > torch's 100)
 *   baseline / torch.compile per round = [0.667, 0.75, 0.786] -> median 0.75
 */
import { peerName, type PeerMode } from "./torch-peer";

export interface SizeRatios {
  lstOverBaseline: number | null;
  /** the peer configuration each tfjs model is compared with: the faster of those run */
  strongestPeer: { baseline: string | null; lst: string | null };
  /** against the strongest peer configuration */
  baselineOverPeer: number | null;
  lstOverPeerLst: number | null;
  /** against each peer configuration run */
  byPeerMode: Partial<
    Record<
      PeerMode,
      { baselineOverPeer: number | null; lstOverPeerLst: number | null; peerLstOverPeerBaseline: number | null }
    >
  >;
  /** per compiled tfjs runner (`tfjs-graph`, `tfjs-xla`): `compiledRatioLines` */
  compiled?: Record<string, CompiledRatios>;
}

/** A compiled runner against the eager step and the strongest peer (tokens/s ratios, paired by round). */
export interface CompiledRatios {
  baselineOverEager: number | null;
  lstOverEager: number | null;
  lstOverBaseline: number | null;
  baselineOverPeer: number | null;
  lstOverPeerLst: number | null;
}

/** Results per run key (`tfjs lst reference`, `torch.compile baseline d512`, ...), one per round in order. */
export type RoundRuns = Record<string, { tokensPerS: number; msStep: number }[]>;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The round with the median step time. */
export function medianRound<T extends { msStep: number }>(rs: readonly T[]): T {
  return [...rs].sort((a, b) => a.msStep - b.msStep)[Math.floor(rs.length / 2)];
}

/** tokens/s of `a` over `b`, round by round (as many rounds as both have). */
export function perRound(runs: RoundRuns, a: string, b: string): number[] {
  const ra = runs[a] ?? [];
  const rb = runs[b] ?? [];
  return ra.slice(0, Math.min(ra.length, rb.length)).map((r, i) => r.tokensPerS / rb[i].tokensPerS);
}

export function ratio(runs: RoundRuns, a: string, b: string): number | null {
  const per = perRound(runs, a, b);
  return per.length ? median(per) : null;
}

/** ", rounds 2.00-3.00": the spread of the per-round ratios, which says how far a verdict can be trusted. */
export function roundRange(runs: RoundRuns, a: string, b: string): string {
  const per = perRound(runs, a, b);
  return per.length > 1 ? `, rounds ${Math.min(...per).toFixed(2)}-${Math.max(...per).toFixed(2)}` : "";
}

/** Run key of one model at one size: `${who} ${kind} ${size}`. */
const key = (who: string, kind: string, size: string) => `${who} ${kind} ${size}`;

/** Every ratio of one size, against each peer mode that ran and against the strongest. */
export function sizeRatios(runs: RoundRuns, size: string, peerModes: readonly PeerMode[]): SizeRatios {
  const best = (k: string) => (runs[k]?.length ? medianRound(runs[k]).tokensPerS : 0);
  const k = (who: string, kind: string) => key(who, kind, size);
  const modes = peerModes.filter((m) => runs[k(peerName(m), "baseline")] || runs[k(peerName(m), "lst")]);
  const strongest = (kind: string): PeerMode | null => {
    const ran = modes.filter((m) => runs[k(peerName(m), kind)]?.length);
    return ran.length ? ran.reduce((a, m) => (best(k(peerName(m), kind)) > best(k(peerName(a), kind)) ? m : a)) : null;
  };
  const sb = strongest("baseline");
  const sl = strongest("lst");
  const byPeerMode: SizeRatios["byPeerMode"] = {};
  for (const m of modes)
    byPeerMode[m] = {
      baselineOverPeer: ratio(runs, k("tfjs", "baseline"), k(peerName(m), "baseline")),
      lstOverPeerLst: ratio(runs, k("tfjs", "lst"), k(peerName(m), "lst")),
      peerLstOverPeerBaseline: ratio(runs, k(peerName(m), "lst"), k(peerName(m), "baseline")),
    };
  return {
    lstOverBaseline: ratio(runs, k("tfjs", "lst"), k("tfjs", "baseline")),
    strongestPeer: { baseline: sb ? peerName(sb) : null, lst: sl ? peerName(sl) : null },
    baselineOverPeer: sb ? ratio(runs, k("tfjs", "baseline"), k(peerName(sb), "baseline")) : null,
    lstOverPeerLst: sl ? ratio(runs, k("tfjs", "lst"), k(peerName(sl), "lst")) : null,
    byPeerMode,
  };
}

/** "2.50x (target >= 2.5x: met)", "0.75x", "n/a". */
export function formatRatio(x: number | null, target?: number): string {
  if (x === null) return "n/a";
  const verdict = target === undefined ? "" : x >= target ? ": met" : ": MISSED";
  return `${x.toFixed(2)}x${target === undefined ? "" : ` (target >= ${target}x${verdict})`}`;
}

/**
 * The printed lines of one size: LST over the baseline, each model over its strongest peer, then every peer
 * mode. `withTargets` marks the issue-19 targets met or MISSED (they are the CPU reference size's).
 */
export function ratioLines(
  runs: RoundRuns,
  size: string,
  r: SizeRatios,
  peerModes: readonly PeerMode[],
  withTargets: boolean,
): string[] {
  const k = (who: string, kind: string) => key(who, kind, size);
  const lines: string[] = [];
  const line = (label: string, x: number | null, a: string, b: string, target?: number) =>
    lines.push(`${label.padEnd(44)} ${formatRatio(x, withTargets ? target : undefined)}${roundRange(runs, a, b)}`);
  line("LST raw tokens/s / baseline:", r.lstOverBaseline, k("tfjs", "lst"), k("tfjs", "baseline"), 2.5);
  const pb = r.strongestPeer.baseline;
  if (pb) line(`baseline / strongest peer (${pb}):`, r.baselineOverPeer, k("tfjs", "baseline"), k(pb, "baseline"), 1);
  const pl = r.strongestPeer.lst;
  if (pl) line(`LST / strongest peer LST (${pl}):`, r.lstOverPeerLst, k("tfjs", "lst"), k(pl, "lst"), 1);
  for (const m of peerModes) {
    const ratios = r.byPeerMode[m];
    if (!ratios) continue;
    const p = peerName(m);
    line(`baseline / ${p}:`, ratios.baselineOverPeer, k("tfjs", "baseline"), k(p, "baseline"));
    line(`LST / ${p} LST:`, ratios.lstOverPeerLst, k("tfjs", "lst"), k(p, "lst"));
    line(`${p} LST / ${p} baseline:`, ratios.peerLstOverPeerBaseline, k(p, "lst"), k(p, "baseline"));
  }
  return lines;
}

/**
 * The lines and ratios of a compiled tfjs runner `who` (e.g. `tfjs-graph`) at one size: over the eager step of the
 * same model (paired by round), LST over the baseline, and over the strongest peer `r` names.
 */
export function compiledRatioLines(
  runs: RoundRuns,
  size: string,
  who: string,
  r: SizeRatios,
): { lines: string[]; ratios: CompiledRatios } {
  const k = (w: string, kind: string) => key(w, kind, size);
  const lines: string[] = [];
  const line = (label: string, x: number | null, a: string, b: string) => {
    lines.push(`${label.padEnd(44)} ${formatRatio(x)}${roundRange(runs, a, b)}`);
    return x;
  };
  const pb = r.strongestPeer.baseline;
  const pl = r.strongestPeer.lst;
  const ratios: CompiledRatios = {
    baselineOverEager: line(
      `${who} baseline / tfjs baseline:`,
      ratio(runs, k(who, "baseline"), k("tfjs", "baseline")),
      k(who, "baseline"),
      k("tfjs", "baseline"),
    ),
    lstOverEager: line(
      `${who} LST / tfjs LST:`,
      ratio(runs, k(who, "lst"), k("tfjs", "lst")),
      k(who, "lst"),
      k("tfjs", "lst"),
    ),
    lstOverBaseline: line(
      `${who} LST raw tokens/s / baseline:`,
      ratio(runs, k(who, "lst"), k(who, "baseline")),
      k(who, "lst"),
      k(who, "baseline"),
    ),
    baselineOverPeer: pb
      ? line(
          `${who} baseline / strongest peer (${pb}):`,
          ratio(runs, k(who, "baseline"), k(pb, "baseline")),
          k(who, "baseline"),
          k(pb, "baseline"),
        )
      : null,
    lstOverPeerLst: pl
      ? line(
          `${who} LST / strongest peer LST (${pl}):`,
          ratio(runs, k(who, "lst"), k(pl, "lst")),
          k(who, "lst"),
          k(pl, "lst"),
        )
      : null,
  };
  return { lines, ratios };
}
