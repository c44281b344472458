/**
 * Generated benchmarks over the story world (lib/data/story.ts), in the shape of the paper's three:
 *   sc   StoryCloze-style, 1-in-2: context = the story minus its last sentence; the right ending is the real
 *        last sentence, the wrong one is fluent but contradicts the story.
 *   tsc  Topic-StoryCloze-style, 1-in-2: the wrong ending is another story's last sentence (topic shift).
 *   hs   HellaSwag-style, 1-in-4: three distractors of graded plausibility (one per tier group below).
 *
 * Difficulty design. Every wrong ending except the topic one is the right ending with exactly one slot
 * changed (story.ts `EndingSlots`), so right and wrong differ in a word or two and both are fluent; what
 * tells them apart is how much of the story a model must track. Tiers, easiest first:
 *   tier 1  topic        another story's ending: other names, object and place (bag-of-words suffices)
 *   tier 2  new entity   a person / object / place the story never mentions ("uma flew the kite ...")
 *   tier 3  role         a person / object / place the story does mention, in the wrong role: the giver
 *                        instead of the receiver, the object left at home, the place they walked away from
 *   tier 4  consequence  the object was ruined or lost, yet the ending uses it
 *   tier 5  two facts    (kind 'chain' only, story-chain.ts) the object passed through two hands and the group
 *                        moved twice: the middle holder, or the middle place, is right by one sentence and
 *                        wrong by a later one, so telling it apart needs two facts from different sentences
 * Person and object changes are only made to endings that use the object (give/keep stories): after a
 * ruin or a loss, "someone else could not fly the kite" is no contradiction.
 * `type` names the slot that is wrong (person, object, place, consequence, topic); sc cycles through the
 * seven (type, tier) variants person/object/place x tier 2/3 and consequence/4, so every type is balanced.
 * hs items hold one tier-1, one tier-2 and one tier-3-or-4 distractor; their `type`/`tier` are those of the
 * hardest one, and `endingTypes`/`endingTiers` describe every ending. The science probe found topic items
 * separate models within minutes while entity tracking comes late: report accuracy per tier.
 *
 * chain   1-in-4 HellaSwag-style items over chain stories (more people and places, 7-sentence contexts): the
 *         distractors are the middle holder (person/5), the middle place (place/5) and the first giver
 *         (person/3). It is the tier with headroom: the sc/tsc/hs tiers saturate on T→T for the best models.
 *         Adding it changed no item of sc, tsc or hs (a test pins their hashes).
 *
 * The right ending's position (`label`) is balanced (each position used n/k times, +-1) and shuffled by the
 * seed. Benchmarks for the test split use test stories only, whose (hero, object) pairs training never saw.
 */
import { Rng, hashSeed } from "../rng";
import { storyAt, renderEnding, type Split, type Story, type EndingSlots } from "./story";
import { chainStoryAt } from "./story-chain";
import { CHARACTERS, OBJECTS, PLACES, TEMPLATES } from "./story-lexicon";

/**
 * The one list of benchmark kinds. Core kinds are built with every dataset (data/build.ts); extra kinds are
 * built on demand into a finished dataset, so adding one changes no dataset already built. A new kind goes
 * in one of these two lists and gets its generator in `makeBenchmark` below.
 */
export const BENCH_KINDS = ["sc", "tsc", "hs"] as const;
export const EXTRA_BENCH_KINDS = ["chain"] as const;
export type BenchKind = (typeof BENCH_KINDS)[number];
export type ExtraBenchKind = (typeof EXTRA_BENCH_KINDS)[number];
export type BenchKindName = BenchKind | ExtraBenchKind;
export const BENCH_KIND_NAMES: readonly BenchKindName[] = [...BENCH_KINDS, ...EXTRA_BENCH_KINDS];

/** One multiple-choice item (matches BenchItemLike in bench-encode.ts). */
export interface BenchItem {
  id: string;
  /** the set it comes from: "sc" | "tsc" | "hs" for generated items, "storycloze" | "topic-storycloze" | "hellaswag" for loaded files */
  benchmark: string;
  kind: BenchKindName;
  context: string;
  endings: string[];
  /** index of the right ending */
  label: number;
  /** what the (hardest) wrong ending gets wrong: person | object | place | consequence | topic; "real" for loaded files */
  type: string;
  /** difficulty tier of the (hardest) wrong ending, 1 (topic) .. 5 (two facts); 0 = not graded (loaded files) */
  tier: number;
  /** the generated story the item comes from (story.ts id), absent for loaded files */
  storyId?: string;
  /** per ending: "correct" or the distractor's type */
  endingTypes?: string[];
  /** per ending: the distractor's tier, 0 for the correct ending */
  endingTiers?: number[];
}

