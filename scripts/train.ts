/**
 * Thin CLI over `train` (lib/train/train.ts):
 *   npx tsx scripts/train.ts --model.kind=lst --train.steps=50 --patching.scheme=curriculum --runDir=data/runs/x
 * --model.*, --train.*, --patching.* (LST only) are config overrides (`--train.steps=50` or `--train.steps 50`),
 * checked against the defaults before anything loads (an unknown key is an error naming it and the known ones).
 * --data=synthetic|<data preset> picks the source (default synthetic: the small hand-built corpus of
 * lib/train/synthetic.ts; a preset such as 'smoke' builds or loads the dataset with buildDataset);
 * --runDir=<run dir> checkpoints and resumes (subtle: not `--dir`, which node-pre-gyp reads from process.argv
 * while tfjs-node loads, breaking the native backend); --mix=<interleaved>:<text> sets the token mix (default 1:2).
 * `--help` lists every flag.
 * A run dir is locked while this trains in it (lib/experiment/lock.ts): a second copy on the same --runDir refuses to
 * start, saying who holds it; a lock whose holder died is taken over.
 * Resume overrides (lib/train/resume.ts), off by default: --allowScheduleChange continues a checkpoint written
 * under another lr/warmupSteps/... (after a divergence), --allowBackendChange one written on another backend.
 */
import path from "path";
import {
  initBackend,
  describeBackend,
  resolveConfig,
  type DeepPartial,
  type SequenceSource,
  DEFAULT_MODEL_CONFIG,
  type ModelConfig,
  DEFAULT_PATCHING,
  type PatchingConfig,
  resolveTrainConfig,
  type TrainConfig,
  syntheticSource,
  train,
  buildDataset,
  makeTrainSource,
  DEFAULT_INTERLEAVE,
  PAPER_MIX,
  resolveDataConfig,
  ensureDir,
} from "../lib";
import { checkDirPath, cli, CliError, lockNow, type HeldLock } from "../lib/internal";

const TRAIN_CLI = {
  command: "npx tsx scripts/train.ts",
  summary: "One training run from the command line (lib/train/train.ts), with config overrides.",
  flags: {
    data: {
      type: "string",
      default: "synthetic",
      value: "synthetic|PRESET",
      help: "the training source: the synthetic corpus or a data preset (smoke, small, paper), built or loaded",
    },
    mix: {
      type: "string",
      default: "1:2",
      value: "I:T",
      help: "interleaved : text-only token mix (data presets only)",
    },
    runDir: { type: "string", value: "DIR", help: "checkpoint here and resume from here" },
    allowScheduleChange: {
      type: "boolean",
      help: "resume a checkpoint written under another lr / warmupSteps / betas / eps / clip (e.g. after a divergence)",
    },
    allowBackendChange: {
      type: "boolean",
      help: "resume a checkpoint written on another backend (losses then differ in the last digits)",
    },
  },
  overrides: {
    prefixes: ["model", "train", "patching"],
    help: "a config override (lib/model/config.ts, lib/train/config.ts, lib/model/patching.ts); unknown keys are rejected",
  },
  examples: [
    "npx tsx scripts/train.ts --model.kind=lst --train.steps=50",
    "npx tsx scripts/train.ts --model.kind lst --patching.scheme=curriculum --runDir=data/runs/x",
  ],
} as const;

async function loadSource(data: string, mix: [number, number], seed: number): Promise<SequenceSource> {
  if (data === "synthetic") return syntheticSource(seed);
  const ds = await buildDataset(data, undefined, {
    onProgress: (stage, done, total) => process.stdout.write(`\r${stage} ${done}/${total}   `),
  });
  process.stdout.write("\n");
  return makeTrainSource(
    { vocab: ds.vocab, enc: ds.bpe, paired: ds.paired, textAt: ds.textAt, interleave: DEFAULT_INTERLEAVE },
    { mixRatio: mix, speechOnlyFrac: PAPER_MIX.speechOnlyFrac, seed }, // the paper's mix: no speech-only documents
  );
}

async function main(): Promise<void> {
  const { values: args, overrides } = cli(TRAIN_CLI);
  const mixParts = args.mix.split(":");
  const mixArg = mixParts.map(Number);
  // subtle: `x >= 0` lets Infinity through (and Number("") is 0), so each part must be written and finite
  if (
    mixArg.length !== 2 ||
    mixParts.some((x) => x.trim() === "") ||
    mixArg.some((x) => !(Number.isFinite(x) && x >= 0)) ||
    mixArg[0] + mixArg[1] === 0
  )
    throw new CliError(
      `--mix must be two finite numbers >= 0, not both 0, as interleaved:text tokens (e.g. 1:2), got '${args.mix}'`,
    );
  const trainOver = (overrides.train ?? {}) as DeepPartial<TrainConfig>;
  const model = (overrides.model ?? {}) as DeepPartial<ModelConfig>;
  const patching = overrides.patching as DeepPartial<PatchingConfig> | undefined;
  // check every override's keys and types against the defaults now, before a backend or a dataset loads; bad
  // values (a non-finite lr, an LST globalLen above maxRawLen, ...) too, before a dataset is built or a run dir is made
  resolveTrainConfig(trainOver, resolveConfig(DEFAULT_MODEL_CONFIG, model, "model").kind);
  resolveConfig(DEFAULT_PATCHING, patching, "patching");
  const data = args.data;
  if (data !== "synthetic") resolveDataConfig(data); // an unknown preset, before a run dir is made
  const dir = args.runDir === "" ? undefined : args.runDir;
  // the lock first, so a second copy on the same run dir refuses before loading anything
  let lock: HeldLock | null = null;
  if (dir) {
    checkDirPath(dir, "run directory (--runDir)");
    ensureDir(dir);
    lock = lockNow(path.join(dir, "lock"));
  }
  try {
    await trainIn(dir, lock, data, [mixArg[0], mixArg[1]], model, trainOver, patching, {
      allowScheduleChange: args.allowScheduleChange,
      allowBackendChange: args.allowBackendChange,
    });
  } finally {
    lock?.release();
  }
}

async function trainIn(
  dir: string | undefined,
  lock: HeldLock | null,
  data: string,
  mix: [number, number],
  model: DeepPartial<ModelConfig>,
  trainOver: DeepPartial<TrainConfig>,
  patching: DeepPartial<PatchingConfig> | undefined,
  resume: { allowScheduleChange: boolean; allowBackendChange: boolean },
): Promise<void> {
  const report = await initBackend();
  console.log(`backend: ${describeBackend(report)}`);
  const source = await loadSource(data, mix, trainOver.seed ?? 0);
  const isLst = model.kind === "lst";
  const result = await train({
    model,
    train: { logEvery: 10, ...trainOver },
    patching: isLst ? (patching ?? {}) : patching,
    source,
    dir,
    onStep: () => lock?.check(), // stop (before the step's checkpoint) if another process took the run dir over
    ...resume,
  });
  const last = result.metrics[result.metrics.length - 1];
  const params = result.model.paramCount();
  console.log(
    `done: ${result.model.kind}, ${params.total} parameters, steps ${result.resumedFrom}..${result.resumedFrom + result.metrics.length}` +
      (last ? `, final loss ${last.loss.toFixed(4)}` : "") +
      `, config ${result.configHash}`,
  );
  result.model.dispose();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof CliError ? 2 : 1);
});
