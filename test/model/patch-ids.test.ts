import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPatchLengths, patchIdsFromLengths, staticPatchLengths } from "../../lib/model/patch-ids";

const seq = (speech: number[]) => ({
  ids: Int32Array.from(speech.map((s, i) => (s ? 100 + i : i))),
  isSpeech: Uint8Array.from(speech),
});

test("worked example of the header: static p = 4 over a 6-frame run", () => {
  //            BOS <t> w1 w2 <s> u u u u u u <t> w3
  const s = seq([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
  const lengths = staticPatchLengths(s, 4);
  assert.deepEqual(Array.from(lengths), [1, 1, 1, 1, 1, 4, 2, 1, 1]);
  assert.deepEqual(Array.from(patchIdsFromLengths(lengths)), [0, 1, 2, 3, 4, 5, 5, 5, 5, 6, 6, 7, 8]);
  checkPatchLengths(lengths, s);
});

test("indexing restarts at every speech run", () => {
  const s = seq([0, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(staticPatchLengths(s, 4)), [1, 3, 1, 4, 1]);
  assert.deepEqual(Array.from(staticPatchLengths(s, 1)), Array(10).fill(1));
});

test("patchIdsFromLengths example and errors", () => {
  assert.deepEqual(Array.from(patchIdsFromLengths(Int32Array.from([1, 2, 3]))), [0, 1, 1, 2, 2, 2]);
  assert.throws(() => patchIdsFromLengths(Int32Array.from([1, 0])), /at least one token/);
  assert.throws(() => staticPatchLengths(seq([0, 1]), 0), /positive integer/);
});

test("checkPatchLengths rejects bad tilings", () => {
  const s = seq([0, 0, 1, 1, 1, 0]);
  checkPatchLengths(Int32Array.from([1, 1, 3, 1]), s);
  assert.throws(() => checkPatchLengths(Int32Array.from([1, 1, 3]), s), /sum to 5 but the sequence has 6/);
  assert.throws(() => checkPatchLengths(Int32Array.from([2, 3, 1]), s), /first patch has length 2/);
  assert.throws(() => checkPatchLengths(Int32Array.from([1, 1, 2, 2]), s), /mixes speech and non-speech/);
  assert.throws(() => checkPatchLengths(Int32Array.from([1, 2, 2, 1]), s), /non-speech tokens are patches of length 1/);
});
