import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { resolveModelConfig, type ModelConfig } from "../../lib/model/config";
import { createModel } from "../../lib/model/create";
import { BaselineLM } from "../../lib/model/baseline";
import { LstLM } from "../../lib/model/lst";
import { fitUnitEntropyModel } from "../../lib/model/entropy";
import { DEFAULT_PATCHING } from "../../lib/model/patching";
import {
  generate,
  generationRule,
  promptPatchStarts,
  staticRule,
  type BoundaryRule,
  type GenerateOptions,
} from "../../lib/model/generate";
import { BaselineStepper, hypothesisBatch, PatchBook } from "../../lib/model/step-cache";
import { LstStepper } from "../../lib/model/lst-cache";
import { chunkMask } from "../../lib/model/kv-cache";
import { NEG } from "../../lib/model/masks";
import { BOS, EOS, SPEECH, TEXT } from "../../lib/tokenizers/special";
import type { DeepPartial } from "../../lib/config";
import type { Batch } from "../../lib/model/types";

const V = 48;
const U = 30; // unitOffset: ids 30..47 are speech units
const TINY: DeepPartial<ModelConfig> = {
  vocabSize: V,
  dModel: 32,
  nLayers: 2,
  nHeads: 2,
  maxSeqLen: 96,
  lst: { dLocal: 16, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 2, crossAttnK: 2, localWindow: 8, unitOffset: U },
};

function tiny(kind: "baseline" | "lst", extra: DeepPartial<ModelConfig> = {}): BaselineLM | LstLM {
  return createModel({ ...TINY, ...extra, kind, lst: { ...TINY.lst, ...extra.lst } });
}

/** Run a generation with and without the cache; every step's logits must agree within 1e-5, and the tokens exactly. */
async function parity(model: BaselineLM | LstLM, prompt: number[], opts: GenerateOptions): Promise<number> {
  const seen: { cached: Float32Array[]; full: Float32Array[] } = { cached: [], full: [] };
  const a = await generate(model, prompt, { ...opts, onStep: (s) => seen.cached.push(s.logits) });
  const b = await generate(model, prompt, { ...opts, cache: false, onStep: (s) => seen.full.push(s.logits) });
  assert.deepEqual(Array.from(a.ids), Array.from(b.ids), "cached and uncached continuations differ");
  assert.deepEqual(a.patchLengths, b.patchLengths);
  assert.equal(a.stop, b.stop);
  assert.equal(a.fullForwards, 0, "the cached path ran a full forward");
  assert.equal(b.fullForwards, seen.full.length);
  assert.equal(seen.cached.length, seen.full.length);
  let worst = 0;
  seen.cached.forEach((row, i) => {
    for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(row[v] - seen.full[i][v]));
  });
  assert.ok(worst < 1e-5, `cached logits differ from the uncached forward by ${worst}`);
  return a.ids.length;
}

test("setup: native backend", async () => {
  const r = await initBackend();
  assert.equal(r.backend, "tensorflow");
});

test("chunkMask: the worked example of kv-cache.ts (window 2, chunk of 2 after 5 positions)", () => {
  const { lo, mask } = chunkMask(5, 2, 2, [0, 0]);
  assert.equal(lo, 4);
  assert.deepEqual(Array.from(mask as Float32Array), [0, 0, NEG, NEG, 0, 0]);
  assert.equal(chunkMask(5, 1, 0, [0]).mask, null, "one query, no window: every key allowed, no mask");
  // a document starting at 3: position 5 sees keys 3..5 only
  const doc = chunkMask(5, 1, 0, [3]);
  assert.equal(doc.lo, 3);
  assert.equal(doc.mask, null);
});

