/**
 * LST's cached stepper (step-cache.ts `Stepper`): the incremental form of lst.ts's forward, with a key/value cache
 * (kv-cache.ts) for each of its three transformers, so a generated token costs one position of the encoder and
 * decoder and, once per patch, one position of the global transformer:
 *
 *   push(ids)     encoder blocks over the new tokens only (cache) -> h rows kept; every patch that a new token
 *                 closed: pool its span of h, cross-attend, (textEmbed for a text patch) -> one global position
 *                 (cache) -> normalised output and its k|v vectors kept; decoder over the new positions whose
 *                 next token is known (cache)
 *   next(hyp)     the decoder at the last position, reading the patch `hyp` names (closing the open patch first
 *                 for 'new'); logits from the decoder head, or from the global head at a patch end (textPath
 *                 'global'); its keys/values wait for commit or discard
 *
 * What is recomputed: nothing of the prefix. A patch's encoder vector is computed once, when it closes, from
 * the kept rows of h; a speech patch's tokens are not re-encoded. The decoder's last position is computed
 * twice only when a token sampled under 'continue' turns out to start a patch (generate.ts). One row (B = 1),
 * the 'gathered' form's math (lst.ts; every form computes the same function).
 */
import * as tf from "@tensorflow/tfjs-core";
import { EOS } from "../tokenizers/special";
import { StackCache } from "./kv-cache";
import { gatherRows, linear, rmsNormalize } from "./layers";
import type { LstLM } from "./lst";
import { TensorCache } from "./masks";
import { PatchBook, type Hypothesis, type NextLogits, type Stepper } from "./step-cache";

/** An LstLM's modules (lst.ts `cacheParts`). */
export type LstParts = ReturnType<LstLM["cacheParts"]>;

/** Rows [from, from+n) of a growing [N, C] table, or the table grown by rows (old tensors are disposed). */
function appendRows(table: tf.Tensor2D | null, rows: tf.Tensor2D): tf.Tensor2D {
  if (!table) return rows;
  const out = tf.concat([table, rows], 0);
  table.dispose();
  rows.dispose();
  return out;
}

export class LstStepper implements Stepper {
  readonly fullForwards = 0;
  readonly capacity: number;
  readonly book = new PatchBook();
  private readonly parts: LstParts;
  private readonly tables = new TensorCache();
  private readonly enc: StackCache;
  private readonly glob: StackCache;
  private readonly dec: StackCache;
  /** encoder outputs of every pushed token [n, dl] */
  private h: tf.Tensor2D | null = null;
  /** per closed patch: its k vectors [closed*k, dl] for the decoder, and its normalised global output [closed, d] */
  private patchKv: tf.Tensor2D | null = null;
  private gn: tf.Tensor2D | null = null;
  private closed = 0;
  /** positions whose decoder state is committed */
  private decoded = 0;

  constructor(
    private readonly model: LstLM,
    private readonly unitOffset: number,
  ) {
    const cfg = model.config;
    this.parts = model.cacheParts();
    this.capacity = cfg.maxSeqLen;
    const local = { window: cfg.lst.localWindow, docReset: cfg.docReset, ropeTheta: cfg.ropeTheta };
    const cap = { capacity: this.capacity };
    this.enc = new StackCache(this.parts.encoder.layers, { ...local, ...cap }, this.tables);
    this.dec = new StackCache(this.parts.decoder.layers, { ...local, ...cap }, this.tables);
    const global = { window: cfg.slidingWindow, docReset: cfg.docReset, ropeTheta: cfg.ropeTheta };
    this.glob = new StackCache(this.parts.global.layers, { ...global, ...cap }, this.tables);
  }

  get length(): number {
    return this.book.ids.length;
  }

