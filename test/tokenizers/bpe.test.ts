import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { BpeTokenizer, mergePair } from "../../lib/tokenizers/bpe";
import { preTokenize, utf8WithOffsets, decodeWtf8 } from "../../lib/tokenizers/text-bytes";
import { N_SPECIAL } from "../../lib/tokenizers/special";
import { Rng } from "../../lib/rng";
import { makeStories } from "../../lib/data/story";
import { alignUtterance, checkAlignment } from "../../lib/data/align";

const BYTE = (ch: string): number => N_SPECIAL + ch.charCodeAt(0);
const CORPUS = [
  "the cat sat on the mat.",
  "the dog sat on the log!",
  "a cat and a dog, in the fog.",
  "tom's cat can't see the mat",
];

test("worked example from the header: aaabdaaabac", () => {
  const t = BpeTokenizer.train(["aaabdaaabac"], N_SPECIAL + 256 + 3);
  assert.deepEqual(t.merges, [
    [BYTE("a"), BYTE("a")],
    [BYTE("a"), BYTE("b")],
    [261, 262],
  ]);
  assert.deepEqual(t.encode("aaabdaaabac"), [263, BYTE("d"), 263, BYTE("a"), BYTE("c")]);
  assert.equal(t.vocabSize, 264);
});

test("mergePair and preTokenize examples", () => {
  assert.deepEqual(mergePair([1, 2, 3, 1, 2], 1, 2, 9), [9, 3, 9]);
  assert.deepEqual(preTokenize("the cat,  sat"), [
    ["the", 0],
    [" cat", 3],
    [",", 7],
    [" ", 8],
    [" sat", 9],
  ]);
  assert.deepEqual(preTokenize(""), []);
});

test("utf8WithOffsets example and WTF-8 lone surrogates", () => {
  assert.deepEqual(utf8WithOffsets("é!"), { bytes: [0xc3, 0xa9, 0x21], done: [0, 0, 1, 2] });
  for (const s of ["\ud800", "a\udfffb", "\ud83d", "x\ud83d\ude00\ud83d"])
    assert.equal(decodeWtf8(utf8WithOffsets(s).bytes), s);
  // well-formed strings get standard UTF-8
  for (const s of ["😀", "héllo", "中文", "\u0000\u007f\u0080\u07ff\u0800\uffff"]) {
    assert.deepEqual(utf8WithOffsets(s).bytes, Array.from(Buffer.from(s, "utf8")));
    assert.equal(decodeWtf8(utf8WithOffsets(s).bytes), s);
  }
  assert.equal(decodeWtf8([0xff, 0x41, 0xc3]), "\ufffdA\ufffd");
});

test("ids: specials first, then bytes, then merges; encode never emits specials", () => {
  const t = BpeTokenizer.train(CORPUS, 300);
  assert.ok(t.vocabSize > N_SPECIAL + 256 && t.vocabSize <= 300);
  const ids = t.encode("the cat sat");
  assert.ok(ids.every((id) => id >= N_SPECIAL && id < t.vocabSize));
  assert.deepEqual(t.encode("A"), [BYTE("A")]);
  assert.equal(t.decode([1, ...t.encode("hi"), 2]), "<bos>hi<eos>");
  assert.throws(() => t.decode([t.vocabSize]), /invalid text token id/);
});

test("tokens never cross words; a leading space belongs to the word", () => {
  const t = BpeTokenizer.train(CORPUS.concat(CORPUS, CORPUS), 400);
  const text = "the cat sat on the mat.";
  const { ids, offsets } = t.encodeWithOffsets(text);
  assert.deepEqual(ids, t.encode(text));
  // offsets tile the text and each token's text is its slice
  let at = 0;
  ids.forEach((id, j) => {
    assert.equal(offsets[j][0], at);
    assert.equal(text.slice(offsets[j][0], offsets[j][1]), t.decode([id]));
    at = offsets[j][1];
  });
  assert.equal(at, text.length);
  const pieces = ids.map((id) => t.decode([id]));
  assert.ok(pieces.includes(" cat"), `expected ' cat' as one token, got ${JSON.stringify(pieces)}`);
  for (const p of pieces)
    assert.ok(!/\S \S/.test(p) && !/^\S+ /.test(p), `token ${JSON.stringify(p)} crosses a word boundary`);
});

test("offsets with multi-byte chars: a char belongs to the token holding its last byte", () => {
  const t = BpeTokenizer.train(["plain ascii only"], 270);
  const text = "a😀é";
  const { ids, offsets } = t.encodeWithOffsets(text);
  // no merges cover these bytes: 1 + 4 + 2 byte tokens
  assert.equal(ids.length, 7);
  assert.deepEqual(offsets, [
    [0, 1],
    [1, 1],
    [1, 1],
    [1, 1],
    [1, 3],
    [3, 3],
    [3, 4],
  ]);
});

