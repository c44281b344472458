/**
 * Extra benchmarks for finished runs: the 'chain' tier (tier 5, two facts from different sentences;
 * lib/data/benchmarks.ts) is not part of a run's own evaluation, so adding it changed no run's config hash
 * and no earlier result. `extraBenchmarkItems(runs)` speaks the benchmark into each run's dataset once
 * (data/build.ts buildExtraBenchmark), scores it S→S and T→T from the run's final checkpoint under the run's
 * own normalisation, and caches the per-item scores in the run directory (`extra-<kind>-<itemsHash>.json`,
 * written atomically; another generator version is another file). The result is per-item outcomes
 * (RunItems) for the paired statistics, tierTableOfItems and accuracy cells.
 */
import fs from "fs";
import path from "path";
import { writeJsonAtomic } from "../data/store";
import { buildExtraBenchmark, extraBenchmark, type ExtraBenchKind } from "../data/build";
import { encodeItem, type Direction, type EncodedItem } from "../data/bench-encode";
import { scoreItems } from "../eval/evaluate";
import type { RunItems } from "../eval/paired";
import type { ItemScore } from "../eval/score";
import { createModel } from "../model/create";
import { loadCheckpoint, restoreVariables } from "../train/checkpoint";
import { datasetFor, experimentContext, type StudyOptions, type StudyRun } from "./study";

const FORMAT = 1;
/** the directions the paper reports (§5); the cross-modal ones would double the cost */
const EXTRA_DIRECTIONS: readonly Direction[] = ["S2S", "T2T"];

/** RunItems whose items are full ItemScores (type and tier included, for tierTableOfItems). */
export type ScoredRunItems = Omit<RunItems, "items"> & { items: ItemScore[] };

interface Cached {
  format: number;
  step: number;
  items: ItemScore[];
}

async function scoreRun(run: StudyRun, kind: ExtraBenchKind, opts: StudyOptions): Promise<ItemScore[]> {
  const { key } = extraBenchmark(run.config.data, kind);
  const file = path.join(run.record.dir, `extra-${key}.json`);
  if (fs.existsSync(file)) {
    let c: Cached;
    try {
      c = JSON.parse(fs.readFileSync(file, "utf8")) as Cached;
    } catch (e) {
      throw new Error(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}): delete the file and ask again (it is derived from the checkpoint)`);
    }
    if (c.format === FORMAT && Array.isArray(c.items)) return c.items;
    throw new Error(`${file} has format ${String(c.format)}, this lab reads ${FORMAT}: delete the file and ask again (it is derived from the checkpoint)`);
  }
  const ds = await datasetFor(run.config, opts);
  const spoken = await buildExtraBenchmark(ds, kind, opts);
  const ctx = await experimentContext(run.config, opts);
  const encoded: EncodedItem[] = [];
  for (const sp of spoken.items) {
    for (const d of EXTRA_DIRECTIONS.filter((x) => run.config.eval.directions.includes(x))) {
      const e = { ...encodeItem(sp, d, ds.bpe, ds.vocab), benchmark: kind };
      encoded.push(ctx.speechBpe ? { ...e, prompt: ctx.speechBpe.apply(e.prompt), endings: e.endings.map((x) => (ctx.speechBpe as NonNullable<typeof ctx.speechBpe>).apply(x)) } : e);
    }
  }
  const ckpt = loadCheckpoint(path.join(run.record.dir, "train"));
  if (!ckpt || ckpt.step !== ctx.steps) {
    throw new Error(`run ${run.record.dir}: no final checkpoint (found step ${ckpt?.step ?? "none"}, expected ${ctx.steps}); finish the run first (runExperiment)`);
  }
  const model = createModel(ctx.model);
  try {
    restoreVariables(model.variables, ckpt.params);
    const r = await scoreItems(model, encoded, { norm: run.config.eval.norm, patcher: ctx.patcher, batchSize: run.config.eval.batchSize, maxLen: ctx.maxLen });
    writeJsonAtomic(file, { format: FORMAT, step: ckpt.step, items: r.items } satisfies Cached);
    return r.items;
  } finally {
    model.dispose();
  }
}

/** Per-item outcomes of finished runs on an extra benchmark (default 'chain'); see the header. */
export async function extraBenchmarkItems(runs: readonly StudyRun[], kind: ExtraBenchKind = "chain", opts: StudyOptions = {}): Promise<ScoredRunItems[]> {
  const out: ScoredRunItems[] = [];
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    opts.onProgress?.(`${kind} benchmark`, i, runs.length);
    out.push({ run: run.record.id, model: run.config.name, seed: run.config.seed, group: run.group, items: await scoreRun(run, kind, opts) });
  }
  opts.onProgress?.(`${kind} benchmark`, runs.length, runs.length);
  return out;
}
