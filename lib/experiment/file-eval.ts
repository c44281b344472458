/**
 * Real benchmark files for finished runs: a StoryCloze CSV or a HellaSwag JSONL (data/formats.ts
 * loadBenchmarkFile) is spoken with the lab's TTS in the unseen test voices into each run's dataset
 * (data/build.ts speakBenchmark: prompt and every ending separately, as the generated benchmarks), unitized
 * with the dataset's unit model, and scored S→S and T→T from the run's final checkpoint under the run's own
 * normalisation (extra-eval.ts spokenBenchmarkItems: cached per run, as the chain tier is).
 *
 *   fileBenchmarkItems(runs, "storycloze_test.csv")   -> per-item outcomes, accuracy rows, lexicon coverage
 *   fileEvalLines(result)                              -> the same as lines of text (the CLI prints them)
 *   finishedGridRuns("default", scale, { seeds, where }) -> the runs of that selection the store has finished
 *
 * Text. The lab's models read only the story world: lower-case words from a small lexicon. The text is
 * lower-cased by default (`lowercase: false` keeps it as written: the BPE then meets capitals it never saw),
 * the BPE encodes any text (byte fallback), and `lexicon` says how many items have words outside the story
 * world's lexicon (data/lexicon-coverage.ts). Expect chance-level accuracy from the small lab models: the
 * point is that the pipeline runs on real data, and that larger runs can be scored on it.
 *
 * Long endings. An item whose ending has more tokens than the run's context minus one cannot be scored (only
 * prompt tokens can be dropped); it is skipped in that direction and counted in `skipped`.
 */
import { createHash } from "crypto";
import path from "path";
import { canonicalJson } from "../config";
import { speakBenchmark } from "../data/build";
import { loadBenchmarkFile, type LoadOptions } from "../data/formats";
import type { BenchItem, BenchKindName } from "../data/benchmarks";
import type { Direction } from "../data/bench-encode";
import { lexiconCoverage, type LexiconCoverage } from "../data/lexicon-coverage";
import { accuracyCells } from "../eval/evaluate";
import { rowsFromEval, type ResultRow } from "../eval/metrics";
import { runsDir } from "../paths";
import { resolveExperiment, type LabScale } from "./experiment";
import { spokenBenchmarkItems, type ScoredRunItems } from "./extra-eval";
import { scaleRuns } from "./grid-study";
import { selectGrid, type GridRun } from "./grids";
import { RunStore } from "./runs";
import type { StudyOptions, StudyRun } from "./study";

export interface FileEvalOptions extends StudyOptions, LoadOptions {
  /** "tsc" reads a CSV as Topic-StoryCloze (default: by the file name, see formats.ts) */
  kind?: BenchKindName;
  /** lower-case the text first (default true: the story world is lower-case) */
  lowercase?: boolean;
}

export interface FileEval {
  file: string;
  /** the items' benchmark name (storycloze, topic-storycloze, hellaswag, or LoadOptions.benchmark) */
  benchmark: string;
  /** endings per item (2 for StoryCloze, 4 for HellaSwag) */
  endings: number;
  items: number;
  /** names the items' content: the cache files are `extra-<key>.json` (dataset and run dirs) */
  key: string;
  lexicon: LexiconCoverage;
  /** per run, its scored items (for pairedTable, tierTableOfItems, the paired statistics) */
  runs: ScoredRunItems[];
  /** accuracy per run and direction (for summaryTable, accuracyBars, toCsv) */
  rows: ResultRow[];
  /** items a run could not score in a direction (an ending longer than its context) */
  skipped: { run: string; model: string; direction: Direction; items: number }[];
}

/** The file's items, as the runs will hear and read them (lower-cased unless told otherwise). */
export function fileBenchmark(
  file: string,
  opts: FileEvalOptions = {},
): { key: string; benchmark: string; items: BenchItem[] } {
  const loaded = loadBenchmarkFile(file, { kind: opts.kind, benchmark: opts.benchmark, limit: opts.limit });
  if (loaded.length === 0)
    throw new Error(`benchmark file ${file} has no items: it holds only a header or blank lines`);
  const lower = opts.lowercase ?? true;
  const items = lower
    ? loaded.map((it) => ({
        ...it,
        context: it.context.toLowerCase(),
        endings: it.endings.map((e) => e.toLowerCase()),
      }))
    : loaded;
  const benchmark = items[0].benchmark;
  const slug =
    benchmark
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "file";
  const key = `file-${slug}-${createHash("sha256").update(canonicalJson(items)).digest("hex").slice(0, 12)}`;
  return { key, benchmark, items };
}

