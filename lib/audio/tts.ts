/**
 * Text-to-speech with word and phoneme timings: eSpeak NG compiled to wasm (@echogarden/espeak-ng-emscripten).
 * eSpeak reports WORD events (character position of the word in the text) and PHONEME events (IPA symbol;
 * an empty symbol marks a pause), each with its audio position in ms. We turn these into
 *   - words: the whitespace-separated tokens of the text with surrounding punctuation stripped (textWords),
 *     each with start/end seconds and character offsets (text.slice(charStart, charEnd) === word);
 *   - phonemes: contiguous segments, each from its event to the next event, tagged with its word (-1 = pause).
 * eSpeak's words and ours need not match one to one: "42" is spoken as two eSpeak words ("forty two") that
 * both fall inside our token, so they merge into it; "from the" is spoken as one eSpeak word, so "the" takes
 * back its phonemes from the end of "from" (see timingsFromEvents).
 * Audio: eSpeak's 22050 Hz int16 output, resampled to 16 kHz Float32 in [-1, 1].
 *
 * Determinism: eSpeak draws from the C library's rand() (breath noise of the +f variants, small timing
 * jitter), seeded from the clock when it initialises, and its state would carry from call to call. So
 * createTts pins the clock during initialisation, snapshots the wasm memory after a warm-up, and every
 * synthesize() first restores that snapshot: the same (text, voice) gives bit-identical audio in any call
 * order and in any process. This relies on eSpeak keeping its state in wasm memory (tests check
 * repeatability) and on the wrapper's string buffer being allocated before the snapshot (the warm-up sizes it
 * to MAX_TEXT_BYTES; longer texts are refused).
 * eSpeak NG is GPL-3.0: audio it produces is not covered, but redistributing the package is.
 */
import { pathToFileURL } from "url";
import type { PhonemeTiming, Utterance, WordTiming } from "./types";
import { resample } from "./resample";

/** A voice: eSpeak voice id with an optional +variant, speaking rate (words per minute) and base pitch (0-99). */
export interface VoiceSpec {
  name: string;
  /** espeak voice id and variant, e.g. "en-us+m3" */
  voice: string;
  /** words per minute (eSpeak default 175) */
  rate: number;
  /** base pitch 0-99 (eSpeak default 50) */
  pitch: number;
}

/** Voices heard in training: 6 accents x variants x speeds x pitches. */
export const TRAIN_VOICES: VoiceSpec[] = [
  { name: "us-m1", voice: "en-us+m1", rate: 170, pitch: 45 },
  { name: "us-f2", voice: "en-us+f2", rate: 160, pitch: 60 },
  { name: "gb-m3", voice: "en+m3", rate: 150, pitch: 40 },
  { name: "rp-f4", voice: "en-gb-x-rp+f4", rate: 185, pitch: 55 },
  { name: "car-m5", voice: "en-029+m5", rate: 175, pitch: 50 },
  { name: "nyc-f1", voice: "en-us-nyc+f1", rate: 165, pitch: 65 },
];

/** Held-out voices: variants (m7, f5, m2) and accents (Scotland, West Midlands) that training never hears. */
export const TEST_VOICES: VoiceSpec[] = [
  { name: "scot-m7", voice: "en-gb-scotland+m7", rate: 160, pitch: 48 },
  { name: "wmd-f5", voice: "en-gb-x-gbcwmd+f5", rate: 180, pitch: 58 },
  { name: "us-m2", voice: "en-us+m2", rate: 190, pitch: 35 },
];

export interface Tts {
  /** Synthesize `text` (synchronous once createTts has loaded the wasm); a voice by spec or by lab name ("us-m1"). */
  synthesize(text: string, voice: VoiceSpec | string): Utterance;
}

/** The lab's voices by name (training, then held-out). */
export const VOICES: readonly VoiceSpec[] = [...TRAIN_VOICES, ...TEST_VOICES];

function voiceList(): string {
  return VOICES.map((v) => `${v.name} (${v.voice})`).join(", ");
}

