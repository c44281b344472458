/**
 * One entry point for building a model from a (partial) config: `createModel({ kind: 'lst', vocabSize })`.
 */
import type { DeepPartial } from "../config";
import { BaselineLM } from "./baseline";
import { resolveModelConfig, type ModelConfig } from "./config";
import { LstLM } from "./lst";

/** Resolve the config (unknown keys and impossible combinations throw) and build the model it names. */
export function createModel(cfg: DeepPartial<ModelConfig>): BaselineLM | LstLM {
  const resolved = resolveModelConfig(cfg);
  return resolved.kind === "lst" ? new LstLM(resolved) : new BaselineLM(resolved);
}
