/**
 * The incremental forward of a stack of pre-norm blocks (attention.ts `Block`) for generation: every layer keeps
 * the rotated keys and the values of each position it has seen, so a new chunk of n positions runs through the
 * stack once, its queries attending to the cached keys, instead of re-running the whole prefix. The baseline
 * uses one stack cache; LST one for each of its encoder, global transformer and decoder (lst-cache.ts).
 *
 * One row (B = 1). A chunk at positions t0 .. t0+n-1 attends to keys lo .. t0+n-1 under the rule of masks.ts
 * (query i sees key j iff docStart(i) <= j <= i and, with a window W > 0, i - j < W), where lo is the oldest key
 * any of its queries may see, so a sliding window bounds the cost of a step whatever the prefix length.
 * Worked example (a test): W = 2, one committed document of positions 0..4, chunk t0 = 5, n = 2:
 *   lo = max(0, 5 - 2 + 1) = 4; keys 4, 5, 6; mask rows  q5: [0, 0, NEG]   q6: [NEG, 0, 0]
 * With docReset, a chunk position holding EOS ends its document: the positions after it start a new one.
 *
 * `forward` leaves the cache as it was and returns the chunk's keys and values as `pending`; `commit` appends
 * them. The LST decoder needs this: it decodes the last position under one patch hypothesis and, when the
 * sampled token contradicts it, decodes it again under the other before committing (generate.ts).
 * Call outside tf.tidy: the cache keeps its tensors across calls, and `dispose` frees them.
 */
import * as tf from "@tensorflow/tfjs-core";
import { applyRope, ropeTables, type Block, type RopeTables } from "./attention";
import { linear } from "./layers";
import { NEG, type TensorCache } from "./masks";

/** The keys and values of a chunk, per layer [1, H, n, dh], and the document start of the position after it. */
export interface PendingKv {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
  n: number;
  nextDocStart: number;
}

/**
 * The additive mask [n * nk] of a chunk (row-major [query][key]) and its first key position lo (see the header).
 * `docStarts[q]` is the document start of query t0 + q. Returns mask null when every pair is allowed.
 */
export function chunkMask(
  t0: number,
  n: number,
  window: number,
  docStarts: readonly number[],
): { lo: number; mask: Float32Array | null } {
  let lo = window > 0 ? Math.max(0, t0 - window + 1) : 0;
  lo = Math.max(lo, docStarts[0] ?? 0);
  const nk = t0 + n - lo;
  const mask = new Float32Array(n * nk);
  let any = false;
  for (let q = 0; q < n; q++) {
    const i = t0 + q;
    for (let s = 0; s < nk; s++) {
      const j = lo + s;
      const ok = j <= i && j >= docStarts[q] && (window <= 0 || i - j < window);
      if (!ok) {
        mask[q * nk + s] = NEG;
        any = true;
      }
    }
  }
  return { lo, mask: any ? mask : null };
}

/** Rows t0 .. t0+n-1 of rotary tables built for `capacity` positions (row t does not depend on the capacity). */
function ropeRows(full: RopeTables, t0: number, n: number): RopeTables {
  const dh = full.qCos.shape[1];
  const rows = (t: tf.Tensor2D) => tf.slice(t, [t0, 0], [n, dh]);
  return { qCos: rows(full.qCos), qSin: rows(full.qSin), kCos: rows(full.kCos), kSin: rows(full.kSin) };
}

export interface StackCacheOptions {
  /** sliding window of the stack's self-attention (0 = full causal), as the model's config */
  window: number;
  /** attention restarts after EOS (the model's docReset) */
  docReset: boolean;
  /** RoPE base and the most positions the cache will hold (its rotary tables are built for that many) */
  ropeTheta: number;
  capacity: number;
}

/** The key/value cache of one block stack (see the header). */
export class StackCache {
  private readonly K: (tf.Tensor4D | null)[];
  private readonly V: (tf.Tensor4D | null)[];
  private committed = 0;
  private docStart = 0;
  private readonly rope: RopeTables;

  constructor(
    readonly blocks: readonly Block[],
    readonly opts: StackCacheOptions,
    tables: TensorCache,
  ) {
    if (blocks.length === 0) throw new Error("StackCache needs at least one block");
    const a = blocks[0].attn;
    this.rope = ropeTables(tables, opts.capacity, a.d / a.nHeads, opts.ropeTheta);
    this.K = blocks.map(() => null);
    this.V = blocks.map(() => null);
  }

  /** Positions committed so far. */
  get length(): number {
    return this.committed;
  }

