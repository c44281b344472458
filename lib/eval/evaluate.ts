/**
 * Benchmark accuracy per benchmark and direction (S2S, T2T, S2T, T2S; paper §5 reports S2S and T2T).
 *
 *   scoreItems(model, encodedItems, opts)        already-encoded items -> EvalResult
 *   evaluate(model, itemsByBenchmark, opts)      spoken items (generated benchmarks) and/or text-only items (real
 *                                                sets, T2T only) -> encode -> EvalResult
 *
 * An EvalResult is plain JSON (it is stored as a run's eval.json): accuracy cells plus the per-item scores,
 * so a notebook can re-decide under another normalisation (`rescore`) or break accuracy down by item type/tier.
 */
import type { LanguageModel } from "../model/types";
import type { TextEncoder } from "../data/interleave";
import type { Vocab } from "../tokenizers/special";
import {
  DIRECTIONS,
  encodeItem,
  encodeTextItem,
  type BenchItemLike,
  type Direction,
  type EncodedItem,
  type SpokenItem,
} from "../data/bench-encode";
import { scoreEndings, type ItemScore, type Norm, type ScoreOptions } from "./score";

/** Accuracy of one (benchmark, direction) cell. */
export interface AccuracyCell {
  benchmark: string;
  direction: Direction;
  /** items scored */
  n: number;
  /** items answered correctly */
  correct: number;
  /** correct / n */
  accuracy: number;
  /** 1 / (number of endings): what a guess scores */
  chance: number;
}

export interface EvalResult {
  norm: Norm;
  cells: AccuracyCell[];
  items: ItemScore[];
}

/** norm (default "mean"), patcher (LST only), batchSize (default 32), maxLen (default 0 = no limit): see score.ts */
export type ScoreItemsOptions = ScoreOptions;

/** Group scored items into cells, in order of first appearance (benchmark, then direction in DIRECTIONS order). */
export function accuracyCells(items: readonly ItemScore[]): AccuracyCell[] {
  const cells = new Map<string, AccuracyCell & { chanceSum: number }>();
  for (const s of items) {
    const key = `${s.benchmark}\u0000${s.direction}`;
    let c = cells.get(key);
    if (!c) {
      c = { benchmark: s.benchmark, direction: s.direction, n: 0, correct: 0, accuracy: 0, chance: 0, chanceSum: 0 };
      cells.set(key, c);
    }
    c.n++;
    if (s.correct) c.correct++;
    c.chanceSum += 1 / s.scores.length;
  }
  const benchOrder = [...new Set(items.map((s) => s.benchmark))];
  return [...cells.values()]
    .sort(
      (a, b) =>
        benchOrder.indexOf(a.benchmark) - benchOrder.indexOf(b.benchmark) ||
        DIRECTIONS.indexOf(a.direction) - DIRECTIONS.indexOf(b.direction),
    )
    .map(({ chanceSum, ...c }) => ({ ...c, accuracy: c.correct / c.n, chance: chanceSum / c.n }));
}

/** Accuracy broken down by an item field (e.g. 'type' or 'tier') within each benchmark and direction. */
export function accuracyBy(
  items: readonly ItemScore[],
  field: "type" | "tier",
): { benchmark: string; direction: Direction; value: string | number; n: number; accuracy: number }[] {
  const groups = new Map<
    string,
    { benchmark: string; direction: Direction; value: string | number; n: number; correct: number }
  >();
  for (const s of items) {
    const key = `${s.benchmark}\u0000${s.direction}\u0000${s[field]}`;
    const g = groups.get(key) ?? { benchmark: s.benchmark, direction: s.direction, value: s[field], n: 0, correct: 0 };
    g.n++;
    if (s.correct) g.correct++;
    groups.set(key, g);
  }
  return [...groups.values()].map(({ correct, ...g }) => ({ ...g, accuracy: correct / g.n }));
}

/** Score already-encoded items (any mix of benchmarks and directions) and tabulate the accuracy. */
export async function scoreItems(
  model: LanguageModel,
  items: readonly EncodedItem[],
  opts: ScoreItemsOptions = {},
): Promise<EvalResult> {
  if (items.length === 0) throw new Error("scoreItems: no items to score; check the benchmark lists and eval.maxItems");
  const scored = await scoreEndings(model, items, opts);
  return { norm: opts.norm ?? "mean", cells: accuracyCells(scored), items: scored };
}

export interface EvaluateOptions extends ScoreItemsOptions {
  /** directions to evaluate for spoken items; text-only items are always T2T only */
  directions: readonly Direction[];
  /** the text BPE (lib/tokenizers/bpe.ts) */
  enc: TextEncoder;
  vocab: Vocab;
  /** at most this many items per benchmark (0 = all) */
  maxItems?: number;
}

/** A spoken item carries its audio alignment; a text-only item is a bare benchmark item. */
function isSpoken(x: SpokenItem | BenchItemLike): x is SpokenItem {
  return "item" in x && "prompt" in x;
}

/**
 * Encode and score benchmarks given as `{ benchmarkName: items }`. Spoken items are encoded in every requested
 * direction; text-only items (real StoryCloze/HellaSwag files) only in T2T, and only if T2T is requested.
 */
export async function evaluate(
  model: LanguageModel,
  itemsByBenchmark: Record<string, readonly (SpokenItem | BenchItemLike)[]>,
  opts: EvaluateOptions,
): Promise<EvalResult> {
  if (opts.directions.length === 0)
    throw new Error(`evaluate: no directions given; pick some of ${DIRECTIONS.join(", ")}`);
  for (const d of opts.directions) {
    if (!DIRECTIONS.includes(d)) throw new Error(`evaluate: unknown direction '${d}'; use ${DIRECTIONS.join(", ")}`);
  }
  const encoded: EncodedItem[] = [];
  for (const [benchmark, list] of Object.entries(itemsByBenchmark)) {
    const use = opts.maxItems && opts.maxItems > 0 ? list.slice(0, opts.maxItems) : list;
    for (const x of use) {
      if (isSpoken(x)) {
        for (const d of opts.directions) encoded.push({ ...encodeItem(x, d, opts.enc, opts.vocab), benchmark });
      } else if (opts.directions.includes("T2T")) {
        encoded.push({ ...encodeTextItem(x, opts.enc), benchmark });
      }
    }
  }
  if (encoded.length === 0) {
    throw new Error(
      `evaluate: nothing to score for directions [${opts.directions.join(", ")}]: text-only items are scored T2T only; add "T2T" or give spoken items`,
    );
  }
  return scoreItems(model, encoded, opts);
}
