/**
 * A dataset's vocoder and its round trip (audio/vocoder.ts does the signal work):
 *
 *   vocoderFor(ds)          acoustic units: the MelVocoder fitted on the dataset's paired training corpus (its
 *                           audio and k-means units), cached as `vocoder-mel.json` in the dataset dir (derived:
 *                           deleting it is safe); phonetic units: the PhonemeVocoder over its phoneme inventory,
 *                           with eSpeak's IPA -> mnemonic map learned on the story world's words in every lab voice
 *   speakUnits(v, units, voice)   unit ids (0..K-1) -> 16 kHz audio
 *   phoneLexiconFor(ds)           a phonetic dataset's pronunciation lexicon (transcribe.ts): its training corpus's
 *                                 words as aligned, and every story-world word as eSpeak spells it in each accent
 *   vocoderRoundTrip(ds, v)       held-out utterances (the benchmark prompts: test split, voices training never
 *                                 heard): units -> audio -> units again with the dataset's own unit pipeline
 *                                 (k-means of the audio; eSpeak's phoneme timings for phonetic units), and the
 *                                 agreement of the two unit strings (transcribe.ts unitAgreement), per frame and
 *                                 with runs collapsed
 * subtle: a phonetic round trip reads the units off eSpeak's own timings of the vocoded audio (the lab has no
 * audio -> phoneme recognizer), so it measures how faithfully the phoneme string and its length come back, not
 * the audio itself.
 */
import fs from "fs";
import path from "path";
import { readJson, writeJsonAtomic } from "../files";
import { createTts, VOICES, type VoiceSpec } from "../audio/tts";
import { createPhonemizer, MelVocoder, phonemeMap, PhonemeVocoder } from "../audio/vocoder";
import { phoneticUnits, type PhonemeInventory } from "../tokenizers/phonetic";
import { UNIT_SAMPLE_RATE } from "../tokenizers/units";
import { readShards, type Dataset } from "../data/build";
import { storyVocabulary } from "../data/story";
import { collapseRuns, PhoneLexicon, unitAgreement } from "./transcribe";

export type UnitVocoder = { kind: "acoustic"; mel: MelVocoder } | { kind: "phonetic"; phoneme: PhonemeVocoder };

const MEL_FILE = "vocoder-mel.json";

/** The accents of the lab's voices, as eSpeak voice ids ("en-us", "en-gb-scotland", ...). */
const ACCENTS = [...new Set(VOICES.map((v) => v.voice.split("+")[0]))];

/** The phoneme vocoder of an inventory: symbols by id, the eSpeak map learned in every lab voice. */
export async function phonemeVocoder(inventory: PhonemeInventory, frameRate: number): Promise<PhonemeVocoder> {
  const symbols = Array.from({ length: inventory.size }, (_, i) => inventory.symbol(i));
  const map = phonemeMap(await createPhonemizer(), storyVocabulary(), ACCENTS);
  return new PhonemeVocoder(symbols, map, frameRate);
}

const lexicons = new Map<string, Promise<PhoneLexicon>>();

/** The phone lexicon of a phonetic dataset (see the header), built once per process. */
export function phoneLexiconFor(ds: Dataset): Promise<PhoneLexicon> {
  const model = ds.unitModel;
  if (model.kind !== "phonetic")
    throw new Error(`phoneLexiconFor: dataset ${ds.dir} has acoustic units; a phone lexicon needs phonetic units`);
  let lex = lexicons.get(ds.dir);
  if (!lex) {
    lex = (async () => {
      const out = new PhoneLexicon().addAligned(ds.paired);
      const ph = await createPhonemizer();
      for (const voice of ACCENTS)
        for (const w of storyVocabulary()) out.addSpelled(w, ph.phonemes(w, voice, true), model.inventory);
      return out;
    })();
    lexicons.set(ds.dir, lex);
  }
  return lex;
}

/** The dataset's vocoder (see the header); the mel table is fitted once and cached in the dataset dir. */
export async function vocoderFor(ds: Dataset): Promise<UnitVocoder> {
  const frameRate = ds.config.units.frameRate;
  if (ds.unitModel.kind === "phonetic")
    return { kind: "phonetic", phoneme: await phonemeVocoder(ds.unitModel.inventory, frameRate) };
  const file = path.join(ds.dir, MEL_FILE);
  if (fs.existsSync(file)) return { kind: "acoustic", mel: MelVocoder.fromJSON(readJson(file, "mel vocoder")) };
  const audio = readShards(ds.dir, "paired");
  const byId = new Map(ds.paired.map((u) => [u.id, u.units]));
  const utts = audio.map((u) => {
    const units = byId.get(u.id);
    if (!units)
      throw new Error(`vocoderFor: paired audio ${u.id} has no aligned units in ${ds.dir}: rebuild the dataset`);
    return { audio: u.audio, sampleRate: u.sampleRate, units };
  });
  const mel = MelVocoder.fit(utts, ds.vocab.nUnits, { frameRate });
  writeJsonAtomic(file, mel.toJSON());
  return { kind: "acoustic", mel };
}

