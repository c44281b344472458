import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { applyRope, CrossAttention, ropeTables, SelfAttention } from "../../lib/model/attention";
import { linear, ParamFactory, rmsNormalize, swiglu } from "../../lib/model/layers";
import { lstBatchLayout, patchSpans } from "../../lib/model/lst";
import { spanSlots } from "../../lib/model/lst-layout";
import { toBatch } from "../../lib/model/batch";
import {
  blockedMaskData,
  causalMaskData,
  documentStarts,
  NEG,
  selfAttentionMask,
  TensorCache,
} from "../../lib/model/masks";

const allowedRows = (data: Float32Array, width: number) => {
  const rows: number[][] = [];
  for (let i = 0; i < data.length; i += width)
    rows.push([...data.subarray(i, i + width)].map((v) => (v === 0 ? 1 : 0)));
  return rows;
};

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

test("setup: native backend", async () => {
  assert.equal((await initBackend()).backend, "tensorflow");
});

test("masks: the worked examples of masks.ts", () => {
  assert.deepEqual([...documentStarts(Uint8Array.from([0, 0, 1, 0, 1, 0]), 1, 6)], [0, 0, 0, 3, 3, 5]);
  assert.deepEqual(allowedRows(causalMaskData(1, 4, 2, null), 4), [
    [1, 0, 0, 0],
    [1, 1, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 1],
  ]);
  // blocked, n = 6, W = 2: block b's key slots are positions (b-1)*2 .. (b-1)*2+3; query q sees q-1 and q
  assert.deepEqual(allowedRows(blockedMaskData(1, 6, 2, null), 4), [
    [0, 0, 1, 0],
    [0, 0, 1, 1], // block 0: queries 0, 1 over positions [-2, -1, 0, 1]
    [0, 1, 1, 0],
    [0, 0, 1, 1], // block 1: queries 2, 3 over positions [0, 1, 2, 3]
    [0, 1, 1, 0],
    [0, 0, 1, 1], // block 2: queries 4, 5 over positions [2, 3, 4, 5]
  ]);
  // n = 5 pads the last block: query 5 does not exist and sees only its own slot
  const padded = allowedRows(blockedMaskData(1, 5, 2, null), 4);
  assert.deepEqual(padded[5], [0, 0, 0, 1]);
  // a document reset after position 2 (docStart of 3, 4 is 3)
  const reset = allowedRows(blockedMaskData(1, 6, 2, Int32Array.from([0, 0, 0, 3, 3, 3])), 4);
  assert.deepEqual(reset[3], [0, 0, 0, 1]);
  assert.deepEqual(reset[4], [0, 1, 1, 0]);
});

test("selfAttentionMask picks the blocked layout only when 2W < n, and caches masks without resets", () => {
  const cache = new TensorCache();
  const a = selfAttentionMask(cache, 2, 16, 4, null);
  assert.equal(a.window, 4);
  assert.deepEqual(a.mask.shape, [1, 1, 4, 4, 8]);
  assert.equal(selfAttentionMask(cache, 2, 16, 4, null).mask, a.mask);
  assert.equal(selfAttentionMask(cache, 2, 16, 8, null).window, 0);
  assert.equal(selfAttentionMask(cache, 2, 16, 0, null).window, 0);
  const ends = new Uint8Array(32);
  ends[5] = 1;
  const r = selfAttentionMask(cache, 2, 16, 4, ends);
  assert.deepEqual(r.mask.shape, [2, 1, 4, 4, 8]);
  r.mask.dispose();
  cache.dispose();
});

test("block-local attention equals dense windowed attention (with resets, n not a multiple of W)", () => {
  const params = new ParamFactory(3, 0.3);
  const attn = new SelfAttention(params, "a", 16, 2);
  const cache = new TensorCache();
  for (const [n, W] of [
    [21, 4],
    [24, 6],
    [10, 3],
  ]) {
    const B = 2;
    const ends = new Uint8Array(B * n);
    ends[7] = 1;
    ends[n + 3] = 1;
    const x = tf.randomNormal([B, n, 16], 0, 1, "float32", 5) as tf.Tensor3D;
    const rope = ropeTables(cache, n, 8, 1e4);
    const blocked = selfAttentionMask(cache, B, n, W, ends);
    assert.ok(blocked.window === W);
    const dense = { mask: tf.tensor4d(causalMaskData(B, n, W, documentStarts(ends, B, n)), [B, 1, n, n]), window: 0 };
    const diff = maxAbsDiff(
      tf.tidy(() => attn.apply(x, rope, blocked)),
      tf.tidy(() => attn.apply(x, rope, dense)),
    );
    assert.ok(diff < 1e-5, `n=${n} W=${W}: blocked and dense differ by ${diff}`);
    for (const t of [x, blocked.mask, dense.mask]) t.dispose();
  }
  cache.dispose();
  for (const v of params.variables) v.dispose();
});

