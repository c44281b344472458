/**
 * Generation from finished runs: a run (a StudyRun, or its directory in the run store) -> its model restored from
 * the final checkpoint, its dataset, and the boundary rule its LST patches are cut with while generating
 * (model/generate.ts `generationRule`, from the run's inference-time patching); then the in-lexicon table of
 * docs/generate.md over several runs.
 *
 *   loadRunGenerator(run)       { name, config, ds, model, rule, step, dispose }
 *   inLexiconTable(runs, opts)  T2S and S2S continuations of the benchmark prompts (test split) of phonetic-unit
 *                               runs, transcribed with the dataset's phone lexicon (eval/transcribe.ts); two
 *                               reference rows per dataset: the held-out speech itself, and the same phonemes
 *                               in shuffled order (what chance gives)
 */
import fs from "fs";
import path from "path";
import { readJsonFile } from "../files";
import { Rng, hashSeed } from "../rng";
import type { Dataset } from "../data/build";
import type { Direction } from "../data/bench-encode";
import { speechDocument } from "../data/interleave";
import { createModel } from "../model/create";
import type { BaselineLM } from "../model/baseline";
import type { LstLM } from "../model/lst";
import { alignedPatchLengths, meanSpeechPatchLen } from "../model/patching";
import { generationRule, type BoundaryRule, type GenerateOptions } from "../model/generate";
import { loadCheckpoint, restoreVariables } from "../train/checkpoint";
import { continueFrom, inLexiconRow, type InLexiconRow } from "../eval/continuations";
import { collapseRuns } from "../eval/transcribe";
import { phoneLexiconFor } from "../eval/vocoders";
import type { ExperimentConfig } from "./experiment";
import { datasetFor, entropyModelFor, experimentContext, type StudyOptions, type StudyRun } from "./study";

export interface RunGenerator {
  name: string;
  dir: string;
  config: ExperimentConfig;
  ds: Dataset;
  model: BaselineLM | LstLM;
  /** LST: the boundary rule of its inference-time patching; undefined for the baselines */
  rule: BoundaryRule | undefined;
  /** the checkpoint's step */
  step: number;
  dispose(): void;
}

/** A run's config and name from its directory (run.json: the config less its name, the names it was asked under). */
function readRunDir(dir: string): ExperimentConfig {
  const file = path.join(dir, "run.json");
  if (!fs.existsSync(file))
    throw new Error(`${dir} is not a run directory (no run.json): pass a directory of the run store (data/runs/<key>)`);
  const meta = readJsonFile(file, "run metadata", "pass another run directory") as {
    names?: string[];
    config?: Omit<ExperimentConfig, "name">;
  };
  if (!meta.config || !Array.isArray(meta.names))
    throw new Error(`${file} lacks config or names: it was not written by the run store`);
  return { ...meta.config, name: meta.names[0] ?? path.basename(dir) } as ExperimentConfig;
}

/** Mean speech patch length of the training corpus under aligned patching (the aligned rule's target). */
function alignedMeanLen(ds: Dataset, cfg: ExperimentConfig): number {
  let frames = 0;
  let patches = 0;
  for (const u of ds.paired.slice(0, 200)) {
    const seq = speechDocument(u, ds.vocab);
    const lengths = alignedPatchLengths(seq, cfg.patching.align, cfg.patching.silence, cfg.patching.maxPatchLen);
    const mean = meanSpeechPatchLen(lengths, seq);
    const n = seq.isSpeech.reduce((a, b) => a + b, 0);
    frames += n;
    patches += mean > 0 ? n / mean : 0;
  }
  return patches > 0 ? frames / patches : 1;
}

