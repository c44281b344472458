/**
 * Running one experiment: an experiment config -> (dataset, training stream, model, budget) -> a trained and
 * evaluated run in the run store. Asking again for a finished run returns it without training; an
 * interrupted run resumes from its checkpoint. A grid of them runs through grid-study.ts (runGrid, scaleRuns).
 *
 *   runExperiment(spec)     one run (resolved at the current lab scale)
 *
 * Provenance (provenance.ts): a finished run made by other code ('stale') or before provenance was recorded
 * ('unknown') is reused with one warning, unless `rerunStale` is set: then its directory moves aside whole
 * (to `<runs>-stale/`) and the run trains again with the code running now.
 *
 * Budgets (paper §4). Compute-controlled: every model runs `train.steps` steps of `batchSize` rows of
 * `globalLen` global units (tokens for the baselines, patches for LST), so LST reads more raw tokens.
 * Data-controlled: every model reads the raw tokens that the reference LST (static patches of 4) reads in
 * `train.steps` steps, so a baseline runs more steps. Example: LST reads 610 raw tokens per row of 192
 * patches and the baseline 192, so with 400 steps the baseline gets round(400 * 610 / 192) = 1271 steps.
 */
import fs from "fs";
import path from "path";
import { buildDataset, type Dataset } from "../data/build";
import { makeTrainSource, type TrainSource } from "../data/source";
import { DEFAULT_INTERLEAVE, speechDocument, type InterleaveOptions } from "../data/interleave";
import { trainSpeechBpe, speechBpeSource, type SpeechBpe } from "../data/speech-bpe";
import { encodeItem, type EncodedItem } from "../data/bench-encode";
import type { LmSequence, SequenceSource } from "../data/types";
import { configHash } from "../config";
import { subSeed } from "../rng";
import { ensureWritableDir, writeFileDurable } from "../files";
import { runsDir } from "../paths";
import { modelSizeConfig } from "../model/sizes";
import { makePatcher, needsEntropyModel, type BuiltPatcher, type PatchingConfig } from "../model/patching";
import type { ModelConfig } from "../model/config";
import { makeBatchStream, measureStream } from "../train/batches";
import { train, type StepMetrics } from "../train/train";
import { scoreItems } from "../eval/evaluate";
import type { ResultRow } from "../eval/metrics";
import { RunStore, type MetricsRow, type RunRecord } from "./runs";
import { resolveExperiment, labScale, type ExperimentConfig, type ExperimentSpec, type LabScale } from "./experiment";
import { fitUnitEntropyModel, type UnitEntropyModel } from "../model/entropy";
import { moveRunAside, runFreshness } from "./provenance";

export interface StudyOptions {
  scale?: LabScale;
  /** run store root (default <LST_DATA_DIR>/runs, i.e. data/runs; lib/paths.ts) */
  runsRoot?: string;
  /** dataset cache root (default <LST_DATA_DIR>/cache, i.e. data/cache) */
  dataRoot?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
  onStep?: (run: string, m: StepMetrics) => void;
  /** retrain a finished run whose code differs from the code running now, or is unknown (see the header) */
  rerunStale?: boolean;
  /** where notices go (a stale run moved aside, a grid's plan), default console.log */
  log?: (line: string) => void;
}

export interface StudyRun {
  config: ExperimentConfig;
  record: RunRecord;
  group: Record<string, string | number>;
  rows: ResultRow[];
  metrics: StepMetrics[];
}

const datasets = new Map<string, Promise<Dataset>>();

/** Build (or load) a dataset once per process. */
export function datasetFor(cfg: ExperimentConfig, opts: StudyOptions = {}): Promise<Dataset> {
  const key = `${opts.dataRoot ?? ""}:${configHash(cfg.data)}`;
  let d = datasets.get(key);
  if (!d) {
    d = buildDataset(cfg.data, undefined, { root: opts.dataRoot, onProgress: opts.onProgress });
    datasets.set(key, d);
    d.catch(() => datasets.delete(key));
  }
  return d;
}

