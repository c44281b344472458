/**
 * Speech units back to audio, with the lab's own parts (no neural vocoder):
 *
 *   MelVocoder      acoustic (k-means) units: each unit's mean log-mel frame over the training corpus, 4 frames
 *                   of 10 ms per 40 ms unit, smoothed over time (a triangle of 5 frames), then Griffin-Lim
 *                   (griffin-lim.ts). Units the corpus never used take the mean of all frames.
 *   PhonemeVocoder  phonetic units: runs of a phoneme id -> its IPA symbol -> eSpeak's own phoneme mnemonic
 *                   (learned by asking eSpeak for both spellings of a word list, `phonemeMap`) -> eSpeak NG
 *                   speaks `[[...]]` phoneme input in a chosen voice (tts.ts); a silence run becomes pauses
 *                   (`_:`, about 65 ms each), and the speaking rate is set so the audio lasts as long as the units.
 *
 * Worked example (PhonemeVocoder, symbols [<sil>, <unk>, k, æ, t] by id, frameRate 25):
 *   units  0 0 2 2 3 3 3 4 0 0 0       -> runs <sil>x2 k æ t <sil>x3 -> mnemonics "_:" "k" "a" "t" "_:_:"
 *   eSpeak text  "[[_: kat _:_:]]"     (a pause is round(frames * 40 / 65) "_:", at least one)
 * eSpeak decides each phoneme's length itself; only the total is matched, by the rate.
 *
 * Limits (docs/generate.md): the mel vocoder has no pitch and 40 mel bins, so it is buzzy and only roughly
 * intelligible; the phoneme vocoder is clear, but it is eSpeak reading phonemes, with eSpeak's durations and
 * stress, not the model's prosody.
 */
import { pathToFileURL } from "url";
import { logMel } from "./logmel";
import { resample } from "./resample";
import { griffinLim, GL_SAMPLE_RATE } from "./griffin-lim";
import { resolveVoice, type Tts, type VoiceSpec } from "./tts";
import type { Utterance } from "./types";

const FINE_RATE = 100; // log-mel frames per second (10 ms hop)
const FORMAT = "lst-mel-vocoder";
const VERSION = 1;

/** Smooth frame-major [n, dim] rows over time with a triangle of half-width w (weights w+1-|d|). */
function smoothFrames(x: Float32Array, n: number, dim: number, w: number): Float32Array {
  if (w <= 0) return x;
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    let wsum = 0;
    for (let d = -w; d <= w; d++) {
      const j = i + d;
      if (j < 0 || j >= n) continue;
      const wt = w + 1 - Math.abs(d);
      wsum += wt;
      for (let c = 0; c < dim; c++) out[i * dim + c] += wt * x[j * dim + c];
    }
    for (let c = 0; c < dim; c++) out[i * dim + c] /= wsum;
  }
  return out;
}

/** One unit's corpus statistics, for the fit: how many 10 ms frames it covered. */
export interface MelVocoderFit {
  /** 10 ms frames seen per unit */
  counts: number[];
  /** utterances read */
  utterances: number;
}

export class MelVocoder {
  private constructor(
    /** per unit, its mean log-mel frame [nUnits * nMels] */
    private readonly table: Float32Array,
    readonly nUnits: number,
    readonly nMels: number,
    readonly frameRate: number,
    readonly fit: MelVocoderFit,
  ) {}

  /**
   * Fit the table on utterances with their units (one per frame at `frameRate`): every 10 ms log-mel frame
   * (no CMN) goes to the unit whose frame covers its centre.
   */
  static fit(
    utts: readonly { audio: Float32Array; sampleRate: number; units: Int32Array }[],
    nUnits: number,
    opts: { frameRate?: number; nMels?: number } = {},
  ): MelVocoder {
    const frameRate = opts.frameRate ?? 25;
    const nMels = opts.nMels ?? 40;
    if (utts.length === 0) throw new Error("MelVocoder.fit: no utterances: pass the training corpus's audio and units");
    if (!(FINE_RATE % frameRate === 0))
      throw new Error(`MelVocoder.fit: frameRate ${frameRate} must divide ${FINE_RATE} (25 Hz units: 4 frames each)`);
    const sums = new Float64Array(nUnits * nMels);
    const counts = new Array<number>(nUnits).fill(0);
    const all = new Float64Array(nMels);
    let total = 0;
    for (const u of utts) {
      const audio = u.sampleRate === GL_SAMPLE_RATE ? u.audio : resample(u.audio, u.sampleRate, GL_SAMPLE_RATE);
      const f = logMel(audio, GL_SAMPLE_RATE, { frameRate: FINE_RATE, nMels, cmn: false, deltas: false });
      for (let i = 0; i < f.nFrames; i++) {
        const j = Math.min(u.units.length - 1, Math.floor((i * frameRate) / FINE_RATE));
        const unit = u.units[j];
        if (!(unit >= 0 && unit < nUnits))
          throw new Error(`MelVocoder.fit: unit id ${unit} is outside 0..${nUnits - 1}: fit with the units' own K`);
        counts[unit]++;
        total++;
        for (let m = 0; m < nMels; m++) {
          sums[unit * nMels + m] += f.frames[i * nMels + m];
          all[m] += f.frames[i * nMels + m];
        }
      }
    }
    const table = new Float32Array(nUnits * nMels);
    for (let k = 0; k < nUnits; k++)
      for (let m = 0; m < nMels; m++)
        table[k * nMels + m] = counts[k] > 0 ? sums[k * nMels + m] / counts[k] : all[m] / total;
    return new MelVocoder(table, nUnits, nMels, frameRate, { counts, utterances: utts.length });
  }