/** A finished run, ready to generate (see the header). Dispose it when done. */
export async function loadRunGenerator(run: StudyRun | string, opts: StudyOptions = {}): Promise<RunGenerator> {
  const dir = typeof run === "string" ? path.resolve(run) : run.record.dir;
  const config = typeof run === "string" ? readRunDir(dir) : run.config;
  if (config.variant === "bpe-speech")
    throw new Error(
      `run ${config.name} is a BPE-speech baseline: its speech tokens are unit-BPE pieces, which generation does not decode; use a baseline or LST run`,
    );
  const ctx = await experimentContext(config, opts);
  const ds = await datasetFor(config, opts);
  const ckpt = loadCheckpoint(path.join(dir, "train"));
  if (!ckpt || ckpt.step !== ctx.steps)
    throw new Error(
      `run ${dir}: no final checkpoint (found step ${ckpt?.step ?? "none"}, expected ${ctx.steps}); finish the run first (runExperiment, or npm start)`,
    );
  const model = createModel(ctx.model);
  try {
    restoreVariables(model.variables, ckpt.params);
  } catch (e) {
    model.dispose();
    throw e;
  }
  let rule: BoundaryRule | undefined;
  if (model.kind === "lst") {
    const scheme = config.evalPatching.scheme;
    const needsNgram = scheme === "aligned" || scheme === "entropy";
    rule = generationRule(config.evalPatching, {
      entropyModel: needsNgram ? (ctx.entropyModel ?? entropyModelFor(ds)) : undefined,
      alignedMeanLen: scheme === "aligned" ? alignedMeanLen(ds, config) : undefined,
    });
  }
  return { name: config.name, dir, config, ds, model, rule, step: ckpt.step, dispose: () => model.dispose() };
}

export interface InLexiconOptions {
  /** benchmark prompts per direction (default 8) */
  prompts?: number;
  directions?: Direction[];
  /** spoken prompts keep their last this many units (default 125: 5 s) */
  maxPromptUnits?: number;
  /** sampling: default temperature 1, top-p 0.95, seed 1, 100 tokens (4 s), at least 25 (1 s) */
  generate?: Omit<GenerateOptions, "unitOffset" | "rule">;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** The in-lexicon table of runs (see the header); every run must have phonetic units. */
export async function inLexiconTable(
  runs: readonly (StudyRun | string)[],
  opts: InLexiconOptions & StudyOptions = {},
): Promise<InLexiconRow[]> {
  const n = opts.prompts ?? 8;
  const directions = opts.directions ?? (["T2S", "S2S"] as Direction[]);
  const maxPrompt = opts.maxPromptUnits ?? 125;
  const gen = { temperature: 1, topP: 0.95, seed: 1, maxTokens: 100, minTokens: 25, ...opts.generate };
  const rows: InLexiconRow[] = [];
  const refsDone = new Set<string>();
  for (let r = 0; r < runs.length; r++) {
    const g = await loadRunGenerator(runs[r], opts);
    try {
      const { ds } = g;
      if (ds.unitModel.kind !== "phonetic")
        throw new Error(
          `run ${g.name} has acoustic units: the in-lexicon measure reads phonetic units as phonemes; use runs with data.units.source 'phonetic'`,
        );
      const lex = await phoneLexiconFor(ds);
      const items = ds.bench.sc.slice(0, n);
      if (!refsDone.has(ds.dir)) {
        refsDone.add(ds.dir);
        const truth = items.map((s) => s.endings[s.item.label].units);
        const rng = new Rng(hashSeed(1, "shuffle"));
        rows.push(inLexiconRow("held-out speech (truth)", "reference", truth, lex));
        rows.push(
          inLexiconRow(
            "its phonemes shuffled (chance)",
            "reference",
            truth.map((u) => rng.shuffle(collapseRuns(u))),
            lex,
          ),
        );
      }
      for (const direction of directions) {
        const spoken: Int32Array[] = [];
        for (let i = 0; i < items.length; i++) {
          opts.onProgress?.(`generate ${g.name} ${direction}`, i, items.length);
          const input = { text: items[i].item.context, units: items[i].prompt.units.slice(-maxPrompt) };
          const c = await continueFrom(g.model, direction, input, ds, {
            ...gen,
            rule: g.rule,
            seed: hashSeed(gen.seed ?? 1, i),
          });
          spoken.push(c.units);
        }
        opts.onProgress?.(`generate ${g.name} ${direction}`, items.length, items.length);
        rows.push(inLexiconRow(g.name, direction, spoken, lex));
      }
    } finally {
      g.dispose();
    }
  }
  return rows;
}
