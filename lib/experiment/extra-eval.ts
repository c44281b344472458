/**
 * Extra benchmarks for finished runs: the 'chain' tier (tier 5, two facts from different sentences;
 * lib/data/benchmarks.ts) is not part of a run's own evaluation, so adding it changed no run's config hash
 * and no earlier result. `extraBenchmarkItems(runs)` speaks the benchmark into each run's dataset once
 * (data/build.ts buildExtraBenchmark), scores it S→S and T→T from the run's final checkpoint under the run's
 * own normalisation, and caches the per-item scores in the run directory (`extra-<kind>-<itemsHash>.json`,
 * written atomically; another generator version is another file). The result is per-item outcomes
 * (RunItems) for the paired statistics, tierTableOfItems and accuracy cells.
 *
 * `spokenBenchmarkItems(runs, bench)` is the same for any benchmark that can be spoken into a dataset
 * (file-eval.ts: a real StoryCloze / HellaSwag file).
 */
import path from "path";
import { writeJsonAtomic } from "../files";
import { buildExtraBenchmark, extraBenchmark, type Dataset } from "../data/build";
import type { ExtraBenchKind } from "../data/benchmarks";
import { encodeItem, type Direction, type EncodedItem, type SpokenItem } from "../data/bench-encode";
import type { RunItems } from "../eval/paired";
import type { ItemScore } from "../eval/score";
import { datasetFor, experimentContext, type StudyOptions, type StudyRun } from "./study";
import { readDerivedCache, scoreFromFinalCheckpoint } from "./checkpoint-scores";

const FORMAT = 1;
/** the directions the paper reports (§5); the cross-modal ones would double the cost */
const EXTRA_DIRECTIONS: readonly Direction[] = ["S2S", "T2T"];

/** RunItems whose items are full ItemScores (type and tier included, for tierTableOfItems). */
export type ScoredRunItems = Omit<RunItems, "items"> & { items: ItemScore[] };

interface Cached {
  format: number;
  step: number;
  items: ItemScore[];
  /** items left out per direction: an ending longer than the run's context (absent in older files: none) */
  skipped?: Partial<Record<Direction, string[]>>;
}

/**
 * A benchmark to score finished runs on: `key(run)` names the items the run is scored on by their content
 * (it names the cache file in the run dir), `speak` gives them spoken and aligned in the run's dataset
 * (data/build.ts speakBenchmark), `label` is for progress.
 */
export interface SpokenBenchmark {
  label: string;
  key: (run: StudyRun) => string;
  speak: (ds: Dataset) => Promise<SpokenItem[]>;
}

/** Items of one run on a spoken benchmark, and the ids it could not score per direction. */
export interface RunScores {
  items: ItemScore[];
  skipped: Partial<Record<Direction, string[]>>;
}

function readCache(file: string): RunScores | null {
  const c = readDerivedCache<Cached>(file, FORMAT);
  return c && { items: c.items, skipped: c.skipped ?? {} };
}

/**
 * Score one finished run on a spoken benchmark (S→S and T→T, where the run evaluates them), from its final
 * checkpoint, cached in the run dir. An item whose longest ending has more tokens than the run's context
 * minus one (score.ts truncateRow can only drop prompt tokens) is skipped in that direction and listed.
 */
async function scoreRun(run: StudyRun, bench: SpokenBenchmark, opts: StudyOptions): Promise<RunScores> {
  const file = path.join(run.record.dir, `extra-${bench.key(run)}.json`);
  const cached = readCache(file);
  if (cached) return cached;
  const ds = await datasetFor(run.config, opts);
  const spoken = await bench.speak(ds);
  const ctx = await experimentContext(run.config, opts);
  const encoded: EncodedItem[] = [];
  const skipped: Partial<Record<Direction, string[]>> = {};
  for (const sp of spoken) {
    for (const d of EXTRA_DIRECTIONS.filter((x) => run.config.eval.directions.includes(x))) {
      const e = encodeItem(sp, d, ds.bpe, ds.vocab);
      const bpe = ctx.speechBpe;
      const item = bpe ? { ...e, prompt: bpe.apply(e.prompt), endings: e.endings.map((x) => bpe.apply(x)) } : e;
      if (Math.max(...item.endings.map((x) => x.ids.length)) > ctx.maxLen - 1) (skipped[d] ??= []).push(item.id);
      else encoded.push(item);
    }
  }
  const { items, step } = await scoreFromFinalCheckpoint(run, ctx, encoded, run.config.eval.norm);
  writeJsonAtomic(file, { format: FORMAT, step, items, skipped } satisfies Cached);
  return { items, skipped };
}

/** Score finished runs on a spoken benchmark (see scoreRun): per-item outcomes per run, and the skipped ids. */
export async function spokenBenchmarkItems(
  runs: readonly StudyRun[],
  bench: SpokenBenchmark,
  opts: StudyOptions = {},
): Promise<{ runs: ScoredRunItems[]; skipped: Partial<Record<Direction, string[]>>[] }> {
  const out: ScoredRunItems[] = [];
  const skipped: Partial<Record<Direction, string[]>>[] = [];
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    opts.onProgress?.(bench.label, i, runs.length);
    const r = await scoreRun(run, bench, opts);
    out.push({ run: run.record.id, model: run.config.name, seed: run.config.seed, group: run.group, items: r.items });
    skipped.push(r.skipped);
  }
  opts.onProgress?.(bench.label, runs.length, runs.length);
  return { runs: out, skipped };
}

/** Per-item outcomes of finished runs on an extra benchmark (default 'chain'); see the header. */
export async function extraBenchmarkItems(
  runs: readonly StudyRun[],
  kind: ExtraBenchKind = "chain",
  opts: StudyOptions = {},
): Promise<ScoredRunItems[]> {
  const bench: SpokenBenchmark = {
    key: (run) => extraBenchmark(run.config.data, kind).key,
    label: `${kind} benchmark`,
    speak: async (ds) =>
      (await buildExtraBenchmark(ds, kind, opts)).items.map((sp) => ({ ...sp, item: { ...sp.item, benchmark: kind } })),
  };
  return (await spokenBenchmarkItems(runs, bench, opts)).runs;
}