/**
 * The finished runs of a grid's selection (`selectGrid`: the seeds given, else the scale's; `where` with its `a|b`
 * alternatives), from the run store, and the selection itself: `wanted.length - runs.length` runs are not
 * finished. Runs are matched by run directory and name, so any seed works, not only the scale's own.
 */
export function finishedGridRuns(
  grid: string,
  scale: LabScale,
  opts: { seeds?: number[]; where?: Record<string, string | number>; runsRoot?: string } = {},
): { wanted: GridRun[]; runs: StudyRun[] } {
  const seeds = opts.seeds ?? scale.seeds;
  const runsRoot = opts.runsRoot ?? runsDir();
  const wanted = selectGrid(grid, scale, seeds, opts.where);
  const store = new RunStore(runsRoot);
  const key = (cfg: { name: string }, dir: string) => `${dir}\u0000${cfg.name}`;
  const keys = new Set(
    wanted.map((e) => {
      const cfg = resolveExperiment(e.spec, scale);
      return key(cfg, store.runDir(cfg));
    }),
  );
  // scaleRuns reads the store for the scale's seeds; the same scale with these seeds reads them
  const runs = scaleRuns({ ...scale, seeds }, runsRoot, [grid]).filter((r) =>
    keys.has(key(r.config, store.runDir(r.config))),
  );
  return { wanted, runs };
}

/** Score finished runs on a real benchmark file, S→S and T→T (see the header). */
export async function fileBenchmarkItems(
  runs: readonly StudyRun[],
  file: string,
  opts: FileEvalOptions = {},
): Promise<FileEval> {
  if (runs.length === 0)
    throw new Error(`fileBenchmarkItems: no runs given for ${file}: pass finished runs (runGrid, scaleRuns)`);
  const { key, benchmark, items } = fileBenchmark(file, opts);
  const scored = await spokenBenchmarkItems(
    runs,
    {
      label: `${benchmark} file`,
      key: () => key,
      speak: (ds) => speakBenchmark(ds, key, items, { onProgress: opts.onProgress, label: `${benchmark} file` }),
    },
    opts,
  );
  const rows = scored.runs.flatMap((r) =>
    rowsFromEval({ cells: accuracyCells(r.items) }, { run: r.run, model: r.model, seed: r.seed, group: r.group }),
  );
  const skipped = scored.skipped.flatMap((s, i) =>
    (Object.entries(s) as [Direction, string[]][])
      .filter(([, ids]) => ids.length > 0)
      .map(([direction, ids]) => ({
        run: scored.runs[i].run,
        model: scored.runs[i].model,
        direction,
        items: ids.length,
      })),
  );
  return {
    file,
    benchmark,
    endings: items[0].endings.length,
    items: items.length,
    key,
    lexicon: lexiconCoverage(items),
    runs: scored.runs,
    rows,
    skipped,
  };
}

/** A few lines about a file evaluation: the items, their lexicon coverage, what was skipped. */
export function fileEvalLines(r: FileEval): string[] {
  const lx = r.lexicon;
  const pct = (a: number, b: number) => `${b === 0 ? "0" : ((100 * a) / b).toFixed(0)}%`;
  const examples = lx.outside.slice(0, 8).join(", ");
  const lines = [
    `${r.benchmark} (${path.basename(r.file)}): ${r.items} items, 1-in-${r.endings} (chance ${(100 / r.endings).toFixed(0)}%), spoken in the unseen test voices, scored S→S and T→T`,
    `  outside the story world's lexicon (${lx.lexiconSize} words): ${lx.itemsOutside} of ${lx.items} items (${pct(lx.itemsOutside, lx.items)}), ${lx.wordsOutside} of ${lx.words} words (${pct(lx.wordsOutside, lx.words)})${examples ? `, e.g. ${examples}` : ""}`,
  ];
  for (const s of r.skipped)
    lines.push(
      `  skipped for ${s.model} (${s.run}) ${s.direction}: ${s.items} items with an ending longer than the run's context`,
    );
  return lines;
}
