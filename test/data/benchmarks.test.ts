import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBenchmark, balancedLabels, contradict, SC_VARIANTS, type BenchItem } from "../../lib/data/benchmarks";
import { storyAt, isHeldOut, renderEnding, type Split, type Story } from "../../lib/data/story";
import type { BenchItemLike } from "../../lib/data/bench-encode";
import { Rng } from "../../lib/rng";

const KINDS = ["sc", "tsc", "hs"] as const;
const N = 140;

/** storyId is `${split}-${seed}-${i}` (story.ts) */
function storyOf(item: BenchItem): Story {
  const m = /^(train|validation|test)-(\d+)-(\d+)$/.exec(item.storyId ?? "");
  assert.ok(m, `item ${item.id} has storyId ${item.storyId}`);
  return storyAt(Number(m[2]), m[1] as Split, Number(m[3]));
}

test("BenchItem is a BenchItemLike (compile-time) and items are deterministic", () => {
  for (const kind of KINDS) {
    const a = makeBenchmark(kind, { seed: 1, split: "test", n: 30 });
    const like: BenchItemLike[] = a;
    assert.equal(like.length, 30);
    assert.deepEqual(makeBenchmark(kind, { seed: 1, split: "test", n: 30 }), a);
    assert.notDeepEqual(makeBenchmark(kind, { seed: 2, split: "test", n: 30 }), a);
    // a prefix of a longer benchmark has the same stories and endings (labels are shuffled over n)
    const sorted = (x: BenchItem) => x.context + "|" + x.endings.slice().sort().join("|");
    assert.deepEqual(makeBenchmark(kind, { seed: 1, split: "test", n: 60 }).slice(0, 30).map(sorted), a.map(sorted));
    assert.equal(new Set(a.map((x) => x.id)).size, a.length);
  }
  assert.throws(() => makeBenchmark("xx" as "sc", { seed: 1, split: "test", n: 1 }), /unknown benchmark kind 'xx'/);
});

test("balancedLabels: each position n/k times (+-1), seeded", () => {
  const rng = new Rng(3);
  const l = balancedLabels(5, 2, rng);
  assert.equal(l.length, 5);
  const zeros = l.filter((x) => x === 0).length;
  assert.ok(zeros === 2 || zeros === 3);
  assert.deepEqual(balancedLabels(8, 4, new Rng(9)).sort(), [0, 0, 1, 1, 2, 2, 3, 3]);
});

test("labels balanced, endings distinct, the right ending is the story's last sentence", () => {
  for (const kind of KINDS) {
    const items = makeBenchmark(kind, { seed: 4, split: "test", n: N });
    const k = kind === "hs" ? 4 : 2;
    const counts = new Array(k).fill(0);
    for (const it of items) {
      assert.equal(it.kind, kind);
      assert.equal(it.endings.length, k);
      assert.equal(new Set(it.endings).size, k, `endings not distinct in ${it.id}`);
      counts[it.label]++;
      const s = storyOf(it);
      assert.equal(it.endings[it.label], s.sentences[s.sentences.length - 1]);
      assert.equal(it.context, s.sentences.slice(0, -1).join(" "));
      assert.equal(it.endingTypes?.[it.label], "correct");
      assert.equal(it.endingTiers?.[it.label], 0);
      for (const e of it.endings) assert.match(e, /^[a-z ,]+\.$/);
    }
    for (const c of counts) assert.ok(Math.abs(c - N / k) <= 1, `${kind} label counts ${counts}`);
  }
});

