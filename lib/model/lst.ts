/**
 * The Latent Speech-Text Transformer, BLT-style (paper §1, Table 7):
 *
 *   tokens [B,T] -> patch encoder -> patches [B,P,d] -> global transformer -> [B,P,d] -> patch decoder -> [B,T,V]
 *
 * (a) Patch encoder: embedding [V,dl] + `encoderLayers` local blocks (causal, `localWindow`, doc reset) over
 *     the raw tokens -> h [B,T,dl]. Each patch pools its span of h (avg or max), a linear maps it to k = crossAttnK
 *     queries of width dl, which cross-attend to the tokens of their own span; the k vectors are concatenated
 *     (and projected to d when k*dl != d): one vector per patch.
 * (b) Global transformer over the P patch vectors: RoPE on patch positions, causal over patches, reset after
 *     patches that end with EOS.
 * (c) Patch decoder over the raw tokens, starting from h (BLT: dec_embeds = h_encoder): before every local
 *     block a cross-attention whose queries are the tokens and whose keys/values are the k vectors of global
 *     patch `targetPatchIds[t] - 1` (the shift of types.ts, which keeps the model causal); then RMSNorm and
 *     one linear to the vocabulary: every token, text or speech, is predicted by this softmax.
 * Documents: with docReset the local and global self-attentions restart after EOS. The decoder of a token
 * reads patch targetPatchId - 1, which is in the token's own document as long as every document starts with
 * a length-1 BOS patch (as the data does): BOS's target reads BOS's own patch.
 * Three forms compute the same function with the same variables (`LstForm`, an option of the model, not of
 * its config). 'gathered': each cross-attention query gathers its keys (an encoder query the lmax slots of
 * its patch's span, padded slots masked; a decoder token its k patch vectors) and mean pooling gathers the
 * span. 'fused': every query attends densely to its whole row under a mask that keeps the same keys, and
 * mean pooling is a matmul (cross-masks.ts): a few large kernels instead of many small ones and no
 * scatter-add gradients, at T x P*k scores per head and row. 'compact': the gathered form, but the decoder's
 * cross-attention (one query, k keys per token) by products and sums with a fused gradient instead of tiny
 * matmuls, and one k|v matmul for all decoder layers (lst-compact.ts, compact-attention.ts). 'auto' (the
 * default) takes `AUTO_FORM`.
 * textPath 'global' feeds text patches (length-1 patches of ids below unitOffset) to the global model from a
 * separate embedding table [unitOffset, d] instead of the encoder; they are still predicted by the decoder.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BlockStack, CrossAttention, denseCrossKv, ropeTables, type RopeTables } from "./attention";
import { checkBatchShape, countByModule, eosFlags, nllOfLogits } from "./baseline";
import { derivedSizes, type ModelConfig } from "./config";
import { decoderReadMaskData, encoderSpanMaskData, meanPoolData } from "./cross-masks";
import { gatherRows, linear, ParamFactory, RMSNorm } from "./layers";
import { decoderKv } from "./lst-compact";
import { decoderReadRows, lstBatchLayout, patchSpans, type LstLayout, type PatchSpans } from "./lst-layout";
import { NEG, selfAttentionMask, TensorCache, type AttnMask } from "./masks";
import type { Batch, LanguageModel } from "./types";

export { decoderReadRows, lstBatchLayout, patchSpans, type LstLayout, type PatchSpans } from "./lst-layout";

/** How LstLM runs pooling and cross-attention (see the top of the file); the function is the same. */
export type LstForm = "fused" | "gathered" | "compact" | "auto";
const FORMS: readonly LstForm[] = ["fused", "gathered", "compact", "auto"];

/** Options of an LstLM that are not part of its config (checkpoints and config hashes do not see them). */
export interface LstOptions {
  /** default 'auto' */
  form?: LstForm;
}

/**
 * The form 'auto' takes. Measured with `npx tsx bench/lst-form.ts --sizes=small,reference
 * --forms=gathered,fused,compact --steps=8 --warmup=2` (one process, steps interleaved; 2 cores shared with
 * other jobs, so only ratios: the median of per-step time ratios against gathered, wall / CPU): at the lab's
 * small scale (cpuSmall, 16 x 512 tokens, 192 patches, k 2) compact 1.03x / 1.04x, fused 0.77x / 0.77x; at
 * train-bench's reference size (16 x 256, 65 patches, k 4) compact 1.01x / 1.01x, fused 0.95x / 0.96x (earlier
 * runs: compact 1.02-1.06x, fused 0.78-0.97x; an earlier session measured fused 1.15-1.2x at reference).
 * The compact decoder's cross-attention takes ~20% less kernel time than the gathered one (--profile).
 */
