/**
 * The story world: short templated stories (3-5 sentences) with tracked state, so that benchmark endings can
 * be built that agree with the story or contradict it in exactly one slot (lib/data/benchmarks.ts).
 *
 * A story is a plan rendered from templates (story-lexicon.ts):
 *   intro     the hero brings an object (with a colour) to a place      hero holds obj, everyone at place
 *   extras    0-2 of, in this order:
 *               friend   the friend is met at the place
 *               weather  filler, changes nothing
 *               goal     what the hero hopes to do with the object (changes nothing)
 *               left     a second object stays at home               obj2 is not at hand
 *               move     the hero (and the friend, if met) go on     the current place becomes place2
 *   event     give (the friend now holds obj) | keep (the hero holds it) | ruin | lose (nobody can use it)
 *   ending    the consequence, a pure function of the state: `EndingSlots` {actor, object, place, outcome}
 *               use:     "{actor} {use obj} at the {place}."            (give: actor = friend; keep: hero)
 *               without: "{actor} could not {want obj} at the {place} anymore."   (ruin, lose: the hero)
 *
 * Example: "lily took her red kite to the park. there lily met omar. then they walked to the lake.
 *   lily gave the kite to omar. omar flew the kite at the lake."
 *   state before the ending: holder omar, place lake (park is earlier), so "lily flew the kite at the lake"
 *   (wrong person) and "omar flew the kite at the park" (wrong place) are fluent contradictions.
 *
 * Splits never share a story:
 *   - held-out pairs: (character, object) pairs with (nameIndex + 2 * objectIndex) % 5 === 0 (20% of pairs,
 *     4 objects per character: anna (index 0) with objects 0, 5, 10, 15 = kite, bike, whistle, map;
 *     ben (1) with 2, 7, 12, 17 = book, guitar, sled, cup). No train or validation story mentions both
 *     members of a held-out pair; every test story's hero holds a held-out object.
 *   - train vs validation: a story whose text hashes to 0 mod 8 belongs to validation, any other to train
 *     (a candidate that falls on the wrong side is redrawn with the next attempt seed).
 * storyAt(seed, split, i) is a pure function; makeStories(seed, split, n)[i] === storyAt(seed, split, i).
 */
import { Rng, hashSeed } from "../rng";
import { CHARACTERS, PLACES, OBJECTS, COLORS, WEATHER, TIMES, WEEKDAYS, TEMPLATES, fill, type Character, type StoryObject } from "./story-lexicon";

export type Split = "train" | "validation" | "test";
export const SPLITS: readonly Split[] = ["train", "validation", "test"];
export type StoryEvent = "give" | "keep" | "ruin" | "lose";

/** The slots of a story's last sentence; changing one slot gives a fluent contradiction. */
export interface EndingSlots {
  /** template index within TEMPLATES.use or TEMPLATES.without */
  template: number;
  actor: string;
  object: string;
  place: string;
  outcome: "use" | "without";
}

export interface Story {
  id: string;
  split: Split;
  text: string;
  sentences: string[];
  hero: string;
  /** the second character, or null when the story never mentions one */
  friend: string | null;
  object: string;
  color: string;
  /** a second object the story says is at home (not at hand), or null */
  object2: string | null;
  /** where the ending happens */
  place: string;
  /** a place the characters left (a move sentence), or null */
  earlierPlace: string | null;
  event: StoryEvent;
  ending: EndingSlots;
  /** every character, object and place the story's context (all but the last sentence) mentions */
  mentioned: { names: string[]; objects: string[]; places: string[] };
}

const HELD_OUT_MOD = 5;
const VALIDATION_MOD = 8;
const MAX_ATTEMPTS = 1000;

function nameIndex(name: string): number {
  const i = CHARACTERS.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`unknown story character '${name}': see CHARACTERS in lib/data/story-lexicon.ts`);
  return i;
}

function objectIndex(obj: string): number {
  const i = OBJECTS.findIndex((o) => o.name === obj);
  if (i < 0) throw new Error(`unknown story object '${obj}': see OBJECTS in lib/data/story-lexicon.ts`);
  return i;
}

/** Is (character, object) a held-out pair? isHeldOut("anna", "kite") === true (0 + 2*0 = 0 mod 5). */
export function isHeldOut(name: string, obj: string): boolean {
  return (nameIndex(name) + 2 * objectIndex(obj)) % HELD_OUT_MOD === 0;
}

export function objectByName(name: string): StoryObject {
  return OBJECTS[objectIndex(name)];
}

/** Render the last sentence from its slots (benchmarks call this with one slot changed). */
export function renderEnding(e: EndingSlots): string {
  const o = objectByName(e.object);
  const templates = TEMPLATES[e.outcome];
  if (!(e.template >= 0 && e.template < templates.length)) {
    throw new Error(`ending template ${e.template} out of range: '${e.outcome}' has ${templates.length} templates`);
  }
  return fill(templates[e.template], { actor: e.actor, use: o.use, want: o.want, place: e.place });
}

