import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { scoreEndings, endingRow } from "../../lib/eval/score";
import { createModel } from "../../lib/model/create";
import { makePatcher, resolvePatchingConfig } from "../../lib/model/patching";
import { toBatch } from "../../lib/model/batch";
import type { EncodedItem } from "../../lib/data/bench-encode";
import type { LmSequence } from "../../lib/data/types";
import type { LanguageModel } from "../../lib/model/types";
import { BOS, SPEECH, TEXT, makeVocab } from "../../lib/tokenizers/special";

before(async () => {
  await initBackend();
});

const vocab = makeVocab(40, 12); // units are LM ids 40..51

/** A sequence of text ids, or of unit ids (word segments of 3 frames) when speech. */
function seq(ids: number[], speech: boolean): LmSequence {
  const n = ids.length;
  const mark = (f: (i: number) => boolean) => Uint8Array.from({ length: n }, (_, i) => (speech && f(i) ? 1 : 0));
  return {
    ids: Int32Array.from(ids),
    isSpeech: mark(() => true),
    wordStart: mark((i) => i % 3 === 0),
    silence: mark(() => false),
    bpeStart: mark((i) => i % 3 === 0),
  };
}

function cat(head: number[], body: LmSequence): LmSequence {
  const z = new Uint8Array(head.length);
  const join = (a: Uint8Array, b: Uint8Array) => Uint8Array.from([...a, ...b]);
  return {
    ids: Int32Array.from([...head, ...body.ids]),
    isSpeech: join(z, body.isSpeech),
    wordStart: join(z, body.wordStart),
    silence: join(z, body.silence),
    bpeStart: join(z, body.bpeStart),
  };
}

/** Items of different lengths in S2S and T2T, so batches pad and LST batches have different patch counts. */
function items(): EncodedItem[] {
  const out: EncodedItem[] = [];
  for (let i = 0; i < 5; i++) {
    const len = 3 + 2 * i;
    const units = Array.from({ length: len }, (_, k) => vocab.unitOffset + ((k * 5 + i) % 12));
    const text = Array.from({ length: len }, (_, k) => 5 + ((k * 7 + i) % 30));
    const endingsS = [0, 1, 2].map((e) =>
      seq(
        Array.from({ length: 2 + e + i }, (_, k) => vocab.unitOffset + ((k + e * 3) % 12)),
        true,
      ),
    );
    const endingsT = [0, 1].map((e) =>
      seq(
        Array.from({ length: 1 + e + (i % 2) }, (_, k) => 5 + ((k + e * 11) % 30)),
        false,
      ),
    );
    out.push({
      id: `s${i}`,
      benchmark: "hs",
      direction: "S2S",
      type: "t",
      tier: 0,
      label: i % 3,
      prompt: cat([BOS, SPEECH], seq(units, true)),
      endings: endingsS,
    });
    out.push({
      id: `t${i}`,
      benchmark: "sc",
      direction: "T2T",
      type: "t",
      tier: 0,
      label: i % 2,
      prompt: cat([BOS, TEXT], seq(text, false)),
      endings: endingsT,
    });
  }
  return out;
}

const tiny = {
  vocabSize: vocab.size,
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  maxSeqLen: 64,
  lst: { dLocal: 16, nHeadsLocal: 1, decoderLayers: 1, localWindow: 0 },
};

async function check(model: LanguageModel, patcher?: (s: LmSequence) => Int32Array): Promise<void> {
  const list = items();
  const one = await scoreEndings(model, list, { batchSize: 1, patcher, norm: "pmi" });
  const many = await scoreEndings(model, list, { batchSize: 7, patcher, norm: "pmi" });
  for (let i = 0; i < list.length; i++) {
    one[i].nll.forEach((x, k) =>
      assert.ok(
        Math.abs(x - many[i].nll[k]) < 1e-4,
        `item ${list[i].id} ending ${k}: ${x} alone vs ${many[i].nll[k]} in a padded batch`,
      ),
    );
    one[i].nllUncond!.forEach((x, k) => assert.ok(Math.abs(x - many[i].nllUncond![k]) < 1e-4));
    assert.ok(one[i].nll.every((x) => Number.isFinite(x) && x > 0));
  }
  // the summed NLL is the sum over the ending's target positions of the model's own tokenNll
  const it = list[3];
  const row = endingRow(it.prompt, it.endings[1]);
  const batch = toBatch([{ ids: row.seq.ids, ...(patcher ? { patchLengths: patcher(row.seq) } : {}) }], {
    T: row.seq.ids.length - 1,
  });
  const nllT = tf.tidy(() => model.tokenNll(batch));
  const per = nllT.arraySync()[0];
  nllT.dispose();
  const manual = per.slice(row.from, row.from + row.count).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(manual - one[3].nll[1]) < 1e-4, `${manual} vs ${one[3].nll[1]}`);
}

test("a real baseline: padding and batch size do not change the ending NLL", async () => {
  const before = tf.memory().numTensors;
  const model = createModel({ ...tiny, kind: "baseline" });
  await check(model);
  model.dispose();
  // scoring leaves nothing behind once the model (weights and its cached masks) is gone
  assert.equal(tf.memory().numTensors, before);
});

test("a real LST with static and aligned eval patchers: padding and batch size do not change the ending NLL", async () => {
  const model = createModel({ ...tiny, kind: "lst" });
  await check(model, makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 }));
  await check(model, makePatcher(resolvePatchingConfig({ scheme: "aligned" }), { totalSteps: 1 }));
  model.dispose();
});
