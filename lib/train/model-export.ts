/**
 * Model weights as safetensors, with the model config as JSON beside them, for tools outside the lab
 * (PyTorch through `scripts/interop/lab_torch.py`, or any safetensors reader).
 *
 *   <dir>/model.safetensors   every parameter as F32 under its stable lab name (`global.layers.0.attn.wqkv`),
 *                             metadata: format, layout, step and the model config (JSON string)
 *   <dir>/config.json         { model: <ModelConfig>, ... }: a run dir's own config.json (train writes it) or,
 *                             for an export into another dir, { format, step, model }
 *
 * Layout: weight matrices are stored as the lab holds them, [in, out] (y = x @ W); PyTorch's nn.Linear
 * holds [out, in], so the Python mapping transposes them. Embedding tables are [vocab, d] in both.
 * Training writes model.safetensors with every checkpoint (train.ts), so a run dir can be read as it grows.
 *
 * In a run dir model.safetensors holds the weights of the checkpoint (its metadata `step` is the checkpoint's).
 * It is written after the checkpoint is committed, durably (temp file + fsync + rename, lib/files.ts), so a full
 * disk or a kill can leave it behind the checkpoint, never half written. A resume rewrites it from the
 * checkpoint when it is missing, unreadable or of another step (`syncRunModelFile`), so the run that finishes
 * holds the same bytes as one never interrupted; the run store refuses a finished run whose file is behind
 * (lib/experiment/runs.ts, with `runModelFileProblem`).
 */
import fs from "fs";
import path from "path";
import type * as tf from "@tensorflow/tfjs-core";
import { resolveModelConfig, type ModelConfig } from "../model/config";
import { createModel } from "../model/create";
import { stableName } from "../model/layers";
import type { LanguageModel } from "../model/types";
import { removeStaleTemps, writeFileDurable } from "../files";
import { captureVariables, loadCheckpoint, restoreVariables, type Checkpoint, type NamedArray } from "./checkpoint";
import { readSafetensors, readSafetensorsMetadata, writeSafetensors, type SafeTensor } from "./safetensors";

export const MODEL_FILE = "model.safetensors";
export const MODEL_FORMAT = "lst-lab";
export const MODEL_LAYOUT = "matrices [in, out] (y = x @ W); embeddings [vocab, d]; norm gains [d]";

/** Write `params` (stable names, model order) to `file` as F32 safetensors with the config in the metadata. */
export function writeModelSafetensors(
  file: string,
  params: readonly NamedArray[],
  info: { model: ModelConfig; step: number },
): void {
  const tensors = new Map<string, SafeTensor>();
  for (const p of params) tensors.set(p.name, { dtype: "F32", shape: p.shape, data: p.data });
  writeSafetensors(file, tensors, {
    format: MODEL_FORMAT,
    layout: MODEL_LAYOUT,
    step: String(info.step),
    model_config: JSON.stringify(info.model),
  });
}

/**
 * A run dir's model.safetensors for its checkpoint at `step` (the save of train.ts): written durably, after
 * temp files of writers that were killed are removed.
 */
export function writeRunModelFile(dir: string, params: readonly NamedArray[], model: ModelConfig, step: number): void {
  removeStaleTemps(dir, MODEL_FILE);
  writeModelSafetensors(path.join(dir, MODEL_FILE), params, { model, step });
}

/** The step whose weights a model.safetensors holds (its metadata), or a reason it holds none we can trust. */
export function modelFileStep(file: string): { step: number } | { problem: string } {
  if (!fs.existsSync(file)) return { problem: "does not exist" };
  let step: number;
  try {
    step = Number(readSafetensorsMetadata(file).step);
  } catch (e) {
    return { problem: `is unreadable (${(e as Error).message})` };
  }
  return Number.isInteger(step) ? { step } : { problem: "has no step in its metadata" };
}

/**
 * On resume from `ckpt`: rewrite the run dir's model.safetensors from the checkpoint unless it holds that
 * checkpoint's step (a full disk at its write, or a kill between the checkpoint and it, left it missing or
 * older). Returns whether it was rewritten.
 */
