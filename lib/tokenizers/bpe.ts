/**
 * Byte-level BPE for text (GPT-2 style), the lab's stand-in for the paper's Llama-2 SentencePiece BPE.
 *
 * Id layout (shared with the LM vocabulary, see special.ts):
 *   0..N_SPECIAL-1          the specials (<pad> <bos> <eos> <t> <s>); encode() never emits them
 *   N_SPECIAL + b           the byte b (0..255)
 *   N_SPECIAL + 256 + i     merge i
 *
 * Pipeline: text -> pre-tokens (GPT-2 split: a leading space belongs to the word, punctuation and
 * whitespace runs are their own pieces) -> UTF-8 bytes of each piece -> merges applied by rank inside the
 * piece. Tokens therefore never cross a word boundary, which align.ts relies on when it maps tokens to word
 * spans. Strings are encoded as WTF-8 (UTF-8 that also encodes lone surrogates), so decode(encode(s)) === s
 * holds for every JS string, lone surrogates included.
 *
 * Worked example (the minbpe case, pieces aside): training on "aaabdaaabac" with 3 merges
 *   bytes      a a a b d a a a b a c        (a = id 5+97 = 102, b = 103, c = 104, d = 105)
 *   merge 0    (a,a)   count 4 -> 261        261 a b d 261 a b a c
 *   merge 1    (a,b)   count 2 -> 262        261 262 d 261 262 a c   ((261,a) also has 2: ties go to the smaller ids)
 *   merge 2    (261,262) count 2 -> 263      263 d 263 a c
 *   encode("aaabdaaabac") = [263, 105, 263, 102, 104]
 *
 * Not handled: normalization (NFC etc.) and special-token text ("<bos>" in the input is plain text).
 */
import fs from "fs";
import { readJsonFile } from "../files";
import { N_SPECIAL, SPECIAL_NAMES } from "./special";
import { decodeWtf8, preTokenize, utf8WithOffsets } from "./text-bytes";

export const BPE_FORMAT = "lst-bpe";
export const BPE_VERSION = 1;
const BYTE0 = N_SPECIAL;
const FIRST_MERGE = N_SPECIAL + 256;
const MAX_VOCAB = 1 << 20; // pair keys pack two ids into one number: a * 2^20 + b
const CACHE_LIMIT = 100_000;

function pairKey(a: number, b: number): number {
  return a * MAX_VOCAB + b;
}

/** Replace every (a,b) by id: mergePair([1,2,3,1,2], 1, 2, 9) -> [9,3,9] */
export function mergePair(s: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
      out.push(id);
      i++;
    } else out.push(s[i]);
  }
  return out;
}