/** A voice by its lab name, or a VoiceSpec checked field by field; anything else throws, listing the voices. */
export function resolveVoice(voice: VoiceSpec | string): VoiceSpec {
  if (typeof voice === "string") {
    const v = VOICES.find((x) => x.name === voice);
    if (!v)
      throw new Error(
        `tts: unknown voice '${voice}': use one of ${voiceList()}, or a VoiceSpec { name, voice (an eSpeak id like "en-us+m3"), rate, pitch }`,
      );
    return v;
  }
  const ok =
    typeof voice === "object" &&
    voice !== null &&
    typeof voice.name === "string" &&
    typeof voice.voice === "string" &&
    voice.voice !== "";
  if (!ok)
    throw new Error(
      `tts: voice ${JSON.stringify(voice)} is not a voice: give a name (one of ${voiceList()}) or a VoiceSpec { name, voice, rate, pitch }`,
    );
  if (!(Number.isFinite(voice.rate) && voice.rate >= 80 && voice.rate <= 450))
    throw new Error(
      `tts: voice '${voice.name}' rate ${voice.rate} must be 80..450 words per minute (eSpeak's default is 175)`,
    );
  if (!(Number.isFinite(voice.pitch) && voice.pitch >= 0 && voice.pitch <= 99))
    throw new Error(`tts: voice '${voice.name}' pitch ${voice.pitch} must be 0..99 (eSpeak's default is 50)`);
  return voice;
}

/** Longest text (UTF-8 bytes) one synthesize call accepts: the wrapper's string buffer size set at load. */
export const MAX_TEXT_BYTES = 60000;
/** Output sample rate of every Utterance. */
export const TTS_SAMPLE_RATE = 16000;
/** Phoneme symbol used for pauses (eSpeak's empty phoneme). */
export const PAUSE_PHONEME = "_";

/** One eSpeak event as the wasm wrapper reports it (positions: text is 1-based code points, audio is ms). */
export interface EspeakEvent {
  type: string;
  text_position: number;
  word_length: number;
  audio_position: number;
  id?: string | number;
}

/** The parts of the eSpeak wasm worker we use. */
interface EspeakWorker {
  set_voice(name: string): number;
  /** returns a pointer to a C string of phoneme mnemonics separated by "_" (words by spaces) */
  text_to_phonemes(text: string, mode: number): { ptr: number };
  set_rate(wpm: number): number;
  set_pitch(pitch: number): number;
  get_samplerate(): number;
  synthesize(text: string, cb: (audio: Int16Array, events: EspeakEvent[]) => number): void;
}
interface EspeakModule {
  eSpeakNGWorker: new () => EspeakWorker;
  HEAPU8: Uint8Array;
}

