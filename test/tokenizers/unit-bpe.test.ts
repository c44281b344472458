import { test } from "node:test";
import assert from "node:assert/strict";
import { UnitBpe } from "../../lib/tokenizers/unit-bpe";

test("the worked example of the header", () => {
  const bpe = UnitBpe.train(
    [
      [0, 1, 0, 1, 2],
      [0, 1, 2],
    ],
    3,
    5,
  );
  assert.deepEqual(bpe.merges, [
    [0, 1],
    [3, 2],
  ]);
  assert.deepEqual(bpe.encode([0, 1, 0, 1, 2]), [3, 4]);
  assert.deepEqual(bpe.decode([3, 4]), [0, 1, 0, 1, 2]);
});

test("round trip and save/load on random unit strings; unknown units rejected", () => {
  const seqs = Array.from({ length: 200 }, (_, i) => Array.from({ length: 30 }, (_, j) => ((i * 7 + j * j) % 13) % 10));
  const bpe = UnitBpe.train(seqs, 10, 60);
  assert.ok(bpe.vocabSize > 10 && bpe.vocabSize <= 60);
  const again = UnitBpe.fromJSON(JSON.parse(JSON.stringify(bpe.toJSON())));
  for (const s of seqs.slice(0, 20)) {
    const ids = again.encode(s);
    assert.ok(ids.length < s.length);
    assert.deepEqual(again.decode(ids), s);
  }
  assert.throws(() => bpe.encode([3, 11]), /unknown speech unit id 11/);
  assert.throws(() => UnitBpe.fromJSON({ version: "v0" }), /expected 'lst-unit-bpe v1'/);
});

import { makeSpeechBpe } from "../../lib/data/speech-bpe";
import { makeVocab } from "../../lib/tokenizers/special";

test("speech BPE re-tokenizes speech runs only (the example of lib/data/speech-bpe.ts)", () => {
  const v = makeVocab(100, 3);
  const sb = makeSpeechBpe(
    UnitBpe.train(
      [
        [0, 1, 0, 1],
        [0, 1],
      ],
      3,
      4,
    ),
    v,
  );
  const seq = {
    ids: Int32Array.from([1, 4, 100, 101, 100, 101, 102, 2]),
    isSpeech: Uint8Array.from([0, 0, 1, 1, 1, 1, 1, 0]),
    wordStart: new Uint8Array(8),
    silence: new Uint8Array(8),
    bpeStart: new Uint8Array(8),
  };
  const out = sb.apply(seq);
  assert.deepEqual([...out.ids], [1, 4, 103, 103, 102, 2]);
  assert.deepEqual([...out.isSpeech], [0, 0, 1, 1, 1, 0]);
  assert.equal(sb.vocab.size, 104);
});
