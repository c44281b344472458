/**
 * Named model sizes. A preset fixes the widths and depths of the baseline (= LST's global transformer) and
 * of LST's local modules; `modelSizeConfig` adds the model kind and the vocabulary from the data, then the
 * caller's overrides, and returns a validated ModelConfig.
 *
 *   smoke      CI and unit tests: d 32 x 2 layers, local d 16; a step takes milliseconds
 *   cpuSmall   lab runs on 2 CPU cores (minutes a run): d 128 x 4, local d 64
 *   reference  the bench size, d 256 x 4 x 4 heads (the PyTorch peer's defaults); local d 64 x (1 + 1) layers, crossAttnK 4
 *   gpuSmall   d 512 x 8, local d 256 (1 encoder + 3 decoder layers): the `gpu` scale's, sized for one GPU
 *   gpuBase    d 768 x 12, local d 384 (1 + 4), windows of 512 as in the paper: the `paper` scale's
 *   paper1B    the paper's Table 7 (d 2048 x 25, local d 1024, 1 + 9 layers): for accounting only
 *
 * maxSeqLen only bounds the rows a forward accepts (raw tokens for the baseline and LST's local modules);
 * it allocates nothing. In every preset crossAttnK * dLocal = dModel, so the encoder's patch vector needs no projection (the
 * reading of Table 7 in lst-paper.md §1: local 1024, global 2048, k = 2).
 */
import { resolveConfig, type DeepPartial } from "../config";
import { DEFAULT_MODEL_CONFIG, validateModelConfig, type ModelConfig } from "./config";
import { paramCountFromConfig } from "./flops";
import type { ModelKind } from "./types";

/** The size fields of a preset: everything but the kind and the data-given vocabulary. */
export type ModelSize = DeepPartial<Omit<ModelConfig, "kind" | "vocabSize">>;

export const MODEL_SIZES = {
  smoke: {
    dModel: 32,
    nLayers: 2,
    nHeads: 2,
    maxSeqLen: 256,
    lst: { dLocal: 16, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 1, crossAttnK: 2, localWindow: 32 },
  },
  cpuSmall: {
    dModel: 128,
    nLayers: 4,
    nHeads: 2,
    maxSeqLen: 1024,
    lst: { dLocal: 64, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 2, crossAttnK: 2, localWindow: 64 },
  },
  reference: {
    dModel: 256,
    nLayers: 4,
    nHeads: 4,
    maxSeqLen: 1024,
    lst: { dLocal: 64, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 1, crossAttnK: 4, localWindow: 64 },
  },
  gpuSmall: {
    dModel: 512,
    nLayers: 8,
    nHeads: 8,
    maxSeqLen: 4096,
    lst: { dLocal: 256, nHeadsLocal: 4, encoderLayers: 1, decoderLayers: 3, crossAttnK: 2, localWindow: 256 },
  },
  gpuBase: {
    dModel: 768,
    nLayers: 12,
    nHeads: 12,
    maxSeqLen: 4096,
    lst: { dLocal: 384, nHeadsLocal: 6, encoderLayers: 1, decoderLayers: 4, crossAttnK: 2, localWindow: 512 },
  },
  paper1B: {
    dModel: 2048,
    nLayers: 25,
    nHeads: 16,
    maxSeqLen: 4096,
    lst: { dLocal: 1024, nHeadsLocal: 16, encoderLayers: 1, decoderLayers: 9, crossAttnK: 2, localWindow: 512 },
  },
} satisfies Record<string, ModelSize>;

export type ModelSizeName = keyof typeof MODEL_SIZES;

export const MODEL_SIZE_NAMES = Object.keys(MODEL_SIZES) as ModelSizeName[];

/**
 * The ModelConfig of preset `name` for `kind` over a vocabulary of `vocabSize` ids, with `overrides` on top
 * (unknown keys and impossible combinations throw). `unitOffset` (the LM id of speech unit 0) is needed by
 * LST's textPath 'global' only. Example: modelSizeConfig("reference", "lst", 1000).lst.dLocal = 64.
 */
export function modelSizeConfig(
  name: string,
  kind: ModelKind,
  vocabSize: number,
  overrides?: DeepPartial<ModelConfig>,
  unitOffset?: number,
): ModelConfig {
  if (!Object.prototype.hasOwnProperty.call(MODEL_SIZES, name))
    throw new Error(`unknown model size '${name}': use one of ${MODEL_SIZE_NAMES.join(", ")}`);
  const size: ModelSize = MODEL_SIZES[name as ModelSizeName];
  const base = resolveConfig(
    DEFAULT_MODEL_CONFIG,
    { ...size, kind, vocabSize, lst: { ...size.lst, unitOffset: unitOffset ?? 0 } },
    `size '${name}'`,
  );
  const cfg = resolveConfig(base, overrides, "model");
  validateModelConfig(cfg);
  return cfg;
}

export interface ParamRow {
  size: ModelSizeName;
  kind: ModelKind;
  dModel: number;
  nLayers: number;
  dLocal: number;
  /** parameters by module (paramCountFromConfig) */
  byModule: Record<string, number>;
  total: number;
  /** parameters outside the embedding tables (what scales compute) */
  nonEmbedding: number;
}

/** Parameter counts of every preset, baseline and LST, for a vocabulary of `vocabSize` ids. */
export function paramTable(vocabSize: number): ParamRow[] {
  const rows: ParamRow[] = [];
  for (const size of MODEL_SIZE_NAMES) {
    for (const kind of ["baseline", "lst"] as const) {
      const cfg = modelSizeConfig(size, kind, vocabSize);
      const { total, byModule } = paramCountFromConfig(cfg);
      const embed = kind === "baseline" ? cfg.dModel * vocabSize : cfg.lst.dLocal * vocabSize;
      rows.push({
        size,
        kind,
        dModel: cfg.dModel,
        nLayers: cfg.nLayers,
        dLocal: kind === "lst" ? cfg.lst.dLocal : 0,
        byModule,
        total,
        nonEmbedding: total - embed,
      });
    }
  }
  return rows;
}