test("RoPE: scores of rotated q, k depend only on the relative position; q carries 1/sqrt(dh)", () => {
  const cache = new TensorCache();
  const n = 9,
    dh = 8;
  const rope = ropeTables(cache, n, dh, 1e4);
  const qv = tf.randomNormal([1, 1, 1, dh], 0, 1, "float32", 8);
  const kv = tf.randomNormal([1, 1, 1, dh], 0, 1, "float32", 9);
  const q = applyRope(tf.tile(qv, [1, 1, n, 1]) as tf.Tensor4D, rope.qCos, rope.qSin);
  const k = applyRope(tf.tile(kv, [1, 1, n, 1]) as tf.Tensor4D, rope.kCos, rope.kSin);
  const s = tf.matMul(q, k, false, true).dataSync(); // [1,1,n,n]
  for (const [i, j, i2, j2] of [
    [5, 2, 8, 5],
    [3, 3, 7, 7],
    [1, 4, 4, 7],
  ]) {
    assert.ok(
      Math.abs(s[i * n + j] - s[i2 * n + j2]) < 1e-5,
      `score(${i},${j}) = ${s[i * n + j]} vs score(${i2},${j2}) = ${s[i2 * n + j2]}`,
    );
  }
  // at relative position 0 the rotation cancels: score = q.k / sqrt(dh)
  const plain = tf.sum(tf.mul(qv, kv)).dataSync()[0] / Math.sqrt(dh);
  assert.ok(Math.abs(s[0] - plain) < 1e-5);
  for (const t of [qv, kv, q, k]) t.dispose();
  cache.dispose();
});

test("rmsNormalize: fused gradient equals autodiff; linear folds a row gain", () => {
  const x = tf.randomNormal([3, 5, 8], 0, 2, "float32", 1);
  const dy = tf.randomNormal([3, 5, 8], 0, 1, "float32", 2);
  const plain = (t: tf.Tensor) => tf.mul(t, tf.rsqrt(tf.add(tf.mean(tf.square(t), -1, true), 1e-5)));
  assert.ok(maxAbsDiff(rmsNormalize(x), plain(x)) < 1e-6);
  const g1 = tf.grad((t: tf.Tensor) => rmsNormalize(t))(x, dy);
  const g2 = tf.grad(plain)(x, dy);
  assert.ok(maxAbsDiff(g1, g2) < 1e-5, "rmsNormalize gradient");
  const w = tf.randomNormal([8, 4], 0, 1, "float32", 3) as tf.Tensor2D;
  const gain = tf.randomNormal([8], 1, 0.5, "float32", 4);
  assert.ok(maxAbsDiff(linear(x, w, gain), linear(tf.mul(x, gain), w)) < 1e-5);
  for (const t of [x, dy, g1, g2, w, gain]) t.dispose();
});

test("swiglu and applyRope: fused gradients equal autodiff of the plain formulas", () => {
  tf.tidy(() => {
    const ab = tf.randomNormal([2, 3, 10], 0, 2, "float32", 5);
    const dy = tf.randomNormal([2, 3, 5], 0, 1, "float32", 6);
    const plainSwiglu = (t: tf.Tensor) => {
      const [a, b] = tf.split(t, [5, 5], -1);
      return tf.mul(tf.mul(a, tf.sigmoid(a)), b);
    };
    assert.ok(maxAbsDiff(swiglu(ab), plainSwiglu(ab)) < 1e-6, "swiglu value");
    assert.ok(maxAbsDiff(tf.grad(swiglu)(ab, dy), tf.grad(plainSwiglu)(ab, dy)) < 1e-5, "swiglu gradient");

    const x = tf.randomNormal([2, 3, 4, 8], 0, 1, "float32", 7) as tf.Tensor4D; // [B,H,n,dh]
    const dx = tf.randomNormal([2, 3, 4, 8], 0, 1, "float32", 8);
    const rope = ropeTables(new TensorCache(), 4, 8, 100);
    const plainRope = (t: tf.Tensor) => {
      const [x1, x2] = tf.split(t, 2, -1);
      return tf.add(tf.mul(t, rope.kCos), tf.mul(tf.concat([x2, x1], -1), rope.kSin));
    };
    const fused = (t: tf.Tensor) => applyRope(t as tf.Tensor4D, rope.kCos, rope.kSin);
    assert.ok(maxAbsDiff(fused(x), plainRope(x)) < 1e-6, "rope value");
    assert.ok(maxAbsDiff(tf.grad(fused)(x, dx), tf.grad(plainRope)(x, dx)) < 1e-5, "rope gradient");
  });
});

