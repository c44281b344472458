/**
 * Steppers: what the generation loop (generate.ts) asks a model for, one token at a time. A stepper holds the
 * tokens pushed so far and gives the logits of the next one:
 *   push(ids, starts)   append tokens; `starts[i]` = token i starts a new patch (LST; the baseline ignores it)
 *   next(hyp)           logits of the next token under a patch hypothesis (LST, below), then commit or discard
 *
 * Patch hypotheses (LST only). The decoder predicts a token of patch j from the global output of patch j-1
 * (types.ts), so the logits of the next token depend on whether it continues the open patch or starts a new one:
 *   continue   it joins the patch of the last token: read the patch before that one (already closed)
 *   new        it starts a patch: the last token's patch closes, the global model runs on it, and it is read
 * Worked example (static p = 2; the row of types.ts): BOS <s> u1 u2 u3, patches [1, 1, 2, 1]; the next token
 * u4 would continue patch 3 (lengths [1,1,2,2]): position 4 reads patch 2 ('continue'); a `<t>` would start
 * patch 4: position 4 reads patch 3 ('new'). The baseline has one answer for both.
 *
 * Two kinds here: `BaselineStepper` (a key/value cache, kv-cache.ts) and `FullForwardStepper` (the reference:
 * one uncached forward of the whole prefix per token, through the model's own `logits`; what the caches are
 * tested against). LST's cached stepper is lst-cache.ts.
 */
import * as tf from "@tensorflow/tfjs-core";
import { EOS } from "../tokenizers/special";
import type { BaselineLM } from "./baseline";
import { StackCache } from "./kv-cache";
import { gatherRows, linear } from "./layers";
import { TensorCache } from "./masks";
import type { Batch, LanguageModel } from "./types";

export type Hypothesis = "new" | "continue";

/** The logits of the next token; `commit` keeps the state computed for them, `discard` drops it. */
export interface NextLogits {
  logits: Float32Array;
  commit(): void;
  discard(): void;
}

export interface Stepper {
  /** tokens pushed so far */
  readonly length: number;
  /** the most tokens this stepper can hold (the model's maxSeqLen) */
  readonly capacity: number;
  /** forward passes over the whole prefix so far (0 for a cached stepper) */
  readonly fullForwards: number;
  push(ids: readonly number[], starts: readonly boolean[]): void;
  next(hyp: Hypothesis): Promise<NextLogits>;
  dispose(): void;
}

/** Patch lengths of pushed tokens (LST bookkeeping shared by both LST steppers); throws on an impossible start. */
export class PatchBook {
  readonly ids: number[] = [];
  readonly lengths: number[] = [];
  /** patch id of every token */
  readonly patchOf: number[] = [];

  add(ids: readonly number[], starts: readonly boolean[]): void {
    if (starts.length !== ids.length) throw new Error(`push: ${ids.length} ids but ${starts.length} patch-start flags`);
    ids.forEach((id, i) => {
      const first = this.ids.length === 0;
      if (first && !starts[i]) throw new Error("push: the first token (BOS) must start patch 0");
      if (starts[i] || first) this.lengths.push(1);
      else this.lengths[this.lengths.length - 1]++;
      this.ids.push(id);
      this.patchOf.push(this.lengths.length - 1);
    });
  }

  /** The patch the last token's successor reads under `hyp` (see the header). */
  readPatch(hyp: Hypothesis): number {
    const last = this.patchOf[this.patchOf.length - 1];
    if (last === undefined) throw new Error("next: push the prompt first (it holds at least BOS)");
    const r = hyp === "new" ? last : last - 1;
    if (r < 0) throw new Error(`next('continue') after the first patch: BOS is a patch of its own; use 'new'`);
    return r;
  }
}

/** The baseline with a key/value cache: one pass of the new tokens per push, the head on the last one. */
export class BaselineStepper implements Stepper {
  readonly fullForwards = 0;
  readonly capacity: number;
  private readonly tables = new TensorCache();
  private readonly stack: StackCache;
  private last: tf.Tensor3D | null = null; // trunk output of the last pushed token, [1,1,d]
  private n = 0;

  constructor(private readonly model: BaselineLM) {
    const cfg = model.config;
    this.capacity = cfg.maxSeqLen;
    this.stack = new StackCache(
      model.cacheParts().blocks.layers,
      { window: cfg.slidingWindow, docReset: cfg.docReset, ropeTheta: cfg.ropeTheta, capacity: this.capacity },
      this.tables,
    );
  }