  push(ids: readonly number[], starts: readonly boolean[]): void {
    if (ids.length === 0) return;
    if (this.decoded < this.book.ids.length)
      throw new Error("push: decode the last token first (next, then commit) before pushing the one after it");
    const lastPatch = this.book.lengths.length - 1;
    if (!starts[0] && this.closed > lastPatch)
      throw new Error(`push: patch ${lastPatch} is closed (next('new') closed it), so the next token must start one`);
    const from = this.book.ids.length;
    this.book.add(ids, starts);
    this.encode(ids, from);
    // every patch but the last is complete now
    this.closeUpTo(this.book.lengths.length - 1);
    // decoder over the new positions whose target is pushed too: from .. n-2
    const n = this.book.ids.length;
    if (n - 1 > this.decoded) this.decodeRange(this.decoded, n - 1 - this.decoded, null).commit();
  }

  /** Encoder blocks over the new tokens (committed): h rows from .. from+ids.length-1. */
  private encode(ids: readonly number[], from: number): void {
    const dl = this.model.config.lst.dLocal;
    const x = tf.tidy(
      () =>
        tf.reshape(gatherRows(this.parts.embed as tf.Tensor2D, Int32Array.from(ids)), [
          1,
          ids.length,
          dl,
        ]) as tf.Tensor3D,
    ); // [n,dl] -> [1,n,dl]
    const { y, pending } = this.enc.forward(
      x,
      ids.map((id) => id === EOS),
    );
    x.dispose();
    this.enc.commit(pending);
    const rows = tf.reshape(y, [ids.length, dl]) as tf.Tensor2D; // [1,n,dl] -> [n,dl]
    y.dispose();
    this.h = appendRows(this.h, rows);
    if (this.h.shape[0] !== from + ids.length)
      throw new Error(`LstStepper: ${this.h.shape[0]} encoder rows, expected ${from + ids.length} (internal error)`);
  }

  /** The encoder's vector of patch p [1, d] (lst.ts (a): pool, project, cross-attend its span; textEmbed for text). */
  private patchVector(p: number): tf.Tensor2D {
    const cfg = this.model.config;
    const l = cfg.lst;
    const len = this.book.lengths[p];
    let start = 0;
    for (let j = 0; j < p; j++) start += this.book.lengths[j];
    const id = this.book.ids[start];
    const { textEmbed, poolProj, encCross, toGlobal } = this.parts;
    if (textEmbed && len === 1 && id < l.unitOffset) return gatherRows(textEmbed as tf.Tensor2D, Int32Array.of(id));
    const h = this.h as tf.Tensor2D;
    const span = tf.slice(h, [start, 0], [len, l.dLocal]); // [len, dl]
    const pooled = l.pooling === "max" ? tf.max(span, 0, true) : tf.mean(span, 0, true); // [len,dl] -> [1,dl]
    const q0 = tf.reshape(linear(pooled, poolProj as tf.Tensor2D), [1, l.crossAttnK, l.dLocal]) as tf.Tensor3D; // [1,k*dl] -> [1,k,dl]
    const idx = Int32Array.from({ length: len }, (_, i) => i);
    const zq = tf.add(q0, encCross.apply(q0, span, idx, len, null)); // [1,k,dl]
    const z = tf.reshape(zq, [1, l.crossAttnK * l.dLocal]) as tf.Tensor2D; // [1,k,dl] -> [1,k*dl]
    return toGlobal ? (linear(z, toGlobal as tf.Tensor2D) as tf.Tensor2D) : z; // [1,k*dl] -> [1,d]
  }

  /** Run the global transformer over patches closed .. upTo-1 (committed) and keep their outputs. */
  private closeUpTo(upTo: number): void {
    if (upTo <= this.closed) return;
    const m = upTo - this.closed;
    const cfg = this.model.config;
    const d = cfg.dModel;
    const z = tf.tidy(
      () =>
        tf.reshape(
          tf.concat(
            Array.from({ length: m }, (_, i) => this.patchVector(this.closed + i)),
            0,
          ),
          [1, m, d],
        ) as tf.Tensor3D,
    ); // m x [1,d] -> [1,m,d]
    const ends: boolean[] = [];
    let t = 0;
    for (let p = 0; p < upTo; p++) {
      t += this.book.lengths[p];
      if (p >= this.closed) ends.push(this.book.ids[t - 1] === EOS);
    }
    const { y, pending } = this.glob.forward(z, ends);
    z.dispose();
    this.glob.commit(pending);
    const { globalNorm, kvProj } = this.parts;
    const k = cfg.lst.crossAttnK;
    const gn = tf.tidy(() => rmsNormalize(tf.reshape(y, [m, d]) as tf.Tensor2D)); // [1,m,d] -> [m,d]; gain folded below
    const kv = tf.tidy(
      () => tf.reshape(linear(gn, kvProj as tf.Tensor2D, globalNorm.gain), [m * k, cfg.lst.dLocal]) as tf.Tensor2D,
    ); // [m,d] -> [m,k*dl] -> [m*k,dl]
    y.dispose();
    this.gn = appendRows(this.gn, gn);
    this.patchKv = appendRows(this.patchKv, kv);
    this.closed = upTo;
  }

