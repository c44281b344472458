/**
 * Export lab results in formats other tools read:
 *   npx tsx scripts/export.ts data/runs/<run> [more run dirs or dataset dirs]
 * A run dir (it holds checkpoint.json; a run store's run dir `data/runs/<run>` holds it in its `train/`, which is
 * looked into) gets model.safetensors (from its last checkpoint; config.json is already there), metrics.csv and
 * tensorboard/ (event files), beside the checkpoint. A dataset dir (it holds bpe.json, e.g. data/cache/<preset>)
 * gets tokenizer.json, the text BPE for Hugging Face `tokenizers`. Load them in Python with
 * scripts/interop/lab_torch.py (see the README's "Results outside the lab"). A path that is neither is an error
 * saying which to pass (exit 2); every file read is named in its errors.
 */
import fs from "fs";
import path from "path";
import { parseArgs } from "util";
import {
  describeBackend,
  initBackend,
  BpeTokenizer,
  saveHuggingFaceTokenizer,
  writeMetricsCsv,
  writeTensorboard,
  exportRunCheckpoint,
} from "../lib";
import { CliError } from "../lib/internal";

const HELP = `usage: npx tsx scripts/export.ts <run dir | dataset dir> [...]
  run dir      (holds checkpoint.json, or train/checkpoint.json: data/runs/<run>)  -> model.safetensors, metrics.csv, tensorboard/
  dataset dir  (holds bpe.json: data/cache/<dataset>)                               -> tokenizer.json (Hugging Face tokenizers)
options:
  -h, --help   this text`;

/** What `arg` is: the directory holding a run's checkpoint (itself or its train/), a dataset dir, or both. */
export function exportTargets(arg: string): { runDir: string | null; dataDir: string | null } {
  if (!fs.existsSync(arg))
    throw new CliError(`${arg} does not exist: pass a run dir (data/runs/<run>) or a dataset dir`);
  if (!fs.statSync(arg).isDirectory())
    throw new CliError(
      `${arg} is a file, not a directory: pass the run dir that holds it (data/runs/<run>) or a dataset dir (data/cache/<dataset>)`,
    );
  const has = (...p: string[]) => fs.existsSync(path.join(arg, ...p));
  const runDir = has("checkpoint.json") ? arg : has("train", "checkpoint.json") ? path.join(arg, "train") : null;
  const dataDir = has("bpe.json") ? arg : null;
  if (runDir === null && dataDir === null) {
    const hint = has("run.json")
      ? ` It is a run of the run store that has no checkpoint yet (${path.join(arg, "train")} holds none): let it train first.`
      : has("runs")
        ? ` It looks like a data root: pass one of its runs, ${path.join(arg, "runs", "<run>")}.`
        : "";
    throw new CliError(
      `${arg} holds neither checkpoint.json (a run dir, or its train/) nor bpe.json (a dataset dir): pass one of those.${hint}`,
    );
  }
  return { runDir, dataDir };
}

async function main(): Promise<void> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({ options: { help: { type: "boolean", short: "h" } }, allowPositionals: true });
    } catch (e) {
      throw new CliError(`${(e as Error).message}\n${HELP}`);
    }
  })();
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const targets = positionals.map((dir) => exportTargets(dir)); // every path checked before anything is written
  const report = await initBackend();
  for (const { runDir, dataDir } of targets) {
    if (runDir) {
      const { weights, step } = exportRunCheckpoint(runDir);
      console.log(`${weights} (step ${step})`);
      if (fs.existsSync(path.join(runDir, "metrics.jsonl"))) {
        console.log(writeMetricsCsv(runDir));
        const tb = writeTensorboard(runDir);
        console.log(
          `${tb.logDir}/ (${tb.writer === "tfjs-node" ? "tf.node.summaryFileWriter" : `the lab's event writer; backend ${describeBackend(report)}`})`,
        );
      }
    }
    if (dataDir) {
      const file = path.join(dataDir, "tokenizer.json");
      saveHuggingFaceTokenizer(
        BpeTokenizer.load(path.join(dataDir, "bpe.json"), `delete the dataset directory ${dataDir} and rebuild it`),
        file,
      );
      console.log(file);
    }
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(e instanceof CliError ? 2 : 1);
  });
}