/**
 * The training stream of a dataset for a mix. The mix has no default here: the one source of truth is the
 * scale's (LAB_MIX or PAPER_MIX in experiment.ts), so a table cannot show a mix the lab never trains on.
 */
export function datasetSource(
  ds: Dataset,
  mix: ExperimentConfig["mix"] & { seed?: number },
  interleave: InterleaveOptions = DEFAULT_INTERLEAVE,
): TrainSource {
  return makeTrainSource(
    { vocab: ds.vocab, enc: ds.bpe, paired: ds.paired, textAt: ds.textAt, interleave },
    { mixRatio: mix.mixRatio, speechOnlyFrac: mix.speechOnlyFrac, seed: mix.seed ?? 1 },
  );
}

/** The training stream of a config, and (BPE-speech baseline) the speech BPE that re-tokenizes it. */
export function trainingSource(
  cfg: ExperimentConfig,
  ds: Dataset,
): { source: SequenceSource; speechBpe: SpeechBpe | null } {
  const base = datasetSource(ds, { ...cfg.mix, seed: subSeed(cfg.seed, "mix") }, cfg.interleave);
  if (cfg.variant !== "bpe-speech") return { source: base, speechBpe: null };
  // The unit BPE is fitted on a fixed sample of training sequences (deterministic in the seed).
  const sample: LmSequence[] = [];
  for (let i = 0; i < 400; i++) sample.push(base.sequenceAt(1e8 + i));
  const speechBpe = trainSpeechBpe(sample, ds.vocab, cfg.speechBpeVocab);
  return { source: speechBpeSource(base, speechBpe), speechBpe };
}

/** A small unit n-gram fitted on the paired corpus, for the entropy patcher (deterministic). */
export function entropyModelFor(ds: Dataset, maxUtterances = 300): UnitEntropyModel {
  const seqs = ds.paired.slice(0, maxUtterances).map((u) => speechDocument(u, ds.vocab));
  return fitUnitEntropyModel(seqs, { unitOffset: ds.vocab.unitOffset, nUnits: ds.vocab.nUnits });
}

/**
 * Mean raw tokens per step of a batch stream, measured on its first steps (pure data, no model). A measurement:
 * its patcher runs on the scale's step clock, not the run's (which the measurement decides).
 */
function rawTokensPerStep(
  source: SequenceSource,
  cfg: ExperimentConfig,
  kind: "baseline" | "lst",
  patching: PatchingConfig,
): number {
  const patcher = kind === "lst" ? makePatcher(patching, { totalSteps: cfg.train.steps }) : undefined;
  return measureStream(makeBatchStream(source, { ...streamOptions(cfg), kind, patcher }), 6).rawTokensPerStep;
}

function streamOptions(cfg: ExperimentConfig): {
  batchSize: number;
  seqLen: number;
  globalLen: number;
  maxRawLen: number;
  seed: number;
} {
  return {
    batchSize: cfg.train.batchSize,
    seqLen: cfg.train.seqLen,
    globalLen: cfg.train.globalLen,
    maxRawLen: cfg.train.maxRawLen,
    seed: subSeed(cfg.seed, "train"),
  };
}

/** Steps a config trains for under its budget (see the top of the file). */
export function budgetSteps(cfg: ExperimentConfig, source: SequenceSource): number {
  if (cfg.budget === "compute") return cfg.train.steps;
  const refPatching: PatchingConfig = { ...cfg.patching, scheme: "static", patchSize: 4 };
  const ref = rawTokensPerStep(source, cfg, "lst", refPatching);
  const own = rawTokensPerStep(source, cfg, cfg.variant === "lst" ? "lst" : "baseline", cfg.patching);
  return Math.max(1, Math.round((cfg.train.steps * ref) / own));
}

/** Benchmark items encoded in every direction of the config (through the speech BPE for that baseline). */
export function encodedBenchmarks(cfg: ExperimentConfig, ds: Dataset, speechBpe: SpeechBpe | null): EncodedItem[] {
  const out: EncodedItem[] = [];
  for (const [kind, items] of Object.entries(ds.bench)) {
    const use = cfg.eval.maxItems > 0 ? items.slice(0, cfg.eval.maxItems) : items;
    for (const sp of use) {
      for (const d of cfg.eval.directions) {
        const e = encodeItem(sp, d, ds.bpe, ds.vocab);
        if (e.benchmark === undefined || e.benchmark === "") e.benchmark = kind;
        out.push(
          speechBpe
            ? { ...e, prompt: speechBpe.apply(e.prompt), endings: e.endings.map((x) => speechBpe.apply(x)) }
            : e,
        );
      }
    }
  }
  return out;
}

