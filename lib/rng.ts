/**
 * A small seeded PRNG (mulberry32) with the helpers the lab needs. Every random choice in the lab goes
 * through one of these, so that a seed fixes a run. `state`/`setState` make it checkpointable.
 */
export class Rng {
  private s: number;
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
    this.s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int needs n >= 1, got ${n}`);
    return Math.floor(this.next() * n);
  }
  /** integer in [lo, hi] inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("Rng.pick on an empty array");
    return xs[this.int(xs.length)];
  }
  /** Fisher-Yates shuffle of a copy */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  /** standard normal (Box-Muller) */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  state(): number {
    return this.s;
  }
  setState(s: number): void {
    this.s = s >>> 0;
  }
}

/** Derive an independent seed from a base seed and labels: hashSeed(7, "train", 3). */
export function hashSeed(seed: number, ...parts: (string | number)[]): number {
  let h = (2166136261 ^ Math.floor(seed)) >>> 0;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
    h = Math.imul(h ^ 0x2f, 16777619) >>> 0;
  }
  return h >>> 0;
}

/**
 * The parts of a run that take a seed, by name. An experiment has one seed; every part takes its seed from it
 * through `subSeed`, here and nowhere else:
 *   model     weight initialisation
 *   train     the trainer's batch stream (train.seed; the budget measures the same stream, so it takes it too)
 *   mix       the training mix's document draws
 *   patching  mixed/curriculum per-sequence draws (which hash it again with "patching", the step and the ids)
 */
export type SubSeedName = "model" | "train" | "mix" | "patching";

/**
 * The seed of part `name` of a run seeded `seed`. Today every part takes the run's seed itself (so every run
 * in the store keeps its result); the parts stay independent because each one hashes it with its own labels
 * where it draws (e.g. the patcher's hashSeed(seed, "patching", step, ids)). Changing this changes every run.
 */
export function subSeed(seed: number, name: SubSeedName): number {
  void name;
  return seed;
}
