/**
 * How score.ts groups its rows into forward passes: a plan of batches (which rows, padded to how many input
 * positions), computed from the rows' lengths alone.
 *
 *   rows    a fixed row count: rows sorted by length, `batchSize` at a time, each batch padded to its longest
 *           row. Every batch has its own padded length, so a backend meets a new shape almost every batch.
 *   tokens  a token budget: rows sorted by length, cut into runs of neighbours, each run one
 *           batch padded to the bucket length (below) of its longest row, with rows x padded length within
 *           budget = batchSize x the longest row's bucket. The longest rows go `batchSize` at a time, as with
 *           `rows` (the same peak memory); short rows go many at a time, where a CPU's per-op overhead would
 *           dominate. Of all such cuts the plan takes the cheapest, counting each padded position as 1 and each
 *           forward pass as FORWARD_COST (a dynamic program over the sorted rows), so it pads a few short rows
 *           into a neighbouring batch rather than run a tiny batch, and the reverse. A plan has a handful of
 *           padded lengths, so kernels, masks and rotary tables are reused across its batches and calls.
 *
 * Bucket lengths: a length n > 16 rounds up to a multiple of 2^(floor(log2 n) - 2), i.e. four buckets per
 * octave; n <= 16 pads to 16. A bucket is never longer than the longest row of the plan (so no
 * batch passes the model's maxSeqLen where the rows do not).
 *   n      5   16   17   33   65   100   129   200   257   300   513
 *   pad   16   16   20   40   80   112   160   224   320   320   640
 * A row longer than 16 pads by under a quarter of its length (129 -> 160 is the worst case of its octave).
 *
 * Worked example (a test): lengths [3, 5, 20, 41, 45, 90, 100], batchSize 2, tokens. Buckets 16 16 20 48 48 96
 * 100 (112, capped at the longest row); budget = 2 x 100 = 200 padded positions. The cheapest plan is
 *   [3, 5, 20] padded to 20,  [41, 45] to 48,  [90, 100] to 100      cost 3 x 512 + 60 + 96 + 200 = 1892
 * (3 and 5 pad to 20 rather than take a pass of their own, worth 512 padded positions); `rows` takes four
 * passes, [3, 5] [20, 41] [45, 90] [100].
 */

export type Batching = "tokens" | "rows";

/**
 * "rows": on 2 quiet cores of an Intel Xeon (family 6 model 207) the token budget was no faster than the fixed
 * row count (`npx tsx bench/eval.ts --items=32 --rounds=3`: CPU-time ratio tokens/rows 0.94x to 0.99x for the
 * baseline and LST, mean and pmi), because sorted rows already waste only 6-7% on padding there and the bucketed
 * plan pads more (10-12%). "tokens" stays for backends with a high per-pass cost (webgpu) and many short rows.
 */
export const DEFAULT_BATCHING: Batching = "rows";
export const BATCHINGS: readonly Batching[] = ["tokens", "rows"];

/**
 * What one forward pass costs beyond its padded positions, counted in padded positions: the per-op overhead of a
 * small batch and a new shape's first call on a CPU. Chosen with bench/eval.ts; it only decides between one pass
 * more and that much padding, never whether a score changes.
 */
const FORWARD_COST = 512;

/** One forward pass: the indices of its rows (ascending length) and the input positions they are padded to. */
export interface PlannedBatch {
  rows: number[];
  T: number;
}

/** The bucket length of a row of n input positions (see the header's table). */
export function bucketLength(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`bucketLength: n must be a positive integer, got ${n}`);
  if (n <= 16) return 16;
  const step = Math.max(4, 2 ** (Math.floor(Math.log2(n)) - 2));
  return Math.ceil(n / step) * step;
}

/**
 * The batches for rows of the given lengths (input positions, each >= 1) under a batching, in order of length.
 * Every row is in exactly one batch, and rows of equal length keep their input order.
 */
export function planBatches(lengths: readonly number[], batchSize: number, batching: Batching): PlannedBatch[] {
  if (!BATCHINGS.includes(batching))
    throw new Error(`unknown batching '${String(batching)}': use one of ${BATCHINGS.join(", ")}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  lengths.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1) throw new Error(`planBatches: row ${i} has ${n} input positions; need >= 1`);
  });
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const out: PlannedBatch[] = [];
  if (batching === "rows") {
    for (let s = 0; s < order.length; s += batchSize) {
      const rows = order.slice(s, s + batchSize);
      out.push({ rows, T: lengths[rows[rows.length - 1]] });
    }
    return out;
  }
  if (order.length === 0) return out;
  const longest = lengths[order[order.length - 1]];
  const pad = (n: number): number => Math.min(bucketLength(n), longest);
  const budget = batchSize * pad(longest);
  // cost[j]: least padded positions + FORWARD_COST per batch for the first j sorted rows; from[j]: where the last
  // batch of that best plan starts. The last batch i..j-1 is padded to its longest row's bucket, pad(row j-1).
  const n = order.length;
  const cost = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  cost[0] = 0;
  for (let j = 1; j <= n; j++) {
    const T = pad(lengths[order[j - 1]]);
    const most = Math.max(1, Math.floor(budget / T));
    for (let i = j - 1; i >= Math.max(0, j - most); i--) {
      const c = cost[i] + FORWARD_COST + (j - i) * T;
      if (c < cost[j]) {
        cost[j] = c;
        from[j] = i;
      }
    }
  }
  for (let j = n; j > 0; j = from[j]) out.push({ rows: order.slice(from[j], j), T: pad(lengths[order[j - 1]]) });
  return out.reverse();
}

/** Fraction of the padded positions of a plan that hold no row: 1 - sum(lengths) / sum(batch rows x T). */
export function paddingWaste(lengths: readonly number[], plan: readonly PlannedBatch[]): number {
  let real = 0;
  let padded = 0;
  for (const b of plan) {
    for (const i of b.rows) real += lengths[i];
    padded += b.rows.length * b.T;
  }
  return padded === 0 ? 0 : 1 - real / padded;
}
