/**
 * Scoring variants of finished runs, side by side: per-token mean (the runs' default), sum, and PMI (the
 * ending's NLL given the prompt minus its NLL given `BOS <m>` alone; lib/eval/score.ts).
 *
 * A run stores the scores of its own normalisation only. `scoringVariants` loads each run's final checkpoint,
 * scores its benchmark items once with the unconditional rows PMI needs, and re-decides every item under each
 * normalisation (`rescore`: the NLLs are shared, only the argmax changes). The per-item NLLs are cached in the
 * run directory (`scores-by-norm.json`, written atomically), so asking again costs nothing and never touches
 * the run's own eval.json.
 *
 * Rows come back with model `<name> · <norm>` and group { ...the run's group, norm }, so `accuracyBars` draws
 * the three variants of a model next to each other.
 *
 * `runItems(runs)` gives the per-item outcomes the paired statistics need (lib/eval/paired.ts): the items each
 * run stored in its eval.json, or, for a run that stored none, its items re-scored from the final checkpoint
 * under the run's own normalisation (through the same cache).
 */
import path from "path";
import { writeJsonAtomic } from "../files";
import { accuracyCells } from "../eval/evaluate";
import { rowsFromEval, type ResultRow } from "../eval/metrics";
import type { RunItems } from "../eval/paired";
import { NORMS, rescore, type ItemScore, type Norm } from "../eval/score";
import { experimentContext, type StudyOptions, type StudyRun } from "./study";
import { readDerivedCache, scoreFromFinalCheckpoint } from "./checkpoint-scores";

const FILE = "scores-by-norm.json";
const FORMAT = 1;

interface Cached {
  format: number;
  /** the checkpoint step the scores come from */
  step: number;
  items: ItemScore[];
}

/** The run's items scored with PMI's unconditional NLLs, from its final checkpoint (cached in the run dir). */
async function pmiScores(run: StudyRun, opts: StudyOptions): Promise<ItemScore[]> {
  const file = path.join(run.record.dir, FILE);
  const cached = readDerivedCache<Cached>(file, FORMAT);
  if (cached) return cached.items;
  const ctx = await experimentContext(run.config, opts);
  const r = await scoreFromFinalCheckpoint(run, ctx, ctx.items, "pmi");
  writeJsonAtomic(file, { format: FORMAT, step: r.step, items: r.items } satisfies Cached);
  return r.items;
}

/** Accuracy rows of finished runs under each normalisation (see the header). */
export async function scoringVariants(
  runs: readonly StudyRun[],
  opts: StudyOptions & { norms?: readonly Norm[] } = {},
): Promise<ResultRow[]> {
  const norms = opts.norms ?? NORMS;
  const rows: ResultRow[] = [];
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    opts.onProgress?.("scoring variants", i, runs.length);
    const items = await pmiScores(run, opts);
    for (const norm of norms) {
      const cells = accuracyCells(rescore(items, norm));
      rows.push(
        ...rowsFromEval(
          { cells },
          {
            run: run.record.id,
            model: `${run.config.name} · ${norm}`,
            seed: run.config.seed,
            group: { ...run.group, norm },
          },
        ),
      );
    }
  }
  opts.onProgress?.("scoring variants", runs.length, runs.length);
  return rows;
}

/** The per-item scores a run stored (eval.json's result.eval.items), or null when it has none. */
export function storedItems(run: Pick<StudyRun, "record">): ItemScore[] | null {
  const items = (run.record.result as { eval?: { items?: unknown } } | null)?.eval?.items;
  return Array.isArray(items) && items.length > 0 ? (items as ItemScore[]) : null;
}

/** Per-item outcomes of finished runs, for the paired statistics (see the header). */
export async function runItems(runs: readonly StudyRun[], opts: StudyOptions = {}): Promise<RunItems[]> {
  const out: RunItems[] = [];
  for (const run of runs) {
    const items = storedItems(run) ?? rescore(await pmiScores(run, opts), run.config.eval.norm);
    out.push({
      run: run.record.id,
      model: run.config.name,
      seed: run.config.seed,
      group: run.group,
      code: run.record.code,
      items,
    });
  }
  return out;
}