  /**
   * The decoder over positions from .. from+n-1 (pending until commit); position t reads patch `read` when given
   * (the last position's hypothesis), else the one its pushed successor implies (patchOf[t+1] - 1).
   */
  private decodeRange(
    from: number,
    n: number,
    read: number | null,
  ): { y: tf.Tensor3D; commit(): void; discard(): void } {
    const l = this.model.config.lst;
    const k = l.crossAttnK;
    const idx = new Int32Array(n * k);
    for (let i = 0; i < n; i++) {
      const t = from + i;
      const r = read ?? this.book.patchOf[t + 1] - 1;
      if (r >= this.closed)
        throw new Error(
          `LstStepper: position ${t} reads patch ${r}, but only ${this.closed} are closed (internal error)`,
        );
      for (let c = 0; c < k; c++) idx[i * k + c] = r * k + c;
    }
    const h = this.h as tf.Tensor2D;
    const source = this.patchKv as tf.Tensor2D;
    const x = tf.tidy(() => tf.reshape(tf.slice(h, [from, 0], [n, l.dLocal]), [1, n, l.dLocal]) as tf.Tensor3D); // [n,dl] -> [1,n,dl]
    const cross = (layer: number, y: tf.Tensor3D): tf.Tensor3D => {
      const q = tf.reshape(y, [n, 1, l.dLocal]) as tf.Tensor3D; // [1,n,dl] -> [n,1,dl]
      const update = this.parts.decCross[layer].apply(q, source, idx, k, null); // [n,1,dl]
      return tf.add(y, tf.reshape(update, [1, n, l.dLocal])) as tf.Tensor3D; // [n,1,dl] -> [1,n,dl]
    };
    const ends = Array.from({ length: n }, (_, i) => this.book.ids[from + i] === EOS);
    const { y, pending } = this.dec.forward(x, ends, cross);
    x.dispose();
    return {
      y,
      commit: () => {
        this.dec.commit(pending);
        this.decoded = from + n;
        y.dispose();
      },
      discard: () => {
        this.dec.discard(pending);
        y.dispose();
      },
    };
  }

  async next(hyp: Hypothesis): Promise<NextLogits> {
    const n = this.book.ids.length;
    if (this.decoded !== n - 1)
      throw new Error(`next: ${n - 1 - this.decoded} positions await decoding (internal error)`);
    const r = this.book.readPatch(hyp);
    if (hyp === "new") this.closeUpTo(this.book.lengths.length); // the last token's patch ends with it
    const run = this.decodeRange(n - 1, 1, r);
    const { decNorm, head, globalHead, globalNorm } = this.parts;
    const gn = this.gn as tf.Tensor2D;
    const t = tf.tidy(
      () =>
        globalHead && r === this.book.patchOf[n - 1]
          ? linear(tf.slice(gn, [r, 0], [1, gn.shape[1]]), globalHead as tf.Tensor2D, globalNorm.gain) // [1,d] -> [1,V]
          : linear(decNorm.normalize(run.y), head as tf.Tensor2D, decNorm.gain), // [1,1,dl] -> [1,1,V]
    );
    let logits: Float32Array;
    try {
      logits = (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
    return { logits, commit: () => run.commit(), discard: () => run.discard() };
  }

  dispose(): void {
    for (const c of [this.enc, this.glob, this.dec]) c.dispose();
    for (const t of [this.h, this.patchKv, this.gn]) t?.dispose();
    this.tables.dispose();
  }
}