  /** The smoothed log-mel frames [4 * units, nMels] at 100 Hz that `synthesize` inverts. */
  frames(units: ArrayLike<number>, smooth = 2): Float32Array {
    if (units.length === 0) throw new Error("MelVocoder: no units to speak");
    const per = FINE_RATE / this.frameRate;
    const n = units.length * per;
    const x = new Float32Array(n * this.nMels);
    for (let j = 0; j < units.length; j++) {
      const u = units[j];
      if (!Number.isInteger(u) || u < 0 || u >= this.nUnits)
        throw new Error(
          `MelVocoder: unknown unit id ${u} at position ${j}: this vocoder has units 0..${this.nUnits - 1} (give unit ids, not LM ids)`,
        );
      for (let r = 0; r < per; r++)
        x.set(this.table.subarray(u * this.nMels, (u + 1) * this.nMels), (j * per + r) * this.nMels);
    }
    return smoothFrames(x, n, this.nMels, smooth);
  }

  /** 16 kHz audio of a unit sequence: units.length / frameRate seconds. */
  synthesize(units: ArrayLike<number>, opts: { iterations?: number; smooth?: number } = {}): Float32Array {
    const frames = this.frames(units, opts.smooth ?? 2);
    return griffinLim(frames, frames.length / this.nMels, this.nMels, { iterations: opts.iterations });
  }

  toJSON(): object {
    return {
      format: FORMAT,
      version: VERSION,
      nUnits: this.nUnits,
      nMels: this.nMels,
      frameRate: this.frameRate,
      fit: this.fit,
      table: Array.from(this.table),
    };
  }

  static fromJSON(j: unknown): MelVocoder {
    const o = j as Record<string, unknown> | null;
    if (o === null || typeof o !== "object" || o.format !== FORMAT || o.version !== VERSION)
      throw new Error(`MelVocoder.fromJSON: not a '${FORMAT}' v${VERSION} object: delete the file and fit again`);
    const table = Float32Array.from(o.table as number[]);
    const [nUnits, nMels] = [o.nUnits as number, o.nMels as number];
    if (table.length !== nUnits * nMels)
      throw new Error(`MelVocoder.fromJSON: ${table.length} values for ${nUnits} x ${nMels}: the file is corrupt`);
    return new MelVocoder(table, nUnits, nMels, o.frameRate as number, o.fit as MelVocoderFit);
  }
}

/** The parts of the eSpeak wasm worker the phonemizer uses (tts.ts holds the synthesizer). */
interface PhonemizerWorker {
  set_voice(name: string): number;
  text_to_phonemes(text: string, mode: number): { ptr: number };
}

/** eSpeak's phonemes of a text: mnemonics (`ipa` false, "k_'a_t") or IPA ("k_ˈæ_t"); words split by spaces. */
export interface Phonemizer {
  phonemes(text: string, voice: string, ipa: boolean): string;
}

const importEsm = new Function("specifier", "return import(specifier)") as (
  s: string,
) => Promise<{ default: () => Promise<{ eSpeakNGWorker: new () => PhonemizerWorker; HEAPU8: Uint8Array }> }>;

let phonemizer: Promise<Phonemizer> | null = null;

/** A second eSpeak instance for text -> phonemes (no audio, no randomness); loaded once per process. */
export function createPhonemizer(): Promise<Phonemizer> {
  phonemizer ??= (async () => {
    const mod = await (
      await importEsm(pathToFileURL(require.resolve("@echogarden/espeak-ng-emscripten")).href)
    ).default();
    const worker = new mod.eSpeakNGWorker();
    let current = "";
    return {
      phonemes(text: string, voice: string, ipa: boolean): string {
        if (voice !== current && worker.set_voice(voice) !== 0)
          throw new Error(`phonemizer: eSpeak has no voice '${voice}': use an id like "en-us"`);
        current = voice;
        const ptr = worker.text_to_phonemes(text, ipa ? 1 : 0).ptr;
        let end = ptr;
        while (mod.HEAPU8[end] !== 0) end++;
        return new TextDecoder().decode(mod.HEAPU8.slice(ptr, end));
      },
    };
  })();
  return phonemizer;
}

