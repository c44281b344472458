/**
 * BPE over speech-unit sequences, for the paper's BPE-speech baseline (a SentencePiece BPE with a 1k
 * vocabulary trained on speech sequences). Base symbols are the K units (ids 0..K-1); merge i creates id K+i.
 * Merges never cross a sequence boundary (each speech segment is tokenized on its own).
 *
 * Worked example (K = 3, training on [0,1,0,1,2] and [0,1,2], 2 merges):
 *   pair counts  (0,1)=3  (1,0)=1  (1,2)=2          -> merge (0,1) -> 3
 *   sequences    [3,3,2] and [3,2]; counts (3,3)=1 (3,2)=2 -> merge (3,2) -> 4
 *   encode([0,1,0,1,2]) = [3,4];  decode([3,4]) = [0,1,0,1,2]
 */
import { mergePair } from "./bpe";

export const UNIT_BPE_VERSION = "lst-unit-bpe v1";

function pairKey(a: number, b: number): number {
  return a * 1_000_003 + b;
}

/** Count adjacent pairs: getStats([[1,2,1,2]]) -> {(1,2): 2, (2,1): 1} */
function getStats(seqs: number[][], counts: number[]): Map<number, { a: number; b: number; n: number }> {
  const stats = new Map<number, { a: number; b: number; n: number }>();
  seqs.forEach((s, j) => {
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i], s[i + 1]);
      const e = stats.get(k);
      if (e) e.n += counts[j];
      else stats.set(k, { a: s[i], b: s[i + 1], n: counts[j] });
    }
  });
  return stats;
}

export class UnitBpe {
  private constructor(
    readonly nUnits: number,
    readonly merges: [number, number][],
  ) {}

  get vocabSize(): number {
    return this.nUnits + this.merges.length;
  }

  /** Train on unit sequences up to `vocabSize` symbols (fewer if no pair occurs twice). */
  static train(seqs: ArrayLike<number>[], nUnits: number, vocabSize: number): UnitBpe {
    if (vocabSize < nUnits) throw new Error(`unit BPE vocabSize ${vocabSize} must be >= the number of units ${nUnits}`);
    // Deduplicate identical sequences with counts (speech segments repeat less than words, but it is cheap).
    const uniq = new Map<string, { s: number[]; n: number }>();
    for (const x of seqs) {
      const s = Array.from(x);
      for (const u of s)
        if (!(u >= 0 && u < nUnits)) throw new Error(`unit BPE: unit id ${u} outside 0..${nUnits - 1}`);
      const k = s.join(",");
      const e = uniq.get(k);
      if (e) e.n++;
      else uniq.set(k, { s, n: 1 });
    }
    let work = [...uniq.values()].map((e) => e.s);
    const counts = [...uniq.values()].map((e) => e.n);
    const merges: [number, number][] = [];
    while (nUnits + merges.length < vocabSize) {
      const stats = getStats(work, counts);
      let best: { a: number; b: number; n: number } | null = null;
      for (const e of stats.values())
        if (!best || e.n > best.n || (e.n === best.n && (e.a < best.a || (e.a === best.a && e.b < best.b)))) best = e;
      if (!best || best.n < 2) break;
      const id = nUnits + merges.length;
      merges.push([best.a, best.b]);
      work = work.map((s) => mergePair(s, best!.a, best!.b, id));
    }
    return new UnitBpe(nUnits, merges);
  }

  encode(units: ArrayLike<number>): number[] {
    let s = Array.from(units);
    for (const u of s)
      if (!(u >= 0 && u < this.nUnits))
        throw new Error(`unknown speech unit id ${u}: this unit BPE has ${this.nUnits} units`);
    this.merges.forEach(([a, b], i) => {
      if (s.length > 1) s = mergePair(s, a, b, this.nUnits + i);
    });
    return s;
  }

  decode(ids: ArrayLike<number>): number[] {
    const out: number[] = [];
    const expand = (id: number): void => {
      if (id < this.nUnits) out.push(id);
      else {
        const m = this.merges[id - this.nUnits];
        if (!m) throw new Error(`unit BPE: invalid token id ${id} (vocab ${this.vocabSize})`);
        expand(m[0]);
        expand(m[1]);
      }
    };
    for (let i = 0; i < ids.length; i++) expand(ids[i]);
    return out;
  }

  toJSON(): { version: string; nUnits: number; merges: [number, number][] } {
    return { version: UNIT_BPE_VERSION, nUnits: this.nUnits, merges: this.merges };
  }

  static fromJSON(j: unknown): UnitBpe {
    const o = j as { version?: string; nUnits?: number; merges?: [number, number][] };
    if (o?.version !== UNIT_BPE_VERSION)
      throw new Error(`unit BPE file has version '${o?.version}', expected '${UNIT_BPE_VERSION}': retrain it`);
    return new UnitBpe(o.nUnits!, o.merges!);
  }
}