export const AUTO_FORM: Exclude<LstForm, "auto"> = "compact";

export class LstLM implements LanguageModel {
  readonly kind = "lst" as const;
  readonly vocabSize: number;
  readonly variables: tf.Variable[];
  private readonly embed: tf.Variable;
  private readonly encoder: BlockStack;
  private readonly poolProj: tf.Variable;
  private readonly encCross: CrossAttention;
  private readonly toGlobal: tf.Variable | null;
  private readonly textEmbed: tf.Variable | null;
  private readonly global: BlockStack;
  private readonly globalNorm: RMSNorm;
  private readonly kvProj: tf.Variable;
  private readonly decCross: CrossAttention[] = [];
  private readonly decoder: BlockStack;
  private readonly decNorm: RMSNorm;
  private readonly head: tf.Variable;
  /** textPath 'global': the global model's own output head (see `logits`) */
  private readonly globalHead: tf.Variable | null;
  private readonly cache = new TensorCache();
  readonly form: LstForm;

  constructor(
    readonly config: ModelConfig,
    opts: LstOptions = {},
  ) {
    const form = opts.form ?? "auto";
    if (!FORMS.includes(form)) throw new Error(`LstLM: form must be one of ${FORMS.join(", ")}, got '${String(form)}'`);
    this.form = form;
    if (config.kind !== "lst") throw new Error(`LstLM needs kind 'lst', got '${config.kind}': use createModel`);
    const s = derivedSizes(config);
    const l = config.lst;
    const d = config.dModel;
    const dl = l.dLocal;
    const params = new ParamFactory(config.seed, config.initStd);
    this.vocabSize = config.vocabSize;
    this.embed = params.matrix("encoder.embed.tokens", config.vocabSize, dl);
    this.encoder = new BlockStack(params, "encoder", l.encoderLayers, dl, l.nHeadsLocal, s.ffnLocal);
    this.poolProj = params.matrix("encoder.poolProj", dl, s.patchWidth);
    this.encCross = new CrossAttention(params, "encoder.crossAttn", dl, l.nHeadsLocal);
    this.toGlobal = s.needsToGlobal ? params.matrix("encoder.toGlobal", s.patchWidth, d) : null;
    this.textEmbed = l.textPath === "global" ? params.matrix("textEmbed.tokens", l.unitOffset, d) : null;
    this.global = new BlockStack(params, "global", config.nLayers, d, config.nHeads, s.ffnGlobal);
    this.globalNorm = new RMSNorm(params, "global.norm", d);
    this.kvProj = params.matrix("decoder.kvProj", d, s.patchWidth);
    for (let i = 0; i < l.decoderLayers; i++)
      this.decCross.push(new CrossAttention(params, `decoder.crossAttn.${i}`, dl, l.nHeadsLocal));
    this.decoder = new BlockStack(params, "decoder", l.decoderLayers, dl, l.nHeadsLocal, s.ffnLocal);
    this.decNorm = new RMSNorm(params, "decoder.norm", dl);
    this.head = params.matrix("decoder.head", dl, config.vocabSize);
    this.globalHead = l.textPath === "global" ? params.matrix("global.head", d, config.vocabSize) : null;
    this.variables = params.variables;
  }

  /** The modules an incremental forward reads (lst-cache.ts `LstParts`); `trunk` stays the one full forward. */
  cacheParts() {
    const { embed, encoder, poolProj, encCross, toGlobal, textEmbed, global, globalNorm } = this;
    const { kvProj, decCross, decoder, decNorm, head, globalHead } = this;
    const encoderParts = { embed, encoder, poolProj, encCross, toGlobal, textEmbed };
    return { ...encoderParts, global, globalNorm, kvProj, decCross, decoder, decNorm, head, globalHead };
  }

  /** Pool each patch's span of h [B*T,dl] -> [B,P,dl]: the mean of its real slots, or their max (repeats are harmless). */
  private pool(hRows: tf.Tensor2D, spans: PatchSpans, B: number, P: number): tf.Tensor3D {
    const dl = hRows.shape[1];
    const slots = tf.reshape(gatherRows(hRows, spans.idx), [B, P, spans.lmax, dl]); // [B*P*lmax,dl] -> [B,P,lmax,dl]
    if (this.config.lst.pooling === "max") return tf.max(slots, 2) as tf.Tensor3D; // [B,P,lmax,dl] -> [B,P,dl]
    const w = new Float32Array(spans.valid.length); // 1/length on real slots, 0 elsewhere
    for (let g = 0; g < B * P; g++) {
      let n = 0;
      for (let j = 0; j < spans.lmax; j++) n += spans.valid[g * spans.lmax + j];
      for (let j = 0; j < spans.lmax; j++) w[g * spans.lmax + j] = spans.valid[g * spans.lmax + j] / n;
    }
    return tf.sum(tf.mul(slots, tf.tensor4d(w, [B, P, spans.lmax, 1])), 2) as tf.Tensor3D; // [B,P,lmax,dl] -> [B,P,dl]
  }

