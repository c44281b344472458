/**
 * Parameter and FLOP accounting for the baseline and LST, counted the way the PyTorch peer counts them
 * (../shared/peers/torch_lm_bench.py, PaLM App. B), so that GFLOP/s figures compare one to one:
 *
 *   FLOPs/step = 6 * MACs_linear + 6 * MACs_attn      (2 FLOPs per multiply-add, x3 for forward + backward)
 *   MACs_linear = sum over every matrix of (rows it is applied to) * in * out
 *   MACs_attn   = sum over attention calls of 2 * nQueries * nKeys * width   (q k^T and a v)
 *
 * with nKeys the *nominal* span, not halved for causality: the sequence length for causal attention, the
 * window W for windowed attention (min(W, length)), the patch's own tokens for the encoder cross-attention
 * (summed over patches that is one key per raw token) and crossAttnK for the decoder cross-attention. Not
 * counted: embedding lookups, norms, RoPE, softmax, SiLU, residuals, the loss and the optimiser.
 *
 * A transformer block of width d and SwiGLU width f costs 4d^2 (q|k|v, o) + 3df (w1|w3, w2) MACs per
 * position, plus 2 * span * d attention MACs. Example (the bench size, d 256, f 704, 4 layers, V 1000,
 * T 256, B 16): per token 4 * (262,144 + 540,672) + 256,000 = 3,467,264 linear MACs and 4 * 2 * 256 * 256
 * = 524,288 attention MACs, so 6 * 3,991,552 * 4,096 = 98.1 GFLOP a step, the peer's number.
 *
 * The split reported is by where a FLOP runs: `global` = the global transformer (for the baseline: the
 * whole model, head included), counted per global unit (token or patch); `local` = everything LST runs
 * outside it: encoder and decoder blocks and cross-attentions per raw token, and the per-patch projections
 * (pooling projection, patch queries, to/from the global width) per patch.
 */
import { derivedSizes, type ModelConfig } from "./config";

export interface FlopCounts {
  /** global positions processed in the step: tokens for the baseline, patches for LST (B * P) */
  globalUnits: number;
  /** raw tokens processed in the step (B * T); equals globalUnits for the baseline */
  rawTokens: number;
  /** global positions per row (the global attention span); default cfg.maxSeqLen for the baseline, and
   *  maxSeqLen / (rawTokens / globalUnits) for LST (a row of maxSeqLen raw tokens) */
  seqLen?: number;
  /** LST: raw tokens per row (the local attention span before the window); default seqLen * rawTokens / globalUnits */
  localSeqLen?: number;
}

export interface StepFlops {
  global: number;
  local: number;
  total: number;
}

/** MACs per position of one pre-norm block (matrices only): 4d^2 + 3df. */
function blockMacs(d: number, f: number): number {
  return 4 * d * d + 3 * d * f;
}

/** Training FLOPs (forward + backward) of one step, split into global and local modules. */
export function flopsPerStep(cfg: ModelConfig, counts: FlopCounts): StepFlops {
  const { globalUnits, rawTokens } = counts;
  if (!(globalUnits > 0) || !(rawTokens > 0))
    throw new Error(`flopsPerStep: globalUnits ${globalUnits} and rawTokens ${rawTokens} must be > 0`);
  const s = derivedSizes(cfg);
  const d = cfg.dModel;
  const ratio = rawTokens / globalUnits; // raw tokens per global unit (1 for the baseline)
  if (cfg.kind === "baseline" && ratio !== 1)
    throw new Error(
      `flopsPerStep: the baseline has one global unit per token, got ${globalUnits} units for ${rawTokens} tokens`,
    );
  const seqLen = counts.seqLen ?? cfg.maxSeqLen / ratio;
  const span = cfg.slidingWindow > 0 ? Math.min(cfg.slidingWindow, seqLen) : seqLen;
  const globalMacs = globalUnits * cfg.nLayers * (blockMacs(d, s.ffnGlobal) + 2 * span * d);
  if (cfg.kind === "baseline") {
    const head = rawTokens * d * cfg.vocabSize;
    const global = 6 * (globalMacs + head);
    return { global, local: 0, total: global };
  }
  const l = cfg.lst;
  const dl = l.dLocal;
  const k = l.crossAttnK;
  const localSeqLen = counts.localSeqLen ?? seqLen * ratio;
  const localSpan = l.localWindow > 0 ? Math.min(l.localWindow, localSeqLen) : localSeqLen;
  const localBlock = blockMacs(dl, s.ffnLocal) + 2 * localSpan * dl; // per token, per local block
  const tok = rawTokens;
  const pat = globalUnits;
  let macs = 0;
  macs += tok * l.encoderLayers * localBlock; // encoder blocks
  macs += pat * dl * k * dl; // pooling projection dl -> k*dl
  macs += pat * k * dl * dl * 2 + tok * 2 * dl * dl; // encoder cross-attn: q and o per patch query, k|v per token
  macs += tok * 2 * k * dl; // encoder cross-attn scores + mix: each token is a key of its own patch's k queries
  if (s.needsToGlobal) macs += pat * k * dl * d; // k*dl -> d
  macs += pat * d * k * dl; // decoder kv projection d -> k*dl
  macs += l.decoderLayers * (tok * 2 * dl * dl + pat * k * 2 * dl * dl); // decoder cross-attn: q, o per token; k|v per patch
  macs += l.decoderLayers * tok * 2 * k * dl; // decoder cross-attn: each token reads k keys
  macs += tok * l.decoderLayers * localBlock; // decoder blocks
  macs += tok * dl * cfg.vocabSize; // head
  // textPath 'global': the global head runs once per patch (global.head in lst.ts; tokens then gather its rows)
  const global = 6 * (globalMacs + (l.textPath === "global" ? pat * d * cfg.vocabSize : 0));
  const local = 6 * macs;
  return { global, local, total: global + local };
}