/** What training and scoring one config need, derived from its dataset (a pure function of the config). */
export interface ExperimentContext {
  source: SequenceSource;
  speechBpe: SpeechBpe | null;
  kind: "baseline" | "lst";
  /** training steps under the config's budget */
  steps: number;
  model: ModelConfig;
  entropyModel?: UnitEntropyModel;
  /** LST's training patcher (built once here on the budget's step clock, passed to train) */
  trainPatcher?: BuiltPatcher;
  /** LST's inference-time patcher */
  patcher?: BuiltPatcher;
  /** the encoded benchmark items (every direction) */
  items: EncodedItem[];
  /** items are scored within the context the model was trained on (the oldest prompt tokens are dropped) */
  maxLen: number;
}

/**
 * The model config of an experiment: its size preset with its overrides and seed. maxSeqLen only bounds the
 * rows a forward accepts, so a size smaller than the scale's rows (the scaling grid's `smoke` size at the
 * `small` scale: 256 < 512 raw tokens) takes the scale's row length.
 */
export function experimentModelConfig(cfg: ExperimentConfig, vocabSize: number, unitOffset: number): ModelConfig {
  const kind = cfg.variant === "lst" ? "lst" : "baseline";
  const sized = modelSizeConfig(
    cfg.size,
    kind,
    vocabSize,
    { ...cfg.model, seed: subSeed(cfg.seed, "model") },
    unitOffset,
  );
  const rows = kind === "lst" ? cfg.train.maxRawLen : cfg.train.seqLen;
  return sized.maxSeqLen >= rows ? sized : { ...sized, maxSeqLen: rows };
}

export async function experimentContext(cfg: ExperimentConfig, opts: StudyOptions = {}): Promise<ExperimentContext> {
  const ds = await datasetFor(cfg, opts);
  const { source, speechBpe } = trainingSource(cfg, ds);
  const kind = cfg.variant === "lst" ? "lst" : "baseline";
  const steps = budgetSteps(cfg, source);
  const model = experimentModelConfig(cfg, source.vocabSize, source.unitOffset);
  // what the registry says the run's schemes need fitted, fitted once; then one patcher each for training and eval
  const entropyModel =
    kind === "lst" && needsEntropyModel(cfg.patching, cfg.evalPatching) ? entropyModelFor(ds) : undefined;
  const trainPatcher = kind === "lst" ? makePatcher(cfg.patching, { totalSteps: steps, entropyModel }) : undefined;
  const patcher = kind === "lst" ? makePatcher(cfg.evalPatching, { totalSteps: steps, entropyModel }) : undefined;
  const items = encodedBenchmarks(cfg, ds, speechBpe);
  const maxLen = kind === "lst" ? cfg.train.maxRawLen : cfg.train.seqLen;
  return { source, speechBpe, kind, steps, model, entropyModel, trainPatcher, patcher, items, maxLen };
}

