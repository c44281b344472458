import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "crypto";
import { makeBenchmark } from "../../lib/data/benchmarks";
import { makeStories, isHeldOut } from "../../lib/data/story";
import { chainStoryAt } from "../../lib/data/story-chain";
import { CHARACTERS } from "../../lib/data/story-lexicon";
import { canonicalJson } from "../../lib/config";
import { hashSeed } from "../../lib/rng";

const sha = (x: unknown) => createHash("sha256").update(canonicalJson(x)).digest("hex");

test("the sc, tsc and hs items and the training stories are those of before the chain tier (hashes taken before the change)", () => {
  // the small and smoke presets' benchmarks (data seed 1234, 200 and 12 items; build.ts benchJobs)
  const pinned: Record<string, string> = {
    "200 sc": "ad7cee5e9117a3f8b60fac011966e49aa97cd6d571c90039edccf04329ffda79",
    "200 tsc": "d1f62e060c093b2b71adccf6cdf05cf44a46981344eee1e544cc0e050fb115f3",
    "200 hs": "1bbe49629c56ca8a397f5b4ed165bb8561674d67962c1d3427b2895bbfc3ede1",
    "12 sc": "1860797e9ee5fb5e33d5bf6819af7809a86fbe006296e9d013eb4255076eceae",
    "12 tsc": "84e8b45ebc2e77bbdf8ad10d3b797412dec1c660a4201d90483e48e7f2f7dda9",
    "12 hs": "296fffe17dcbaa5cd8b9bfcc6401dde70c01672c153b549ef7c5209cdaf17e70",
  };
  for (const key of Object.keys(pinned)) {
    const [n, kind] = key.split(" ");
    assert.equal(sha(makeBenchmark(kind as "sc", { seed: hashSeed(1234, "bench", kind), split: "test", n: Number(n) })), pinned[key], `${key} items changed`);
  }
  const stories: Record<string, string> = {
    train: "327c422ba64102bba6fd2221f304ffbbbe7f65279fd6597be623c04a4831da39",
    validation: "3aee9c51553d7898cda0c3767671019216c47de2ad7200bc84e73b4076917b4a",
    test: "3ba0b9472070bd25ba73744179cf0010a67cb274d5f4e9b83c32b096aa4487d8",
  };
  for (const split of ["train", "validation", "test"] as const) {
    assert.equal(sha(makeStories(hashSeed(1234, "paired"), split, 300)), stories[split], `${split} stories changed`);
  }
});

test("chain items: deterministic, 1-in-4 with balanced labels, distinct endings, the right one is the story's last sentence", () => {
  const n = 120;
  const items = makeBenchmark("chain", { seed: 7, split: "test", n });
  assert.deepEqual(makeBenchmark("chain", { seed: 7, split: "test", n }), items);
  assert.notDeepEqual(makeBenchmark("chain", { seed: 8, split: "test", n }), items);
  const counts = [0, 0, 0, 0];
  for (const it of items) {
    assert.equal(it.endings.length, 4);
    assert.equal(new Set(it.endings).size, 4, `endings not distinct in ${it.id}`);
    assert.equal(it.tier, 5);
    assert.equal(it.benchmark, "chain");
    counts[it.label]++;
    const m = /^chain-test-(\d+)-(\d+)$/.exec(it.storyId ?? "");
    assert.ok(m, it.storyId);
    const s = chainStoryAt(Number(m[1]), "test", Number(m[2]));
    assert.equal(it.endings[it.label], s.sentences[s.sentences.length - 1]);
    assert.equal(it.context, s.sentences.slice(0, -1).join(" "));
    assert.deepEqual([...(it.endingTiers ?? [])].sort(), [0, 3, 5, 5]);
    for (const e of it.endings) assert.match(e, /^[a-z ,]+\.$/);
  }
  for (const c of counts) assert.equal(c, n / 4);
  assert.equal(new Set(items.map((x) => x.id)).size, n);
});

test("each tier-5 distractor is right by one sentence of the context and wrong by a later one", () => {
  for (const it of makeBenchmark("chain", { seed: 3, split: "test", n: 40 })) {
    const m = /^chain-test-(\d+)-(\d+)$/.exec(it.storyId ?? "") as RegExpExecArray;
    const s = chainStoryAt(Number(m[1]), "test", Number(m[2]));
    const ctx = s.sentences.slice(0, -1);
    const at = (word: string) => ctx.map((x, k) => (x.split(/[ .,]+/).includes(word) ? k : -1)).filter((k) => k >= 0);
    // the middle holder receives the object (give 1) and hands it on in a later sentence (give 2)
    const gives = ctx.map((x, k) => (x.includes(` ${s.object}`) && (x.includes(" gave ") || x.includes(" let ")) ? k : -1)).filter((k) => k >= 0);
    assert.equal(gives.length, 2, s.text);
    assert.ok(ctx[gives[0]].includes(s.friend) && ctx[gives[1]].startsWith(s.friend) && ctx[gives[1]].includes(s.third), s.text);
    // the middle place is reached in one sentence and left in a later one; the final place only at the end
    assert.deepEqual(at(s.places[1]), [4]);
    assert.deepEqual(at(s.places[2]), [6]);
    // three people, all mentioned before the gives
    assert.equal(new Set([s.hero, s.friend, s.third]).size, 3);
    for (const p of [s.hero, s.friend, s.third]) assert.ok(at(p).some((k) => k < 3), `${p} in ${s.text}`);
    const wrong = it.endings.filter((_, k) => k !== it.label);
    assert.ok(wrong.some((w) => w.includes(s.friend) && w.includes(s.places[2])));
    assert.ok(wrong.some((w) => w.includes(s.third) && w.includes(s.places[1])));
  }
});

test("chain stories keep the split rules: test heroes hold held-out objects, train stories mention no held-out pair", () => {
  for (let i = 0; i < 60; i++) {
    const t = chainStoryAt(11, "test", i);
    assert.ok(isHeldOut(t.hero, t.object));
    const r = chainStoryAt(11, "train", i);
    for (const p of [r.hero, r.friend, r.third]) assert.ok(!isHeldOut(p, r.object), r.text);
    assert.ok(CHARACTERS.some((c) => c.name === r.third));
  }
  assert.throws(() => chainStoryAt(1, "dev" as "test", 0), /unknown split 'dev'/);
});
