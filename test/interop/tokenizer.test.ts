/**
 * The text BPE as a Hugging Face tokenizer.json: Python's `tokenizers` must give the lab's ids on 1,000
 * strings (story text, random Unicode with whitespace runs, digits and contractions, and the special tokens'
 * names inside the text), and decode them back to the same strings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { BpeTokenizer } from "../../lib/tokenizers/bpe";
import {
  bpeToHuggingFace,
  byteToUnicode,
  encodeWithSpecials,
  saveHuggingFaceTokenizer,
} from "../../lib/tokenizers/bpe-hf";
import { BOS, EOS, N_SPECIAL, SPECIAL_NAMES } from "../../lib/tokenizers/special";
import { makeStories } from "../../lib/data/story";
import { Rng } from "../../lib/rng";
import { runInterop } from "./python";

const PIECES = [
  " ",
  "  ",
  "\n",
  "\t",
  " \n ",
  "'s",
  "'re",
  "'ll",
  "n't",
  "é",
  "ü",
  "ñ",
  "ß",
  "中文",
  "日本語",
  "Ωμέγα",
  "Привет",
  "🙂",
  "👍🏽",
  "½",
  "0",
  "42",
  "3.14",
  "!",
  "?!",
  "...",
  ",",
  "(",
  ")",
  "—",
  "\u00a0",
  "it's",
  "the",
  " cat",
  "Mia",
  " dog",
  "Ünïcödé",
  "<",
  ">",
  "<b",
  "s>",
];

/** 1,000 strings: held-out story sentences, random mixes of pieces, and the specials' names inside text. */
function testStrings(): string[] {
  const rng = new Rng(42);
  const stories = makeStories(9, "test", 200).flatMap((s) => s.sentences);
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const kind = i % 4;
    if (kind === 0) out.push(stories[i % stories.length]);
    else {
      let s = kind === 3 ? stories[(i * 7) % stories.length] : "";
      for (let k = 0, n = 1 + rng.int(12); k < n; k++) s += PIECES[rng.int(PIECES.length)];
      if (kind >= 2) {
        const chars = Array.from(s); // code points: never split a surrogate pair
        const at = rng.int(chars.length + 1);
        s = chars.slice(0, at).join("") + SPECIAL_NAMES[rng.int(N_SPECIAL)] + chars.slice(at).join("");
        if (rng.int(2) === 0) s = SPECIAL_NAMES[BOS] + s + SPECIAL_NAMES[EOS];
      }
      out.push(s);
    }
  }
  return out;
}

test("byteToUnicode is GPT-2's table: 256 distinct printable chars, space -> Ġ, newline -> Ċ", () => {
  const t = byteToUnicode();
  assert.equal(new Set(t).size, 256);
  assert.equal(t[0x20], "Ġ");
  assert.equal(t[0x0a], "Ċ");
  assert.equal(t[0x41], "A");
});

test("encodeWithSpecials cuts at the specials' names and encodes the rest with the BPE", () => {
  const bpe = BpeTokenizer.train(["hi there, hi"], N_SPECIAL + 256 + 5);
  assert.deepEqual(encodeWithSpecials(bpe, "<bos>hi<eos>"), [BOS, ...bpe.encode("hi"), EOS]);
  assert.deepEqual(encodeWithSpecials(bpe, "a<t><s>"), [...bpe.encode("a"), 3, 4]);
  assert.deepEqual(encodeWithSpecials(bpe, "no specials <b"), bpe.encode("no specials <b"));
});

test("Hugging Face tokenizers gives the lab's ids on 1,000 strings, special tokens included", () => {
  const texts = makeStories(3, "train", 300)
    .map((s) => s.text)
    .concat(PIECES.map((p) => p.repeat(3)));
  const bpe = BpeTokenizer.train(texts, 1000);
  const json = bpeToHuggingFace(bpe) as { model: { vocab: Record<string, number>; merges: string[] } };
  assert.equal(Object.keys(json.model.vocab).length, bpe.vocabSize);
  assert.equal(json.model.merges.length, bpe.merges.length);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-hf-"));
  try {
    const tokFile = path.join(dir, "tokenizer.json");
    saveHuggingFaceTokenizer(bpe, tokFile);
    const strings = testStrings();
    assert.equal(strings.length, 1000);
    assert.ok(
      strings.filter((s) => SPECIAL_NAMES.some((n) => s.includes(n))).length >= 400,
      "half the strings should hold specials",
    );
    const strFile = path.join(dir, "strings.json");
    fs.writeFileSync(strFile, JSON.stringify(strings));
    const [idsLine, decodedLine] = runInterop("hf_encode.py", [tokFile, strFile]).trim().split("\n");
    const hfIds = JSON.parse(idsLine) as number[][];
    const decoded = JSON.parse(decodedLine) as string[];
    let merged = 0;
    strings.forEach((s, i) => {
      const lab = encodeWithSpecials(bpe, s);
      assert.deepEqual(
        hfIds[i],
        lab,
        `string ${i} ${JSON.stringify(s)}: tokenizers ${JSON.stringify(hfIds[i])}, lab ${JSON.stringify(lab)}`,
      );
      assert.equal(decoded[i], s, `string ${i}: tokenizers decodes ${JSON.stringify(decoded[i])}`);
      merged += lab.filter((id) => id >= N_SPECIAL + 256).length;
    });
    assert.ok(merged > 5000, `the strings should exercise the merges (${merged} merged tokens)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
