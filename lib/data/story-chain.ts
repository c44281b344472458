/**
 * Chain stories: the story world of story.ts with more people and places, for the benchmark tier that needs
 * two facts from different sentences (benchmarks.ts kind 'chain', tier 5). Every sentence uses the same
 * templates as the training stories (story-lexicon.ts), so the words and sentence forms are familiar; only
 * their composition is new: the object passes through two hands, and the group moves twice.
 *
 *   intro     hero takes the object to place1                       hero holds obj
 *   friend    the hero meets the friend                             (template "friend")
 *   third     a third person is there too                           (template "friend", with the third person)
 *   give 1    hero gives the object to the friend                   friend holds obj
 *   move 1    they walk to place2
 *   give 2    the friend gives the object to the third person       third holds obj
 *   move 2    they go on to place3
 *   ending    "{third} {use} at the {place3}."
 *
 * Example: "lily took her red kite to the park. there lily met omar. uma was at the park too. lily gave the
 *   kite to omar. then they walked to the lake. omar let uma have the kite. later they went on to the zoo.
 *   uma flew the kite at the zoo."
 * The two-fact contradictions: "omar flew the kite at the zoo" (omar got the kite in one sentence and gave it
 * away in a later one) and "uma flew the kite at the lake" (they reached the lake in one sentence and left it
 * in a later one). A one-fact one: "lily flew the kite at the zoo" (the first giver, as in tier 3).
 *
 * Splits follow story.ts: a test story's hero holds a held-out object; train and validation stories mention
 * no held-out (person, object) pair and split by the text hash. chainStoryAt(seed, split, i) is pure.
 */
import { Rng, hashSeed } from "../rng";
import { isHeldOut, renderEnding, SPLITS, type EndingSlots, type Split } from "./story";
import { CHARACTERS, PLACES, OBJECTS, COLORS, TIMES, WEEKDAYS, TEMPLATES, fill } from "./story-lexicon";

export interface ChainStory {
  id: string;
  split: Split;
  text: string;
  sentences: string[];
  /** the first holder, the middle one (holds the object in between), the last one (the ending's actor) */
  hero: string;
  friend: string;
  third: string;
  object: string;
  /** the start, the middle and the final place */
  places: [string, string, string];
  ending: EndingSlots;
}

const VALIDATION_MOD = 8;
const MAX_ATTEMPTS = 1000;

function drawChain(rng: Rng, split: Split): Omit<ChainStory, "id" | "split" | "text"> {
  const heroC = rng.pick(CHARACTERS);
  const hero = heroC.name;
  const obj = rng.pick(OBJECTS.filter((o) => isHeldOut(hero, o.name) === (split === "test")));
  // outside test, nobody mentioned may form a held-out pair with the object (story.ts rules)
  const ok = (name: string): boolean => split === "test" || !isHeldOut(name, obj.name);
  const friend = rng.pick(CHARACTERS.filter((c) => c.name !== hero && ok(c.name))).name;
  const third = rng.pick(CHARACTERS.filter((c) => c.name !== hero && c.name !== friend && ok(c.name))).name;
  const places = rng.shuffle(PLACES).slice(0, 3) as [string, string, string];
  const base = { pos: heroC.pos, color: rng.pick(COLORS), obj: obj.name, time: rng.pick(TIMES), weekday: rng.pick(WEEKDAYS), who: "they" };
  const sentences = [
    fill(rng.pick(TEMPLATES.intro), { ...base, hero, place: places[0] }),
    fill(rng.pick(TEMPLATES.friend), { ...base, hero, friend, place: places[0] }),
    fill(rng.pick(TEMPLATES.friend.slice(1)), { ...base, hero, friend: third, place: places[0] }),
    fill(rng.pick(TEMPLATES.give), { ...base, hero, friend }),
    fill(TEMPLATES.move[0], { ...base, place2: places[1] }),
    fill(rng.pick(TEMPLATES.give), { ...base, hero: friend, friend: third }),
    fill(TEMPLATES.move[1], { ...base, place2: places[2] }),
  ];
  const ending: EndingSlots = { template: rng.int(TEMPLATES.use.length), actor: third, object: obj.name, place: places[2], outcome: "use" };
  sentences.push(renderEnding(ending));
  return { sentences, hero, friend, third, object: obj.name, places, ending };
}

/** The i-th chain story of a split: a pure function of (seed, split, i). */
export function chainStoryAt(seed: number, split: Split, i: number): ChainStory {
  if (!SPLITS.includes(split)) throw new Error(`unknown split '${split}': use one of ${SPLITS.join(", ")}`);
  if (!Number.isInteger(i) || i < 0) throw new Error(`chain story index must be a non-negative integer, got ${i}`);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const s = drawChain(new Rng(hashSeed(seed, "chain-story", split, i, attempt)), split);
    const text = s.sentences.join(" ");
    const inValidation = hashSeed(0, "story-split", text) % VALIDATION_MOD === 0;
    if (split === "test" || (split === "validation") === inValidation) return { id: `chain-${split}-${seed}-${i}`, split, text, ...s };
  }
  throw new Error(`chainStoryAt(${seed}, ${split}, ${i}): no story fits the split after ${MAX_ATTEMPTS} attempts (internal error)`);
}