/** A word token of the text: [charStart, charEnd) is the word, [rawStart, rawEnd) its whitespace-delimited token. */
export interface TextWord {
  word: string;
  charStart: number;
  charEnd: number;
  rawStart: number;
  rawEnd: number;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * The words of a text: whitespace-separated tokens with leading/trailing punctuation stripped; tokens with
 * no letter or digit are not words. Example: `hi, "bob"! -- ok` -> hi [0,2), bob [5,8), ok [14,16).
 */
export function textWords(text: string): TextWord[] {
  const out: TextWord[] = [];
  for (const m of text.matchAll(/\S+/g)) {
    const raw = m[0];
    const rawStart = m.index ?? 0;
    let a = 0;
    let b = raw.length;
    while (a < b && !WORD_CHAR.test(raw[a])) a++;
    while (b > a && !WORD_CHAR.test(raw[b - 1])) b--;
    if (b > a)
      out.push({
        word: raw.slice(a, b),
        charStart: rawStart + a,
        charEnd: rawStart + b,
        rawStart,
        rawEnd: rawStart + raw.length,
      });
  }
  return out;
}

/** UTF-16 index of every code point position (eSpeak counts code points), plus one past the end. */
function codePointOffsets(text: string): number[] {
  const out: number[] = [];
  let i = 0;
  for (const ch of text) {
    out.push(i);
    i += ch.length;
  }
  out.push(i);
  return out;
}

/** Index of the word that owns character `c`: the token containing it, else the next one, else the last. */
function wordAt(words: TextWord[], c: number): number {
  for (let i = 0; i < words.length; i++) if (c < words[i].rawEnd) return i;
  return words.length - 1;
}

/** Number of phonemes eSpeak says for a word on its own (to split words eSpeak merged). */
export type PhonemeCounter = (word: string) => number;

/**
 * Word and phoneme timings from eSpeak events. `duration` is the audio length in seconds.
 *
 * Worked example (text "the cat", events as [type, textPos, ms, id]):
 *   [word,1,0] [phoneme,1,11,ð] [phoneme,1,58,ə] [word,5,107] [phoneme,5,156,k] [phoneme,5,202,æ]
 *   [phoneme,5,373,t] [phoneme,8,418,""] [end,8,500]   (duration 0.5 s)
 *   phonemes  ð 0.000-0.058 (w0; the first phoneme of a word starts at the word event)  ə 0.058-0.107 (w0)
 *             k 0.107-0.202 (w1)  æ 0.202-0.373  t 0.373-0.418  _ 0.418-0.500 (pause, -1)
 *   words     the 0.000-0.107   cat 0.107-0.418
 *
 * Merged words: eSpeak says "from the" as one word (events: word "from", phonemes f ɹ ʌ m ð ə, word "cup").
 * A word left without phonemes takes as many trailing phonemes of the previous word as it has on its own
 * (`countPhonemes("the")` = 2: ð ə), leaving the previous word at least one. Without a counter the count is
 * proportional to letters: round(6 * 3 / (4 + 3)) = 3. A word that still has none gets a zero-length timing
 * at the end of the previous word (align.ts gives every word at least one frame anyway).
 */
export function timingsFromEvents(
  text: string,
  events: EspeakEvent[],
  duration: number,
  countPhonemes?: PhonemeCounter,
): { words: WordTiming[]; phonemes: PhonemeTiming[] } {
  const words = textWords(text);
  if (words.length === 0) throw new Error(`tts: text '${text.slice(0, 60)}' has no words (letters or digits) to speak`);
  const cp = codePointOffsets(text);
  const marks = events.filter((e) => e.type === "word" || e.type === "phoneme" || e.type === "end");
  const phonemes: PhonemeTiming[] = [];
  const eventAt: (number | null)[] = words.map(() => null); // time of each word's first eSpeak word event
  let cur = -1;
  let wordPos = -1; // audio position (s) of the last word event not yet claimed by a phoneme
  for (let i = 0; i < marks.length; i++) {
    const e = marks[i];
    const t = Math.min(e.audio_position / 1000, duration);
    if (e.type === "word") {
      const c = cp[Math.min(Math.max(e.text_position - 1, 0), cp.length - 1)];
      cur = Math.max(cur, wordAt(words, c)); // eSpeak never goes back in the text; keep word order monotone
      wordPos = t;
      if (eventAt[cur] === null) eventAt[cur] = t;
      continue;
    }
    if (e.type !== "phoneme") continue;
    // a phoneme lasts until the next event of any kind
    const end = i + 1 < marks.length ? Math.min(marks[i + 1].audio_position / 1000, duration) : duration;
    const sym = typeof e.id === "string" ? e.id : "";
    const isPause = sym === "" || cur < 0;
    const start = !isPause && wordPos >= 0 ? Math.min(wordPos, t) : t;
    if (!isPause) wordPos = -1;
    if (end <= start) continue;
    phonemes.push({ phoneme: isPause ? PAUSE_PHONEME : sym, start, end, wordIndex: isPause ? -1 : cur });
  }
  // indices into `phonemes` of every word's phonemes, in time order
  const own: number[][] = words.map(() => []);
  phonemes.forEach((p, j) => {
    if (p.wordIndex >= 0) own[p.wordIndex].push(j);
  });
  for (let i = 1; i < words.length; i++) {
    const prev = own[i - 1];
    if (own[i].length > 0 || prev.length < 2) continue;
    const w = words[i].word;
    const guess = countPhonemes
      ? countPhonemes(w)
      : Math.round((prev.length * w.length) / (w.length + words[i - 1].word.length));
    const c = Math.min(Math.max(guess, 1), prev.length - 1);
    own[i] = prev.splice(prev.length - c, c);
    for (const j of own[i]) phonemes[j].wordIndex = i;
  }
  const timed: WordTiming[] = [];
  let prevEnd = 0;
  words.forEach((w, i) => {
    const js = own[i];
    let start: number;
    let end: number;
    if (js.length > 0) {
      start = Math.max(phonemes[js[0]].start, prevEnd);
      end = Math.max(phonemes[js[js.length - 1]].end, start);
    } else {
      start = end = Math.max(prevEnd, Math.min(eventAt[i] ?? prevEnd, duration));
    }
    timed.push({ word: w.word, start, end, charStart: w.charStart, charEnd: w.charEnd });
    prevEnd = end;
  });
  return { words: timed, phonemes };
}

/** Dynamic import that TypeScript's CommonJS output leaves alone (the package is ESM-only). */
const importEsm = new Function("specifier", "return import(specifier)") as (
  s: string,
) => Promise<{ default: () => Promise<EspeakModule> }>;

class EspeakTts implements Tts {
  /** the current eSpeak voice id (the phonemes of a word depend on the accent) */
  private current = "";
  /** phoneme count of a word said alone, per voice and word */
  private readonly counts = new Map<string, number>();
  private readonly snapshot: Uint8Array;
  constructor(
    private readonly mod: EspeakModule,
    private readonly worker: EspeakWorker,
    private readonly rate: number,
  ) {
    // Warm-up: a long blank text makes the wrapper grow its string buffer (on the next call) to hold any text
    // up to MAX_TEXT_BYTES, and one real synthesis runs eSpeak's lazy initialisation; then snapshot the memory.
    worker.synthesize(" ".repeat(MAX_TEXT_BYTES + 1024), () => 0);
    if (worker.set_voice("en-us") !== 0)
      throw new Error(
        "tts: eSpeak could not load its default voice 'en-us': the espeak-ng.data file is missing or corrupt",
      );
    worker.synthesize("hello", () => 0);
    this.snapshot = mod.HEAPU8.slice();
  }