/** 16 kHz audio of unit ids (0..K-1); a phonetic vocoder speaks in `voice` (default the first held-out voice). */
export async function speakUnits(
  v: UnitVocoder,
  units: ArrayLike<number>,
  voice: VoiceSpec | string = "scot-m7",
): Promise<Float32Array> {
  if (units.length === 0) throw new Error("speakUnits: no units: the continuation is empty (it stopped at once)");
  if (v.kind === "acoustic") return v.mel.synthesize(units);
  return v.phoneme.synthesize(await createTts(), units, voice).utterance.audio;
}

/** Held-out spoken prompt i (the sc benchmark's prompt i: test split, a voice training never heard) with its audio. */
export function heldOutPrompt(
  ds: Dataset,
  i: number,
): { text: string; voice: string; units: Int32Array; audio: Float32Array; sampleRate: number } {
  const items = ds.bench.sc;
  if (!(Number.isInteger(i) && i >= 0 && i < items.length))
    throw new Error(
      `heldOutPrompt: item ${i} is not one of the dataset's ${items.length} sc prompts (0..${items.length - 1})`,
    );
  const { item, prompt } = items[i];
  const utt = readShards(ds.dir, "bench-sc").find((u) => u.id === `${item.id}/0`);
  if (!utt)
    throw new Error(
      `heldOutPrompt: the audio of ${item.id}/0 is missing under ${ds.dir}/bench-sc: rebuild the dataset`,
    );
  return { text: prompt.text, voice: prompt.voice, units: prompt.units, audio: utt.audio, sampleRate: utt.sampleRate };
}

/** Units of vocoded audio again, with the dataset's own unit pipeline. */
async function unitsAgain(ds: Dataset, v: UnitVocoder, units: Int32Array, voice: string): Promise<Int32Array> {
  const model = ds.unitModel;
  if (v.kind === "acoustic" && model.kind === "acoustic")
    return model.unitizer.encode(v.mel.synthesize(units), UNIT_SAMPLE_RATE).units;
  if (v.kind === "phonetic" && model.kind === "phonetic") {
    const { utterance } = v.phoneme.synthesize(await createTts(), units, voice);
    return phoneticUnits(utterance, {
      frameRate: ds.config.units.frameRate,
      noise: 0,
      seed: 0,
      inventory: model.inventory,
    });
  }
  throw new Error(`vocoderRoundTrip: a ${v.kind} vocoder for a ${model.kind} dataset: use vocoderFor(ds)`);
}

export interface RoundTripRow {
  units: "acoustic" | "phonetic";
  vocoder: string;
  utterances: number;
  /** mean agreement of the frame-level unit strings */
  frameAgreement: number;
  /** mean agreement with runs collapsed (phoneme or unit order, durations ignored) */
  runAgreement: number;
  /** the same measure between two different held-out utterances: its chance level */
  chance: number;
}

/** Units -> audio -> units on the first `n` benchmark prompts (see the header). */
export async function vocoderRoundTrip(ds: Dataset, v: UnitVocoder, n = 8): Promise<RoundTripRow> {
  const held = ds.bench.sc.slice(0, n).map((s) => s.prompt);
  if (held.length < 2)
    throw new Error(`vocoderRoundTrip: ${held.length} held-out utterances; need at least 2 (build more sc items)`);
  let frame = 0;
  let runs = 0;
  let chance = 0;
  for (let i = 0; i < held.length; i++) {
    const u = held[i];
    const again = await unitsAgain(ds, v, u.units, u.voice);
    frame += unitAgreement(u.units, again);
    runs += unitAgreement(collapseRuns(u.units), collapseRuns(again));
    chance += unitAgreement(collapseRuns(u.units), collapseRuns(held[(i + 1) % held.length].units));
  }
  const k = held.length;
  return {
    units: ds.unitModel.kind,
    vocoder: v.kind === "acoustic" ? "mean log-mel + Griffin-Lim" : "phonemes -> eSpeak",
    utterances: k,
    frameAgreement: frame / k,
    runAgreement: runs / k,
    chance: chance / k,
  };
}