test("patchSpans: the worked example of lst.ts", () => {
  const ids = Int32Array.from([1, 4, 40, 41, 42, 43, 3, 30, 31, 32]);
  const batch = toBatch([{ ids, patchLengths: Int32Array.from([1, 1, 4, 1, 1, 1, 1]) }], { T: 9 });
  const s = patchSpans(lstBatchLayout(batch), 1, 9);
  assert.equal(s.lmax, 4);
  assert.deepEqual([...s.idx.subarray(0, 4)], [0, 0, 0, 0]);
  assert.deepEqual([...s.valid.subarray(0, 4)], [1, 0, 0, 0]);
  assert.deepEqual([...s.idx.subarray(8, 12)], [2, 3, 4, 5]);
  assert.deepEqual([...s.valid.subarray(8, 12)], [1, 1, 1, 1]);
  assert.deepEqual([...s.idx.subarray(20, 24)], [8, 8, 8, 8]);
  assert.equal(s.full, false);
});

test("spanSlots: exact up to 8 slots, then the next multiple of 8; the extra slots repeat the last token, masked", () => {
  assert.deepEqual([1, 4, 6, 8, 9, 15, 16, 17, 24, 25].map(spanSlots), [1, 4, 6, 8, 16, 16, 16, 24, 24, 32]);
  // one row: BOS, a 9-token word, a 1-token patch; T = 10 inputs -> lmax 16
  const ids = Int32Array.from([1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 3]);
  const batch = toBatch([{ ids, patchLengths: Int32Array.from([1, 9, 1]) }], { T: 10 });
  const s = patchSpans(lstBatchLayout(batch), 1, 10);
  assert.equal(s.lmax, 16);
  assert.deepEqual([...s.idx.subarray(16, 32)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9]);
  assert.deepEqual([...s.valid.subarray(16, 32)], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
});

test("CrossAttention over gathered keys equals a dense masked reference", () => {
  const params = new ParamFactory(4, 0.3);
  const xa = new CrossAttention(params, "x", 8, 2);
  const N = 3,
    nq = 2,
    nk = 3,
    M = 5;
  const xq = tf.randomNormal([N, nq, 8], 0, 1, "float32", 6) as tf.Tensor3D;
  const src = tf.randomNormal([M, 8], 0, 1, "float32", 7) as tf.Tensor2D;
  const idx = Int32Array.from([0, 1, 1, 4, 2, 2, 3, 0, 0]); // group 1 repeats row 2 in a masked slot
  const keyMask = tf.tensor4d([0, 0, 0, 0, 0, NEG, 0, 0, 0], [N, 1, 1, nk]);
  const got = tf.tidy(() => xa.apply(xq, src, idx, nk, keyMask));
  // reference: each group separately, its real keys only, via the plain formula
  const want = tf.tidy(() => {
    const outs: tf.Tensor[] = [];
    const groups = [
      [0, 1, 1],
      [4, 2],
      [3, 0, 0],
    ];
    const H = 2,
      dh = 4;
    for (let g = 0; g < N; g++) {
      const q = linear(xa.qNorm.apply(tf.slice(xq, [g, 0, 0], [1, nq, 8])), xa.wq as tf.Tensor2D); // [1,nq,8]
      const kv = linear(xa.kvNorm.apply(tf.gather(src, tf.tensor1d(groups[g], "int32"))), xa.wkv as tf.Tensor2D); // [n,16]
      const [k, v] = tf.split(kv, 2, -1);
      const heads: tf.Tensor[] = [];
      for (let h = 0; h < H; h++) {
        const qh = tf.slice(tf.reshape(q, [nq, 8]), [0, h * dh], [nq, dh]);
        const kh = tf.slice(k, [0, h * dh], [-1, dh]);
        const vh = tf.slice(v, [0, h * dh], [-1, dh]);
        heads.push(tf.matMul(tf.softmax(tf.div(tf.matMul(qh, kh, false, true), Math.sqrt(dh))), vh));
      }
      outs.push(linear(tf.concat(heads, -1), xa.wo as tf.Tensor2D));
    }
    return tf.stack(outs); // [N, nq, 8]
  });
  assert.ok(maxAbsDiff(got, want) < 1e-5, `gathered cross-attention differs by ${maxAbsDiff(got, want)}`);
  for (const t of [xq, src, keyMask, got, want]) t.dispose();
  for (const v of params.variables) v.dispose();
});
