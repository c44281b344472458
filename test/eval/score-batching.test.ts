/**
 * The batched scorer (token-budget batching, bucketed padding, deduplicated rows) against a straightforward
 * scorer written here: every row alone in a batch of its own length, on a small random baseline and LST.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { scoreEndings, endingRow, truncateRow, type BatchInfo, type Norm } from "../../lib/eval/score";
import { createModel } from "../../lib/model/create";
import { makePatcher, resolvePatchingConfig } from "../../lib/model/patching";
import { toBatch } from "../../lib/model/batch";
import type { EncodedItem } from "../../lib/data/bench-encode";
import type { LmSequence } from "../../lib/data/types";
import type { LanguageModel } from "../../lib/model/types";
import { BOS, SPEECH, TEXT, makeVocab } from "../../lib/tokenizers/special";
import { Rng } from "../../lib/rng";

before(async () => {
  await initBackend();
});

const vocab = makeVocab(40, 12); // text ids below 40, units 40..51

/** n random text ids, or unit ids with a word segment every ~3 frames. */
function tokens(rng: Rng, n: number, speech: boolean, head: number[] = []): LmSequence {
  const len = head.length + n;
  const ids = new Int32Array(len);
  const isSpeech = new Uint8Array(len);
  const wordStart = new Uint8Array(len);
  ids.set(head);
  for (let i = head.length; i < len; i++) {
    ids[i] = speech ? vocab.unitOffset + rng.int(12) : 5 + rng.int(30);
    isSpeech[i] = speech ? 1 : 0;
    wordStart[i] = speech && (i === head.length || rng.next() < 1 / 3) ? 1 : 0;
  }
  return { ids, isSpeech, wordStart, silence: new Uint8Array(len), bpeStart: wordStart.slice() };
}

/**
 * Items in the four directions with prompts of 2-40 tokens and 2-4 endings of 1-12, so rows range over
 * several buckets. Items k and k+1 share their endings (a pmi unconditional row runs once for both), and one
 * item repeats an ending (the same row twice).
 */
function items(): EncodedItem[] {
  const rng = new Rng(11);
  const dirs = ["S2S", "T2T", "S2T", "T2S"] as const;
  const out: EncodedItem[] = [];
  for (let i = 0; i < 24; i++) {
    const d = dirs[i % 4];
    const speechOut = d[2] === "S";
    const k = 2 + rng.int(3);
    const endings =
      i % 4 === 3 // a T2S item shares the speech endings of the S2S item before it (i - 3)
        ? out[i - 3].endings.slice()
        : Array.from({ length: k }, () => tokens(rng, 1 + rng.int(12), speechOut));
    if (i === 5) endings.push(endings[0]);
    out.push({
      id: `i${i}`,
      benchmark: "hs",
      direction: d,
      type: "t",
      tier: 0,
      label: rng.int(endings.length),
      prompt: tokens(rng, rng.int(39), d[0] === "S", [BOS, d[0] === "S" ? SPEECH : TEXT]),
      endings,
    });
  }
  return out;
}

/** Summed NLL of a row's ending targets, the row alone in a batch of exactly its length. */
function nllAlone(model: LanguageModel, seq: LmSequence, from: number, count: number, patcher?: Patcher): number {
  const batch = toBatch([{ ids: seq.ids, ...(patcher ? { patchLengths: patcher(seq) } : {}) }], {
    T: seq.ids.length - 1,
  });
  const t = tf.tidy(() => model.tokenNll(batch));
  const per = t.dataSync();
  t.dispose();
  let sum = 0;
  for (let k = from; k < from + count; k++) sum += per[k];
  return sum;
}

type Patcher = (s: LmSequence) => Int32Array;