test("BaselineStepper, teacher-forced: each pushed token's next-token logits equal the uncached forward's row (1e-5)", async () => {
  for (const slidingWindow of [0, 4]) {
    const model = tiny("baseline", { slidingWindow }) as BaselineLM;
    const ids = [BOS, TEXT, 7, 9, 11, EOS, BOS, SPEECH, 31, 33, 35, 31, 40, 41];
    const targets = new Int32Array(ids.length).fill(-1);
    const batch: Batch = { B: 1, T: ids.length, inputs: Int32Array.from(ids), targets };
    const full = tf.tidy(() => model.logits(batch).dataSync() as Float32Array);
    const stepper = new BaselineStepper(model);
    stepper.push(ids.slice(0, 3)); // a prefill chunk, then one token at a time
    for (let t = 2; t < ids.length; t++) {
      if (t > 2) stepper.push([ids[t]]);
      const { logits } = await stepper.next();
      for (let v = 0; v < V; v++)
        assert.ok(Math.abs(logits[v] - full[t * V + v]) < 1e-5, `window ${slidingWindow}, position ${t}, id ${v}`);
    }
    stepper.dispose();
    model.dispose();
  }
});

test("LstStepper, teacher-forced: logits under the true next patch equal the uncached forward (every position)", async () => {
  const ids = [BOS, TEXT, 7, 9, SPEECH, 31, 32, 33, 34, 35, TEXT, 8, SPEECH, 36, 37, 38];
  const book = new PatchBook();
  book.add(ids, promptPatchStarts(ids, U, staticRule(2)));
  for (const lst of [{ textPath: "global" as const }, { textPath: "local" as const, pooling: "max" as const }]) {
    const model = tiny("lst", { lst }) as LstLM;
    const stepper = new LstStepper(model, U);
    const starts = promptPatchStarts(ids, U, staticRule(2));
    stepper.push(ids.slice(0, 1), starts.slice(0, 1));
    for (let t = 0; t < ids.length - 1; t++) {
      const hyp = starts[t + 1] ? "new" : "continue";
      const prefix = new PatchBook();
      prefix.add(ids.slice(0, t + 1), starts.slice(0, t + 1));
      const batch = hypothesisBatch(prefix, hyp, U);
      const full = tf.tidy(() => tf.slice(model.logits(batch), [0, t, 0], [1, 1, V]).dataSync() as Float32Array);
      const next = await stepper.next(hyp);
      for (let v = 0; v < V; v++)
        assert.ok(Math.abs(next.logits[v] - full[v]) < 1e-5, `${lst.textPath}, position ${t} (${hyp}), id ${v}`);
      next.commit();
      stepper.push([ids[t + 1]], [starts[t + 1]]);
    }
    assert.deepEqual(stepper.book.lengths, [1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 1]);
    stepper.dispose();
    model.dispose();
  }
});

test("generate: the baseline's cache matches the uncached forward, sampled and greedy, across documents", async () => {
  const model = tiny("baseline", { slidingWindow: 6 });
  const prompt = [BOS, TEXT, 7, 9, 11, 13];
  const n = await parity(model, prompt, {
    unitOffset: U,
    maxTokens: 40,
    seed: 3,
    stopOnEos: false,
    stopOnSwitch: false,
  });
  assert.equal(n, 40);
  await parity(model, prompt, { unitOffset: U, maxTokens: 12, temperature: 0 });
  model.dispose();
});

test("generate: LST's cache matches the uncached forward under static, entropy-like and text-path variants", async () => {
  // a rule with irregular boundaries: a patch starts after an even unit, or at 3 tokens
  const irregular: BoundaryRule = {
    name: "even",
    startsPatch: (run, open) => run[run.length - 1] % 2 === 0 || open >= 3,
  };
  const prompt = [BOS, TEXT, 7, 9, SPEECH, 31, 32, 33];
  for (const [extra, rule] of [
    [{ lst: { textPath: "global" } }, staticRule(2)],
    [{ lst: { textPath: "local", pooling: "max" } }, irregular],
    [{ slidingWindow: 5, lst: { textPath: "global", localWindow: 4 } }, staticRule(3)],
  ] as [DeepPartial<ModelConfig>, BoundaryRule][]) {
    const model = tiny("lst", extra);
    // no stop: the random model mixes text and units, so runs end mid-patch and the 'new' remake is exercised
    const opts = { unitOffset: U, maxTokens: 40, seed: 5, rule, stopOnEos: false, stopOnSwitch: false };
    assert.equal(await parity(model, prompt, opts), 40);
    model.dispose();
  }
});

