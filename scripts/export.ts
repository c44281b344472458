/**
 * Export lab results in formats other tools read:
 *   npx tsx scripts/export.ts data/runs/<run> [more run dirs or dataset dirs]
 * A run dir (it holds checkpoint.json) gets model.safetensors (from its last checkpoint; config.json is already
 * there), metrics.csv and tensorboard/ (event files). A dataset dir (it holds bpe.json, e.g. data/cache/<preset>)
 * gets tokenizer.json, the text BPE for Hugging Face `tokenizers`. Load them in Python with
 * scripts/interop/lab_torch.py (see the README's "Results outside the lab").
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

const HELP = `usage: npx tsx scripts/export.ts <run dir | dataset dir> [...]
  run dir      (holds checkpoint.json)  -> model.safetensors, metrics.csv, tensorboard/
  dataset dir  (holds bpe.json)         -> tokenizer.json (Hugging Face tokenizers)
options:
  -h, --help   this text`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const report = await initBackend();
  for (const dir of positionals) {
    const isRun = fs.existsSync(path.join(dir, "checkpoint.json"));
    const isData = fs.existsSync(path.join(dir, "bpe.json"));
    if (!isRun && !isData)
      throw new Error(
        `${dir} holds neither checkpoint.json (a run dir) nor bpe.json (a dataset dir): pass one of those`,
      );
    if (isRun) {
      const { weights, step } = exportRunCheckpoint(dir);
      console.log(`${weights} (step ${step})`);
      if (fs.existsSync(path.join(dir, "metrics.jsonl"))) {
        console.log(writeMetricsCsv(dir));
        const tb = writeTensorboard(dir);
        console.log(
          `${tb.logDir}/ (${tb.writer === "tfjs-node" ? "tf.node.summaryFileWriter" : `the lab's event writer; backend ${describeBackend(report)}`})`,
        );
      }
    }
    if (isData) {
      const file = path.join(dir, "tokenizer.json");
      saveHuggingFaceTokenizer(BpeTokenizer.load(path.join(dir, "bpe.json")), file);
      console.log(file);
    }
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