  get length(): number {
    return this.n;
  }

  push(ids: readonly number[]): void {
    if (ids.length === 0) return;
    const { embed } = this.model.cacheParts();
    const d = this.model.config.dModel;
    const x = tf.tidy(
      () => tf.reshape(gatherRows(embed as tf.Tensor2D, Int32Array.from(ids)), [1, ids.length, d]) as tf.Tensor3D,
    ); // [n,d] -> [1,n,d]
    const { y, pending } = this.stack.forward(
      x,
      ids.map((id) => id === EOS),
    );
    x.dispose();
    this.stack.commit(pending);
    this.last?.dispose();
    this.last = tf.tidy(() => tf.slice(y, [0, ids.length - 1, 0], [1, 1, d]));
    y.dispose();
    this.n += ids.length;
  }

  async next(): Promise<NextLogits> {
    if (!this.last) throw new Error("next: push the prompt first (it holds at least BOS)");
    const { norm, head } = this.model.cacheParts();
    const last = this.last;
    const t = tf.tidy(() => linear(norm.normalize(last), head as tf.Tensor2D, norm.gain)); // [1,1,d] -> [1,1,V]
    const logits = (await t.data()) as Float32Array;
    t.dispose();
    return { logits, commit: () => undefined, discard: () => undefined };
  }

  dispose(): void {
    this.stack.dispose();
    this.last?.dispose();
    this.tables.dispose();
  }
}

/**
 * The reference stepper: every `next` runs `model.logits` on the whole prefix (plus, for LST, a placeholder
 * token that carries the hypothesis' patch ids, see `hypothesisBatch`), and returns the last row.
 */
export class FullForwardStepper implements Stepper {
  readonly book = new PatchBook();
  readonly capacity: number;
  private forwards = 0;

  constructor(
    private readonly model: LanguageModel & { config: { maxSeqLen: number } },
    private readonly unitOffset: number,
  ) {
    this.capacity = model.config.maxSeqLen;
  }

  get length(): number {
    return this.book.ids.length;
  }

  get fullForwards(): number {
    return this.forwards;
  }

  push(ids: readonly number[], starts: readonly boolean[]): void {
    this.book.add(ids, starts);
  }

  async next(hyp: Hypothesis): Promise<NextLogits> {
    const batch =
      this.model.kind === "lst" ? hypothesisBatch(this.book, hyp, this.unitOffset) : plainBatch(this.book.ids);
    const n = this.book.ids.length;
    const V = this.model.vocabSize;
    const row = tf.tidy(() => tf.slice(this.model.logits(batch), [0, n - 1, 0], [1, 1, V]));
    this.forwards++;
    const logits = (await row.data()) as Float32Array;
    row.dispose();
    return { logits, commit: () => undefined, discard: () => undefined };
  }

  dispose(): void {}
}

/** One row of n input positions: the ids, targets shifted (the last target ignored). */
function plainBatch(ids: readonly number[]): Batch {
  const n = ids.length;
  const targets = new Int32Array(n).fill(-1);
  for (let t = 0; t + 1 < n; t++) targets[t] = ids[t + 1];
  return { B: 1, T: n, inputs: Int32Array.from(ids), targets };
}

/**
 * The LST batch whose last position predicts the next token under `hyp`: the prefix's patch ids, and for the last
 * position the target patch id of a placeholder token that continues its patch or starts a new one. Example (the
 * header's): ids BOS <s> u1 u2 u3, patchOf [0,1,2,2,3]: 'continue' -> targetPatchIds [1,2,2,3,3]; 'new' -> [..,4].
 */
export function hypothesisBatch(book: PatchBook, hyp: Hypothesis, unitOffset: number): Batch {
  const plain = plainBatch(book.ids);
  const n = book.ids.length;
  const patchIds = Int32Array.from(book.patchOf);
  const targetPatchIds = new Int32Array(n);
  for (let t = 0; t + 1 < n; t++) targetPatchIds[t] = book.patchOf[t + 1];
  const last = book.patchOf[n - 1];
  targetPatchIds[n - 1] = book.readPatch(hyp) + 1;
  // the placeholder target is never scored; a unit for 'continue' keeps the layout's checks honest
  plain.targets[n - 1] = hyp === "continue" ? unitOffset : EOS;
  return { ...plain, patchIds, targetPatchIds, P: last + 1 };
}