/**
 * The paper's data mix per baseline-normalised unit (A.10): interleaved data holds 0.77 speech + 0.23 text
 * tokens per unit, and text-only data adds 2.00, so a baseline reads 3.00 units where LST reads
 * 0.77 / avgPatchLen + 0.23 + 2.00.
 */
export const PAPER_UNIT_MIX = { speech: 0.77, text: 2.23 };

export interface ComputeSaving {
  /** 1 - LST global units / baseline units: the paper's "compute savings" (local modules ignored) */
  units: number;
  /** 1 - LST global FLOPs / baseline FLOPs, over the same data */
  global: number;
  /** 1 - LST (global + local) FLOPs / baseline FLOPs: the saving once the local modules are paid for */
  withLocal: number;
}

/**
 * LST's compute saving against the baseline over the same data. Example: the paper's mix and static p = 4:
 * units 1 - (0.77/4 + 2.23) / 3.00 = 0.1925, the 19.3% of Table 4 when global and baseline share sizes.
 * Attention spans use each model's maxSeqLen as its global row length (compute-controlled rows).
 */
export function computeSaving(
  baseline: ModelConfig,
  lst: ModelConfig,
  avgPatchLen: number,
  mix: { speech: number; text: number } = PAPER_UNIT_MIX,
): ComputeSaving {
  if (baseline.kind !== "baseline" || lst.kind !== "lst")
    throw new Error(`computeSaving(baseline, lst, ...): got kinds '${baseline.kind}' and '${lst.kind}'`);
  if (!(avgPatchLen >= 1))
    throw new Error(`computeSaving: avgPatchLen must be >= 1 (speech tokens per patch), got ${avgPatchLen}`);
  const tokens = mix.speech + mix.text; // raw tokens, both models
  const patches = mix.speech / avgPatchLen + mix.text; // LST global units
  const base = flopsPerStep(baseline, { globalUnits: tokens, rawTokens: tokens, seqLen: baseline.maxSeqLen });
  const ours = flopsPerStep(lst, {
    globalUnits: patches,
    rawTokens: tokens,
    seqLen: lst.maxSeqLen,
    localSeqLen: lst.maxSeqLen * (tokens / patches),
  });
  // subtle: the baseline's head is local work in LST's terms, so `global` compares the transformers only.
  const baseGlobal = base.total - 6 * tokens * baseline.dModel * baseline.vocabSize;
  return { units: 1 - patches / tokens, global: 1 - ours.global / baseGlobal, withLocal: 1 - ours.total / base.total };
}

/**
 * Parameters by module, computed from the config alone (no tensors; the paper-size presets would not fit
 * here). Modules as in LanguageModel.paramCount(): baseline {embed, global, head}, LST {encoder, global,
 * decoder, textEmbed?}. A test checks it against the built models.
 */
export function paramCountFromConfig(cfg: ModelConfig): { total: number; byModule: Record<string, number> } {
  const s = derivedSizes(cfg);
  const d = cfg.dModel;
  const block = (w: number, f: number) => blockMacs(w, f) + 2 * w; // matrices + two norm gains
  const global = cfg.nLayers * block(d, s.ffnGlobal) + d; // + final norm
  let byModule: Record<string, number>;
  if (cfg.kind === "baseline") {
    byModule = { embed: cfg.vocabSize * d, global, head: d * cfg.vocabSize };
  } else {
    const l = cfg.lst;
    const dl = l.dLocal;
    const k = l.crossAttnK;
    const cross = 4 * dl * dl + 2 * dl; // wq, wkv, wo + q/kv norms
    const encoder =
      cfg.vocabSize * dl +
      l.encoderLayers * block(dl, s.ffnLocal) +
      dl * s.patchWidth +
      cross +
      (s.needsToGlobal ? s.patchWidth * d : 0);
    const decoder = d * s.patchWidth + l.decoderLayers * (cross + block(dl, s.ffnLocal)) + dl + dl * cfg.vocabSize;
    // textPath 'global': text in through its own embedding, out through the global model's head
    byModule =
      l.textPath === "global"
        ? { encoder, global: global + d * cfg.vocabSize, decoder, textEmbed: l.unitOffset * d }
        : { encoder, global, decoder };
  }
  let total = 0;
  for (const v of Object.values(byModule)) total += v;
  return { total, byModule };
}