  /** The form a forward takes ('auto' resolved). */
  resolvedForm(): Exclude<LstForm, "auto"> {
    return this.form === "auto" ? AUTO_FORM : this.form;
  }

  /**
   * The fused form's pooling, h [B,T,dl] -> [B,P,dl]: the mean as one matmul with the averaging weights of
   * cross-masks.ts, or the max over the gathered span (repeats are harmless).
   */
  private poolDense(h: tf.Tensor3D, lay: LstLayout, B: number, T: number): tf.Tensor3D {
    const P = lay.P;
    if (this.config.lst.pooling === "max") {
      const dl = h.shape[2];
      return this.pool(tf.reshape(h, [B * T, dl]) as tf.Tensor2D, patchSpans(lay, B, T), B, P); // [B,T,dl] -> [B*T,dl]
    }
    return tf.matMul(tf.tensor3d(meanPoolData(lay, B, T), [B, P, T]), h); // [B,P,T] @ [B,T,dl] -> [B,P,dl]
  }

  /** Text patches (a length-1 patch of an id below unitOffset) take textEmbed instead of the encoder vector. */
  private mixTextPatches(z: tf.Tensor3D, batch: Batch, lay: LstLayout): tf.Tensor3D {
    if (!this.textEmbed) return z;
    const { B, T } = batch;
    const { P, start, length } = lay;
    const unitOffset = this.config.lst.unitOffset;
    const ids = new Int32Array(B * P);
    const isText = new Float32Array(B * P);
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < P; p++) {
        if (length[b * P + p] !== 1) continue;
        const id = batch.inputs[b * T + start[b * P + p]];
        if (id < unitOffset) {
          ids[b * P + p] = id;
          isText[b * P + p] = 1;
        }
      }
    }
    const te = tf.reshape(gatherRows(this.textEmbed as tf.Tensor2D, ids), [B, P, this.config.dModel]); // [B*P,d] -> [B,P,d]
    const m = tf.tensor3d(isText, [B, P, 1]);
    return tf.add(z, tf.mul(m, tf.sub(te, z))) as tf.Tensor3D; // z where m = 0, te where m = 1
  }

  /** Decoder hidden states after the final norm, [B,T,dl]. */
  hidden(batch: Batch): tf.Tensor3D {
    return this.decNorm.apply(this.trunk(batch).y);
  }

  /** Decoder hidden states before the final norm [B,T,dl], the normalised global output [B,P,d] and the layout. */
  private trunk(batch: Batch): { y: tf.Tensor3D; gn: tf.Tensor3D; lay: LstLayout } {
    checkBatchShape(batch, this.config.maxSeqLen);
    const lay = lstBatchLayout(batch);
    const { B, T } = batch;
    const { P } = lay;
    const cfg = this.config;
    const l = cfg.lst;
    const dl = l.dLocal;
    const localRope = ropeTables(this.cache, T, dl / l.nHeadsLocal, cfg.ropeTheta);
    const localMask = selfAttentionMask(this.cache, B, T, l.localWindow, eosFlags(batch.inputs, cfg.docReset));

    // (a) patch encoder
    const x = tf.reshape(gatherRows(this.embed as tf.Tensor2D, batch.inputs), [B, T, dl]) as tf.Tensor3D; // [B*T,dl] -> [B,T,dl]
    const h = this.encoder.apply(x, localRope, localMask);
    const form = this.resolvedForm();
    let z = form === "fused" ? this.encodeFused(h, lay) : this.encodeGathered(h, lay);
    if (this.toGlobal) z = linear(z, this.toGlobal as tf.Tensor2D) as tf.Tensor3D; // [B,P,k*dl] -> [B,P,d]
    z = this.mixTextPatches(z, batch, lay);

    // (b) global transformer over patches
    const globalRope = ropeTables(this.cache, P, cfg.dModel / cfg.nHeads, cfg.ropeTheta);
    const globalMask = selfAttentionMask(this.cache, B, P, cfg.slidingWindow, cfg.docReset ? lay.patchEnds : null);
    const g = this.global.apply(z, globalRope, globalMask); // [B,P,d], before the final norm

    // (c) patch decoder: token t reads the k vectors of patch readPatch[t] (patch 0 where its target is ignored)
    const gn = this.globalNorm.normalize(g); // the norm's gain is folded into kvProj (layers.ts linear)
    const patchKv = linear(gn, this.kvProj as tf.Tensor2D, this.globalNorm.gain); // [B,P,d] -> [B,P,k*dl]
    const y =
      form === "fused"
        ? this.decodeFused(h, patchKv, lay, localRope, localMask)
        : form === "compact"
          ? this.decodeCompact(h, patchKv, lay, localRope, localMask)
          : this.decodeGathered(h, patchKv, lay, localRope, localMask);
    return { y, gn: gn as tf.Tensor3D, lay };
  }

  /**
   * (a) the gathered (and compact) form: pool [B*P] spans, cross-attend each patch's k queries to its gathered
   * span -> [B,P,k*dl]. (Products and sums, as the compact decoder, were slower here: k queries x lmax keys
   * make broadcast products of [B*P,k,lmax,C]; bench/lst-form.ts --profile.)
   */
  private encodeGathered(h: tf.Tensor3D, lay: LstLayout): tf.Tensor3D {
    const [B, T, dl] = h.shape;
    const { P } = lay;
    const k = this.config.lst.crossAttnK;
    const hRows = tf.reshape(h, [B * T, dl]) as tf.Tensor2D; // [B,T,dl] -> [B*T,dl]
    const spans = patchSpans(lay, B, T);
    const q0 = tf.reshape(linear(this.pool(hRows, spans, B, P), this.poolProj as tf.Tensor2D), [
      B * P,
      k,
      dl,
    ]) as tf.Tensor3D; // [B,P,k*dl] -> [B*P,k,dl]
    const spanMask = spans.full
      ? null
      : tf.tensor4d(
          spans.valid.map((v) => (v > 0 ? 0 : NEG)),
          [B * P, 1, 1, spans.lmax],
        );
    const zq = tf.add(q0, this.encCross.apply(q0, hRows, spans.idx, spans.lmax, spanMask)); // [B*P,k,dl]
    return tf.reshape(zq, [B, P, k * dl]) as tf.Tensor3D; // [B*P,k,dl] -> [B,P,k*dl]
  }

  /** (a) the fused form: the P*k queries of a row attend densely to its T tokens under the span mask -> [B,P,k*dl]. */
  private encodeFused(h: tf.Tensor3D, lay: LstLayout): tf.Tensor3D {
    const [B, T, dl] = h.shape;
    const { P } = lay;
    const k = this.config.lst.crossAttnK;
    const q0 = tf.reshape(linear(this.poolDense(h, lay, B, T), this.poolProj as tf.Tensor2D), [
      B,
      P * k,
      dl,
    ]) as tf.Tensor3D; // [B,P,k*dl] -> [B,P*k,dl]
    const mask = tf.tensor3d(encoderSpanMaskData(lay, B, T, k), [B, P * k, T]);
    const [kv] = denseCrossKv([this.encCross], h);
    const zq = tf.add(q0, this.encCross.applyDense(q0, kv, mask)); // [B,P*k,dl]
    return tf.reshape(zq, [B, P, k * dl]) as tf.Tensor3D; // [B,P*k,dl] -> [B,P,k*dl]
  }

  /** (c) the gathered form: each token gathers the k vectors of the patch it reads, before every decoder block. */
  private decodeGathered(
    h: tf.Tensor3D,
    patchKv: tf.Tensor,
    lay: LstLayout,
    rope: RopeTables,
    mask: AttnMask,
  ): tf.Tensor3D {
    const [B, T, dl] = h.shape;
    const { P } = lay;
    const k = this.config.lst.crossAttnK;
    const kvRows = tf.reshape(patchKv, [B * P * k, dl]) as tf.Tensor2D; // [B,P,k*dl] -> [B*P*k,dl]
    const rows = decoderReadRows(lay, B, T); // token -> its patch's row b*P + r; its k key rows are row*k .. row*k+k-1
    const readIdx = new Int32Array(B * T * k);
    for (let j = 0; j < B * T; j++) for (let i = 0; i < k; i++) readIdx[j * k + i] = rows[j] * k + i;
    let y = h;
    for (let i = 0; i < this.decCross.length; i++) {
      const update = this.decCross[i].apply(tf.reshape(y, [B * T, 1, dl]) as tf.Tensor3D, kvRows, readIdx, k, null); // [B,T,dl] -> [B*T,1,dl]
      y = tf.add(y, tf.reshape(update, [B, T, dl])) as tf.Tensor3D; // [B*T,1,dl] -> [B,T,dl]
      y = this.decoder.layers[i].apply(y, rope, mask);
    }
    return y;
  }

  /** (c) the compact form: each token's k keys and values per layer, gathered up front (lst-compact.ts). */
  private decodeCompact(
    h: tf.Tensor3D,
    patchKv: tf.Tensor,
    lay: LstLayout,
    rope: RopeTables,
    mask: AttnMask,
  ): tf.Tensor3D {
    const [B, T, dl] = h.shape;
    const kvs = decoderKv(this.decCross, patchKv as tf.Tensor3D, decoderReadRows(lay, B, T));
    let y = h;
    for (let i = 0; i < this.decCross.length; i++) {
      const q = tf.reshape(y, [B * T, 1, dl]) as tf.Tensor3D; // [B,T,dl] -> [B*T,1,dl]
      const update = this.decCross[i].applyCompact(q, kvs[i].k, kvs[i].v, null);
      y = tf.add(y, tf.reshape(update, [B, T, dl])) as tf.Tensor3D; // [B*T,1,dl] -> [B,T,dl]
      y = this.decoder.layers[i].apply(y, rope, mask);
    }
    return y;
  }

  /**
   * (c) the fused form: the tokens of a row attend densely to its P*k patch vectors under the read mask (built
   * once, shared by every layer); the layers' k|v projections of the patch vectors are one matmul.
   */
  private decodeFused(
    h: tf.Tensor3D,
    patchKv: tf.Tensor,
    lay: LstLayout,
    rope: RopeTables,
    mask: AttnMask,
  ): tf.Tensor3D {
    const [B, T, dl] = h.shape;
    const { P } = lay;
    const k = this.config.lst.crossAttnK;
    const source = tf.reshape(patchKv, [B, P * k, dl]) as tf.Tensor3D; // [B,P,k*dl] -> [B,P*k,dl]
    const kvs = denseCrossKv(this.decCross, source);
    const readMask = tf.tensor3d(decoderReadMaskData(lay, B, T, k), [B, T, P * k]);
    let y = h;
    for (let i = 0; i < this.decCross.length; i++) {
      y = tf.add(y, this.decCross[i].applyDense(y, kvs[i], readMask)) as tf.Tensor3D;
      y = this.decoder.layers[i].apply(y, rope, mask);
    }
    return y;
  }

  /**
   * Logits [B,T,V]. With textPath 'local' every token is predicted by the patch decoder. With textPath
   * 'global' (the paper's alternative: text enters and leaves through the global model) a position whose
   * input token ends its patch is predicted by the global head from that patch's global output, and only the
   * positions inside a speech patch by the decoder. Both read the same patch (readPatch[t] = patchIds[t] at a
   * patch's last token), so the model stays causal. Worked example (types.ts): patchIds [0,1,2,2,2,2,3,4,5],
   * readPatch [0,1,1,1,1,2,3,4,5] -> global head at t = 0,1,5,6,7,8 (every text target and the first unit of
   * the speech patch), decoder at t = 2,3,4.
   */
  logits(batch: Batch): tf.Tensor3D {
    const { y, gn, lay } = this.trunk(batch);
    const h = this.decNorm.normalize(y); // the norm's gain is folded into the head
    const local = linear(h, this.head as tf.Tensor2D, this.decNorm.gain) as tf.Tensor3D; // [B,T,dl] -> [B,T,V]
    if (!this.globalHead) return local;
    const { B, T } = batch;
    const P = lay.P;
    const V = this.vocabSize;
    const rows = new Int32Array(B * T);
    const atBoundary = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const r = lay.readPatch[b * T + t];
        rows[b * T + t] = b * P + Math.max(r, 0);
        atBoundary[b * T + t] = r >= 0 && r === (batch.patchIds as Int32Array)[b * T + t] ? 1 : 0;
      }
    }
    // the global head runs once per patch (P rows), then each token takes its patch's row: P x d x V MACs, not T x d x V
    const perPatch = tf.reshape(linear(gn, this.globalHead as tf.Tensor2D, this.globalNorm.gain), [
      B * P,
      V,
    ]) as tf.Tensor2D; // [B,P,V] -> [B*P,V]
    const fromGlobal = tf.reshape(gatherRows(perPatch, rows), [B, T, V]); // [B*T,V] -> [B,T,V]
    const m = tf.tensor3d(atBoundary, [B, T, 1]);
    return tf.add(local, tf.mul(m, tf.sub(fromGlobal, local))) as tf.Tensor3D; // decoder inside patches, global head at their ends
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
