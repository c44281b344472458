/**
 * The model config: one typed object with defaults, shared by the baseline and LST.
 *
 * The baseline (the paper's Base SpeechLLM, and the BPE-speech baseline over another vocabulary) uses the
 * top-level fields as its whole transformer. LST uses the top-level fields for its *global* transformer
 * (over patches) and `lst` for the light local encoder/decoder (over raw tokens), as in the paper's Table 7.
 *
 * Sizes are derived in one place (`derivedSizes`): the SwiGLU hidden width when `ffnDim` is 0 follows the
 * Llama rule that the PyTorch peer uses, ffn(d) = roundUp(8d/3, 32): d=64 -> 192, d=128 -> 352, d=256 -> 704
 * (it keeps the MLP at ~8d^2 parameters, like a 4d GELU MLP).
 */
import { resolveConfig, type DeepPartial } from "../config";
import type { ModelKind } from "./types";

export type Pooling = "avg" | "max";
export type TextPath = "local" | "global";

/** LST's local modules (patch encoder and patch decoder), BLT naming camelCased. */
export interface LstModuleConfig {
  /** width of the local encoder/decoder (BLT `dim_local`) */
  dLocal: number;
  /** heads of the local self- and cross-attention */
  nHeadsLocal: number;
  /** SwiGLU hidden width of the local blocks; 0 = ffn(dLocal) (see top of file) */
  ffnDimLocal: number;
  /** local transformer layers of the patch encoder (Table 7: 1) */
  encoderLayers: number;
  /** local transformer layers of the patch decoder, each preceded by a cross-attention (Table 7: 9) */
  decoderLayers: number;
  /** query vectors per patch in the encoder, key/value vectors per patch in the decoder (BLT `cross_attn_k`) */
  crossAttnK: number;
  /** how each patch query is initialised from its span's encoder states (BLT uses max, the torch peer avg) */
  pooling: Pooling;
  /** sliding window (tokens) of the local self-attention; 0 = full causal (Table 7: 512) */
  localWindow: number;
  /**
   * How text enters the global model. 'local' (default, the BLT-consistent reading of the paper): every text
   * token is a length-1 patch through the encoder. 'global': text patches take a separate embedding table
   * straight into dModel instead of the encoder's patch vector. Both predict every token with the decoder.
   */
  textPath: TextPath;
  /** LM id of speech unit 0 (ids below are text/specials); needed only for textPath 'global' */
  unitOffset: number;
}

export interface ModelConfig {
  kind: ModelKind;
  /** LM vocabulary size (text + speech units, see tokenizers/special.ts); must be set from the data */
  vocabSize: number;
  /** width of the baseline, or of LST's global transformer */
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** SwiGLU hidden width; 0 = ffn(dModel) = roundUp(8 dModel / 3, 32) */
  ffnDim: number;
  /** RoPE base (the paper: 5e5) */
  ropeTheta: number;
  /** longest input (tokens for the baseline and LST's local modules) a forward accepts */
  maxSeqLen: number;
  /** sliding window of the baseline/global self-attention, in its own positions; 0 = full causal */
  slidingWindow: number;
  /** attention resets after EOS (block-causal over documents packed in one row) */
  docReset: boolean;
  /** seed of the parameter initialiser (weights are a pure function of seed and parameter name) */
  seed: number;
  /** std of the normal initialiser for matrices and embeddings (norm gains start at 1) */
  initStd: number;
  lst: LstModuleConfig;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  kind: "baseline",
  vocabSize: 0,
  dModel: 256,
  nLayers: 4,
  nHeads: 4,
  ffnDim: 0,
  ropeTheta: 5e5,
  maxSeqLen: 1024,
  slidingWindow: 0,
  docReset: true,
  seed: 0,
  initStd: 0.02,
  lst: {
    dLocal: 128,
    nHeadsLocal: 2,
    ffnDimLocal: 0,
    encoderLayers: 1,
    decoderLayers: 2,
    crossAttnK: 2,
    pooling: "avg",
    localWindow: 64,
    textPath: "local",
    unitOffset: 0,
  },
};

/** SwiGLU hidden width by the Llama rule: roundUp(8d/3, 32). Example: ffnHidden(256) = 704. */
export function ffnHidden(d: number): number {
  return Math.ceil(((2 / 3) * 4 * d) / 32) * 32;
}

/** Sizes every module derives from the config (the one place they are computed). */
export interface DerivedSizes {
  ffnGlobal: number;
  ffnLocal: number;
  headDimGlobal: number;
  headDimLocal: number;
  /** width of the encoder's k concatenated patch queries, dLocal * crossAttnK */
  patchWidth: number;
  /** whether a linear maps patchWidth -> dModel (BLT's token_embedding_projection) */
  needsToGlobal: boolean;
}

export function derivedSizes(cfg: ModelConfig): DerivedSizes {
  const patchWidth = cfg.lst.dLocal * cfg.lst.crossAttnK;
  return {
    ffnGlobal: cfg.ffnDim > 0 ? cfg.ffnDim : ffnHidden(cfg.dModel),
    ffnLocal: cfg.lst.ffnDimLocal > 0 ? cfg.lst.ffnDimLocal : ffnHidden(cfg.lst.dLocal),
    headDimGlobal: cfg.dModel / cfg.nHeads,
    headDimLocal: cfg.lst.dLocal / cfg.lst.nHeadsLocal,
    patchWidth,
    needsToGlobal: patchWidth !== cfg.dModel,
  };
}

