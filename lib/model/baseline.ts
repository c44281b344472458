/**
 * The baseline: a decoder-only transformer over interleaved text tokens and speech units (the paper's Base
 * SpeechLLM). The BPE-speech baseline is the same model over another vocabulary (speech BPE is data-side).
 *
 *   ids [B,T] -> embed [V,d] -> nLayers x pre-norm Block (RoPE, causal, doc reset) -> RMSNorm -> head [d,V]
 *
 * Same architecture as the PyTorch peer's `BaseLM` (untied head, no biases, SwiGLU), so FLOPs and
 * throughput compare one to one.
 */
import * as tf from "@tensorflow/tfjs-core";
import { EOS } from "../tokenizers/special";
import { BlockStack, ropeTables } from "./attention";
import { selfAttentionMask, TensorCache } from "./masks";
import { derivedSizes, type ModelConfig } from "./config";
import { crossEntropyNll, gatherRows, linear, ParamFactory, RMSNorm, stableName } from "./layers";
import type { Batch, LanguageModel } from "./types";

/** Check the parts of a batch every model reads; throws naming the bad field and the fix. */
export function checkBatchShape(batch: Batch, maxSeqLen: number): void {
  const { B, T } = batch;
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1)
    throw new Error(`batch B=${B}, T=${T}: both must be positive integers`);
  if (batch.inputs.length !== B * T)
    throw new Error(`batch.inputs has ${batch.inputs.length} ids, expected B*T = ${B}*${T} = ${B * T}`);
  if (batch.targets.length !== B * T)
    throw new Error(`batch.targets has ${batch.targets.length} ids, expected B*T = ${B * T}`);
  if (T > maxSeqLen)
    throw new Error(`batch T=${T} exceeds the model's maxSeqLen ${maxSeqLen}: raise maxSeqLen or shorten the batch`);
}

/** Flags of the positions whose token is EOS (document ends), or null when docReset is off. */
export function eosFlags(ids: Int32Array, docReset: boolean): Uint8Array | null {
  if (!docReset) return null;
  const out = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = ids[i] === EOS ? 1 : 0;
  return out;
}

/** Per-position NLL of the batch's targets under `logits` [B,T,V]; what every model's tokenNll returns. */
export function nllOfLogits(logits: tf.Tensor3D, batch: Batch): tf.Tensor2D {
  const V = logits.shape[2];
  const flat = tf.reshape(logits, [batch.B * batch.T, V]) as tf.Tensor2D; // [B,T,V] -> [BT,V]
  return tf.reshape(crossEntropyNll(flat, batch.targets), [batch.B, batch.T]); // [BT] -> [B,T]
}

/** Parameter counts grouped by the first segment of the stable name (`embed`, `global`, `head`, ...). */
export function countByModule(variables: tf.Variable[]): { total: number; byModule: Record<string, number> } {
  const byModule: Record<string, number> = {};
  let total = 0;
  for (const v of variables) {
    const mod = stableName(v.name).split(".")[0];
    byModule[mod] = (byModule[mod] ?? 0) + v.size;
    total += v.size;
  }
  return { total, byModule };
}

export class BaselineLM implements LanguageModel {
  readonly kind = "baseline" as const;
  readonly vocabSize: number;
  readonly variables: tf.Variable[];
  private readonly embed: tf.Variable;
  private readonly blocks: BlockStack;
  private readonly norm: RMSNorm;
  private readonly head: tf.Variable;
  private readonly cache = new TensorCache();

  constructor(readonly config: ModelConfig) {
    if (config.kind !== "baseline")
      throw new Error(`BaselineLM needs kind 'baseline', got '${config.kind}': use createModel`);
    const sizes = derivedSizes(config);
    const params = new ParamFactory(config.seed, config.initStd);
    const d = config.dModel;
    this.vocabSize = config.vocabSize;
    this.embed = params.matrix("embed.tokens", config.vocabSize, d);
    this.blocks = new BlockStack(params, "global", config.nLayers, d, config.nHeads, sizes.ffnGlobal);
    this.norm = new RMSNorm(params, "global.norm", d);
    this.head = params.matrix("head.weight", d, config.vocabSize);
    this.variables = params.variables;
  }

  /** The modules an incremental forward reads (kv-cache.ts, generate.ts); `trunk` stays the one full forward. */
  cacheParts(): { embed: tf.Variable; blocks: BlockStack; norm: RMSNorm; head: tf.Variable } {
    return { embed: this.embed, blocks: this.blocks, norm: this.norm, head: this.head };
  }

  /** Final hidden states after the last norm, [B,T,d]. */
  hidden(batch: Batch): tf.Tensor3D {
    return this.norm.apply(this.trunk(batch));
  }

  /** Hidden states before the last norm, [B,T,d]. */
  private trunk(batch: Batch): tf.Tensor3D {
    checkBatchShape(batch, this.config.maxSeqLen);
    const { B, T } = batch;
    const cfg = this.config;
    const x = tf.reshape(gatherRows(this.embed as tf.Tensor2D, batch.inputs), [B, T, cfg.dModel]) as tf.Tensor3D; // [B*T,d] -> [B,T,d]
    const rope = ropeTables(this.cache, T, cfg.dModel / cfg.nHeads, cfg.ropeTheta);
    const mask = selfAttentionMask(this.cache, B, T, cfg.slidingWindow, eosFlags(batch.inputs, cfg.docReset));
    return this.blocks.apply(x, rope, mask);
  }

  logits(batch: Batch): tf.Tensor3D {
    const h = this.norm.normalize(this.trunk(batch)); // the norm's gain is folded into the head (layers.ts linear)
    return linear(h, this.head as tf.Tensor2D, this.norm.gain) as tf.Tensor3D; // [B,T,d] -> [B,T,V]
  }

  tokenNll(batch: Batch): tf.Tensor2D {
    return nllOfLogits(this.logits(batch), batch);
  }

  paramCount(): { total: number; byModule: Record<string, number> } {
    return countByModule(this.variables);
  }

  dispose(): void {
    this.cache.dispose();
    for (const v of this.variables) v.dispose();
  }
}
