/**
 * What the training loop (train.ts) checks and counts per step, outside the loop itself: the speech probe of a
 * fresh run (a run whose first batches hold no speech while its data has speech is a config error, not a
 * result) and the FLOPs of a step (model/flops.ts) for the metrics and the compile policy.
 */
import type { SequenceSource } from "../data/types";
import type { ModelConfig } from "../model/config";
import { flopsPerStep } from "../model/flops";
import type { Batch } from "../model/types";
import type { StreamBatch } from "./batches";
import type { TrainConfig } from "./config";

/** A fresh run whose first this-many batches hold no speech while its data has speech is refused (see below). */
export const SPEECH_PROBE_STEPS = 8;

/** Whether any of the source's first `n` sequences holds a speech token (a text-only mix holds none). */
export function sourceHasSpeech(source: SequenceSource, n = 16): boolean {
  for (let i = 0; i < n; i++) if (source.sequenceAt(i).isSpeech.some((v) => v !== 0)) return true;
  return false;
}

/**
 * Rows too short to reach speech (a global length that ends every row inside its first text span, so no
 * speech patch fits) train on text alone with a NaN speech loss at every step: a config error, not a result.
 */
export function noSpeechError(cfg: TrainConfig, kind: string, steps: number): Error {
  const rows =
    kind === "lst"
      ? `rows of train.globalLen=${cfg.globalLen} global positions (train.maxRawLen=${cfg.maxRawLen} raw tokens)`
      : `rows of train.seqLen=${cfg.seqLen} tokens`;
  const fix = kind === "lst" ? "raise train.globalLen and train.maxRawLen" : "raise train.seqLen";
  return new Error(
    `the first ${steps} batches hold no speech token although the data has speech: ${rows} end before any speech ` +
      `reaches them, so the speech loss would be NaN at every step. ${fix} (the scales use 64-256), or train on a ` +
      `text-only mix on purpose.`,
  );
}

/** Targets of a batch that count (not -1). */
export function countTargets(batch: Batch): number {
  let n = 0;
  for (const t of batch.targets) if (t >= 0) n++;
  return n;
}

/** Training FLOPs of a step (model/flops.ts): global units at the row's global length, raw tokens through the local modules. */
export function stepFlops(modelCfg: ModelConfig, cfg: TrainConfig, sb: StreamBatch): number {
  const raw = sb.rawTokens.speech + sb.rawTokens.text;
  if (modelCfg.kind === "baseline")
    return flopsPerStep(modelCfg, { globalUnits: sb.globalUnits, rawTokens: sb.globalUnits, seqLen: cfg.seqLen }).total;
  return flopsPerStep(modelCfg, {
    globalUnits: sb.globalUnits,
    rawTokens: raw,
    seqLen: cfg.globalLen,
    localSeqLen: cfg.maxRawLen,
  }).total;
}

/** The FLOPs of a full step at the config's row lengths (the compile policy's measure of a step's work). */
export function nominalStepFlops(modelCfg: ModelConfig, cfg: TrainConfig): number {
  const B = cfg.batchSize;
  if (modelCfg.kind === "baseline")
    return flopsPerStep(modelCfg, { globalUnits: B * cfg.seqLen, rawTokens: B * cfg.seqLen, seqLen: cfg.seqLen }).total;
  return flopsPerStep(modelCfg, {
    globalUnits: B * cfg.globalLen,
    rawTokens: B * cfg.maxRawLen,
    seqLen: cfg.globalLen,
    localSeqLen: cfg.maxRawLen,
  }).total;
}