  /** Phonemes eSpeak gives `word` on its own in the current voice (text_to_phonemes; no audio, no rand()). */
  private countPhonemes(word: string): number {
    const key = `${this.current}|${word}`;
    const hit = this.counts.get(key);
    if (hit !== undefined) return hit;
    const ptr = this.worker.text_to_phonemes(word, 0).ptr;
    let end = ptr;
    while (this.mod.HEAPU8[end] !== 0) end++;
    const mnemonics = new TextDecoder().decode(this.mod.HEAPU8.slice(ptr, end)); // "the" -> "D_@2"
    const n = mnemonics.split(/[_\s]+/).filter((x) => x.length > 0).length;
    this.counts.set(key, n);
    return n;
  }

  synthesize(text: string, voiceOrName: VoiceSpec | string): Utterance {
    const voice = resolveVoice(voiceOrName);
    if (typeof text !== "string") throw new Error(`tts.synthesize: text must be a string, got ${JSON.stringify(text)}`);
    if (text.trim().length === 0) throw new Error("tts.synthesize: text is empty: pass at least one word to speak");
    const bytes = Buffer.byteLength(text, "utf8") + Buffer.byteLength(voice.voice, "utf8");
    if (bytes > MAX_TEXT_BYTES)
      throw new Error(
        `tts.synthesize: text of ${bytes} bytes is longer than ${MAX_TEXT_BYTES}: split it into sentences`,
      );
    // restore the engine state of the snapshot (see the header), then select the voice
    this.mod.HEAPU8.set(this.snapshot);
    const rc = this.worker.set_voice(voice.voice);
    if (rc !== 0)
      throw new Error(
        `tts: eSpeak has no voice '${voice.voice}' (code ${rc}): use an id like "en-us" or "en-us+m3", or one of the lab's voices: ${voiceList()}`,
      );
    this.worker.set_rate(voice.rate);
    this.worker.set_pitch(voice.pitch);
    this.current = voice.voice;
    const chunks: Int16Array[] = [];
    const events: EspeakEvent[] = [];
    this.worker.synthesize(text, (audio, evs) => {
      chunks.push(audio);
      for (const e of evs) events.push(e);
      return 0; // 0 = continue
    });
    let n = 0;
    for (const c of chunks) n += c.length;
    const raw = new Float32Array(n);
    let o = 0;
    for (const c of chunks) {
      for (let i = 0; i < c.length; i++) raw[o + i] = c[i] / 32768;
      o += c.length;
    }
    const audio = resample(raw, this.rate, TTS_SAMPLE_RATE);
    const { words, phonemes } = timingsFromEvents(text, events, audio.length / TTS_SAMPLE_RATE, (w) =>
      this.countPhonemes(w),
    );
    return { text, voice: voice.name, sampleRate: TTS_SAMPLE_RATE, audio, words, phonemes };
  }
}

let loaded: Promise<Tts> | null = null;
/** the clock eSpeak sees while it seeds rand() (any constant) */
const FIXED_CLOCK_MS = 1700000000000;

/** Load the eSpeak wasm (once per process, ~0.4 s with the warm-up) and return a synchronous synthesizer. */
export function createTts(): Promise<Tts> {
  if (loaded === null) {
    loaded = (async () => {
      const url = pathToFileURL(require.resolve("@echogarden/espeak-ng-emscripten")).href;
      const mod = await (await importEsm(url)).default();
      // eSpeak seeds rand() from time() when the worker initialises: pin the clock for that call only, so
      // that the seed (and the audio of voices with breath noise, like the +f variants) is the same every run
      const realNow = Date.now;
      let worker: EspeakWorker;
      try {
        Date.now = () => FIXED_CLOCK_MS;
        worker = new mod.eSpeakNGWorker();
      } finally {
        Date.now = realNow;
      }
      return new EspeakTts(mod, worker, worker.get_samplerate());
    })();
    loaded.catch(() => {
      loaded = null; // let a later call retry
    });
  }
  return loaded;
}
