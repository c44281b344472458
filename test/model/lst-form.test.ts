import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { toBatch, type BatchRow } from "../../lib/model/batch";
import { resolveModelConfig, type ModelConfig } from "../../lib/model/config";
import { attendCompact } from "../../lib/model/compact-attention";
import { decoderReadMaskData, encoderSpanMaskData, meanPoolData } from "../../lib/model/cross-masks";
import { AUTO_FORM, decoderReadRows, LstLM, lstBatchLayout, type LstForm } from "../../lib/model/lst";
import { Rng } from "../../lib/rng";
import { BOS, EOS, SPEECH, TEXT } from "../../lib/tokenizers/special";
import type { DeepPartial } from "../../lib/config";
import type { Batch } from "../../lib/model/types";

const V = 48;

function config(extra: DeepPartial<ModelConfig["lst"]> = {}): ModelConfig {
  return resolveModelConfig({
    kind: "lst",
    vocabSize: V,
    dModel: 32,
    nLayers: 2,
    nHeads: 2,
    maxSeqLen: 64,
    lst: { dLocal: 16, nHeadsLocal: 2, encoderLayers: 1, decoderLayers: 2, crossAttnK: 2, localWindow: 8, ...extra },
  });
}

/** 0/1 rows of an additive mask (1 = kept). */
const kept = (data: Float32Array, from: number, width: number) =>
  [...data.subarray(from, from + width)].map((v) => (v === 0 ? 1 : 0));

/**
 * Three rows of T = 24: static patches of 4; variable lengths 1..6 (the shape of aligned patching: length-1
 * text patches, longer speech patches) with an EOS and a second document; a short row padded (empty patches).
 */
/** Rows of patches of 4 ('static'), of 1..6 ('variable') or of 1..11 tokens ('long': lmax pads to 16 slots). */
function batches(kind: "static" | "variable" | "long", seed: number, n: number): Batch[] {
  const rng = new Rng(seed);
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    const rows: BatchRow[] = [];
    for (let b = 0; b < 3; b++) {
      const len = b === 2 ? 14 : 25;
      const ids = new Int32Array(len);
      for (let t = 0; t < len; t++) ids[t] = 5 + rng.int(V - 5);
      ids[0] = BOS;
      const lengths = [1];
      if (kind === "static") for (let left = len - 1; left > 0; left -= 4) lengths.push(Math.min(4, left));
      else {
        for (let left = len - 1; left > 0;) {
          const l = Math.min(left, 1 + rng.int(kind === "long" ? 11 : 6));
          lengths.push(l);
          left -= l;
        }
        if (b === 0 && lengths.length > 6) {
          // a document end: EOS closes patch 3, the next patch is a length-1 BOS
          const endOf3 = lengths.slice(0, 4).reduce((a, c) => a + c, 0);
          ids[endOf3 - 1] = EOS;
          if (lengths[4] === 1) ids[endOf3] = BOS;
        }
      }
      rows.push({ ids, patchLengths: Int32Array.from(lengths) });
    }
    out.push(toBatch(rows, { T: 24 }));
  }
  return out;
}

test("setup: native backend", async () => {
  assert.equal((await initBackend()).backend, "tensorflow");
});

