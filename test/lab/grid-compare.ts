/**
 * Helpers for the executor tests: the numbers of a grid's runs (accuracy cells, per-step losses, item NLLs),
 * keyed by run, so two executors' results can be compared exactly (training and scoring are deterministic).
 */
import fs from "fs";
import path from "path";
import type { StudyRun } from "../../lib/experiment/study";

export function gridNumbers(runs: StudyRun[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of runs) {
    const key = `${r.record.id}`;
    const result = r.record.result as { eval: { items: unknown[] }; steps: number; params: unknown; group: unknown };
    out[key] = {
      rows: r.rows.map((x) => [x.benchmark, x.direction, x.accuracy, x.n]),
      losses: r.metrics.map((m) => [m.step, m.loss, m.lossSpeech, m.lossText, m.gradNorm]),
      items: result.eval.items,
      steps: result.steps,
      params: result.params,
      group: result.group,
    };
  }
  return out;
}

/** The run directories under a store root, each with `done` (one per run: nothing computed twice into another dir). */
export function storeDirs(root: string): string[] {
  return fs
    .readdirSync(root)
    .filter((d) => fs.statSync(path.join(root, d)).isDirectory() && !d.startsWith("."))
    .sort();
}