export function syncRunModelFile(dir: string, ckpt: Checkpoint, model: ModelConfig): boolean {
  const now = modelFileStep(path.join(dir, MODEL_FILE));
  if ("step" in now && now.step === ckpt.step) return false;
  writeRunModelFile(dir, ckpt.params, model, ckpt.step);
  return true;
}

/**
 * What is wrong with the model.safetensors of a run dir whose checkpoint is at `step` (null: it holds that
 * step), e.g. "/runs/x/model.safetensors holds step 6, but the checkpoint /runs/x/checkpoint.json is at step 12".
 */
export function runModelFileProblem(dir: string, step: number): string | null {
  const file = path.join(dir, MODEL_FILE);
  const now = modelFileStep(file);
  if ("step" in now && now.step === step) return null;
  const what = "step" in now ? `holds step ${now.step}` : now.problem;
  return `${file} ${what}, but the checkpoint ${path.join(dir, "checkpoint.json")} is at step ${step}`;
}

/**
 * Export a live model into `dir`: model.safetensors, and config.json unless the dir already has one (a run
 * dir's config.json, written by train, holds the same `model` config). Returns the two paths.
 */
export async function exportModel(
  dir: string,
  model: LanguageModel & { config: ModelConfig },
  step = 0,
): Promise<{ weights: string; config: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const weights = path.join(dir, MODEL_FILE);
  writeModelSafetensors(weights, await captureVariables(model.variables), { model: model.config, step });
  const config = path.join(dir, "config.json");
  if (!fs.existsSync(config))
    writeFileDurable(config, JSON.stringify({ format: MODEL_FORMAT, step, model: model.config }, null, 1));
  return { weights, config };
}

/**
 * Export the last checkpoint of a run dir (checkpoint.json + .bin) as `<outDir>/model.safetensors` (outDir
 * defaults to the run dir), for runs trained before training wrote safetensors itself.
 */
export function exportRunCheckpoint(runDir: string, outDir = runDir): { weights: string; step: number } {
  const ckpt = loadCheckpoint(runDir);
  if (!ckpt)
    throw new Error(
      `${runDir} holds no checkpoint (checkpoint.json): pass a run dir that trained at least one checkpoint`,
    );
  const model = (ckpt.meta as { model?: ModelConfig }).model;
  if (!model)
    throw new Error(
      `the checkpoint of ${runDir} has no model config in its meta: it was not written by lib/train/train.ts`,
    );
  fs.mkdirSync(outDir, { recursive: true });
  const weights = path.join(outDir, MODEL_FILE);
  writeModelSafetensors(weights, ckpt.params, { model, step: ckpt.step });
  const config = path.join(outDir, "config.json");
  if (!fs.existsSync(config))
    writeFileDurable(config, JSON.stringify({ format: MODEL_FORMAT, step: ckpt.step, model }, null, 1));
  return { weights, step: ckpt.step };
}

/** Rebuild a lab model from a model.safetensors file (its config comes from the file's metadata). */
export function loadModelSafetensors(file: string): { model: LanguageModel & { config: ModelConfig }; step: number } {
  const { tensors, metadata } = readSafetensors(file);
  if (metadata.format !== MODEL_FORMAT || !metadata.model_config) {
    throw new Error(
      `${file} is not a lab model export (metadata format ${JSON.stringify(metadata.format)}, expected '${MODEL_FORMAT}' with a model_config)`,
    );
  }
  const model = createModel(resolveModelConfig(JSON.parse(metadata.model_config) as ModelConfig));
  const saved: NamedArray[] = [];
  for (const [name, t] of tensors) {
    if (t.dtype !== "F32") throw new Error(`${file}: tensor '${name}' is ${t.dtype}, a lab model holds F32 only`);
    saved.push({ name, shape: t.shape, data: t.data as Float32Array });
  }
  // the file's order is data order, which is the model's order when the lab wrote it; match by name anyway
  const byName = new Map(saved.map((s) => [s.name, s]));
  const ordered = model.variables.map((v: tf.Variable, i: number) => byName.get(stableName(v.name)) ?? saved[i]);
  try {
    restoreVariables(model.variables, ordered);
  } catch (e) {
    model.dispose();
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return { model, step: Number(metadata.step ?? 0) };
}
