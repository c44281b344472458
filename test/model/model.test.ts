import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { toBatch, type BatchRow } from "../../lib/model/batch";
import { resolveModelConfig, type ModelConfig } from "../../lib/model/config";
import { createModel } from "../../lib/model/create";
import { paramCountFromConfig } from "../../lib/model/flops";
import { lstBatchLayout } from "../../lib/model/lst";
import { Rng } from "../../lib/rng";
import { BOS, EOS, SPEECH, TEXT } from "../../lib/tokenizers/special";
import type { DeepPartial } from "../../lib/config";
import type { Batch, LanguageModel } from "../../lib/model/types";

const V = 48;
const TINY: DeepPartial<ModelConfig> = {
  vocabSize: V,
  dModel: 32,
  nLayers: 2,
  nHeads: 2,
  maxSeqLen: 64,
  lst: { dLocal: 16, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 2, crossAttnK: 2, localWindow: 8 },
};

function tiny(kind: "baseline" | "lst", extra: DeepPartial<ModelConfig> = {}): LanguageModel {
  return createModel({ ...TINY, ...extra, kind, lst: { ...TINY.lst, ...extra.lst } });
}

function randomIds(rng: Rng, n: number): Int32Array {
  const ids = new Int32Array(n);
  ids[0] = BOS;
  for (let i = 1; i < n; i++) ids[i] = 5 + Math.floor(rng.next() * (V - 5));
  return ids;
}

/** Patch lengths [1, p, p, ..., rest] over n ids (BOS alone, then static patches). */
function staticLengths(n: number, p: number): Int32Array {
  const out = [1];
  for (let left = n - 1; left > 0; left -= p) out.push(Math.min(p, left));
  return Int32Array.from(out);
}

/** Random patch lengths in 1..maxLen after a length-1 BOS patch. */
function randomLengths(rng: Rng, n: number, maxLen: number): Int32Array {
  const out = [1];
  for (let left = n - 1; left > 0;) {
    const len = Math.min(left, 1 + Math.floor(rng.next() * maxLen));
    out.push(len);
    left -= len;
  }
  return Int32Array.from(out);
}

function nllOf(model: LanguageModel, batch: Batch): Float32Array {
  return tf.tidy(() => model.tokenNll(batch).dataSync() as Float32Array);
}

test("setup: native backend", async () => {
  const r = await initBackend();
  assert.equal(r.backend, "tensorflow");
});

test("lstBatchLayout: the worked decoder-shift example of types.ts / batch.ts", () => {
  //   ids            BOS <s> u1 u2 u3 u4 u5 <t> w1 w2          patchLengths [1,1,4,1,1,1,1]
  const u = [40, 41, 42, 43, 44];
  const ids = Int32Array.from([BOS, SPEECH, ...u, TEXT, 30, 31]);
  const batch = toBatch([{ ids, patchLengths: Int32Array.from([1, 1, 4, 1, 1, 1, 1]) }], { T: 9 });
  assert.deepEqual([...batch.patchIds!], [0, 1, 2, 2, 2, 2, 3, 4, 5]);
  assert.deepEqual([...batch.targetPatchIds!], [1, 2, 2, 2, 2, 3, 4, 5, 6]);
  assert.equal(batch.P, 6);
  const lay = lstBatchLayout(batch);
  assert.deepEqual([...lay.start], [0, 1, 2, 6, 7, 8]);
  assert.deepEqual([...lay.length], [1, 1, 4, 1, 1, 1]);
  // the decoder reads the global output of patch targetPatchId - 1
  assert.deepEqual([...lay.readPatch], [0, 1, 1, 1, 1, 2, 3, 4, 5]);
  assert.deepEqual([...lay.patchEnds], [0, 0, 0, 0, 0, 0]);
});