  /**
   * Run the chunk x [1, n, C] (positions length .. length+n-1) through every block. `ends[q]` marks chunk position
   * q as a document end (its token is EOS). `before(l, h)`, when given, maps the input of block l first (the LST
   * decoder's cross-attention before every block). Returns the outputs [1, n, C] and the pending keys/values.
   */
  forward(
    x: tf.Tensor3D,
    ends: readonly boolean[],
    before?: (layer: number, h: tf.Tensor3D) => tf.Tensor3D,
  ): { y: tf.Tensor3D; pending: PendingKv } {
    const [B, n] = x.shape;
    if (B !== 1) throw new Error(`StackCache.forward: one row at a time, got B=${B}`);
    const t0 = this.committed;
    if (t0 + n > this.opts.capacity)
      throw new Error(
        `StackCache: ${t0 + n} positions exceed the cache's capacity ${this.opts.capacity}: raise the capacity (the model's maxSeqLen) or generate fewer tokens`,
      );
    const docStarts: number[] = [];
    let start = this.docStart;
    for (let q = 0; q < n; q++) {
      docStarts.push(start);
      if (this.opts.docReset && ends[q]) start = t0 + q + 1;
    }
    const { lo, mask } = chunkMask(t0, n, this.opts.window, docStarts);
    const out = tf.tidy(() => {
      const rope = ropeRows(this.rope, t0, n);
      const m = mask ? tf.tensor4d(mask, [1, 1, n, t0 + n - lo]) : null;
      const ks: tf.Tensor4D[] = [];
      const vs: tf.Tensor4D[] = [];
      let h = x;
      this.blocks.forEach((block, l) => {
        if (before) h = before(l, h);
        const r = this.blockStep(block, h, rope, m, this.K[l], this.V[l], lo);
        h = r.y;
        ks.push(r.k);
        vs.push(r.v);
      });
      return { y: h, ks, vs };
    });
    return { y: out.y, pending: { k: out.ks, v: out.vs, n, nextDocStart: start } };
  }

  /** One block over the chunk, its queries attending to cached keys lo.. and to the chunk's own (Block.apply's math). */
  private blockStep(
    block: Block,
    x: tf.Tensor3D,
    rope: RopeTables,
    mask: tf.Tensor4D | null,
    pastK: tf.Tensor4D | null,
    pastV: tf.Tensor4D | null,
    lo: number,
  ): { y: tf.Tensor3D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const [, n, C] = x.shape;
    const H = block.attn.nHeads;
    const dh = C / H;
    const qkv = tf.reshape(linear(block.attnNorm.normalize(x), block.attn.wqkv as tf.Tensor2D, block.attnNorm.gain), [
      1,
      n,
      3,
      H,
      dh,
    ]); // [1,n,3C] -> [1,n,3,H,dh]
    const [qRaw, kRaw, v] = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]), 0) as tf.Tensor4D[]; // -> 3 x [1,H,n,dh]
    const q = applyRope(qRaw, rope.qCos, rope.qSin); // scaled by 1/sqrt(dh)
    const k = applyRope(kRaw, rope.kCos, rope.kSin);
    const past = (t: tf.Tensor4D | null) => {
      if (!t) return null;
      const len = t.shape[2] - lo;
      return len > 0 ? tf.slice(t, [0, 0, lo, 0], [1, H, len, dh]) : null; // [1,H,t0,dh] -> [1,H,t0-lo,dh]
    };
    const pk = past(pastK);
    const pv = past(pastV);
    const keys = pk ? tf.concat([pk, k], 2) : k; // [1,H,nk,dh]
    const values = pv ? tf.concat([pv, v], 2) : v;
    const qk = tf.matMul(q, keys, false, true); // [1,H,n,nk]
    const att = tf.matMul(tf.softmax(mask ? tf.add(qk, mask) : qk), values); // [1,H,n,dh]
    const y = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [1, n, C]); // [1,H,n,dh] -> [1,n,H,dh] -> [1,n,C]
    const h = tf.add(x, linear(y, block.attn.wo as tf.Tensor2D)) as tf.Tensor3D;
    const out = tf.add(h, block.mlp.apply(block.mlpNorm.normalize(h), block.mlpNorm.gain)) as tf.Tensor3D;
    return { y: out, k, v };
  }

  /** Append a chunk's keys and values (from `forward`, in order) to the cache; frees `pending`. */
  commit(pending: PendingKv): void {
    for (let l = 0; l < this.blocks.length; l++) {
      for (const [store, add] of [
        [this.K, pending.k[l]],
        [this.V, pending.v[l]],
      ] as const) {
        const old = store[l];
        if (old) {
          store[l] = tf.concat([old, add], 2);
          old.dispose();
          add.dispose();
        } else store[l] = add;
      }
    }
    this.committed += pending.n;
    this.docStart = pending.nextDocStart;
  }

  /** Free a chunk's keys and values without appending them. */
  discard(pending: PendingKv): void {
    for (const t of [...pending.k, ...pending.v]) t.dispose();
  }

  dispose(): void {
    for (const t of [...this.K, ...this.V]) t?.dispose();
    this.K.fill(null);
    this.V.fill(null);
  }
}