function positiveInt(path: string, v: number, fix: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`model config '${path}' must be a positive integer, got ${v}: ${fix}`);
}

function nonNegativeInt(path: string, v: number, fix: string): void {
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`model config '${path}' must be an integer >= 0, got ${v}: ${fix}`);
}

/** Throw on impossible combinations, naming the value and the fix. */
export function validateModelConfig(cfg: ModelConfig): void {
  if (cfg.kind !== "baseline" && cfg.kind !== "lst") {
    throw new Error(`model config 'kind' must be 'baseline' or 'lst', got '${cfg.kind}'`);
  }
  positiveInt("vocabSize", cfg.vocabSize, "set it to the LM vocabulary size (SequenceSource.vocabSize)");
  positiveInt("dModel", cfg.dModel, "pick a width such as 256");
  positiveInt("nLayers", cfg.nLayers, "use at least one layer");
  positiveInt("nHeads", cfg.nHeads, "use at least one head");
  if (cfg.dModel % cfg.nHeads !== 0) {
    throw new Error(
      `dModel ${cfg.dModel} is not divisible by nHeads ${cfg.nHeads}: choose nHeads dividing dModel (e.g. ${cfg.dModel / 64 >= 1 ? Math.max(1, Math.floor(cfg.dModel / 64)) : 1})`,
    );
  }
  if ((cfg.dModel / cfg.nHeads) % 2 !== 0) {
    throw new Error(
      `head dim dModel/nHeads = ${cfg.dModel / cfg.nHeads} must be even for rotary embeddings: change dModel or nHeads`,
    );
  }
  nonNegativeInt("ffnDim", cfg.ffnDim, "0 picks roundUp(8 dModel/3, 32)");
  if (!(cfg.ropeTheta > 1))
    throw new Error(`model config 'ropeTheta' must be > 1, got ${cfg.ropeTheta} (the paper uses 5e5)`);
  positiveInt("maxSeqLen", cfg.maxSeqLen, "set it to at least the batch length T");
  nonNegativeInt("slidingWindow", cfg.slidingWindow, "0 means full causal attention");
  if (!(cfg.initStd > 0)) throw new Error(`model config 'initStd' must be > 0, got ${cfg.initStd}`);
  if (cfg.kind === "baseline") return;
  const l = cfg.lst;
  positiveInt("lst.dLocal", l.dLocal, "pick a local width such as 128");
  positiveInt("lst.nHeadsLocal", l.nHeadsLocal, "use at least one local head");
  if (l.dLocal % l.nHeadsLocal !== 0) {
    throw new Error(
      `lst.dLocal ${l.dLocal} is not divisible by lst.nHeadsLocal ${l.nHeadsLocal}: choose nHeadsLocal dividing dLocal`,
    );
  }
  if ((l.dLocal / l.nHeadsLocal) % 2 !== 0) {
    throw new Error(
      `local head dim dLocal/nHeadsLocal = ${l.dLocal / l.nHeadsLocal} must be even for rotary embeddings`,
    );
  }
  nonNegativeInt("lst.ffnDimLocal", l.ffnDimLocal, "0 picks roundUp(8 dLocal/3, 32)");
  nonNegativeInt("lst.encoderLayers", l.encoderLayers, "0 pools the raw embeddings");
  positiveInt(
    "lst.decoderLayers",
    l.decoderLayers,
    "the patch decoder needs at least one layer (it holds the cross-attention to the global model)",
  );
  positiveInt("lst.crossAttnK", l.crossAttnK, "crossAttnK >= 1 query vectors per patch (BLT cross_attn_k)");
  if (l.pooling !== "avg" && l.pooling !== "max")
    throw new Error(`lst.pooling must be 'avg' or 'max', got '${l.pooling}'`);
  nonNegativeInt("lst.localWindow", l.localWindow, "0 means full causal local attention");
  if (l.textPath !== "local" && l.textPath !== "global")
    throw new Error(`lst.textPath must be 'local' or 'global', got '${l.textPath}'`);
  nonNegativeInt("lst.unitOffset", l.unitOffset, "set it to the vocabulary's unitOffset");
  if (l.textPath === "global" && (l.unitOffset < 1 || l.unitOffset >= cfg.vocabSize)) {
    throw new Error(
      `lst.textPath 'global' needs lst.unitOffset in 1..vocabSize-1 (the LM id of speech unit 0), got ${l.unitOffset}: set it from SequenceSource.unitOffset`,
    );
  }
}

/** Defaults + overrides (unknown keys and wrong types throw), then validation. */
export function resolveModelConfig(overrides?: DeepPartial<ModelConfig>): ModelConfig {
  const cfg = resolveConfig(DEFAULT_MODEL_CONFIG, overrides, "model");
  validateModelConfig(cfg);
  return cfg;
}