export interface BenchOptions {
  seed: number;
  split: Split;
  n: number;
}

type Variant = { type: "person" | "object" | "place" | "consequence"; tier: 2 | 3 | 4 };

export const SC_VARIANTS: readonly Variant[] = [
  { type: "person", tier: 2 },
  { type: "person", tier: 3 },
  { type: "object", tier: 2 },
  { type: "object", tier: 3 },
  { type: "place", tier: 2 },
  { type: "place", tier: 3 },
  { type: "consequence", tier: 4 },
];

/**
 * The ending slots with one slot changed so that the ending contradicts the story, or null when the story
 * cannot carry that variant (e.g. a tier-3 place needs a story where the characters moved).
 * Example: story "... lily gave the kite to omar." ending {actor: omar, object: kite, place: lake, use}
 *   person/3 -> actor lily ("lily flew the kite at the lake.");  place/3 needs earlierPlace (park)
 */
export function contradict(s: Story, v: Variant, rng: Rng): EndingSlots | null {
  const e = s.ending;
  // subtle: after a ruin or loss ("x could not fly the kite anymore") a changed person or object is not a
  // clear contradiction (someone else also cannot fly it), so those variants need a story whose ending uses the object
  if ((v.type === "person" || v.type === "object") && e.outcome !== "use") return null;
  const unseen = <T>(all: readonly T[], seen: readonly T[]): T => rng.pick(all.filter((x) => !seen.includes(x)));
  switch (`${v.type}/${v.tier}`) {
    case "person/2":
      return { ...e, actor: unseen(CHARACTERS.map((c) => c.name), s.mentioned.names) };
    case "person/3":
      // give: the receiver acts, so the giver is wrong; keep: the keeper acts, so the asker is wrong
      if (s.friend === null || (s.event !== "give" && s.event !== "keep")) return null;
      return { ...e, actor: e.actor === s.hero ? s.friend : s.hero };
    case "object/2":
      return { ...e, object: unseen(OBJECTS.map((o) => o.name), s.mentioned.objects) };
    case "object/3":
      return s.object2 === null ? null : { ...e, object: s.object2 };
    case "place/2":
      return { ...e, place: unseen(PLACES, s.mentioned.places) };
    case "place/3":
      return s.earlierPlace === null ? null : { ...e, place: s.earlierPlace };
    case "consequence/4":
      // the object is ruined or lost, yet the ending uses it (same template slot, other outcome)
      if (e.outcome !== "without") return null;
      return { ...e, outcome: "use", template: e.template % TEMPLATES.use.length };
    default:
      throw new Error(`unknown distractor variant ${v.type}/${v.tier}: use one of ${SC_VARIANTS.map((x) => `${x.type}/${x.tier}`).join(", ")}`);
  }
}

/** Label positions: each of k positions n/k times (+-1), shuffled. balancedLabels(5, 2, rng) has 3 zeros or 3 ones. */
export function balancedLabels(n: number, k: number, rng: Rng): number[] {
  const labels: number[] = [];
  const offset = rng.int(k); // which positions get the extra items when k does not divide n
  for (let i = 0; i < n; i++) labels.push((i + offset) % k);
  return rng.shuffle(labels);
}

/** Put the right ending at `label` and the wrong ones, in order, around it. */
function insertAt<T>(right: T, wrong: T[], label: number): T[] {
  const out = wrong.slice();
  out.splice(label, 0, right);
  return out;
}

/** A stream of stories, read one after another (the benchmark skips those that cannot carry an item). */
class StoryStream {
  private j = 0;
  constructor(
    private readonly seed: number,
    private readonly split: Split,
  ) {}
  next(): Story {
    return storyAt(this.seed, this.split, this.j++);
  }
}

/** Another story's ending that shares no name, object or place with this story (a topic distractor). */
function topicEnding(s: Story, others: StoryStream): string {
  for (let tries = 0; tries < 1000; tries++) {
    const o = others.next();
    const e = o.ending;
    if (!s.mentioned.names.includes(e.actor) && !s.mentioned.objects.includes(e.object) && !s.mentioned.places.includes(e.place)) {
      return renderEnding(e);
    }
  }
  throw new Error(`no topic distractor found for story ${s.id} in 1000 stories (internal error)`);
}

function contextOf(s: Story): string {
  return s.sentences.slice(0, -1).join(" ");
}

function lastOf(s: Story): string {
  return s.sentences[s.sentences.length - 1];
}

function distinct(xs: string[]): boolean {
  return new Set(xs).size === xs.length;
}