test("sc: one changed slot, types and tiers balanced; tsc: topic endings; hs: one distractor per tier group", () => {
  const sc = makeBenchmark("sc", { seed: 5, split: "test", n: N });
  const byVariant = new Map<string, number>();
  for (const it of sc) {
    const key = `${it.type}/${it.tier}`;
    byVariant.set(key, (byVariant.get(key) ?? 0) + 1);
    const wrong = it.endings[1 - it.label];
    const right = it.endings[it.label];
    // the wrong ending differs from the right one in a few words only (not another story)
    const rw = right.split(" ");
    const ww = wrong.split(" ");
    const diff = ww.filter((w) => !rw.includes(w)).length;
    assert.ok(diff >= 1 && diff <= 5, `${it.id}: ${right} / ${wrong}`);
  }
  for (const v of SC_VARIANTS) assert.equal(byVariant.get(`${v.type}/${v.tier}`), N / SC_VARIANTS.length, `variant ${v.type}/${v.tier}`);

  for (const it of makeBenchmark("tsc", { seed: 5, split: "test", n: N })) {
    assert.equal(it.type, "topic");
    assert.equal(it.tier, 1);
    const s = storyOf(it);
    const wrong = it.endings[1 - it.label];
    for (const name of s.mentioned.names) assert.ok(!wrong.split(/[ .]/).includes(name), `${it.id}: topic ending names ${name}`);
  }

  const hs = makeBenchmark("hs", { seed: 5, split: "test", n: N });
  for (const t of ["person", "object", "place", "consequence"]) assert.equal(hs.filter((x) => x.type === t).length, N / 4, `hs type ${t}`);
  for (const it of hs) {
    const tiers = (it.endingTiers ?? []).slice().sort();
    assert.equal(tiers[0], 0);
    assert.equal(tiers[1], 1);
    assert.equal(tiers[2], 2);
    assert.ok(tiers[3] === 3 || tiers[3] === 4);
    assert.equal(it.tier, tiers[3]);
  }
});

test("contradict: worked example of each variant on a give story", () => {
  // find a give story with a move and a left-at-home object
  let s: Story | null = null;
  for (let i = 0; s === null; i++) {
    const c = storyAt(11, "train", i);
    if (c.event === "give" && c.earlierPlace !== null && c.object2 !== null) s = c;
  }
  const rng = new Rng(1);
  const e = s.ending;
  assert.equal(contradict(s, { type: "person", tier: 3 }, rng)?.actor, s.hero);
  assert.equal(contradict(s, { type: "object", tier: 3 }, rng)?.object, s.object2);
  assert.equal(contradict(s, { type: "place", tier: 3 }, rng)?.place, s.earlierPlace);
  assert.equal(contradict(s, { type: "consequence", tier: 4 }, rng), null); // the kite was not ruined
  const p2 = contradict(s, { type: "person", tier: 2 }, rng);
  assert.ok(p2 && !s.mentioned.names.includes(p2.actor));
  assert.equal(renderEnding({ ...e }), s.sentences[s.sentences.length - 1]);
});

test("held-out pairs only in test items; train items never use one", () => {
  for (const kind of KINDS) {
    for (const it of makeBenchmark(kind, { seed: 6, split: "test", n: 40 })) {
      const s = storyOf(it);
      assert.equal(s.split, "test");
      assert.ok(isHeldOut(s.hero, s.object), `${it.id}: ${s.hero}+${s.object} is not held out`);
    }
    for (const it of makeBenchmark(kind, { seed: 6, split: "train", n: 40 })) {
      const s = storyOf(it);
      for (const n of s.mentioned.names) for (const o of s.mentioned.objects) assert.equal(isHeldOut(n, o), false, `${it.id}: ${n}+${o}`);
    }
  }
});

test("splits disjoint: no context is shared between train, validation and test items", () => {
  const ctx = (split: Split) => new Set(KINDS.flatMap((k) => makeBenchmark(k, { seed: 7, split, n: 60 }).map((x) => x.context + "|" + x.endings[x.label])));
  const [tr, va, te] = [ctx("train"), ctx("validation"), ctx("test")];
  for (const c of te) assert.ok(!tr.has(c) && !va.has(c));
  for (const c of va) assert.ok(!tr.has(c));
});
