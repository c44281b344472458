/**
 * Thin CLI over `train` (lib/train/train.ts):
 *   npx tsx scripts/train.ts --model.kind=lst --train.steps=50 --patching.scheme=curriculum --runDir=data/runs/x
 * Keys: --model.*, --train.*, --patching.* (LST only) are config overrides (unknown keys throw);
 * --data=synthetic|<data preset> picks the source (default synthetic: the small hand-built corpus of
 * lib/train/synthetic.ts; a preset such as 'smoke' builds or loads the dataset with buildDataset);
 * --runDir=<run dir> checkpoints and resumes (subtle: not `--dir`, which node-pre-gyp reads from process.argv
 * while tfjs-node loads, breaking the native backend); --mix=<interleaved>:<text> sets the token mix (default 1:2).
 * Resume overrides (lib/train/resume.ts), off by default: --allowScheduleChange continues a checkpoint written
 * under another lr/warmupSteps/... (after a divergence), --allowBackendChange one written on another backend.
 */
import { initBackend, describeBackend } from "../lib/backend";
import { parseCliOverrides, type DeepPartial } from "../lib/config";
import type { SequenceSource } from "../lib/data/types";
import type { ModelConfig } from "../lib/model/config";
import type { PatchingConfig } from "../lib/model/patching";
import { resolveTrainConfig, type TrainConfig } from "../lib/train/config";
import { syntheticSource } from "../lib/train/synthetic";
import { train } from "../lib/train/train";

const CLI_KEYS = ["model", "train", "patching", "data", "runDir", "mix", "allowScheduleChange", "allowBackendChange"];

async function loadSource(data: string, mix: [number, number], seed: number): Promise<SequenceSource> {
  if (data === "synthetic") return syntheticSource(seed);
  // loaded lazily: the data pipeline (TTS, units) is only needed for real presets
  const { buildDataset } = await import("../lib/data/build");
  const { makeTrainSource } = await import("../lib/data/source");
  const { DEFAULT_INTERLEAVE } = await import("../lib/data/interleave");
  const ds = await buildDataset(data, undefined, { onProgress: (stage, done, total) => process.stdout.write(`\r${stage} ${done}/${total}   `) });
  process.stdout.write("\n");
  return makeTrainSource(
    { vocab: ds.vocab, enc: ds.bpe, paired: ds.paired, textAt: ds.textAt, interleave: DEFAULT_INTERLEAVE },
    { mixRatio: mix, speechOnlyFrac: 0, seed },
  );
}

async function main(): Promise<void> {
  const args = parseCliOverrides(process.argv.slice(2));
  for (const k of Object.keys(args)) {
    if (!CLI_KEYS.includes(k)) throw new Error(`unknown argument --${k}: use --${CLI_KEYS.join(", --")}`);
  }
  const data = String(args.data ?? "synthetic");
  const mixArg = String(args.mix ?? "1:2").split(":").map(Number);
  if (mixArg.length !== 2 || mixArg.some((x) => !(x >= 0))) throw new Error(`--mix must look like 1:2 (interleaved:text tokens), got '${String(args.mix)}'`);
  const trainOver = (args.train ?? {}) as DeepPartial<TrainConfig>;
  const model = (args.model ?? {}) as DeepPartial<ModelConfig>;
  const patching = args.patching as DeepPartial<PatchingConfig> | undefined;
  resolveTrainConfig(trainOver); // bad values are refused before a dataset is built or a run dir is made
  const flag = (k: string): boolean => {
    const v = args[k];
    if (v !== undefined && typeof v !== "boolean") throw new Error(`--${k} is a flag: give it alone or as --${k}=true, got --${k}=${String(v)}`);
    return v === true;
  };
  const allowScheduleChange = flag("allowScheduleChange");
  const allowBackendChange = flag("allowBackendChange");
  const report = await initBackend();
  console.log(`backend: ${describeBackend(report)}`);
  const source = await loadSource(data, [mixArg[0], mixArg[1]], trainOver.seed ?? 0);
  const isLst = model.kind === "lst";
  const result = await train({
    model,
    train: { logEvery: 10, ...trainOver },
    patching: isLst ? patching ?? {} : patching,
    source,
    dir: args.runDir === undefined ? undefined : String(args.runDir),
    allowScheduleChange,
    allowBackendChange,
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
  process.exit(1);
});