const stripStress = (s: string) => s.replace(/[ˈˌ',]/g, "");

/**
 * IPA symbol (stress stripped) -> eSpeak mnemonic, by asking eSpeak for both spellings of each word in each
 * voice and pairing them phoneme by phoneme (they have the same count); the most frequent pairing wins.
 * Example: "kite" in en-us -> "k_'aI_t" and "k_ˈaɪ_t" -> k:k, aɪ:aI, t:t.
 */
export function phonemeMap(ph: Phonemizer, words: readonly string[], voices: readonly string[]): Map<string, string> {
  const votes = new Map<string, Map<string, number>>();
  const vote = (mnemonic: string, ipa: string) => {
    const a = mnemonic.split("_").filter((x) => x !== "");
    const b = ipa.split("_").filter((x) => x !== "");
    if (a.length !== b.length) return;
    a.forEach((m, k) => {
      const by = votes.get(stripStress(b[k])) ?? new Map<string, number>();
      by.set(stripStress(m), (by.get(stripStress(m)) ?? 0) + 1);
      votes.set(stripStress(b[k]), by);
    });
  };
  // words go 40 to a call (one call each costs ~2 ms); a chunk eSpeak joins words in is asked word by word
  const spell = (text: string, voice: string) =>
    [false, true].map((ipa) => ph.phonemes(text, voice, ipa).trim().split(/\s+/));
  for (const voice of voices) {
    for (let i = 0; i < words.length; i += 40) {
      const chunk = words.slice(i, i + 40);
      const [mn, ipa] = spell(chunk.join(" "), voice);
      if (mn.length === chunk.length && ipa.length === chunk.length) mn.forEach((w, k) => vote(w, ipa[k]));
      else
        for (const w of chunk) {
          const [m1, i1] = spell(w, voice);
          if (m1.length === i1.length) m1.forEach((x, k) => vote(x, i1[k]));
        }
    }
  }
  const out = new Map<string, string>();
  for (const [ipa, by] of votes) out.set(ipa, [...by.entries()].sort((x, y) => y[1] - x[1])[0][0]);
  return out;
}

/** The phoneme text of a unit sequence and what could not be spelled (see the header's worked example). */
export interface PhonemeText {
  text: string;
  /** symbols with no eSpeak mnemonic (and <unk>), dropped */
  dropped: string[];
}

export class PhonemeVocoder {
  /**
   * `symbols[id]`: the IPA symbol of each phonetic unit id ("<sil>" for silence, "<unk>" for unknown: tokenizers/
   * phonetic.ts `symbol`); `map` from `phonemeMap`.
   */
  constructor(
    readonly symbols: readonly string[],
    readonly map: ReadonlyMap<string, string>,
    readonly frameRate = 25,
  ) {}

  /** The `[[...]]` phoneme input of units (see the header). */
  text(units: ArrayLike<number>): PhonemeText {
    const parts: string[] = [];
    const dropped: string[] = [];
    let word = "";
    const flush = () => {
      if (word) parts.push(word);
      word = "";
    };
    for (let i = 0; i < units.length;) {
      const u = units[i];
      const sym = this.symbols[u];
      if (!Number.isInteger(u) || sym === undefined)
        throw new Error(
          `PhonemeVocoder: unknown unit id ${u} at position ${i}: this inventory has ids 0..${this.symbols.length - 1}`,
        );
      let j = i;
      while (j < units.length && units[j] === u) j++;
      if (sym === "<sil>") {
        flush();
        parts.push("_:".repeat(Math.max(1, Math.round(((j - i) * 1000) / this.frameRate / 65))));
      } else {
        const m = this.map.get(sym);
        if (m === undefined) dropped.push(sym);
        else word += m;
      }
      i = j;
    }
    flush();
    return { text: `[[${parts.join(" ")}]]`, dropped };
  }

  /**
   * Speak units in `voice` (a lab voice name or a VoiceSpec): once at the voice's rate, then again at the rate
   * that makes the audio as long as the units (80..450 words per minute). Returns the utterance (its phoneme
   * timings make phonetic units again: tokenizers/phonetic.ts) and the phoneme text.
   */
  synthesize(tts: Tts, units: ArrayLike<number>, voice: VoiceSpec | string): { utterance: Utterance } & PhonemeText {
    const v = resolveVoice(voice);
    const spelled = this.text(units);
    if (!/[\p{L}\p{N}]/u.test(spelled.text))
      throw new Error(`PhonemeVocoder: the units hold no speakable phoneme (only silence or <unk>): nothing to say`);
    const first = tts.synthesize(spelled.text, v);
    const want = units.length / this.frameRate;
    const got = first.audio.length / first.sampleRate;
    const rate = Math.round(Math.min(450, Math.max(80, (v.rate * got) / want)));
    const utterance = rate === v.rate ? first : tts.synthesize(spelled.text, { ...v, rate });
    return { utterance, ...spelled };
  }
}
