import { test } from "node:test";
import assert from "node:assert/strict";
import { makeStories, storyAt, isHeldOut, renderEnding, storyVocabulary, type Story } from "../../lib/data/story";
import { CHARACTERS, OBJECTS, fill } from "../../lib/data/story-lexicon";

const N = 400;

/** every (character, object) pair a story's context mentions */
function pairs(s: Story): [string, string][] {
  const out: [string, string][] = [];
  for (const n of s.mentioned.names) for (const o of s.mentioned.objects) out.push([n, o]);
  return out;
}

test("storyAt is pure and makeStories(seed, split, n)[i] equals storyAt(seed, split, i)", () => {
  for (const split of ["train", "validation", "test"] as const) {
    const xs = makeStories(7, split, 30);
    xs.forEach((s, i) => assert.deepEqual(s, storyAt(7, split, i)));
    assert.deepEqual(makeStories(7, split, 30), xs);
    assert.notDeepEqual(makeStories(8, split, 30).map((s) => s.text), xs.map((s) => s.text));
  }
  assert.throws(() => storyAt(7, "dev" as "train", 0), /unknown split 'dev'/);
  assert.throws(() => storyAt(7, "train", -1), /non-negative integer/);
});

test("stories: 3-5 sentences of lower-case words and basic punctuation, ending from the state", () => {
  const vocab = new Set(storyVocabulary());
  assert.ok(vocab.size >= 150 && vocab.size <= 500, `vocabulary of ${vocab.size} words`);
  for (const s of makeStories(1, "train", N)) {
    assert.ok(s.sentences.length >= 3 && s.sentences.length <= 5, `${s.sentences.length} sentences: ${s.text}`);
    assert.match(s.text, /^[a-z ,.]+$/);
    assert.equal(s.text, s.sentences.join(" "));
    for (const w of s.text.split(/[^a-z]+/).filter(Boolean)) assert.ok(vocab.has(w), `word '${w}' not in storyVocabulary()`);
    assert.equal(s.sentences[s.sentences.length - 1], renderEnding(s.ending));
    // the state: who acts in the ending and where
    if (s.event === "give") assert.equal(s.ending.actor, s.friend);
    else assert.equal(s.ending.actor, s.hero);
    assert.equal(s.ending.outcome, s.event === "give" || s.event === "keep" ? "use" : "without");
    assert.equal(s.ending.place, s.place);
    const context = s.sentences.slice(0, -1).join(" ");
    for (const x of [...s.mentioned.names, ...s.mentioned.objects, ...s.mentioned.places]) assert.ok(context.includes(x), `'${x}' not in context`);
    if (s.earlierPlace !== null) assert.notEqual(s.earlierPlace, s.place);
  }
});

test("every event, extra and length occurs", () => {
  const xs = makeStories(2, "train", N);
  for (const e of ["give", "keep", "ruin", "lose"]) assert.ok(xs.some((s) => s.event === e), `no '${e}' story`);
  for (const n of [3, 4, 5]) assert.ok(xs.some((s) => s.sentences.length === n), `no ${n}-sentence story`);
  assert.ok(xs.some((s) => s.object2 !== null) && xs.some((s) => s.earlierPlace !== null) && xs.some((s) => s.friend === null));
});

test("worked example of the held-out rule: (nameIndex + 2 * objectIndex) % 5 === 0", () => {
  assert.equal(CHARACTERS[0].name, "anna");
  assert.equal(OBJECTS[0].name, "kite");
  const held = (name: string) => OBJECTS.filter((o) => isHeldOut(name, o.name)).map((o) => o.name);
  assert.deepEqual(held("anna"), ["kite", "bike", "whistle", "map"]); // 0 + 2*{0,5,10,15} = 0, 10, 20, 30
  assert.deepEqual(held("ben"), ["book", "guitar", "sled", "cup"]); // 1 + 2*{2,7,12,17} = 5, 15, 25, 35
  assert.equal(isHeldOut("ben", "camera"), false); // 1 + 2*6 = 13
});

test("held-out pairs: never in train or validation, always the hero's pair in test", () => {
  for (const split of ["train", "validation"] as const) {
    for (const s of makeStories(3, split, N)) {
      for (const [n, o] of pairs(s)) assert.equal(isHeldOut(n, o), false, `${split} story mentions held-out pair ${n}+${o}: ${s.text}`);
    }
  }
  const test_ = makeStories(3, "test", N);
  for (const s of test_) assert.equal(isHeldOut(s.hero, s.object), true, `test story hero pair ${s.hero}+${s.object} is not held out`);
  // 20% of all pairs are held out, and each character has 4 held-out objects
  let held = 0;
  for (const c of CHARACTERS) {
    const k = OBJECTS.filter((o) => isHeldOut(c.name, o.name)).length;
    assert.equal(k, 4, `${c.name} has ${k} held-out objects`);
    held += k;
  }
  assert.equal(held / (CHARACTERS.length * OBJECTS.length), 0.2);
});

test("splits never share a story", () => {
  const texts = (split: "train" | "validation" | "test") => new Set(makeStories(5, split, N).map((s) => s.text));
  const [tr, va, te] = [texts("train"), texts("validation"), texts("test")];
  for (const t of va) assert.ok(!tr.has(t) && !te.has(t), `validation story also in another split: ${t}`);
  for (const t of te) assert.ok(!tr.has(t), `test story also in train: ${t}`);
  // different seeds of the same split are still on the right side of the rules
  for (const s of makeStories(99, "train", 50)) for (const [n, o] of pairs(s)) assert.equal(isHeldOut(n, o), false);
});

test("fill names a missing slot", () => {
  assert.equal(fill("{a} and {b}", { a: "x", b: "y" }), "x and y");
  assert.throws(() => fill("{a} {zz}", { a: "x" }), /needs slot \{zz\}/);
  assert.throws(() => renderEnding({ template: 9, actor: "tom", object: "kite", place: "park", outcome: "use" }), /out of range/);
  assert.throws(() => renderEnding({ template: 0, actor: "tom", object: "spoon", place: "park", outcome: "use" }), /unknown story object 'spoon'/);
});

test("worked example from the header: the ending and its one-slot contradictions", () => {
  const e = { template: 0, actor: "omar", object: "kite", place: "lake", outcome: "use" as const };
  assert.equal(renderEnding(e), "omar flew the kite at the lake.");
  assert.equal(renderEnding({ ...e, actor: "lily" }), "lily flew the kite at the lake.");
  assert.equal(renderEnding({ ...e, place: "park" }), "omar flew the kite at the park.");
  assert.equal(renderEnding({ ...e, outcome: "without" }), "omar could not fly the kite at the lake anymore.");
});
