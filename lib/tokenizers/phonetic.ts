/**
 * Idealized phonetic units for ablations: instead of clustering audio, every frame gets the id of the
 * phoneme the TTS was saying at that moment (from the Utterance's phoneme timings), with optional
 * substitution noise. This isolates "how good could the units be" from the acoustic unit quality.
 *
 * Ids: 0 = silence (pauses and frames no phoneme covers), 1 = <unk> (a phoneme missing from the inventory),
 * 2.. = the inventory's phonemes in sorted order. Stress marks (ˈ ˌ) are stripped, so "ˈæ" and "æ" share one id.
 * Frames: round(duration * frameRate) of them (at least 1), as for acoustic units (tokenizers/units.ts);
 * frame j takes the phoneme active at its centre (j + 0.5) / frameRate.
 *
 * Worked example (frameRate 25; phonemes k 0.00-0.05, ˈæ 0.05-0.13, _ 0.13-0.20; 0.2 s of audio; inventory
 * [k, æ] -> ids k = 2, æ = 3 in code-unit order): centres 0.02, 0.06, 0.10, 0.14, 0.18 -> units [2, 3, 3, 0, 0].
 */
import type { Utterance } from "../audio/types";
import { unitFrameCount } from "../audio/logmel";
import { Rng } from "../rng";

export const PHONE_SILENCE = 0;
export const PHONE_UNK = 1;
const FIRST_PHONE = 2;
const FORMAT = "lst-phoneme-inventory";
const VERSION = 1;

/** The phoneme symbol without stress marks ("ˈæ" -> "æ"); the TTS pause symbol "_" and "" are silence (""). */
export function normalizePhoneme(p: string): string {
  const s = p.replace(/[ˈˌ]/g, "");
  return s === "_" ? "" : s;
}

export class PhonemeInventory {
  private readonly ids: Map<string, number>;
  private constructor(private readonly phonemes: string[]) {
    this.ids = new Map(phonemes.map((p, i) => [p, FIRST_PHONE + i]));
  }

  /** All phonemes (stress stripped) that occur in the utterances. */
  static fromUtterances(utts: Utterance[]): PhonemeInventory {
    const set = new Set<string>();
    for (const u of utts)
      for (const p of u.phonemes) {
        const s = normalizePhoneme(p.phoneme);
        if (s !== "" && p.wordIndex >= 0) set.add(s);
      }
    if (set.size === 0)
      throw new Error(
        "PhonemeInventory.fromUtterances: no phonemes in the utterances: were they synthesized with timings?",
      );
    return new PhonemeInventory(Array.from(set).sort());
  }

  /** Number of ids, including silence and <unk>. */
  get size(): number {
    return FIRST_PHONE + this.phonemes.length;
  }

  /** Id of a phoneme symbol (stress ignored): silence for a pause, <unk> when not in the inventory. */
  id(phoneme: string): number {
    const s = normalizePhoneme(phoneme);
    if (s === "") return PHONE_SILENCE;
    return this.ids.get(s) ?? PHONE_UNK;
  }

  /** Symbol of an id ("<sil>", "<unk>" or the phoneme). */
  symbol(id: number): string {
    if (id === PHONE_SILENCE) return "<sil>";
    if (id === PHONE_UNK) return "<unk>";
    const p = this.phonemes[id - FIRST_PHONE];
    if (p === undefined) throw new Error(`PhonemeInventory.symbol: id ${id} is outside 0..${this.size - 1}`);
    return p;
  }

  toJSON(): object {
    return { format: FORMAT, version: VERSION, phonemes: this.phonemes.slice() };
  }

  static fromJSON(j: unknown): PhonemeInventory {
    const o = j as Record<string, unknown> | null;
    if (o === null || typeof o !== "object" || o.format !== FORMAT)
      throw new Error(`PhonemeInventory.fromJSON: not a '${FORMAT}' object`);
    if (o.version !== VERSION)
      throw new Error(
        `PhonemeInventory.fromJSON: version ${JSON.stringify(o.version)} is not supported (expected ${VERSION})`,
      );
    const ps = o.phonemes;
    if (!Array.isArray(ps) || ps.some((p) => typeof p !== "string"))
      throw new Error("PhonemeInventory.fromJSON: 'phonemes' must be an array of strings");
    return new PhonemeInventory(ps as string[]);
  }
}

export interface PhoneticUnitOptions {
  frameRate: number;
  /** probability that a frame's id is replaced by a different random id (silence or a phoneme) */
  noise: number;
  seed: number;
  inventory: PhonemeInventory;
}

/** One phoneme id per frame (see the header). */
export function phoneticUnits(utt: Utterance, opts: PhoneticUnitOptions): Int32Array {
  if (!(opts.frameRate > 0)) throw new Error(`phoneticUnits: frameRate must be positive, got ${opts.frameRate}`);
  if (!(opts.noise >= 0 && opts.noise <= 1))
    throw new Error(`phoneticUnits: noise must be in [0, 1], got ${opts.noise}`);
  const inv = opts.inventory;
  const n = unitFrameCount(utt.audio.length, utt.sampleRate, opts.frameRate);
  const phs = utt.phonemes.slice().sort((a, b) => a.start - b.start);
  const out = new Int32Array(n);
  let p = 0;
  for (let j = 0; j < n; j++) {
    const t = (j + 0.5) / opts.frameRate;
    while (p < phs.length && phs[p].end <= t) p++;
    const ph = phs[p];
    out[j] = ph !== undefined && ph.start <= t && ph.wordIndex >= 0 ? inv.id(ph.phoneme) : PHONE_SILENCE;
  }
  if (opts.noise > 0) {
    const rng = new Rng(opts.seed);
    // Substitutes come from the candidate list [silence, phoneme 2, phoneme 3, ...] (never <unk>), index
    // i -> id (i === 0 ? 0 : i + 1), always different from the true id.
    const cands = inv.size - 1;
    for (let j = 0; j < n; j++) {
      if (rng.next() >= opts.noise) continue;
      const cur = out[j];
      const curIdx = cur === PHONE_SILENCE ? 0 : cur === PHONE_UNK ? -1 : cur - 1;
      if (curIdx >= 0 && cands < 2) continue; // nothing else to substitute
      let r = rng.int(curIdx >= 0 ? cands - 1 : cands);
      if (curIdx >= 0 && r >= curIdx) r++;
      out[j] = r === 0 ? PHONE_SILENCE : r + 1;
    }
  }
  return out;
}