/** Draw one candidate story (not yet checked against its split's rules). */
function drawStory(rng: Rng, split: Split): Omit<Story, "id" | "split" | "text"> {
  const heroC: Character = rng.pick(CHARACTERS);
  const hero = heroC.name;
  // The hero's object: a held-out pair in test, an allowed one otherwise.
  const objChoices = OBJECTS.filter((o) => isHeldOut(hero, o.name) === (split === "test"));
  const obj = rng.pick(objChoices);
  // The friend and second object must not form held-out pairs with anything mentioned, outside test.
  const ok = (name: string, o: string): boolean => split === "test" || !isHeldOut(name, o);
  const friend = rng.pick(CHARACTERS.filter((c) => c.name !== hero && ok(c.name, obj.name))).name;
  const obj2 = rng.pick(OBJECTS.filter((o) => o.name !== obj.name && ok(hero, o.name) && ok(friend, o.name))).name;
  const color = rng.pick(COLORS);
  const place1 = rng.pick(PLACES);
  const place2 = rng.pick(PLACES.filter((p) => p !== place1));
  const event: StoryEvent = rng.pick(["give", "keep", "ruin", "lose"] as const);

  // extras: 0-2 of friend/weather/goal/left/move, kept in that order
  const EXTRAS = ["friend", "weather", "goal", "left", "move"] as const;
  const nExtras = rng.int(3);
  const chosen = new Set(rng.shuffle(EXTRAS).slice(0, nExtras));
  const friendMet = chosen.has("friend");
  const moved = chosen.has("move");
  const place = moved ? place2 : place1;
  const slots: Record<string, string> = {
    hero, friend, pos: heroC.pos, color, obj: obj.name, obj2, place: place1, place2,
    who: friendMet ? "they" : hero, ruin: obj.ruin, want: obj.want, weather: rng.pick(WEATHER),
    time: rng.pick(TIMES), weekday: rng.pick(WEEKDAYS),
  };
  const sentences = [fill(rng.pick(TEMPLATES.intro), slots)];
  for (const role of EXTRAS) {
    if (chosen.has(role)) sentences.push(fill(rng.pick(TEMPLATES[role]), slots));
  }
  sentences.push(fill(rng.pick(TEMPLATES[event]), slots));

  // The ending is the consequence of the state after the event.
  const outcome = event === "give" || event === "keep" ? "use" : "without";
  const ending: EndingSlots = {
    template: rng.int(TEMPLATES[outcome].length),
    actor: event === "give" ? friend : hero,
    object: obj.name,
    place,
    outcome,
  };
  sentences.push(renderEnding(ending));

  // give and keep name the friend in the event sentence itself
  const friendMentioned = friendMet || event === "give" || event === "keep";
  return {
    sentences,
    hero,
    friend: friendMentioned ? friend : null,
    object: obj.name,
    color,
    object2: chosen.has("left") ? obj2 : null,
    place,
    earlierPlace: moved ? place1 : null,
    event,
    ending,
    mentioned: {
      names: friendMentioned ? [hero, friend] : [hero],
      objects: chosen.has("left") ? [obj.name, obj2] : [obj.name],
      places: moved ? [place1, place2] : [place1],
    },
  };
}

/** Which split a story text may belong to, by the rules in the header (test is decided by its pairs). */
function fitsSplit(s: Omit<Story, "id" | "split" | "text">, text: string, split: Split): boolean {
  if (split === "test") return isHeldOut(s.hero, s.object);
  const inValidation = hashSeed(0, "story-split", text) % VALIDATION_MOD === 0;
  return split === "validation" ? inValidation : !inValidation;
}

/** The i-th story of a split: a pure function of (seed, split, i). */
export function storyAt(seed: number, split: Split, i: number): Story {
  if (!SPLITS.includes(split)) throw new Error(`unknown split '${split}': use one of ${SPLITS.join(", ")}`);
  if (!Number.isInteger(i) || i < 0) throw new Error(`story index must be a non-negative integer, got ${i}`);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const s = drawStory(new Rng(hashSeed(seed, "story", split, i, attempt)), split);
    const text = s.sentences.join(" ");
    if (fitsSplit(s, text, split)) return { id: `${split}-${seed}-${i}`, split, text, ...s };
  }
  throw new Error(`storyAt(${seed}, ${split}, ${i}): no story fits the split after ${MAX_ATTEMPTS} attempts (internal error)`);
}

/** The first n stories of a split. */
export function makeStories(seed: number, split: Split, n: number): Story[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`makeStories: n must be a non-negative integer, got ${n}`);
  const out: Story[] = [];
  for (let i = 0; i < n; i++) out.push(storyAt(seed, split, i));
  return out;
}

/** Every word the story world can produce (for vocabulary checks). */
export function storyVocabulary(): string[] {
  const words = new Set<string>();
  const add = (t: string) => t.replace(/\{\w+\}/g, " ").split(/[^a-z]+/).forEach((w) => w && words.add(w));
  CHARACTERS.forEach((c) => add(`${c.name} ${c.pos}`));
  PLACES.forEach(add);
  OBJECTS.forEach((o) => add(`${o.name} ${o.use} ${o.want} ${o.ruin}`));
  COLORS.forEach(add);
  WEATHER.forEach(add);
  TIMES.forEach(add);
  WEEKDAYS.forEach(add);
  add("they"); // the {who} slot
  Object.values(TEMPLATES).forEach((ts) => ts.forEach(add));
  return Array.from(words).sort();
}
