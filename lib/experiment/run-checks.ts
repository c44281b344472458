/**
 * Reading a run directory's files strictly (runs.ts): every corrupt, missing or foreign-format file is an
 * Error naming the path and the fix, never a silently dropped run.
 *
 *   checkFormat(x, file, what, fix)      a JSON object of this code's RUN_FORMAT
 *   findCells(result, file, fix, redo)   an execute result's accuracy cells, one for every scored benchmark and direction
 *   readMetrics(file)                    metrics.jsonl -> rows (torn last line skipped, null -> NaN)
 *   checkTrainedRun(dir, metrics)        a finished run that trained holds every step's metric line and its model file
 */
import fs from "fs";
import path from "path";
import { readJsonFile, readJsonLines } from "../files";
import type { AccuracyCell } from "../eval/evaluate";
import type { StepMetrics } from "../train/train";
import { MODEL_FILE, runModelFileProblem } from "../train/model-export";
import { formatSteps, missingSteps } from "../train/resume";
import { RUN_FORMAT } from "./run-layout";

/** The least a logged training step has; the store's rows are train's StepMetrics unless told otherwise. */
export interface MetricsRow {
  step: number;
}

export function readJsonStrict(file: string, what: string, fix: string): unknown {
  return readJsonFile(file, what, fix); // lib/files.ts: names the path, what is wrong (missing, truncated) and the fix
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

export function checkFormat(x: unknown, file: string, what: string, fix: string): Record<string, unknown> {
  if (!isObject(x)) throw new Error(`${what} ${file} is corrupt (not a JSON object): ${fix}`);
  if (x.format !== RUN_FORMAT) {
    throw new Error(
      `${what} ${file} has run format ${JSON.stringify(x.format)}, this code reads format ${RUN_FORMAT}: ${fix}`,
    );
  }
  return x;
}

/**
 * The EvalResult cells inside an execute result, if any: `result.eval.cells` or `result.cells`. An `eval` with
 * no cells, or with scored items of a benchmark and direction that no cell holds, is an error (`redo`: the fix).
 */
export function findCells(result: unknown, file: string, fix: string, redo: string): AccuracyCell[] | null {
  if (isObject(result) && isObject(result.eval) && !Array.isArray(result.eval.cells))
    throw new Error(
      `run results ${file} has no accuracy cells (result.eval.cells is missing), so the run's rows would be dropped: ${redo}`,
    );
  const candidates = isObject(result) ? [result.eval, result] : [];
  for (const c of candidates) {
    if (!isObject(c) || !Array.isArray(c.cells)) continue;
    c.cells.forEach((cell: unknown, i: number) => {
      const ok =
        isObject(cell) &&
        typeof cell.benchmark === "string" &&
        typeof cell.direction === "string" &&
        typeof cell.accuracy === "number" &&
        typeof cell.n === "number";
      if (!ok) throw new Error(`run results ${file}: accuracy cell ${i} lacks benchmark/direction/accuracy/n: ${fix}`);
    });
    const cells = c.cells as AccuracyCell[];
    if (Array.isArray(c.items)) {
      const have = new Set(cells.map((x) => `${x.benchmark} ${x.direction}`));
      const lost = new Set<string>();
      for (const it of c.items as unknown[])
        if (isObject(it) && typeof it.benchmark === "string" && typeof it.direction === "string") {
          const key = `${it.benchmark} ${it.direction}`;
          if (!have.has(key)) lost.add(key);
        }
      if (lost.size > 0)
        throw new Error(
          `run results ${file} has scored items of ${[...lost].join(", ")} but no accuracy cell for them, so those rows would be dropped: ${redo}`,
        );
    }
    return cells;
  }
  return null;
}

/**
 * metrics.jsonl -> rows; a torn last line (killed mid-append) is skipped, a broken line elsewhere is an error.
 * A top-level null (JSON's NaN: lossSpeech of a step with no speech target) comes back as NaN.
 */
export function readMetrics<M extends MetricsRow = StepMetrics>(file: string): M[] {
  const fix = `delete the run directory ${path.dirname(file)} and rerun`;
  const { rows } = readJsonLines(file, "metrics file", fix); // subtle: drops an unterminated last line (a kill mid-append)
  const byStep = new Map<number, M>();
  rows.forEach((row, i) => {
    if (!isObject(row) || typeof row.step !== "number")
      throw new Error(`metrics file ${file} row ${i + 1} has no numeric 'step': ${fix}`);
    for (const [k, v] of Object.entries(row)) if (v === null) row[k] = NaN;
    byStep.set(row.step, row as unknown as M); // a resumed run re-logs the steps after its last checkpoint: keep the last
  });
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** The directory a run trained in: train/ (study.ts) or the run dir itself, whichever holds a checkpoint. */
function trainedIn(dir: string): string | null {
  for (const d of [path.join(dir, "train"), dir]) if (fs.existsSync(path.join(d, "checkpoint.json"))) return d;
  return null;
}

/**
 * Throw unless a finished run that trained holds every step's metric line and the model file of its
 * checkpoint (see the header); `metrics` are the run's rows from its metrics.jsonl.
 */
export function checkTrainedRun(dir: string, metrics: readonly MetricsRow[]): void {
  const trainDir = trainedIn(dir);
  if (!trainDir) return;
  const manifest = path.join(trainDir, "checkpoint.json");
  const m = readJsonStrict(manifest, "checkpoint manifest", `delete the directory ${dir} and rerun`);
  const step = isObject(m) ? m.step : undefined;
  if (typeof step !== "number")
    throw new Error(`checkpoint manifest ${manifest} has no step: delete the directory ${dir} and rerun`);
  const lost = missingSteps(
    metrics.map((r) => r.step),
    step,
  );
  if (lost.length > 0) {
    const file = path.join(dir, "metrics.jsonl");
    const own = path.join(trainDir, "metrics.jsonl");
    // the trainer's own file (study.ts copies it to the run dir when training ends) may still hold every line
    let ownWhole = false;
    try {
      ownWhole =
        own !== file &&
        missingSteps(
          readMetrics(own).map((r) => r.step),
          step,
        ).length === 0;
    } catch {
      ownWhole = false;
    }
    const fix = ownWhole
      ? `delete ${path.join(dir, "done")} and run the same command again (the run resumes from its final checkpoint, evaluates again and copies ${own}, which holds every step)`
      : `delete the directory ${dir} and run the same command again (the run trains again from step 0; lost lines cannot be recomputed from the final checkpoint)`;
    throw new Error(
      `run ${dir} is damaged: its metrics file ${file} lacks ${formatSteps(lost)} of the ${step} steps its checkpoint ${manifest} counts, ` +
        `so its learning curve would lose them: ${fix}`,
    );
  }
  const model = runModelFileProblem(trainDir, step);
  if (model)
    throw new Error(
      `run ${dir} is damaged: ${model} (a write that failed, e.g. on a full disk): delete ${path.join(dir, "done")} and run the same command again ` +
        `(the run resumes from its checkpoint, which rewrites ${MODEL_FILE}, and evaluates again), or write it from the checkpoint with \`npx tsx scripts/export.ts ${trainDir}\``,
    );
}
