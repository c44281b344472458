/**
 * Additive attention masks, built on the JS side from plain arrays, and the per-model cache of tensors that
 * depend only on shapes (masks without document resets, rotary tables).
 *
 * A mask holds 0 where a query may attend and -1e9 where not. Every query row keeps at least one allowed key
 * (a causal row always has itself), so softmax never sees an all-masked row and never produces NaN or a
 * uniform row that would leak the future.
 *
 * Two layouts of causal self-attention (`AttnMask.window`):
 *   dense    [B|1, 1, n, n]: query i sees key j iff docStart[i] <= j <= i and i - j < window (window 0: no limit)
 *   blocked  [B|1, 1, nb, W, 2W], nb = ceil(n / W): the sequence is cut into blocks of W queries, and block b
 *            sees the 2W keys of blocks b-1 and b (the PyTorch peer's block-local attention). Used when
 *            2W < n, where it halves (or better) the work of a sliding window of W over the dense layout.
 * Worked example of the blocked layout (n = 6, W = 2, nb = 3; key slot s of block b is position (b-1)*W + s):
 *   block 1, query 3 (slot i = 1): key slots [pos 0, 1, 2, 3] -> allowed [0, 0, 1, 1] (i - j < 2)
 *   block 0, query 0: slots [pos -2, -1, 0, 1] -> allowed [0, 0, 1, 0] (no block before block 0)
 */
import * as tf from "@tensorflow/tfjs-core";

export const NEG = -1e9;

/**
 * Tensors that depend only on shapes are built once and kept here; a model owns one cache and disposes it
 * with its variables. Least recently used entries are dropped past `capacity` (well above the handful one
 * forward uses).
 */
export class TensorCache {
  private readonly map = new Map<string, tf.Tensor>();
  constructor(private readonly capacity = 64) {}

  get<T extends tf.Tensor>(key: string, build: () => T): T {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit as T;
    }
    const t = tf.keep(build());
    this.map.set(key, t);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as string;
      this.map.get(oldest)?.dispose();
      this.map.delete(oldest);
    }
    return t;
  }

  dispose(): void {
    for (const t of this.map.values()) t.dispose();
    this.map.clear();
  }
}

/**
 * For every position, the first position of its document: a document ends at a position flagged in `ends`
 * (an EOS token, or a patch whose last token is EOS), and the next one starts right after it.
 * Example (one row, n = 6): ends = [0,0,1,0,1,0] -> docStart = [0,0,0,3,3,5].
 */
export function documentStarts(ends: Uint8Array, B: number, n: number): Int32Array {
  const out = new Int32Array(B * n);
  for (let b = 0; b < B; b++) {
    let start = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && ends[b * n + i - 1]) start = i;
      out[b * n + i] = start;
    }
  }
  return out;
}

/** Whether query i may see key j (both positions in one row of n; docStart null = one document). */
function allowed(i: number, j: number, window: number, docStart: Int32Array | null, rowOffset: number): boolean {
  if (j < 0 || j > i) return false;
  if (window > 0 && i - j >= window) return false;
  return docStart === null || j >= docStart[rowOffset + i];
}

/**
 * Dense causal mask [B*n*n] (row-major [b][i][j]).
 * Example (n = 4, window 2, no reset), allowed pairs as 1:
 *   i=0: 1 0 0 0   i=1: 1 1 0 0   i=2: 0 1 1 0   i=3: 0 0 1 1
 */
export function causalMaskData(B: number, n: number, window: number, docStart: Int32Array | null): Float32Array {
  const out = new Float32Array(B * n * n).fill(NEG);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) {
      const row = (b * n + i) * n;
      for (let j = 0; j <= i; j++) if (allowed(i, j, window, docStart, b * n)) out[row + j] = 0;
    }
  }
  return out;
}

/**
 * Blocked causal mask [B*nb*W*2W] (see the top of the file). Query positions past n (the padding of the
 * last block) see only their own slot, so their rows stay finite; they are cut off after attention.
 */
export function blockedMaskData(B: number, n: number, W: number, docStart: Int32Array | null): Float32Array {
  const nb = Math.ceil(n / W);
  const out = new Float32Array(B * nb * W * 2 * W).fill(NEG);
  for (let b = 0; b < B; b++) {
    for (let blk = 0; blk < nb; blk++) {
      for (let i = 0; i < W; i++) {
        const q = blk * W + i;
        const row = ((b * nb + blk) * W + i) * 2 * W;
        for (let s = 0; s < 2 * W; s++) {
          const j = (blk - 1) * W + s;
          const ok = q < n ? allowed(q, j, W, docStart, b * n) : j === q;
          if (ok) out[row + s] = 0;
        }
      }
    }
  }
  return out;
}

/** A causal self-attention mask and its layout: window 0 = dense [B|1,1,n,n], W > 0 = blocked [B|1,1,nb,W,2W]. */
export interface AttnMask {
  mask: tf.Tensor;
  window: number;
}

/**
 * The self-attention mask of one forward: cached per shape when no row contains a document end before its
 * last position (the common case), else built for this batch. `ends[b*n+i]` flags document ends; a window
 * W with 2W < n takes the blocked layout.
 */
export function selfAttentionMask(
  cache: TensorCache,
  B: number,
  n: number,
  window: number,
  ends: Uint8Array | null,
): AttnMask {
  const w = window > 0 && window < n ? window : 0;
  const blocked = w > 0 && 2 * w < n;
  let reset = false;
  if (ends) {
    for (let b = 0; b < B && !reset; b++) {
      for (let i = 0; i < n - 1; i++) {
        if (ends[b * n + i]) {
          reset = true;
          break;
        }
      }
    }
  }
  const docStart = reset ? documentStarts(ends as Uint8Array, B, n) : null;
  const rows = reset ? B : 1;
  if (blocked) {
    const nb = Math.ceil(n / w);
    const build = () => tf.tensor5d(blockedMaskData(rows, n, w, docStart), [rows, 1, nb, w, 2 * w]);
    return { mask: reset ? build() : cache.get(`blocked:${n}:${w}`, build), window: w };
  }
  const build = () => tf.tensor4d(causalMaskData(rows, n, w, docStart), [rows, 1, n, n]);
  return { mask: reset ? build() : cache.get(`causal:${n}:${w}`, build), window: 0 };
}
