import { test } from "node:test";
import assert from "node:assert/strict";
import {
  alignedPatchLengths,
  checkedPatcher,
  curriculumAlignedProb,
  evalPatchingBase,
  makePatcher,
  meanSpeechPatchLen,
  needsEntropyModel,
  PATCH_SCHEMES,
  PATCHING_SCHEMES,
  resolvePatchingConfig,
} from "../../lib/model/patching";
import { fitUnitEntropyModel, UnitEntropyModel } from "../../lib/model/entropy";
import { checkPatchLengths, lengthsFromBoundaries, splitLongPatches } from "../../lib/model/patch-ids";
import type { LmSequence } from "../../lib/data/types";
import { BOS, EOS, SPEECH, TEXT } from "../../lib/tokenizers/special";
import { SeqBuilder, syntheticSequence } from "../../lib/train/synthetic";

const arr = (x: Int32Array) => Array.from(x);

/** The header's example: BOS <s> sil[2,4) word[4,8) sil[8,10) word[10,12) EOS */
function headerExample(): LmSequence {
  return new SeqBuilder().tok(BOS).tok(SPEECH).sil(2).word([1, 1, 2, 2]).sil(2).word([3, 3]).tok(EOS).build();
}

test("worked example of the header: static, aligned separate/merged, max length", () => {
  const s = headerExample();
  assert.deepEqual(Array.from(s.wordStart), [0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(s.silence), [0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0]);
  const p = (o: object) => arr(makePatcher(resolvePatchingConfig(o), { totalSteps: 10 })(s, 0));
  assert.deepEqual(p({ scheme: "static" }), [1, 1, 4, 4, 2, 1]);
  assert.deepEqual(p({ scheme: "aligned" }), [1, 1, 2, 4, 2, 2, 1]);
  assert.deepEqual(p({ scheme: "aligned", silence: "merged" }), [1, 1, 8, 2, 1]);
  assert.deepEqual(p({ scheme: "aligned", silence: "merged", maxPatchLen: 3 }), [1, 1, 3, 3, 2, 2, 1]);
});

test("word vs bpe alignment: BPE pieces split a word, silences stay separate", () => {
  // <s> sil(1) word of 6 frames with BPE pieces at 0 and 2, then sil(2)
  const s = new SeqBuilder()
    .tok(BOS)
    .tok(SPEECH)
    .sil(1)
    .word([1, 1, 2, 2, 3, 3], [0, 2])
    .sil(2)
    .tok(TEXT)
    .tok(7)
    .tok(EOS)
    .build();
  assert.deepEqual(arr(alignedPatchLengths(s, "word", "separate")), [1, 1, 1, 6, 2, 1, 1, 1]);
  assert.deepEqual(arr(alignedPatchLengths(s, "bpe", "separate")), [1, 1, 1, 2, 4, 2, 1, 1, 1]);
  assert.deepEqual(arr(alignedPatchLengths(s, "word", "merged")), [1, 1, 9, 1, 1, 1]);
  assert.deepEqual(arr(alignedPatchLengths(s, "bpe", "merged")), [1, 1, 3, 6, 1, 1, 1]);
});

test("merged silence: a silence-only run is one patch; two runs are independent", () => {
  const s = new SeqBuilder()
    .tok(BOS)
    .tok(SPEECH)
    .sil(3)
    .tok(TEXT)
    .tok(8)
    .tok(SPEECH)
    .word([1, 1])
    .sil(1)
    .word([2, 2, 2])
    .tok(EOS)
    .build();
  assert.deepEqual(arr(alignedPatchLengths(s, "word", "merged")), [1, 1, 3, 1, 1, 1, 3, 3, 1]);
  assert.deepEqual(arr(alignedPatchLengths(s, "word", "separate")), [1, 1, 3, 1, 1, 1, 2, 1, 3, 1]);
});

test("aligned patching without alignments fails with a clear error", () => {
  const s = headerExample();
  const bare: LmSequence = { ...s, wordStart: new Uint8Array(s.ids.length), bpeStart: new Uint8Array(s.ids.length) };
  assert.throws(
    () => alignedPatchLengths(bare, "word", "separate"),
    /aligned patching needs alignments.*token 2.*wordStart/,
  );
  assert.throws(() => alignedPatchLengths(bare, "bpe", "merged"), /bpeStart/);
});

test("every scheme tiles every speech span exactly (synthetic corpus)", () => {
  const seqs = Array.from({ length: 60 }, (_, i) => syntheticSequence(3, i));
  const entropyModel = fitUnitEntropyModel(seqs, { unitOffset: 16, nUnits: 8, order: 3 });
  const configs = [
    { scheme: "static", patchSize: 4 },
    { scheme: "static", patchSize: 9 },
    { scheme: "aligned" },
    { scheme: "aligned", align: "bpe", silence: "merged" },
    { scheme: "aligned", maxPatchLen: 3 },
    { scheme: "mixed" },
    { scheme: "curriculum" },
    { scheme: "entropy", entropyMeanLen: 0, entropyThreshold: 1 },
    { scheme: "entropy", entropyMeanLen: 0, entropyMode: "monotonic", entropyThreshold: 0.2, maxPatchLen: 5 },
    { scheme: "entropy" },
    { scheme: "entropy", entropyMode: "monotonic", entropyMeanLen: 6 },
  ] as const;
  for (const c of configs) {
    const cfg = resolvePatchingConfig(c);
    const patcher = checkedPatcher(makePatcher(cfg, { totalSteps: 30, entropyModel }));
    for (const [i, s] of seqs.entries()) {
      const lengths = patcher(s, i % 30);
      checkPatchLengths(lengths, s); // also inside checkedPatcher: explicit for the reader
      if (cfg.maxPatchLen > 0)
        assert.ok(Math.max(...lengths) <= cfg.maxPatchLen, `${JSON.stringify(c)}: patch longer than max`);
      // every speech run starts a patch, and the speech patches of a run sum to its length
      const starts = new Set<number>();
      let t = 0;
      for (const l of lengths) {
        starts.add(t);
        t += l;
      }
      for (let u = 0; u < s.ids.length; u++) {
        if (s.isSpeech[u] && (u === 0 || !s.isSpeech[u - 1]))
          assert.ok(starts.has(u), `${JSON.stringify(c)}: run at ${u} does not start a patch`);
      }
    }
  }
});

test("curriculumAlignedProb at given steps (total 300, tau 1/3 and 2/3)", () => {
  const p = (step: number) => curriculumAlignedProb(step, 300, 1 / 3, 2 / 3);
  assert.equal(p(0), 1);
  assert.equal(p(99), 1);
  assert.equal(p(100), 1);
  assert.ok(Math.abs(p(150) - 0.5) < 1e-12);
  assert.ok(Math.abs(p(199) - 0.01) < 1e-12);
  assert.equal(p(200), 0);
  assert.equal(p(299), 0);
  assert.equal(curriculumAlignedProb(5, 10, 0.5, 0.5), 0); // tau1 = tau2: a switch
});

test("curriculum: aligned first, static last, a mix in between; deterministic per (seed, step, sequence)", () => {
  const seqs = Array.from({ length: 80 }, (_, i) => syntheticSequence(5, i)).filter((s) => s.isSpeech.some((x) => x));
  const cfg = resolvePatchingConfig({ scheme: "curriculum" });
  const cur = makePatcher(cfg, { totalSteps: 300 });
  const aligned = makePatcher(resolvePatchingConfig({ scheme: "aligned" }), { totalSteps: 300 });
  const stat = makePatcher(resolvePatchingConfig({ scheme: "static" }), { totalSteps: 300 });
  const differ = seqs.filter((s) => arr(aligned(s)).join() !== arr(stat(s)).join());
  assert.ok(differ.length > 20);
  const alignedShare = (step: number) =>
    differ.filter((s) => arr(cur(s, step)).join() === arr(aligned(s)).join()).length / differ.length;
  assert.equal(alignedShare(50), 1);
  assert.equal(alignedShare(250), 0);
  const mid = alignedShare(150);
  assert.ok(mid > 0.2 && mid < 0.8, `share at the ramp's middle: ${mid}`);
  assert.deepEqual(arr(cur(differ[0], 150)), arr(cur(differ[0], 150)));
  assert.throws(() => cur(differ[0]), /needs the training step/);
});

test("mixed: about mixedProb of sequences aligned; probability 0 and 1 are pure", () => {
  const seqs = Array.from({ length: 200 }, (_, i) => syntheticSequence(9, i));
  const aligned = makePatcher(resolvePatchingConfig({ scheme: "aligned" }), { totalSteps: 1 });
  const stat = makePatcher(resolvePatchingConfig({ scheme: "static" }), { totalSteps: 1 });
  const differ = seqs.filter((s) => arr(aligned(s)).join() !== arr(stat(s)).join());
  const share = (prob: number) => {
    const m = makePatcher(resolvePatchingConfig({ scheme: "mixed", mixedProb: prob }), { totalSteps: 1 });
    return differ.filter((s) => arr(m(s, 7)).join() === arr(aligned(s)).join()).length / differ.length;
  };
  assert.equal(share(0), 0);
  assert.equal(share(1), 1);
  const half = share(0.5);
  assert.ok(half > 0.3 && half < 0.7, `mixed share ${half}`);
});

test("entropy model: worked example of entropy.ts, global and monotonic criteria", () => {
  const fit = new SeqBuilder().tok(BOS).tok(SPEECH).word([0, 1, 0, 1, 0, 1]).tok(EOS).build();
  const m = fitUnitEntropyModel([fit], { unitOffset: 16, nUnits: 4, order: 2 });
  assert.deepEqual(m.toJSON().counts, {
    "": [
      [0, 3],
      [1, 3],
    ],
    "0": [[1, 3]],
    "1": [[0, 2]],
  });
  const run = new SeqBuilder().tok(BOS).tok(SPEECH).word([0, 1, 0, 1, 1, 3, 0, 1]).tok(EOS).build();
  const h = Array.from(m.entropies(run)).map((x) => Number(x.toFixed(4)));
  assert.deepEqual(h, [0, 0, 1.1935, 0.5528, 0.6739, 0.5528, 0.6739, 0.6739, 1.1935, 0.5528, 0]);
  assert.deepEqual(arr(m.patchLengths(run, 1.0, "global")), [1, 1, 6, 2, 1]);
  assert.deepEqual(arr(m.patchLengths(run, 0.3, "monotonic")), [1, 1, 6, 2, 1]);
  assert.deepEqual(arr(m.patchLengths(run, 1.0, "global", 4)), [1, 1, 4, 2, 2, 1]);
  // distributions sum to 1
  for (const ctx of [[], [0], [3], [1, 0]])
    assert.ok(Math.abs(m.distribution(ctx).reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test("entropy model serializes to JSON and back with identical entropies", () => {
  const seqs = Array.from({ length: 30 }, (_, i) => syntheticSequence(1, i));
  const m = fitUnitEntropyModel(seqs, { unitOffset: 16, nUnits: 8, order: 3 });
  const back = UnitEntropyModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  for (const s of seqs.slice(0, 5)) assert.deepEqual(Array.from(back.entropies(s)), Array.from(m.entropies(s)));
  assert.throws(() => UnitEntropyModel.fromJSON({ ...m.toJSON(), version: 99 }), /refit/);
  assert.throws(
    () => makePatcher(resolvePatchingConfig({ scheme: "entropy" }), { totalSteps: 1 }),
    /needs an entropyModel/,
  );
});

test("entropy threshold calibration: patches average the target length on the fit data", () => {
  const seqs = Array.from({ length: 60 }, (_, i) => syntheticSequence(3, i));
  const m = fitUnitEntropyModel(seqs, { unitOffset: 16, nUnits: 8, order: 3 });
  const meanOver = (threshold: number, mode: "global" | "monotonic") => {
    let frames = 0;
    let patches = 0;
    for (const s of seqs) {
      const lengths = m.patchLengths(s, threshold, mode);
      const n = lengths.length;
      let t = 0;
      for (let i = 0; i < n; i++) {
        if (s.isSpeech[t]) {
          frames += lengths[i];
          patches++;
        }
        t += lengths[i];
      }
    }
    return frames / patches;
  };
  for (const mode of ["global", "monotonic"] as const) {
    for (const target of [2, 4]) {
      const got = meanOver(m.thresholdForMeanLength(target, mode), mode);
      // ties between equal entropies make the count inexact; a fixed threshold of 2 nats gave ~1 frame per patch
      assert.ok(
        Math.abs(got - target) / target < 0.25,
        `${mode} target ${target}: mean patch length ${got.toFixed(2)}`,
      );
    }
  }
  // a longer target needs a higher threshold
  assert.ok(m.thresholdForMeanLength(6, "global") >= m.thresholdForMeanLength(2, "global"));
  const loaded = UnitEntropyModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.throws(() => loaded.thresholdForMeanLength(4, "global"), /no fit data.*entropyMeanLen = 0/);
  assert.equal(loaded.thresholdForMeanLength(4, "global", seqs), m.thresholdForMeanLength(4, "global"));
  assert.throws(() => resolvePatchingConfig({ entropyMeanLen: 0.5 }), /entropyMeanLen must be 0/);
});

test("helpers: lengthsFromBoundaries, splitLongPatches, meanSpeechPatchLen; config errors", () => {
  const s = {
    ids: Int32Array.from([1, 20, 21, 22, 2]),
    isSpeech: Uint8Array.from([0, 1, 1, 1, 0]),
    wordStart: new Uint8Array(5),
    silence: new Uint8Array(5),
    bpeStart: new Uint8Array(5),
  };
  assert.deepEqual(arr(lengthsFromBoundaries(s, (t) => t === 3)), [1, 2, 1, 1]);
  assert.deepEqual(arr(splitLongPatches(Int32Array.from([1, 7, 1]), 3)), [1, 3, 3, 1, 1]);
  assert.deepEqual(arr(splitLongPatches(Int32Array.from([1, 7]), 0)), [1, 7]);
  const six = { ...s, ids: new Int32Array(9), isSpeech: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 0]) };
  assert.equal(meanSpeechPatchLen(Int32Array.from([1, 1, 4, 2, 1]), six), 3);
  assert.throws(() => resolvePatchingConfig({ sheme: "static" } as object), /unknown config key 'patching.sheme'/);
  assert.throws(() => resolvePatchingConfig({ tau1: 0.8, tau2: 0.5 }), /tau1 <= tau2/);
  assert.throws(() => resolvePatchingConfig({ scheme: "fancy" as "static" }), /scheme must be one of/);
});

test("the registry: every scheme has a check, a builder, its needs and an eval scheme that is itself registered", () => {
  assert.deepEqual([...PATCHING_SCHEMES], ["static", "aligned", "mixed", "curriculum", "entropy"]);
  const s = headerExample();
  const entropyModel = fitUnitEntropyModel([s, s], { unitOffset: 16, nUnits: 8 });
  for (const name of PATCHING_SCHEMES) {
    const def = PATCH_SCHEMES[name];
    assert.ok(PATCHING_SCHEMES.includes(def.evalScheme), `${name}: eval scheme ${def.evalScheme}`);
    const cfg = resolvePatchingConfig({ scheme: name });
    const ctx = { totalSteps: 10, entropyModel: def.needs.entropyModel ? entropyModel : undefined };
    const built = makePatcher(cfg, ctx);
    assert.equal(built.config, cfg);
    assert.equal(built.totalSteps, 10);
    assert.equal(built.entropyModel, def.needs.entropyModel ? entropyModel : undefined);
    checkPatchLengths(built(s, 0), s);
  }
  // curriculum and mixed evaluate with static patches, the others with themselves
  const evalOf = (scheme: string) => evalPatchingBase(resolvePatchingConfig({ scheme: scheme as "static", seed: 7 }));
  assert.deepEqual(
    PATCHING_SCHEMES.map((n) => evalOf(n).scheme),
    ["static", "aligned", "static", "static", "entropy"],
  );
  assert.equal(evalOf("curriculum").seed, 7);
  assert.equal(needsEntropyModel(resolvePatchingConfig({}), resolvePatchingConfig({ scheme: "entropy" })), true);
  assert.equal(needsEntropyModel(resolvePatchingConfig({ scheme: "curriculum" })), false);
  // a resolved config resolves to itself (a check, not a second truth); a scheme's own check runs on every config
  const c = resolvePatchingConfig({ scheme: "mixed", mixedProb: 0.25, seed: 3 });
  assert.deepEqual(resolvePatchingConfig(c), c);
  assert.throws(() => resolvePatchingConfig({ scheme: "static", mixedProb: 2 }), /mixedProb must be in \[0, 1\]/);
  assert.throws(
    () => resolvePatchingConfig({ scheme: "toString" as "static" }),
    /scheme must be one of static, aligned, mixed, curriculum, entropy/,
  );
});