test("generate: the same seed gives the same continuation, another seed another one; greedy ignores the seed; no tensor leaks", async () => {
  const model = tiny("lst");
  const base = { unitOffset: U, maxTokens: 30, rule: staticRule(4), stopOnEos: false, stopOnSwitch: false };
  const prompt = [BOS, TEXT, 7, SPEECH];
  const a = await generate(model, prompt, { ...base, seed: 1 });
  const b = await generate(model, prompt, { ...base, seed: 1 });
  const c = await generate(model, prompt, { ...base, seed: 2 });
  assert.deepEqual(a.ids, b.ids);
  assert.notDeepEqual(a.ids, c.ids);
  const before = tf.memory().numTensors;
  await generate(model, prompt, { ...base, seed: 3 });
  assert.equal(tf.memory().numTensors, before, "a generation leaves tensors behind");
  const g1 = await generate(model, prompt, { ...base, seed: 1, temperature: 0 });
  const g2 = await generate(model, prompt, { ...base, seed: 9, temperature: 0 });
  assert.deepEqual(g1.ids, g2.ids);
  model.dispose();
});

/**
 * A fake model whose next token follows a script (the token after `prompt` + k generated tokens is script[k]),
 * for the stop rules; `fallback` is its second choice. Run through the uncached stepper (it calls `logits`).
 */
function scripted(kind: "baseline" | "lst", promptLen: number, script: number[], hyps: string[] = []) {
  const config = resolveModelConfig({ ...TINY, kind, maxSeqLen: 16 });
  const fake = {
    kind,
    vocabSize: V,
    config,
    logits(batch: Batch): tf.Tensor3D {
      const n = batch.T;
      if (batch.targetPatchIds) hyps.push(batch.targetPatchIds[n - 1] === batch.patchIds?.[n - 1] ? "continue" : "new");
      const row = new Float32Array(n * V);
      const want = script[n - promptLen] ?? 20;
      row[(n - 1) * V + want] = 10;
      row[(n - 1) * V + 20] = Math.max(row[(n - 1) * V + 20], 5); // the fallback, text token 20
      row[(n - 1) * V + 40] = 4; // a unit, second fallback
      return tf.tensor3d(row, [1, n, V]);
    },
  };
  return fake as unknown as BaselineLM;
}

test("generate: each stop rule (eos, switch by marker and by modality, maxTokens, context, minTokens)", async () => {
  const t2s = [BOS, TEXT, 7, SPEECH];
  const opts = { unitOffset: U, temperature: 0, cache: false };
  const run = (script: number[], o: Partial<GenerateOptions> = {}, prompt = t2s) =>
    generate(scripted("baseline", prompt.length, script), prompt, { ...opts, ...o });
  const eos = await run([31, 32, EOS]);
  assert.deepEqual([Array.from(eos.ids), eos.stop, eos.stopToken], [[31, 32], "eos", EOS]);
  const marker = await run([31, TEXT]);
  assert.deepEqual([Array.from(marker.ids), marker.stop, marker.stopToken], [[31], "switch", TEXT]);
  const modality = await run([31, 32, 9]); // a text token inside a speech segment, without <t>
  assert.deepEqual([Array.from(modality.ids), modality.stop, modality.stopToken], [[31, 32], "switch", 9]);
  const long = await run([31, 32, 33, 34, 35], { maxTokens: 3 });
  assert.deepEqual([Array.from(long.ids), long.stop, long.stopToken], [[31, 32, 33], "maxTokens", null]);
  const full = await run(Array(20).fill(31)); // maxSeqLen 16: 4 prompt + 12 generated
  assert.deepEqual([full.ids.length, full.stop], [12, "context"]);
  const early = await run([EOS, EOS, EOS], { minTokens: 2 }); // EOS banned twice: the unit fallback 40, then EOS
  assert.deepEqual([Array.from(early.ids), early.stop], [[40, 40], "eos"]);
  const across = await run([31, TEXT, 9, EOS], { stopOnSwitch: false });
  assert.deepEqual([Array.from(across.ids), across.stop], [[31, TEXT, 9], "eos"]);
  await assert.rejects(run([31], {}, []), /prompt is empty/);
  await assert.rejects(run([31], {}, [TEXT, 7]), /not BOS/);
  await assert.rejects(run([31], {}, [BOS, 99]), /prompt id 99 at position 1 is outside 0\.\.47/);
  await assert.rejects(run([31], { topP: 0 }), /topP must be in \(0, 1\]/);
});