test("cross-masks: the worked example of cross-masks.ts (the row of types.ts)", () => {
  const ids = Int32Array.from([BOS, SPEECH, 40, 41, 42, 43, 44, TEXT, 30, 31]);
  const lay = lstBatchLayout(toBatch([{ ids, patchLengths: Int32Array.from([1, 1, 4, 1, 1, 1, 1]) }], { T: 9 }));
  const k = 2;
  const dec = decoderReadMaskData(lay, 1, 9, k); // [9 tokens x 12 slots]
  assert.deepEqual(kept(dec, 0, 12), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  for (const t of [1, 2, 3, 4]) assert.deepEqual(kept(dec, t * 12, 12), [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(kept(dec, 5 * 12, 12), [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(kept(dec, 8 * 12, 12), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  const enc = encoderSpanMaskData(lay, 1, 9, k); // [6 patches x 2 queries x 9 tokens]
  for (const i of [0, 1]) {
    assert.deepEqual(kept(enc, (0 * k + i) * 9, 9), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(kept(enc, (2 * k + i) * 9, 9), [0, 0, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(kept(enc, (5 * k + i) * 9, 9), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  }
  const pool = meanPoolData(lay, 1, 9); // [6 patches x 9 tokens]
  assert.deepEqual([...pool.subarray(0, 9)], [1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...pool.subarray(18, 27)], [0, 0, 0.25, 0.25, 0.25, 0.25, 0, 0, 0]);
  // padding: an empty patch reads token 0 (as the gathered form's slot 0), a padded position patch 0
  const padded = lstBatchLayout(
    toBatch([{ ids: Int32Array.from([BOS, 12, 13]), patchLengths: Int32Array.from([1, 2]) }], { T: 4, P: 3 }),
  );
  assert.deepEqual([...meanPoolData(padded, 1, 4).subarray(2 * 4, 3 * 4)], [1, 0, 0, 0]);
  assert.deepEqual(kept(decoderReadMaskData(padded, 1, 4, 1), 3 * 3, 3), [1, 0, 0]);
});

test("decoderReadRows: the worked example of lst-layout.ts, a second row and padding", () => {
  const ids = Int32Array.from([BOS, SPEECH, 40, 41, 42, 43, 44, TEXT, 30, 31]);
  const worked = { ids, patchLengths: Int32Array.from([1, 1, 4, 1, 1, 1, 1]) };
  const short = { ids: Int32Array.from([BOS, 12, 13, 14]), patchLengths: Int32Array.from([1, 2, 1]) };
  const batch = toBatch([worked, short], { T: 9 }); // P = 6; the short row: 3 patches, padded from t = 3
  const lay = lstBatchLayout(batch);
  assert.deepEqual([...lay.readPatch.subarray(9)], [0, 0, 1, -1, -1, -1, -1, -1, -1]); // targets 12, 13 in patch 1, 14 in patch 2
  assert.deepEqual(
    [...decoderReadRows(lay, 2, 9)],
    [0, 1, 1, 1, 1, 2, 3, 4, 5, /* row 1: + P = 6 */ 6, 6, 7, 6, 6, 6, 6, 6, 6],
  );
});

test("attendCompact: values and gradients equal softmax(q k^T + mask) v by matmuls (2 queries, 3 keys, a mask)", () => {
  const [N, nq, nk, H, dh] = [3, 2, 3, 2, 4];
  const rng = new Rng(5);
  const rand = (shape: [number, number, number, number]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.normal()),
      shape,
    ) as tf.Tensor4D;
  const [q, k, v] = [rand([N, nq, H, dh]), rand([N, nk, H, dh]), rand([N, nk, H, dh])];
  const maskData = Float32Array.from({ length: N * nk }, (_, i) => (i % nk === 2 && i < nk * 2 ? -1e9 : 0)); // group 0, 1: slot 2 hidden
  const mask = tf.tensor4d(maskData, [N, 1, 1, nk]);
  const w = rand([N, nq, H, dh]); // a fixed weighting, so that every output element has its own gradient
  const reference = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
    const heads = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [N,n,H,dh] -> [N,H,n,dh]
    const p = tf.softmax(tf.add(tf.matMul(heads(a), heads(b), false, true), mask)); // [N,H,nq,nk]
    return tf.transpose(tf.matMul(p, heads(c)), [0, 2, 1, 3]); // [N,H,nq,dh] -> [N,nq,H,dh]
  };
  const loss = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a, b, c), w)))([q, k, v]);
  const compact = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
    attendCompact(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask);
  const close = (x: tf.Tensor, y: tf.Tensor, what: string) => {
    const [xs, ys] = [x.dataSync(), y.dataSync()];
    for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(xs[i] - ys[i]) < 1e-5, `${what} ${i}: ${xs[i]} vs ${ys[i]}`);
  };
  close(compact(q, k, v), reference(q, k, v), "value");
  const [gc, gr] = [loss(compact), loss(reference)];
  ["dq", "dk", "dv"].forEach((name, i) => close(gc[i], gr[i], name));
  // the hidden slot takes no weight: its value gets no gradient
  assert.ok(Math.max(...tf.slice(gc[2], [0, 2, 0, 0], [2, 1, H, dh]).dataSync().map(Math.abs)) === 0);
  tf.dispose([q, k, v, mask, w, ...gc, ...gr]);
});

test("LstLM form: 'auto' takes AUTO_FORM; a bad form throws", () => {
  const cfg = config();
  const auto = new LstLM(cfg);
  assert.equal(auto.resolvedForm(), AUTO_FORM);
  const gathered = new LstLM(cfg, { form: "gathered" });
  assert.equal(gathered.resolvedForm(), "gathered");
  assert.throws(
    () => new LstLM(cfg, { form: "dense" as LstForm }),
    /form must be one of fused, gathered, compact, auto/,
  );
  auto.dispose();
  gathered.dispose();
});

const CASES = [
  { rows: "static", lst: { pooling: "avg" } },
  { rows: "static", lst: { pooling: "max" } },
  { rows: "variable", lst: { pooling: "avg" } },
  { rows: "variable", lst: { pooling: "max" } },
  { rows: "variable", lst: { pooling: "avg", textPath: "global", unitOffset: 20, crossAttnK: 1 } },
  { rows: "long", lst: { pooling: "avg" } },
  { rows: "long", lst: { pooling: "max" } },
] as const;

test("fused and compact forms against the gathered one: same nll and same gradients on one batch", () => {
  for (const c of CASES) {
    const label = `${c.rows} ${JSON.stringify(c.lst)}`;
    const cfg = config(c.lst);
    const [batch] = batches(c.rows, 11, 1);
    const models = (["gathered", "fused", "compact"] as const).map((form) => new LstLM(cfg, { form }));
    const res = models.map((m) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(m.tokenNll(batch)) as tf.Scalar, m.variables);
        return {
          nll: m.tokenNll(batch).dataSync() as Float32Array,
          loss: value.dataSync()[0],
          grads: m.variables.map((v) => grads[v.name].dataSync() as Float32Array),
        };
      }),
    );
    const [g, ...others] = res;
    others.forEach((f, o) => {
      const form = models[o + 1].form;
      for (let i = 0; i < f.nll.length; i++)
        assert.ok(Math.abs(f.nll[i] - g.nll[i]) < 1e-5, `${label} ${form}: nll ${i} ${f.nll[i]} vs ${g.nll[i]}`);
      models[0].variables.forEach((v, j) => {
        let scale = 0;
        let diff = 0;
        for (let i = 0; i < g.grads[j].length; i++) {
          scale = Math.max(scale, Math.abs(g.grads[j][i]));
          diff = Math.max(diff, Math.abs(f.grads[j][i] - g.grads[j][i]));
        }
        assert.ok(
          diff <= 1e-4 * scale + 1e-8,
          `${label} ${form}: gradient of ${v.name} differs by ${diff} (max |g| ${scale})`,
        );
      });
    });
    for (const m of models) m.dispose();
  }
});

