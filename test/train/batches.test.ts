import { test } from "node:test";
import assert from "node:assert/strict";
import { cutLengths, makeBatchStream, measureStream } from "../../lib/train/batches";
import { makePatcher, resolvePatchingConfig } from "../../lib/model/patching";
import type { SequenceSource } from "../../lib/data/types";
import { BOS, EOS, PAD, SPEECH, TEXT } from "../../lib/tokenizers/special";
import { SeqBuilder, syntheticSource, SYNTHETIC_VOCAB } from "../../lib/train/synthetic";

const u = SYNTHETIC_VOCAB.unitOffset + 1;
const w = 7;
const d0 = new SeqBuilder().tok(BOS).tok(SPEECH).word([1, 1, 1, 1, 1]).tok(EOS).build();
const d1 = new SeqBuilder().tok(BOS).tok(TEXT).tok(w).tok(EOS).build();
/** every row's block starts with d0, then d1 over and over (rows start at multiples of the stride) */
const exampleSource = (stride: number): SequenceSource => ({
  vocabSize: SYNTHETIC_VOCAB.size,
  unitOffset: SYNTHETIC_VOCAB.unitOffset,
  sequenceAt: (i) => (i % stride === 0 ? d0 : d1),
});
const staticPatcher = makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 });

test("worked example of the header: baseline row", () => {
  const s = makeBatchStream(exampleSource(11), {
    kind: "baseline",
    batchSize: 1,
    seqLen: 10,
    globalLen: 0,
    maxRawLen: 0,
    seed: 0,
  });
  const { batch, rawTokens, globalUnits } = s.batchAt(0);
  assert.deepEqual(Array.from(batch.inputs), [BOS, SPEECH, u, u, u, u, u, EOS, BOS, TEXT]);
  assert.deepEqual(Array.from(batch.targets), [SPEECH, u, u, u, u, u, EOS, BOS, TEXT, w]);
  assert.deepEqual(rawTokens, { speech: 5, text: 5 });
  assert.equal(globalUnits, 10);
});

test("worked example of the header: LST row under globalLen 5 and maxRawLen 12", () => {
  const s = makeBatchStream(exampleSource(13), {
    kind: "lst",
    batchSize: 1,
    seqLen: 0,
    globalLen: 5,
    maxRawLen: 12,
    patcher: staticPatcher,
    seed: 0,
  });
  const { batch, rawTokens, globalUnits } = s.batchAt(0);
  assert.equal(batch.T, 12);
  assert.equal(batch.P, 5);
  assert.deepEqual(Array.from(batch.inputs), [BOS, SPEECH, u, u, u, u, u, EOS, PAD, PAD, PAD, PAD]);
  assert.deepEqual(Array.from(batch.targets), [SPEECH, u, u, u, u, u, EOS, BOS, -1, -1, -1, -1]);
  assert.deepEqual(Array.from(batch.patchIds!), [0, 1, 2, 2, 2, 2, 3, 4, -1, -1, -1, -1]);
  assert.deepEqual(Array.from(batch.targetPatchIds!), [1, 2, 2, 2, 2, 3, 4, 5, -1, -1, -1, -1]);
  assert.deepEqual(rawTokens, { speech: 5, text: 3 });
  assert.equal(globalUnits, 5);
});

test("the raw cap cuts a row inside a patch", () => {
  const s = makeBatchStream(exampleSource(5), {
    kind: "lst",
    batchSize: 1,
    seqLen: 0,
    globalLen: 5,
    maxRawLen: 4,
    patcher: staticPatcher,
    seed: 0,
  });
  const { batch, globalUnits } = s.batchAt(0);
  assert.deepEqual(Array.from(batch.inputs), [BOS, SPEECH, u, u]);
  assert.deepEqual(Array.from(batch.patchIds!), [0, 1, 2, 2]);
  assert.deepEqual(Array.from(batch.targetPatchIds!), [1, 2, 2, 2]);
  assert.equal(globalUnits, 3);
  assert.deepEqual(Array.from(cutLengths([1, 1, 4, 1], 4)), [1, 1, 2]);
});

test("batchAt is pure in the step (any order, any repeat) and seeds change the data", () => {
  const src = syntheticSource(2);
  const opts = {
    kind: "lst" as const,
    batchSize: 3,
    seqLen: 0,
    globalLen: 24,
    maxRawLen: 48,
    patcher: staticPatcher,
    seed: 4,
  };
  const a = makeBatchStream(src, opts);
  const b = makeBatchStream(src, opts);
  const s5 = a.batchAt(5);
  b.batchAt(9);
  assert.deepEqual(b.batchAt(5), s5);
  assert.deepEqual(a.batchAt(5), s5);
  assert.notDeepEqual(makeBatchStream(src, { ...opts, seed: 5 }).batchAt(5).batch.inputs, s5.batch.inputs);
  for (let step = 0; step < 8; step++) {
    const { batch, globalUnits } = a.batchAt(step);
    assert.ok(globalUnits <= 3 * 24);
    assert.equal(batch.inputs.length, 3 * 48);
  }
});

test("compute-controlled: same global units per step, LST reads more raw tokens", () => {
  const src = syntheticSource(1);
  const base = makeBatchStream(src, {
    kind: "baseline",
    batchSize: 4,
    seqLen: 32,
    globalLen: 0,
    maxRawLen: 0,
    seed: 0,
  });
  const lst = makeBatchStream(src, {
    kind: "lst",
    batchSize: 4,
    seqLen: 0,
    globalLen: 32,
    maxRawLen: 128,
    patcher: staticPatcher,
    seed: 0,
  });
  const mb = measureStream(base, 10);
  const ml = measureStream(lst, 10);
  assert.equal(mb.tokensPerGlobalUnit, 1);
  assert.equal(mb.globalUnitsPerStep, 4 * 32);
  assert.equal(ml.globalUnitsPerStep, 4 * 32);
  assert.ok(ml.tokensPerGlobalUnit > 1.2, `LST reads ${ml.tokensPerGlobalUnit} tokens per patch`);
  // the header's example
});

test("options are checked with clear errors", () => {
  const src = syntheticSource(0);
  assert.throws(
    () => makeBatchStream(src, { kind: "lst", batchSize: 1, seqLen: 0, globalLen: 4, maxRawLen: 8, seed: 0 }),
    /needs a patcher/,
  );
  assert.throws(
    () =>
      makeBatchStream(src, {
        kind: "baseline",
        batchSize: 1,
        seqLen: 8,
        globalLen: 0,
        maxRawLen: 0,
        patcher: staticPatcher,
        seed: 0,
      }),
    /takes no patcher/,
  );
  assert.throws(
    () => makeBatchStream(src, { kind: "baseline", batchSize: 0, seqLen: 8, globalLen: 0, maxRawLen: 0, seed: 0 }),
    /batchSize/,
  );
  assert.throws(
    () =>
      makeBatchStream(src, { kind: "baseline", batchSize: 1, seqLen: 8, globalLen: 0, maxRawLen: 0, seed: 0 }).batchAt(
        -1,
      ),
    /non-negative/,
  );
});