test("generate: LST patches on the fly, the worked example of generate.ts (static p = 2, a run ending mid-patch)", async () => {
  const prompt = [BOS, TEXT, 7, SPEECH];
  const hyps: string[] = [];
  // the script is read per forward: u u u, then <t> (asked under 'continue', remade under 'new': both <t>)
  const model = scripted("lst", prompt.length, [31, 32, 33, TEXT, TEXT], hyps) as unknown as LstLM;
  const g = await generate(model, prompt, { unitOffset: U, temperature: 0, cache: false, rule: staticRule(2) });
  assert.deepEqual(Array.from(g.ids), [31, 32, 33]);
  assert.deepEqual([g.stop, g.stopToken], ["switch", TEXT]);
  assert.deepEqual(Array.from(g.patchLengths as Int32Array), [1, 1, 1, 1, 2, 1]);
  assert.deepEqual(hyps, ["new", "continue", "new", "continue", "new"]);
  await assert.rejects(generate(model, prompt, { unitOffset: U, cache: false }), /an LST model needs opts.rule/);
});

test("rules: static prompt starts, and each scheme's generation rule", () => {
  const ids = [BOS, TEXT, 7, SPEECH, 31, 32, 33, 34, 35, TEXT, 9];
  const starts = promptPatchStarts(ids, U, staticRule(2));
  assert.deepEqual(starts.map(Number), [1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1]);
  assert.deepEqual(promptPatchStarts(ids, U, staticRule(4, 3)).map(Number), [1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]);
  for (const scheme of ["static", "mixed", "curriculum"] as const)
    assert.equal(generationRule({ ...DEFAULT_PATCHING, scheme, patchSize: 6 }).name, "static p=6");
  assert.throws(() => generationRule({ ...DEFAULT_PATCHING, scheme: "aligned" }), /needs a unit n-gram/);
  const seqs = [0, 1, 2].map(() => ({
    ids: Int32Array.from([BOS, SPEECH, 31, 32, 31, 32, 33, 31, 32, EOS]),
    isSpeech: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 0]),
    wordStart: new Uint8Array(10),
    silence: new Uint8Array(10),
    bpeStart: new Uint8Array(10),
  }));
  const entropyModel = fitUnitEntropyModel(seqs, { unitOffset: U, nUnits: V - U });
  assert.throws(
    () => generationRule({ ...DEFAULT_PATCHING, scheme: "aligned" }, { entropyModel }),
    /needs ctx.alignedMeanLen >= 1/,
  );
  const aligned = generationRule({ ...DEFAULT_PATCHING, scheme: "aligned" }, { entropyModel, alignedMeanLen: 3 });
  assert.match(aligned.name, /aligned stand-in/);
  assert.match(generationRule({ ...DEFAULT_PATCHING, scheme: "entropy" }, { entropyModel }).name, /^entropy global/);
});
