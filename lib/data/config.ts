/**
 * Data configs: what `buildDataset` builds into `data/cache/<name>-<hash>/`. Named presets:
 *   smoke  builds in seconds (tests, CI notebooks): a few dozen stories, tiny BPE, K = 32
 *   small  the CPU ablations: ~1 h of paired speech, K = 128 (as the science probe), 1k-token BPE
 *   paper  the paper's knobs at a size for a GPU machine: K = 501, more speech
 * Interleaving and the mix ratio are *stream* knobs (applied on the fly by data/source.ts), not build knobs.
 */
import { ownKey, resolveConfig, type DeepPartial } from "../config";

export interface DataConfig {
  name: string;
  seed: number;
  /** stories synthesized as paired (aligned) training speech */
  pairedStories: number;
  /** stories whose text trains the BPE */
  bpeStories: number;
  /** text BPE vocabulary size (specials and bytes included) */
  textVocab: number;
  units: {
    /** 'acoustic' = log-mel k-means (the paper's kind); 'phonetic' = labels read off the TTS phoneme timings */
    source: "acoustic" | "phonetic";
    /** k-means K (the paper: 501) */
    k: number;
    /** substitution-noise rate of phonetic units */
    noise: number;
    /** unit rate in Hz (HuBERT: 25) */
    frameRate: number;
    /** frames sampled from the training split to fit k-means */
    kmeansFrames: number;
  };
  /** the aligner-noise ablation: boundary jitter in frames (±k) */
  jitterFrames: number;
  /** generated spoken benchmarks, items per benchmark (test split, voices never heard in training) */
  bench: { sc: number; tsc: number; hs: number };
  /** how many of the train voices to use (fewer voices = more consistent units) */
  trainVoices: number;
}

export const DATA_PRESETS: Record<string, DeepPartial<DataConfig>> = {
  smoke: { name: "smoke", pairedStories: 24, bpeStories: 300, textVocab: 400, units: { k: 32, kmeansFrames: 20000 }, bench: { sc: 12, tsc: 12, hs: 8 } },
  small: { name: "small", pairedStories: 600, bpeStories: 5000, textVocab: 1000, units: { k: 128, kmeansFrames: 200000 }, bench: { sc: 200, tsc: 200, hs: 200 } },
  paper: { name: "paper", pairedStories: 8000, bpeStories: 20000, textVocab: 2000, units: { k: 501, kmeansFrames: 400000 }, bench: { sc: 500, tsc: 500, hs: 500 } },
};

export const DATA_DEFAULTS: DataConfig = {
  name: "custom",
  seed: 1234,
  pairedStories: 1200,
  bpeStories: 5000,
  textVocab: 1000,
  units: { source: "acoustic", k: 128, noise: 0, frameRate: 25, kmeansFrames: 200000 },
  jitterFrames: 0,
  bench: { sc: 200, tsc: 200, hs: 200 },
  trainVoices: 0,
};

/** Resolve a data config from a preset name and/or overrides (unknown keys and presets are rejected). */
export function resolveDataConfig(preset: string | DeepPartial<DataConfig> = "small", overrides?: DeepPartial<DataConfig>): DataConfig {
  let base = DATA_DEFAULTS;
  if (typeof preset === "string") {
    const p = ownKey(DATA_PRESETS, preset); // own names only: not 'constructor'
    if (!p) throw new Error(`unknown data preset '${preset}': choose one of ${Object.keys(DATA_PRESETS).join(", ")}`);
    base = resolveConfig(DATA_DEFAULTS, p, "data");
  } else {
    overrides = preset;
  }
  const cfg = resolveConfig(base, overrides, "data");
  if (cfg.units.source !== "acoustic" && cfg.units.source !== "phonetic") {
    throw new Error(`data.units.source must be 'acoustic' or 'phonetic', got '${cfg.units.source}'`);
  }
  if (!Number.isInteger(cfg.units.k) || cfg.units.k < 2) throw new Error(`data.units.k must be an integer >= 2, got ${cfg.units.k}`);
  if (!(cfg.units.noise >= 0 && cfg.units.noise <= 1)) throw new Error(`data.units.noise must be in [0, 1], got ${cfg.units.noise}`);
  if (cfg.units.source === "acoustic" && cfg.units.noise > 0) {
    throw new Error("data.units.noise applies to phonetic units only: set units.source='phonetic' or noise=0");
  }
  if (cfg.pairedStories < 1) throw new Error(`data.pairedStories must be >= 1, got ${cfg.pairedStories}`);
  return cfg;
}
