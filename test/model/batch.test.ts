import { test } from "node:test";
import assert from "node:assert/strict";
import { toBatch } from "../../lib/model/batch";
import { BOS, PAD, SPEECH, TEXT } from "../../lib/tokenizers/special";

const [u1, u2, u3, u4, u5, w1, w2] = [101, 102, 103, 104, 105, 11, 12];

test("worked example of the header (one row, T = 9)", () => {
  const ids = Int32Array.from([BOS, SPEECH, u1, u2, u3, u4, u5, TEXT, w1, w2]);
  const b = toBatch([{ ids, patchLengths: Int32Array.from([1, 1, 4, 1, 1, 1, 1]) }], { T: 9 });
  assert.deepEqual(Array.from(b.inputs), [BOS, SPEECH, u1, u2, u3, u4, u5, TEXT, w1]);
  assert.deepEqual(Array.from(b.targets), [SPEECH, u1, u2, u3, u4, u5, TEXT, w1, w2]);
  assert.deepEqual(Array.from(b.patchIds!), [0, 1, 2, 2, 2, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(b.targetPatchIds!), [1, 2, 2, 2, 2, 3, 4, 5, 6]);
  assert.equal(b.P, 6);
});

test("rows are right-padded with PAD / -1, and a fixed P pads patch ids", () => {
  const b = toBatch(
    [
      { ids: Int32Array.from([BOS, TEXT, w1]), patchLengths: Int32Array.from([1, 1, 1]) },
      { ids: Int32Array.from([BOS, SPEECH, u1, u2, TEXT]), patchLengths: Int32Array.from([1, 1, 2, 1]) },
    ],
    { T: 5, P: 4 },
  );
  assert.deepEqual(Array.from(b.inputs), [BOS, TEXT, PAD, PAD, PAD, BOS, SPEECH, u1, u2, PAD]);
  assert.deepEqual(Array.from(b.targets), [TEXT, w1, -1, -1, -1, SPEECH, u1, u2, TEXT, -1]);
  assert.deepEqual(Array.from(b.patchIds!), [0, 1, -1, -1, -1, 0, 1, 2, 2, -1]);
  assert.deepEqual(Array.from(b.targetPatchIds!), [1, 2, -1, -1, -1, 1, 2, 2, 3, -1]);
  assert.equal(b.P, 4);
});

test("baseline rows carry no patch fields; errors name the fix", () => {
  const b = toBatch([{ ids: Int32Array.from([BOS, TEXT, w1]) }], { T: 2 });
  assert.equal(b.patchIds, undefined);
  assert.throws(() => toBatch([{ ids: Int32Array.from([BOS, TEXT, w1, w2]) }], { T: 2 }), /more than T=2/);
  assert.throws(() => toBatch([{ ids: Int32Array.from([BOS]) }], { T: 2 }), /at least 2/);
  assert.throws(
    () =>
      toBatch(
        [
          { ids: Int32Array.from([BOS, TEXT, w1]), patchLengths: Int32Array.from([1, 1, 1]) },
          { ids: Int32Array.from([BOS, TEXT]) },
        ],
        { T: 2 },
      ),
    /to every row/,
  );
  assert.throws(
    () =>
      toBatch([{ ids: Int32Array.from([BOS, SPEECH, u1, u2]), patchLengths: Int32Array.from([1, 1, 1, 1]) }], {
        T: 3,
        P: 2,
      }),
    /more than P=2/,
  );
});