test("fused and compact forms against the gathered one: training losses over 50 Adam steps agree", () => {
  for (const c of CASES.slice(0, 4)) {
    const label = `${c.rows} ${JSON.stringify(c.lst)}`;
    const cfg = config(c.lst);
    const data = batches(c.rows, 12, 5); // cycled, so that the model learns them
    const forms = ["gathered", "fused", "compact"] as const;
    const curves = forms.map((form) => {
      const m = new LstLM(cfg, { form });
      const opt = tf.train.adam(1e-3);
      const losses: number[] = [];
      const counts: number[] = [];
      for (let s = 0; s < 50; s++) {
        // from step 5 on every batch shape has been seen (the model caches masks and rotary tables per shape)
        if (s >= 5 && s < 9) counts.push(tf.memory().numTensors);
        const batch = data[s % data.length];
        const loss = opt.minimize(() => tf.mean(m.tokenNll(batch)) as tf.Scalar, true, m.variables) as tf.Scalar;
        losses.push(loss.dataSync()[0]);
        loss.dispose();
      }
      assert.ok(
        counts.every((n) => n === counts[0]),
        `${label} ${form}: tensor count grew over steps: ${counts.join(", ")}`,
      );
      opt.dispose();
      m.dispose();
      return losses;
    });
    const [g, ...others] = curves;
    assert.ok(g[49] < g[0] - 0.15, `${label}: the model must learn (${g[0]} -> ${g[49]})`);
    others.forEach((f, o) => {
      for (let s = 0; s < 50; s++)
        assert.ok(
          Math.abs(f[s] - g[s]) < 1e-4,
          `${label}: step ${s} loss ${f[s]} (${forms[o + 1]}) vs ${g[s]} (gathered)`,
        );
    });
  }
});