/** A max-heap of (count, key) with lazy deletion: stale entries are skipped when popped. */
class PairHeap {
  private h: [number, number][] = [];
  private better(x: [number, number], y: [number, number]): boolean {
    return x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  }
  push(count: number, key: number): void {
    const h = this.h;
    h.push([count, key]);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): [number, number] | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as [number, number];
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.better(h[l], h[m])) m = l;
        if (r < h.length && this.better(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Learn merges from word types with frequencies. Pair counts are kept incrementally: a merge only revisits
 * the word types that contain the merged pair (found through `where`), subtracting their old pairs and
 * adding their new ones, and the best pair comes off a lazy max-heap. Stops early when no pair occurs twice.
 */
function learnMerges(texts: string[], nMerges: number): [number, number][] {
  const freq = new Map<string, number>();
  for (const t of texts) for (const [piece] of preTokenize(t)) freq.set(piece, (freq.get(piece) ?? 0) + 1);
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [piece, n] of freq) {
    words.push(utf8WithOffsets(piece).bytes.map((b) => BYTE0 + b));
    counts.push(n);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const heap = new PairHeap();
  const touched = new Set<number>();
  const addPairs = (w: number, sign: number): void => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i], s[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * counts[w]);
      touched.add(k);
      if (sign > 0) {
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  const flush = (): void => {
    for (const k of touched) heap.push(pairCount.get(k) ?? 0, k);
    touched.clear();
  };
  for (let w = 0; w < words.length; w++) addPairs(w, +1);
  flush();

  const merges: [number, number][] = [];
  while (merges.length < nMerges) {
    const top = heap.pop();
    if (!top) break;
    const [n, key] = top;
    if (pairCount.get(key) !== n) continue; // stale entry
    if (n < 2) break;
    const a = Math.floor(key / MAX_VOCAB);
    const b = key % MAX_VOCAB;
    const id = FIRST_MERGE + merges.length;
    merges.push([a, b]);
    for (const w of where.get(key) ?? []) {
      const s = words[w];
      let has = false;
      for (let i = 0; i + 1 < s.length && !has; i++) has = s[i] === a && s[i + 1] === b;
      if (!has) continue; // subtle: `where` is never pruned, so a word may no longer hold the pair
      addPairs(w, -1);
      words[w] = mergePair(s, a, b, id);
      addPairs(w, +1);
    }
    where.delete(key);
    flush();
  }
  return merges;
}

export class BpeTokenizer {
  /** bytes of every non-special id (index = id - N_SPECIAL) */
  private readonly bytesOf: number[][];
  /** merge rank by pair key: lower merges first */
  private readonly rank = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();

  private constructor(readonly merges: readonly [number, number][]) {
    this.bytesOf = [];
    for (let b = 0; b < 256; b++) this.bytesOf.push([b]);
    merges.forEach(([a, b], i) => {
      const id = FIRST_MERGE + i;
      if (!(Number.isInteger(a) && Number.isInteger(b) && a >= BYTE0 && b >= BYTE0 && a < id && b < id)) {
        throw new Error(
          `BPE merge ${i} = [${a}, ${b}] must join two earlier non-special ids in ${BYTE0}..${id - 1}: the tokenizer file is corrupt, retrain it`,
        );
      }
      this.bytesOf.push(this.bytesOf[a - BYTE0].concat(this.bytesOf[b - BYTE0]));
      this.rank.set(pairKey(a, b), i);
    });
  }

  /** Train on texts up to `vocabSize` ids (specials and bytes included); fewer if no pair occurs twice. */
  static train(texts: string[], vocabSize: number): BpeTokenizer {
    if (!Number.isInteger(vocabSize) || vocabSize < FIRST_MERGE || vocabSize > MAX_VOCAB) {
      throw new Error(
        `BPE vocabSize must be an integer in ${FIRST_MERGE}..${MAX_VOCAB} (${N_SPECIAL} specials + 256 bytes + merges), got ${vocabSize}`,
      );
    }
    return new BpeTokenizer(learnMerges(texts, vocabSize - FIRST_MERGE));
  }

  get vocabSize(): number {
    return FIRST_MERGE + this.merges.length;
  }

  /** Token ids of one pre-token, merges applied lowest rank first (cached per piece). */
  private encodePiece(piece: string, bytes: number[]): number[] {
    const hit = this.cache.get(piece);
    if (hit) return hit;
    let s = bytes.map((b) => BYTE0 + b);
    while (s.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.rank.get(pairKey(s[i], s[i + 1]));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      s = mergePair(s, s[best], s[best + 1], FIRST_MERGE + bestRank);
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, s);
    return s;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const [piece] of preTokenize(text)) {
      const ids = this.cache.get(piece) ?? this.encodePiece(piece, utf8WithOffsets(piece).bytes);
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /**
   * Ids with the character range [start, end) of `text` that each token covers. The ranges tile the text;
   * a char split over several byte tokens belongs to the token holding its last byte (the others get an
   * empty range). Example (a tokenizer with the merge " c"+"at"): "the cat" -> "the" [0,3), " cat" [3,7).
   */
  encodeWithOffsets(text: string): { ids: number[]; offsets: [number, number][] } {
    const ids: number[] = [];
    const offsets: [number, number][] = [];
    for (const [piece, at] of preTokenize(text)) {
      const { bytes, done } = utf8WithOffsets(piece);
      let b = 0;
      for (const id of this.encodePiece(piece, bytes)) {
        const e = b + this.bytesOf[id - BYTE0].length;
        ids.push(id);
        offsets.push([at + done[b], at + done[e]]);
        b = e;
      }
    }
    return { ids, offsets };
  }

  /** Text of ids; specials decode to their names ("<bos>"), so decode is exact only on encode's output. */
  decode(ids: ArrayLike<number>): string {
    let out = "";
    let bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new Error(`invalid text token id ${id} at position ${i}: this BPE has ids 0..${this.vocabSize - 1}`);
      }
      if (id < N_SPECIAL) {
        out += decodeWtf8(bytes) + SPECIAL_NAMES[id];
        bytes = [];
      } else for (const b of this.bytesOf[id - BYTE0]) bytes.push(b);
    }
    return out + decodeWtf8(bytes);
  }

  /** Human-readable text of one token (invalid UTF-8 fragments show as U+FFFD). */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  toJSON(): { format: string; version: number; nSpecial: number; merges: [number, number][]; tokens: string[] } {
    const tokens: string[] = [];
    for (let id = 0; id < this.vocabSize; id++) tokens.push(this.tokenText(id));
    return {
      format: BPE_FORMAT,
      version: BPE_VERSION,
      nSpecial: N_SPECIAL,
      merges: this.merges.map(([a, b]) => [a, b]),
      tokens,
    };
  }

  /** Rebuild from toJSON() output; `tokens` is for human eyes and ignored. */
  static fromJSON(j: unknown): BpeTokenizer {
    if (typeof j !== "object" || j === null) throw new Error(`BPE JSON must be an object, got ${JSON.stringify(j)}`);
    const o = j as Record<string, unknown>;
    if (o.format !== BPE_FORMAT)
      throw new Error(`not a text BPE file: format is ${JSON.stringify(o.format)}, expected '${BPE_FORMAT}'`);
    if (o.version !== BPE_VERSION) {
      throw new Error(
        `text BPE file version ${JSON.stringify(o.version)} is not supported (this lab reads version ${BPE_VERSION}): retrain the tokenizer`,
      );
    }
    if (o.nSpecial !== N_SPECIAL)
      throw new Error(
        `text BPE file has ${JSON.stringify(o.nSpecial)} specials, this lab uses ${N_SPECIAL}: retrain the tokenizer`,
      );
    const merges = o.merges;
    if (!Array.isArray(merges) || !merges.every((m) => Array.isArray(m) && m.length === 2)) {
      throw new Error("text BPE file: 'merges' must be an array of [a, b] id pairs: the file is corrupt, retrain it");
    }
    return new BpeTokenizer(merges.map((m: unknown[]) => [Number(m[0]), Number(m[1])] as [number, number]));
  }

  save(file: string): void {
    fs.writeFileSync(file, JSON.stringify(this.toJSON()));
  }

  /**
   * Read a saved tokenizer; every error names the file and `fix` (default: retrain it; a dataset's bpe.json
   * passes "delete the dataset and rebuild").
   */
  static load(file: string, fix = "train one with BpeTokenizer.train and save it"): BpeTokenizer {
    const j = readJsonFile(file, "text BPE file", fix);
    try {
      return BpeTokenizer.fromJSON(j);
    } catch (e) {
      throw new Error(`text BPE file ${file}: ${(e as Error).message} (${fix})`);
    }
  }
}
