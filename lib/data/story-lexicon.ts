/**
 * The word lists of the story world (lib/data/story.ts): characters, places, objects with what one does
 * with them, colours, and the sentence templates. Everything is lower-case with basic punctuation, so the
 * TTS reads it plainly and the text BPE sees a closed vocabulary of a few hundred words.
 *
 * Template slots: {hero} {friend} {actor} {pos} (his/her of the hero) {color} {obj} {obj2} {place} {place2}
 * {who} ("they" or the hero) {use} {want} {ruin} {weather} {time} {weekday}.
 */

export interface Character {
  name: string;
  /** possessive pronoun */
  pos: "his" | "her";
}

export const CHARACTERS: readonly Character[] = [
  { name: "anna", pos: "her" },
  { name: "ben", pos: "his" },
  { name: "carl", pos: "his" },
  { name: "dora", pos: "her" },
  { name: "eli", pos: "his" },
  { name: "fay", pos: "her" },
  { name: "gus", pos: "his" },
  { name: "hana", pos: "her" },
  { name: "ivan", pos: "his" },
  { name: "jade", pos: "her" },
  { name: "kai", pos: "his" },
  { name: "lily", pos: "her" },
  { name: "max", pos: "his" },
  { name: "nina", pos: "her" },
  { name: "omar", pos: "his" },
  { name: "pia", pos: "her" },
  { name: "raj", pos: "his" },
  { name: "sara", pos: "her" },
  { name: "tom", pos: "his" },
  { name: "uma", pos: "her" },
  { name: "vic", pos: "his" },
  { name: "wen", pos: "her" },
  { name: "yuri", pos: "his" },
  { name: "zoe", pos: "her" },
];

export const PLACES: readonly string[] = [
  "park", "beach", "garden", "forest", "market", "school", "library", "river",
  "farm", "hill", "lake", "zoo", "yard", "station", "castle", "meadow",
  "harbor", "square", "orchard", "playground",
];

export interface StoryObject {
  name: string;
  /** past tense use, with the object: "flew the kite" */
  use: string;
  /** infinitive use: "fly the kite" */
  want: string;
  /** what happens when it is ruined (after "the kite"): "tore on a branch" */
  ruin: string;
}

export const OBJECTS: readonly StoryObject[] = [
  { name: "kite", use: "flew the kite", want: "fly the kite", ruin: "tore on a branch" },
  { name: "ball", use: "kicked the ball", want: "kick the ball", ruin: "went flat" },
  { name: "book", use: "read the book", want: "read the book", ruin: "fell into a puddle" },
  { name: "drum", use: "played the drum", want: "play the drum", ruin: "cracked in the cold" },
  { name: "boat", use: "sailed the boat", want: "sail the boat", ruin: "sank to the bottom" },
  { name: "bike", use: "rode the bike", want: "ride the bike", ruin: "got a flat tire" },
  { name: "camera", use: "took photos with the camera", want: "take photos with the camera", ruin: "stopped working" },
  { name: "guitar", use: "played the guitar", want: "play the guitar", ruin: "lost two strings" },
  { name: "shovel", use: "dug with the shovel", want: "dig with the shovel", ruin: "snapped in two" },
  { name: "brush", use: "painted with the brush", want: "paint with the brush", ruin: "fell into the mud" },
  { name: "whistle", use: "blew the whistle", want: "blow the whistle", ruin: "was crushed by a cart" },
  { name: "puzzle", use: "solved the puzzle", want: "solve the puzzle", ruin: "lost three pieces" },
  { name: "sled", use: "rode the sled", want: "ride the sled", ruin: "split in half" },
  { name: "lamp", use: "lit the lamp", want: "light the lamp", ruin: "fell and broke" },
  { name: "flute", use: "played the flute", want: "play the flute", ruin: "got stuck with sand" },
  { name: "map", use: "read the map", want: "read the map", ruin: "blew into the water" },
  { name: "hat", use: "wore the hat", want: "wear the hat", ruin: "was eaten by a goat" },
  { name: "cup", use: "drank from the cup", want: "drink from the cup", ruin: "fell off the table" },
  { name: "rope", use: "swung on the rope", want: "swing on the rope", ruin: "snapped" },
  { name: "net", use: "caught fish with the net", want: "catch fish with the net", ruin: "got a big hole" },
];

export const COLORS: readonly string[] = ["red", "blue", "green", "yellow", "black", "white", "orange", "purple"];
export const WEATHER: readonly string[] = ["warm", "cold", "windy", "sunny", "rainy", "cloudy", "bright", "grey", "foggy", "hot"];
export const TIMES: readonly string[] = ["morning", "afternoon", "evening", "day"];
export const WEEKDAYS: readonly string[] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/** Sentence templates by role; a story picks one variant of each role it uses. */
export const TEMPLATES = {
  intro: [
    "{hero} took {pos} {color} {obj} to the {place}.",
    "{hero} brought {pos} {color} {obj} to the {place}.",
    "one {time} {hero} carried {pos} {color} {obj} to the {place}.",
    "on {weekday} {hero} took {pos} {color} {obj} to the {place}.",
  ],
  friend: ["there {hero} met {friend}.", "{friend} was at the {place} too.", "at the {place} {hero} saw {pos} friend {friend}."],
  weather: ["it was a {weather} day.", "the day was {weather}.", "the weather was {weather} and nice."],
  goal: ["{hero} wanted to {want} there.", "{hero} hoped to {want} all day."],
  left: ["{hero} had left {pos} {obj2} at home.", "{pos} {obj2} was still at home."],
  move: ["then {who} walked to the {place2}.", "later {who} went on to the {place2}."],
  give: ["{hero} gave the {obj} to {friend}.", "{hero} let {friend} have the {obj}."],
  keep: ["{friend} asked for the {obj}, but {hero} kept it.", "{friend} wanted the {obj}, but {hero} said no."],
  ruin: ["then the {obj} {ruin}.", "suddenly the {obj} {ruin}."],
  lose: ["then {hero} lost the {obj}.", "sadly {hero} dropped the {obj} and could not find it."],
  /** endings when the actor still has a working object */
  use: ["{actor} {use} at the {place}.", "later {actor} {use} at the {place}.", "{actor} happily {use} at the {place}."],
  /** endings when the object is ruined or lost */
  without: ["{actor} could not {want} at the {place} anymore.", "{actor} was sad and could not {want} at the {place}."],
} as const;

/** Fill `{slot}`s; a slot missing from `slots` is an error naming it. */
export function fill(template: string, slots: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = slots[k];
    if (v === undefined) throw new Error(`story template '${template}' needs slot {${k}}, which was not given`);
    return v;
  });
}
