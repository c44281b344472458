import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initBackend } from "../../lib/backend";
import { evaluate, scoreItems, accuracyCells, accuracyBy } from "../../lib/eval/evaluate";
import type { ItemScore } from "../../lib/eval/score";
import type { BenchItemLike, SpokenItem } from "../../lib/data/bench-encode";
import type { AlignedUtterance } from "../../lib/data/types";
import { makeVocab } from "../../lib/tokenizers/special";
import { FakeLM } from "./fake-model";

before(async () => {
  await initBackend();
});

const vocab = makeVocab(100, 10); // units are LM ids 100..109
/** word-level test encoder: "good" -> 60, "bad" -> 61, anything else -> 50 */
const enc = {
  encode: (t: string) =>
    t
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => (w === "good" ? 60 : w === "bad" ? 61 : 50)),
};

/** One-word utterance whose frames all carry `unit`. */
function utt(text: string, unit: number, frames = 3): AlignedUtterance {
  return {
    id: text,
    text,
    words: [text],
    wordChars: [[0, text.length]],
    voice: "v",
    units: new Int32Array(frames).fill(unit),
    spans: [{ kind: "word", start: 0, end: frames, wordIndex: 0 }],
    tokenSpans: [{ start: 0, end: frames, tokenId: 50, wordIndex: 0 }],
  };
}

function bench(id: string, label: number): BenchItemLike {
  const endings = label === 0 ? ["good", "bad"] : ["bad", "good"];
  return { id, benchmark: "ignored", context: "once upon", endings, label, type: "plain", tier: label };
}

function spoken(id: string, label: number): SpokenItem {
  const it = bench(id, label);
  // unit 1 (LM id 101) is "good" speech, unit 2 (LM id 102) "bad" speech
  return { item: it, prompt: utt("once", 0), endings: it.endings.map((e) => utt(e, e === "good" ? 1 : 2)) };
}

// the model likes "good" in text (60) and in speech (101), dislikes "bad" (61, 102)
const model = (): FakeLM => new FakeLM("baseline", vocab.size, { "60": 0.5, "61": 3, "101": 0.5, "102": 3 }, 1);

test("evaluate: spoken items in four directions, one cell per benchmark and direction", async () => {
  const r = await evaluate(
    model(),
    { sc: [spoken("a", 0), spoken("b", 1)], hs: [spoken("c", 1)] },
    { directions: ["S2S", "T2T", "S2T", "T2S"], enc, vocab, batchSize: 3 },
  );
  assert.equal(r.norm, "mean");
  assert.deepEqual(
    r.cells.map((c) => `${c.benchmark} ${c.direction} ${c.correct}/${c.n}`),
    ["sc S2S 2/2", "sc T2T 2/2", "sc S2T 2/2", "sc T2S 2/2", "hs S2S 1/1", "hs T2T 1/1", "hs S2T 1/1", "hs T2S 1/1"],
  );
  assert.equal(r.cells[0].chance, 0.5);
  assert.equal(r.items.length, 12);
});

test("evaluate: text-only items are scored T2T only; maxItems caps each benchmark", async () => {
  const r = await evaluate(
    model(),
    { storycloze: [bench("a", 0), bench("b", 1), bench("c", 0)] },
    { directions: ["S2S", "T2T"], enc, vocab, maxItems: 2 },
  );
  assert.deepEqual(r.cells, [
    { benchmark: "storycloze", direction: "T2T", n: 2, correct: 2, accuracy: 1, chance: 0.5 },
  ]);
  await assert.rejects(
    () => evaluate(model(), { sc: [bench("a", 0)] }, { directions: ["S2S"], enc, vocab }),
    /text-only items are scored T2T only/,
  );
  await assert.rejects(
    () => evaluate(model(), { sc: [bench("a", 0)] }, { directions: [], enc, vocab }),
    /no directions/,
  );
});

test("scoreItems refuses an empty list", async () => {
  await assert.rejects(() => scoreItems(model(), []), /no items/);
});

function scored(benchmark: string, direction: "S2S" | "T2T", correct: boolean, type: string, k = 2): ItemScore {
  const scores = new Array<number>(k).fill(0);
  return {
    id: "x",
    benchmark,
    direction,
    type,
    tier: 0,
    label: 0,
    chosen: correct ? 0 : 1,
    correct,
    scores,
    nll: scores,
    nTokens: scores.map(() => 1),
  };
}

test("accuracyCells orders benchmarks by first appearance and directions as in DIRECTIONS; accuracyBy breaks down", () => {
  const items = [
    scored("hs", "T2T", true, "a", 4),
    scored("hs", "S2S", false, "a", 4),
    scored("hs", "S2S", true, "b", 4),
    scored("sc", "S2S", true, "a"),
  ];
  const cells = accuracyCells(items);
  assert.deepEqual(
    cells.map((c) => [c.benchmark, c.direction, c.accuracy, c.chance]),
    [
      ["hs", "S2S", 0.5, 0.25],
      ["hs", "T2T", 1, 0.25],
      ["sc", "S2S", 1, 0.5],
    ],
  );
  const byType = accuracyBy(items, "type").filter((g) => g.benchmark === "hs" && g.direction === "S2S");
  assert.deepEqual(
    byType.map((g) => [g.value, g.accuracy]),
    [
      ["a", 0],
      ["b", 1],
    ],
  );
});