test("lstBatchLayout: padding and EOS patches; bad patch ids throw", () => {
  // row 0: BOS a EOS BOS b (4 inputs, 5 patches incl. the target's); row 1 padded after 2 inputs
  const rows: BatchRow[] = [
    { ids: Int32Array.from([BOS, 10, EOS, BOS, 11]), patchLengths: Int32Array.from([1, 1, 1, 1, 1]) },
    { ids: Int32Array.from([BOS, 12, 13]), patchLengths: Int32Array.from([1, 2]) },
  ];
  const batch = toBatch(rows, { T: 4 });
  const lay = lstBatchLayout(batch);
  assert.equal(lay.P, 4);
  assert.deepEqual([...lay.length], [1, 1, 1, 1, 1, 1, 0, 0]);
  assert.deepEqual([...lay.start], [0, 1, 2, 3, 0, 1, -1, -1]);
  assert.deepEqual([...lay.patchEnds], [0, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual([...lay.readPatch], [0, 1, 2, 3, 0, 0, -1, -1]);
  const broken = { ...batch, patchIds: Int32Array.from([0, 2, 2, 3, 0, 1, -1, -1]) };
  assert.throws(() => lstBatchLayout(broken), /patch id 2 after 0/);
  const leaky = { ...batch, targetPatchIds: Int32Array.from([1, 3, 3, 4, 1, 1, -1, -1]) };
  assert.throws(() => lstBatchLayout(leaky), /break causality/);
  assert.throws(
    () => lstBatchLayout({ B: 1, T: 2, inputs: new Int32Array(2), targets: new Int32Array(2) }),
    /needs patchIds/,
  );
});

test("shapes of tokenNll and logits; ignored targets give 0", () => {
  const rng = new Rng(1);
  for (const kind of ["baseline", "lst"] as const) {
    const m = tiny(kind);
    const rows: BatchRow[] = [randomIds(rng, 13), randomIds(rng, 9)].map((ids) =>
      kind === "lst" ? { ids, patchLengths: staticLengths(ids.length, 4) } : { ids },
    );
    const batch = toBatch(rows, { T: 12 });
    tf.tidy(() => {
      assert.deepEqual(m.tokenNll(batch).shape, [2, 12]);
      assert.deepEqual(m.logits(batch).shape, [2, 12, V]);
    });
    const nll = nllOf(m, batch);
    for (let t = 8; t < 12; t++) assert.equal(nll[12 + t], 0, `padded position ${t} of row 1 must have nll 0`);
    for (let t = 0; t < 8; t++) assert.ok(nll[12 + t] > 0 && Number.isFinite(nll[12 + t]));
    m.dispose();
  }
});

/** Changing ids[j] changes inputs[j] and targets[j-1]: every nll before position j-1 must stay the same. */
function assertCausal(model: LanguageModel, ids: Int32Array, lengths: Int32Array | undefined, label: string): void {
  const T = ids.length - 1;
  const make = (x: Int32Array) => toBatch([lengths ? { ids: x, patchLengths: lengths } : { ids: x }], { T });
  const ref = nllOf(model, make(ids));
  for (const j of [2, 5, Math.floor(T / 2), T - 3, T]) {
    const changed = ids.slice();
    changed[j] = changed[j] === 7 ? 8 : 7;
    const nll = nllOf(model, make(changed));
    for (let t = 0; t < j - 1; t++) {
      assert.ok(
        Math.abs(nll[t] - ref[t]) < 1e-5,
        `${label}: changing token ${j} changed the nll at position ${t} (${ref[t]} -> ${nll[t]})`,
      );
    }
    assert.ok(
      Math.abs(nll[j - 1] - ref[j - 1]) > 1e-7,
      `${label}: the nll of position ${j - 1} (target changed) must change`,
    );
  }
}

test("causality: baseline, and LST under static, word-like and random patches", () => {
  const rng = new Rng(2);
  const n = 31;
  const ids = randomIds(rng, n);
  const base = tiny("baseline");
  assertCausal(base, ids, undefined, "baseline");
  base.dispose();
  for (const pooling of ["avg", "max"] as const) {
    const lst = tiny("lst", { lst: { pooling } });
    assertCausal(lst, ids, staticLengths(n, 4), `lst static 4 ${pooling}`);
    // word-aligned-like: BOS <t> w w <s> [word 5][sil 2][word 7] <t> w w w <s> [word 7]
    const word = Int32Array.from([1, 1, 1, 1, 1, 5, 2, 7, 1, 1, 1, 1, 1, 7]);
    assertCausal(lst, ids, word, `lst word-like ${pooling}`);
    assertCausal(lst, ids, randomLengths(rng, n, 6), `lst random ${pooling}`);
    lst.dispose();
  }
  const light = tiny("lst", { lst: { encoderLayers: 0, crossAttnK: 1, localWindow: 0 } }); // pools raw embeddings; k*dLocal != dModel
  assertCausal(light, ids, randomLengths(rng, n, 4), "lst no encoder layer, k = 1, full local attention");
  light.dispose();
  const textGlobal = tiny("lst", { lst: { textPath: "global", unitOffset: 20 } });
  assertCausal(textGlobal, ids, randomLengths(rng, n, 5), "lst textPath global");
  textGlobal.dispose();
});

test("EOS resets attention: a document's nll does not depend on the one packed before it", () => {
  // row: BOS d0... EOS BOS d1...; positions from the second BOS on must ignore d0 (each doc starts with a length-1 BOS patch)
  const rng = new Rng(3);
  const d0 = randomIds(rng, 10);
  const d1 = randomIds(rng, 12);
  const row = (first: Int32Array) => Int32Array.from([...first, EOS, ...d1]);
  const second = d0.length + 1; // position of d1's BOS
  const lengths = Int32Array.from([...staticLengths(d0.length, 3), 1, ...staticLengths(d1.length, 3)]);
  for (const kind of ["baseline", "lst"] as const) {
    const m = tiny(kind);
    const nll = (first: Int32Array) => {
      const ids = row(first);
      return nllOf(m, toBatch([kind === "lst" ? { ids, patchLengths: lengths } : { ids }], { T: ids.length - 1 }));
    };
    const a = nll(d0);
    const other = d0.slice();
    for (let i = 1; i < other.length; i++) other[i] = 5 + ((other[i] + 11) % (V - 5));
    const b = nll(other);
    for (let t = second; t < a.length; t++)
      assert.ok(Math.abs(a[t] - b[t]) < 1e-5, `${kind}: position ${t} (second document) changed ${a[t]} -> ${b[t]}`);
    const off = createModel({ ...TINY, kind, docReset: false });
    const ids = row(d0);
    const idsB = row(other);
    const mk = (x: Int32Array) =>
      toBatch([kind === "lst" ? { ids: x, patchLengths: lengths } : { ids: x }], { T: x.length - 1 });
    const c = nllOf(off, mk(ids));
    const e = nllOf(off, mk(idsB));
    assert.ok(
      Math.abs(c[a.length - 1] - e[a.length - 1]) > 1e-7,
      `${kind}: without docReset the second document must see the first`,
    );
    off.dispose();
    m.dispose();
  }
});

test("padding: a short row padded to T scores as it does alone", () => {
  const rng = new Rng(4);
  const short = randomIds(rng, 11);
  const long = randomIds(rng, 21);
  for (const kind of ["baseline", "lst"] as const) {
    const m = tiny(kind);
    const r = (ids: Int32Array): BatchRow =>
      kind === "lst" ? { ids, patchLengths: staticLengths(ids.length, 4) } : { ids };
    const alone = nllOf(m, toBatch([r(short)], { T: 10 }));
    const packed = nllOf(m, toBatch([r(long), r(short)], { T: 20 }));
    for (let t = 0; t < 10; t++)
      assert.ok(
        Math.abs(alone[t] - packed[20 + t]) < 1e-5,
        `${kind}: position ${t}: ${alone[t]} alone vs ${packed[20 + t]} padded`,
      );
    m.dispose();
  }
});

test("config: unknown keys and impossible combinations throw with the fix", () => {
  assert.throws(
    () => createModel({ ...TINY, kind: "lst", dModle: 32 } as DeepPartial<ModelConfig>),
    /unknown config key 'model.dModle'/,
  );
  assert.throws(
    () => createModel({ ...TINY, kind: "lst", lst: { crossAtnK: 2 } } as DeepPartial<ModelConfig>),
    /unknown config key 'model.lst.crossAtnK'/,
  );
  assert.throws(() => createModel({ ...TINY, nHeads: 3 }), /not divisible by nHeads 3/);
  assert.throws(() => createModel({ ...TINY, dModel: 12, nHeads: 4 }), /must be even for rotary/);
  assert.throws(() => createModel({ ...TINY, vocabSize: 0 }), /vocabSize.*SequenceSource.vocabSize/);
  assert.throws(
    () => createModel({ ...TINY, kind: "lst", lst: { dLocal: 16, nHeadsLocal: 3 } }),
    /not divisible by lst.nHeadsLocal/,
  );
  assert.throws(() => createModel({ ...TINY, kind: "lst", lst: { decoderLayers: 0 } }), /decoderLayers/);
  assert.throws(() => createModel({ ...TINY, kind: "lst", lst: { textPath: "global" } }), /unitOffset/);
  assert.throws(
    () => createModel({ ...TINY, dModel: "32" } as unknown as DeepPartial<ModelConfig>),
    /must be a number/,
  );
  const m = tiny("baseline");
  assert.throws(
    () => nllOf(m, toBatch([{ ids: randomIds(new Rng(1), 70) }], { T: 69 })),
    /exceeds the model's maxSeqLen 64/,
  );
  assert.throws(() => nllOf(m, toBatch([{ ids: Int32Array.from([BOS, V + 3]) }], { T: 1 })), /outside 0..47/);
  m.dispose();
});

test("param counts by module match the config formula; same seed, same weights", () => {
  for (const kind of ["baseline", "lst"] as const) {
    for (const extra of [{}, { lst: { crossAttnK: 1 } }, { lst: { textPath: "global" as const, unitOffset: 20 } }]) {
      const m = tiny(kind, extra);
      const got = m.paramCount();
      const want = paramCountFromConfig(
        resolveModelConfig({ ...TINY, ...extra, kind, lst: { ...TINY.lst, ...extra.lst } }),
      );
      assert.deepEqual(got, want, `${kind} ${JSON.stringify(extra)}`);
      m.dispose();
    }
  }
  assert.deepEqual(Object.keys(paramCountFromConfig(resolveModelConfig({ ...TINY, kind: "baseline" })).byModule), [
    "embed",
    "global",
    "head",
  ]);
  const a = tiny("lst");
  const b = tiny("lst");
  const c = tiny("lst", { seed: 1 });
  assert.deepEqual(
    a.variables.map((v) => v.shape),
    b.variables.map((v) => v.shape),
  );
  for (let i = 0; i < a.variables.length; i++) {
    assert.deepEqual(a.variables[i].dataSync(), b.variables[i].dataSync(), `variable ${a.variables[i].name}`);
  }
  assert.notDeepEqual(a.variables[0].dataSync(), c.variables[0].dataSync());
  for (const m of [a, b, c]) m.dispose();
});

test("LST logits at a position whose target is ignored still read the target's patch", () => {
  const rng = new Rng(5);
  const ids = randomIds(rng, 14);
  const m = tiny("lst");
  const batch = toBatch([{ ids, patchLengths: staticLengths(14, 4) }], { T: 13 });
  const hidden = { ...batch, targets: batch.targets.slice() };
  hidden.targets[12] = -1; // e.g. the next token is unknown, but its patch (targetPatchIds) is given
  const a = tf.tidy(() => tf.slice(m.logits(batch), [0, 12, 0], [1, 1, V]).dataSync());
  const b = tf.tidy(() => tf.slice(m.logits(hidden), [0, 12, 0], [1, 1, V]).dataSync());
  assert.deepEqual(b, a);
  m.dispose();
});