/** Run (or fetch from the run store) one experiment. */
export async function runExperiment(
  spec: ExperimentSpec | ExperimentConfig,
  opts: StudyOptions = {},
  group: Record<string, string | number> = {},
): Promise<StudyRun> {
  const scale = opts.scale ?? labScale();
  const cfg = "format" in spec ? spec : resolveExperiment(spec, scale);
  const runsRoot = opts.runsRoot ?? runsDir();
  ensureWritableDir(runsRoot); // a read-only or unwritable root is named here, with the fix, before any run starts
  const store = new RunStore(runsRoot);
  if (opts.rerunStale) {
    const dir = store.runDir(cfg);
    const fresh = runFreshness(dir);
    if (fresh === "stale" || fresh === "unknown") {
      const aside = moveRunAside(dir);
      (opts.log ?? console.log)(
        `run ${path.basename(dir)} was made by ${fresh === "stale" ? "other" : "unknown"} code: moved to ${aside}, training it again`,
      );
    }
  }
  const record = await store.ensure(cfg, cfg.name, async (dir, lock) => {
    const { source, steps, model, trainPatcher, patcher, items, maxLen } = await experimentContext(cfg, opts);
    // Learning curves: a fixed held-out subset (the first 40 items of each benchmark, S2S and T2T) every evalEvery steps.
    const perCell = new Map<string, number>();
    const curveItems = items.filter((e) => {
      if (e.direction !== "S2S" && e.direction !== "T2T") return false;
      const key = `${e.benchmark}/${e.direction}`;
      perCell.set(key, (perCell.get(key) ?? 0) + 1);
      return (perCell.get(key) as number) <= 40;
    });
    const trainDir = path.join(dir, "train");
    const result = await train({
      model,
      train: { ...cfg.train, steps },
      patcher: trainPatcher,
      source,
      dir: trainDir,
      onStep: (m) => {
        lock.check(); // stop here (before the step's checkpoint) if another process took the run over
        opts.onProgress?.(`train ${cfg.name}`, m.step + 1, steps);
        opts.onStep?.(cfg.name, m);
      },
      onEval: async (m) => {
        const r = await scoreItems(m, curveItems, {
          norm: cfg.eval.norm,
          patcher,
          batchSize: cfg.eval.batchSize,
          maxLen,
        });
        return Object.fromEntries(r.cells.map((c) => [`${c.benchmark}/${c.direction}`, c.accuracy]));
      },
    });
    opts.onProgress?.(`eval ${cfg.name}`, 0, 1);
    const scored = await scoreItems(result.model, items, {
      norm: cfg.eval.norm,
      patcher,
      batchSize: cfg.eval.batchSize,
      maxLen,
    });
    const params = result.model.paramCount();
    result.model.dispose();
    // The run's metrics stream is the trainer's (all steps, resumed segments included).
    writeFileDurable(path.join(dir, "metrics.jsonl"), fs.readFileSync(path.join(trainDir, "metrics.jsonl")));
    opts.onProgress?.(`eval ${cfg.name}`, 1, 1);
    return { eval: scored, steps, params, seed: cfg.seed, model: cfg.name, group };
  });
  // the scaling figures read the parameter count from the group
  const params = (record.result as { params?: { total?: number } } | null)?.params?.total;
  if (group.size !== undefined && params !== undefined) group = { ...group, params };
  return {
    config: cfg,
    record,
    group,
    rows: record.rows.map((r) => ({ ...r, group })),
    metrics: record.metrics as unknown as StepMetrics[],
  };
}

/** The last finite value of a metric, with its step (metrics.jsonl's null reads back as NaN: runs.ts). */
function lastFinite(metrics: readonly MetricsRow[], key: string): { value: number; step: number } | null {
  for (let i = metrics.length - 1; i >= 0; i--) {
    const v = (metrics[i] as unknown as Record<string, unknown>)[key];
    if (typeof v === "number" && Number.isFinite(v)) return { value: v, step: metrics[i].step };
  }
  return null;
}

/**
 * A run's closing line, e.g. "12 steps, final loss 5.920 (speech 5.849 at step 10, text 5.920)". Each loss is
 * the last step's; a loss the last step has no value of (lossSpeech is NaN, null in metrics.jsonl, on a step
 * with no speech target) shows its last finite value and that value's step, or "n/a" when no step has one.
 */
export function finalLossSummary(metrics: readonly MetricsRow[]): string {
  if (metrics.length === 0) return "0 steps";
  const last = metrics[metrics.length - 1].step;
  const show = (key: string): string => {
    const f = lastFinite(metrics, key);
    if (!f) return "n/a";
    return f.step === last ? f.value.toFixed(3) : `${f.value.toFixed(3)} at step ${f.step}`;
  };
  return `${metrics.length} steps, final loss ${show("loss")} (speech ${show("lossSpeech")}, text ${show("lossText")})`;
}