/** The straightforward scorer: per-ending NLLs (and pmi's, after `BOS <m>`), then the score by its formula. */
function scoreAlone(model: LanguageModel, it: EncodedItem, norm: Norm, maxLen: number, patcher?: Patcher): number[] {
  return it.endings.map((e) => {
    const full = endingRow(it.prompt, e);
    const row = maxLen > 0 ? truncateRow(full, maxLen).row : full;
    const nll = nllAlone(model, row.seq, row.from, row.count, patcher);
    if (norm === "sum") return -nll;
    if (norm === "mean") return -nll / e.ids.length;
    const marker = e.isSpeech[0] === 1 ? SPEECH : TEXT;
    const z = (n: number) => new Uint8Array(n);
    const prefix: LmSequence = {
      ids: Int32Array.from([BOS, marker]),
      isSpeech: z(2),
      wordStart: z(2),
      silence: z(2),
      bpeStart: z(2),
    };
    const u = endingRow(prefix, e);
    return nllAlone(model, u.seq, u.from, u.count, patcher) - nll;
  });
}

const tiny = {
  vocabSize: vocab.size,
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  maxSeqLen: 64,
  lst: { dLocal: 16, nHeadsLocal: 1, decoderLayers: 1, localWindow: 8 },
};

async function compare(model: LanguageModel, patcher?: Patcher): Promise<void> {
  const list = items();
  for (const maxLen of [0, 20]) {
    for (const norm of ["mean", "sum", "pmi"] as Norm[]) {
      const batches: BatchInfo[] = [];
      const got = await scoreEndings(model, list, {
        norm,
        maxLen,
        patcher,
        batchSize: 4,
        batching: "tokens",
        onBatch: (b) => batches.push(b),
      });
      const rows = await scoreEndings(model, list, { norm, maxLen, patcher, batchSize: 4, batching: "rows" });
      list.forEach((it, i) => {
        const want = scoreAlone(model, it, norm, maxLen, patcher);
        want.forEach((x, k) => {
          for (const [name, s] of [
            ["tokens", got[i]],
            ["rows", rows[i]],
          ] as const)
            assert.ok(
              Math.abs(s.scores[k] - x) < 1e-4,
              `${model.kind} ${norm} maxLen ${maxLen} ${name}: item ${it.id} ending ${k}: ${s.scores[k]} batched vs ${x} alone`,
            );
        });
        assert.equal(
          got[i].chosen,
          want.indexOf(Math.max(...want)),
          `${norm} item ${it.id}: the same ending is chosen`,
        );
      });
      // the batched pass did batch, pad to buckets and drop repeated rows
      const nRows = list.reduce((a, it) => a + it.endings.length, 0) * (norm === "pmi" ? 2 : 1);
      const ran = batches.reduce((a, b) => a + b.rows, 0);
      assert.ok(ran < nRows, `${ran} rows run for ${nRows} scored: repeated rows run once`);
      assert.ok(
        batches.some((b) => b.rows > 4),
        "short rows go more than batchSize at a time",
      );
      assert.ok(batches.length < ran / 4, `${batches.length} batches for ${ran} rows`);
      assert.ok(batches.some((b) => b.rows * b.T > b.tokens));
      if (model.kind === "lst") assert.ok(batches.every((b) => b.P !== undefined && b.P <= b.T));
    }
  }
}

test("a real baseline: token-budget batching scores as each row alone does (mean, sum, pmi; with and without maxLen)", async () => {
  const model = createModel({ ...tiny, kind: "baseline" });
  await compare(model);
  model.dispose();
});

test("a real LST with a static eval patcher: token-budget batching scores as each row alone does", async () => {
  const model = createModel({ ...tiny, kind: "lst" });
  await compare(model, makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 }));
  model.dispose();
});

test("the tensor count stays flat across a scoring call (baseline and LST, both batchings)", async () => {
  const list = items();
  for (const kind of ["baseline", "lst"] as const) {
    const model = createModel({ ...tiny, kind });
    const patcher =
      kind === "lst"
        ? makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 })
        : undefined;
    for (const batching of ["tokens", "rows"] as const) {
      const opts = { patcher, batching, norm: "pmi" as Norm, maxLen: 20, batchSize: 4 };
      await scoreEndings(model, list, opts); // the model's shape caches fill on the first call
      const before = tf.memory().numTensors;
      await scoreEndings(model, list, opts);
      assert.equal(tf.memory().numTensors, before, `${kind} ${batching}`);
    }
    model.dispose();
  }
});