/** Build n items of a benchmark kind: a pure function of (kind, seed, split, n). */
export function makeBenchmark(kind: BenchKindName, opts: BenchOptions): BenchItem[] {
  if (!BENCH_KIND_NAMES.includes(kind)) throw new Error(`unknown benchmark kind '${kind}': use one of ${BENCH_KIND_NAMES.join(", ")}`);
  if (!Number.isInteger(opts.n) || opts.n < 0) throw new Error(`makeBenchmark: n must be a non-negative integer, got ${opts.n}`);
  if (kind === "chain") return makeChainBenchmark(opts);
  const rng = new Rng(hashSeed(opts.seed, "bench", kind, opts.split));
  const stories = new StoryStream(hashSeed(opts.seed, "bench-story", kind), opts.split);
  const others = new StoryStream(hashSeed(opts.seed, "bench-other", kind), opts.split);
  const nEndings = kind === "hs" ? 4 : 2;
  // labels from their own stream, so item i's story and distractors do not depend on n
  const labels = balancedLabels(opts.n, nEndings, new Rng(hashSeed(opts.seed, "bench-labels", kind, opts.split)));
  const items: BenchItem[] = [];
  let hard = 0; // rotates the hs hard-distractor type for balance
  for (let i = 0; i < opts.n; i++) {
    const id = `${kind}-${opts.split}-${opts.seed}-${i}`;
    let item: BenchItem | null = null;
    for (let tries = 0; item === null; tries++) {
      if (tries > 1000) throw new Error(`${id}: no story carries the item after 1000 stories (internal error)`);
      const s = stories.next();
      const right = lastOf(s);
      let wrong: { text: string; type: string; tier: number }[];
      if (kind === "sc") {
        const v = SC_VARIANTS[i % SC_VARIANTS.length];
        const slots = contradict(s, v, rng);
        if (slots === null) continue;
        wrong = [{ text: renderEnding(slots), type: v.type, tier: v.tier }];
      } else if (kind === "tsc") {
        wrong = [{ text: topicEnding(s, others), type: "topic", tier: 1 }];
      } else {
        const hardVariants = SC_VARIANTS.filter((v) => v.tier > 2);
        const hv = hardVariants[hard % hardVariants.length];
        const hardSlots = contradict(s, hv, rng);
        if (hardSlots === null) continue;
        // place/2 fits every story, person/2 and object/2 the stories whose ending uses the object
        const easyFits = SC_VARIANTS.filter((v) => v.tier === 2 && contradict(s, v, new Rng(0)) !== null);
        const easy = easyFits[rng.int(easyFits.length)];
        const easySlots = contradict(s, easy, rng) as EndingSlots;
        wrong = [
          { text: topicEnding(s, others), type: "topic", tier: 1 },
          { text: renderEnding(easySlots), type: easy.type, tier: easy.tier },
          { text: renderEnding(hardSlots), type: hv.type, tier: hv.tier },
        ];
      }
      const endings = insertAt(right, wrong.map((w) => w.text), labels[i]);
      if (!distinct(endings)) continue;
      const hardest = wrong[wrong.length - 1];
      item = {
        id,
        benchmark: kind,
        kind,
        context: contextOf(s),
        endings,
        label: labels[i],
        type: hardest.type,
        tier: hardest.tier,
        storyId: s.id,
        endingTypes: insertAt("correct", wrong.map((w) => w.type), labels[i]),
        endingTiers: insertAt(0, wrong.map((w) => w.tier), labels[i]),
      };
      if (kind === "hs") hard++;
    }
    items.push(item);
  }
  return items;
}

/** The 'chain' kind (tier 5, see the header): a pure function of (seed, split, n), with its own random streams. */
function makeChainBenchmark(opts: BenchOptions): BenchItem[] {
  const storySeed = hashSeed(opts.seed, "bench-story", "chain");
  const labels = balancedLabels(opts.n, 4, new Rng(hashSeed(opts.seed, "bench-labels", "chain", opts.split)));
  const items: BenchItem[] = [];
  for (let i = 0; i < opts.n; i++) {
    const s = chainStoryAt(storySeed, opts.split, i);
    const e = s.ending;
    const wrong = [
      { slots: { ...e, actor: s.friend }, type: "person", tier: 5 },
      { slots: { ...e, place: s.places[1] }, type: "place", tier: 5 },
      { slots: { ...e, actor: s.hero }, type: "person", tier: 3 },
    ];
    items.push({
      id: `chain-${opts.split}-${opts.seed}-${i}`,
      benchmark: "chain",
      kind: "chain",
      context: s.sentences.slice(0, -1).join(" "),
      endings: insertAt(renderEnding(e), wrong.map((w) => renderEnding(w.slots)), labels[i]),
      label: labels[i],
      type: "two facts",
      tier: 5,
      storyId: s.id,
      endingTypes: insertAt("correct", wrong.map((w) => w.type), labels[i]),
      endingTiers: insertAt(0, wrong.map((w) => w.tier), labels[i]),
    });
  }
  return items;
}
