/**
 * Scores derived from a finished run's final checkpoint, and the JSON caches that keep them in the run dir:
 * shared by the scoring variants (rescore.ts) and the spoken benchmarks scored after training (extra-eval.ts).
 */
import fs from "fs";
import path from "path";
import type { EncodedItem } from "../data/bench-encode";
import { scoreItems } from "../eval/evaluate";
import type { ItemScore, Norm } from "../eval/score";
import { createModel } from "../model/create";
import { loadCheckpoint, restoreVariables } from "../train/checkpoint";
import type { ExperimentContext, StudyRun } from "./study";

/**
 * A cache file derived from the checkpoint, or null when there is none. A file that is not JSON, or of another
 * format, is an error naming the file: deleting it is always safe (it is recomputed from the checkpoint).
 */
export function readDerivedCache<T extends { format: number; items: unknown }>(file: string, format: number): T | null {
  if (!fs.existsSync(file)) return null;
  let c: T;
  try {
    c = JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new Error(
      `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}): delete the file and ask again (it is derived from the checkpoint)`,
    );
  }
  if (c.format === format && Array.isArray(c.items)) return c;
  throw new Error(
    `${file} has format ${String(c.format)}, this lab reads ${format}: delete the file and ask again (it is derived from the checkpoint)`,
  );
}

/** Score `items` with the run's model restored from its final checkpoint; returns the scores and that step. */
export async function scoreFromFinalCheckpoint(
  run: StudyRun,
  ctx: ExperimentContext,
  items: readonly EncodedItem[],
  norm: Norm,
): Promise<{ items: ItemScore[]; step: number }> {
  const ckpt = loadCheckpoint(path.join(run.record.dir, "train"));
  if (!ckpt || ckpt.step !== ctx.steps) {
    throw new Error(
      `run ${run.record.dir}: no final checkpoint (found step ${ckpt?.step ?? "none"}, expected ${ctx.steps}); finish the run first (runExperiment)`,
    );
  }
  if (items.length === 0) return { items: [], step: ckpt.step };
  const model = createModel(ctx.model);
  try {
    restoreVariables(model.variables, ckpt.params);
    const r = await scoreItems(model, items, {
      norm,
      patcher: ctx.patcher,
      batchSize: run.config.eval.batchSize,
      maxLen: ctx.maxLen,
    });
    return { items: r.items, step: ckpt.step };
  } finally {
    model.dispose();
  }
}