test("round trip is exact on random strings (seeded fuzz) and edge cases", () => {
  const t = BpeTokenizer.train(CORPUS, 350);
  const alphabet = [
    "a",
    "b",
    " ",
    "  ",
    "\n",
    "\t",
    "\u0000",
    "\u001f",
    "é",
    "ß",
    "中",
    "😀",
    "👍🏽",
    "\ud800",
    "\udfff",
    "'s",
    "'",
    ".",
    ",",
    "7",
    "\u0301",
    "\r\n",
    "the",
    " cat",
  ];
  const rng = new Rng(42);
  for (let k = 0; k < 500; k++) {
    let s = "";
    const n = rng.int(20);
    for (let i = 0; i < n; i++) s += rng.next() < 0.2 ? String.fromCharCode(rng.int(0x10000)) : rng.pick(alphabet);
    assert.equal(t.decode(t.encode(s)), s, `round trip failed on ${JSON.stringify(s)}`);
    const { offsets } = t.encodeWithOffsets(s);
    if (offsets.length > 0) assert.equal(offsets[offsets.length - 1][1], s.length);
  }
  for (const s of ["", " ", "   ", "\n\n", "😀😀😀", "<bos>", "x".repeat(5000)]) assert.equal(t.decode(t.encode(s)), s);
});

test("training is deterministic and the merges compress the corpus", () => {
  const a = BpeTokenizer.train(CORPUS, 320);
  const b = BpeTokenizer.train(CORPUS, 320);
  assert.deepEqual(a.merges, b.merges);
  const text = CORPUS.join(" ");
  assert.ok(a.encode(text).length < Buffer.byteLength(text) * 0.7);
});

test("incremental training matches a naive recount on a small corpus", () => {
  const texts = ["low lower lowest", "newer newest wider", "low low newer", "the the the cat cat"];
  const t = BpeTokenizer.train(texts, N_SPECIAL + 256 + 30);
  // naive: recount all pairs over all pieces each round, same tie-break (max count, then smaller ids)
  let words: number[][] = [];
  for (const tx of texts)
    for (const [p] of preTokenize(tx)) words.push(utf8WithOffsets(p).bytes.map((x) => x + N_SPECIAL));
  const merges: [number, number][] = [];
  for (let m = 0; m < 30; m++) {
    const c = new Map<string, number>();
    for (const w of words)
      for (let i = 0; i + 1 < w.length; i++) c.set(`${w[i]},${w[i + 1]}`, (c.get(`${w[i]},${w[i + 1]}`) ?? 0) + 1);
    let best: [number, number] | null = null;
    let bestN = 1;
    for (const [k, n] of c) {
      const [x, y] = k.split(",").map(Number);
      if (n > bestN || (n === bestN && best !== null && (x < best[0] || (x === best[0] && y < best[1])))) {
        best = [x, y];
        bestN = n;
      }
    }
    if (best === null) break;
    const [x, y] = best;
    merges.push(best);
    words = words.map((w) => mergePair(w, x, y, N_SPECIAL + 256 + m));
  }
  assert.deepEqual(t.merges, merges);
});

test("toJSON/fromJSON and save/load round trip; wrong format or version is rejected", () => {
  const t = BpeTokenizer.train(CORPUS, 320);
  const j = t.toJSON();
  assert.equal(j.format, "lst-bpe");
  assert.equal(j.version, 1);
  assert.equal(j.tokens.length, t.vocabSize);
  const u = BpeTokenizer.fromJSON(JSON.parse(JSON.stringify(j)));
  assert.deepEqual(u.encode("the cat sat on the mat."), t.encode("the cat sat on the mat."));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpe-"));
  const file = path.join(dir, "bpe.json");
  t.save(file);
  assert.deepEqual(BpeTokenizer.load(file).merges, t.merges);
  assert.throws(() => BpeTokenizer.fromJSON({ ...j, format: "minbpe" }), /not a text BPE file/);
  assert.throws(() => BpeTokenizer.fromJSON({ ...j, version: 2 }), /version 2 is not supported/);
  assert.throws(() => BpeTokenizer.fromJSON({ ...j, merges: [[5, 9999]] }), /must join two earlier/);
  assert.throws(() => BpeTokenizer.fromJSON(null), /must be an object/);
  assert.throws(() => BpeTokenizer.train(CORPUS, 100), /vocabSize must be an integer/);
  fs.rmSync(dir, { recursive: true });
});

test("contract with align.ts: every word of a story gets its own BPE tokens", () => {
  const texts = makeStories(3, "train", 300).map((s) => s.text);
  const bpe = BpeTokenizer.train(texts, 500);
  const text = makeStories(4, "train", 1)[0].text;
  const words = Array.from(text.matchAll(/[a-z]+/g)).map((m, i) => ({
    word: m[0],
    start: 0.1 + 0.3 * i,
    end: 0.3 + 0.3 * i,
    charStart: m.index ?? 0,
    charEnd: (m.index ?? 0) + m[0].length,
  }));
  const utt = { text, voice: "v", sampleRate: 16000, audio: new Float32Array(0), words, phonemes: [] };
  const nFrames = Math.ceil((0.3 * words.length + 0.2) * 25);
  const a = alignUtterance("u", utt, new Int32Array(nFrames), bpe, { frameRate: 25, jitterFrames: 0, seed: 1 });
  checkAlignment(a);
  assert.ok(
    a.tokenSpans.every((t) => t.tokenId >= N_SPECIAL),
    "a word got no BPE token",
  );
  // the tokens overlapping each word are exactly that word (plus its leading space); none spans two words
  const { ids, offsets } = bpe.encodeWithOffsets(text);
  words.forEach((w, wi) => {
    const mine = ids.filter((_, j) => offsets[j][1] > w.charStart && offsets[j][0] < w.charEnd);
    assert.equal(bpe.decode(mine).trim(), w.word, `word ${wi} '${w.word}' tokens decode to '${bpe.decode(mine)}'`);
  });
});
