/**
 * Choosing the next token from a row of logits: greedy, temperature, top-k and top-p (nucleus), with one
 * uniform draw of a seeded Rng (lib/rng.ts) per token, so a seed fixes a whole continuation. Pure JS over the
 * vocabulary row (a few hundred to a few thousand ids), no tensors.
 *
 * Order of the steps (the usual one, as Hugging Face's generate applies its warpers):
 *   1. banned ids (PAD, BOS, stop tokens before `minTokens`, ...) get -Infinity
 *   2. temperature 0 = greedy: the argmax (the first one on ties); no draw is made
 *   3. logits / temperature -> top-k keeps the k largest (ties at the k-th value are all kept)
 *   4. softmax -> top-p keeps the most likely ids until their mass reaches p (at least one)
 *   5. one draw u in [0, 1) from the Rng picks the id whose cumulative mass first exceeds u * kept mass
 *
 * Worked example (a test): logits [1, 3, 2, 0], temperature 1
 *   greedy                      -> 1
 *   top-k 2                     keeps ids {1, 2}: probs [0, 0.731, 0.269, 0]
 *   top-p 0.8 (probs .087 .644 .237 .032)   sorted 1 (.644), 2 (.881 >= .8): keeps {1, 2}
 *   draw u = 0.5 over {1: .731, 2: .269}    -> 1;   u = 0.9 -> 2
 */
import type { Rng } from "../rng";

export interface SamplingOptions {
  /** 0 = greedy (argmax); otherwise logits are divided by it (1 = the model's own distribution) */
  temperature: number;
  /** keep only the k most likely ids; 0 = all */
  topK: number;
  /** keep the most likely ids up to this much probability mass; 1 = all */
  topP: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };
export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1 };

/** Throw unless the options are in range, naming the bad value and the fix. */
export function checkSampling(o: SamplingOptions): void {
  if (!(Number.isFinite(o.temperature) && o.temperature >= 0))
    throw new Error(`sampling temperature must be a finite number >= 0 (0 = greedy), got ${o.temperature}`);
  if (!(Number.isInteger(o.topK) && o.topK >= 0))
    throw new Error(`sampling topK must be an integer >= 0 (0 = no limit), got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new Error(`sampling topP must be in (0, 1] (1 = no limit), got ${o.topP}`);
}

/** Index of the largest value (the first on ties); -1 when every value is -Infinity. */
export function argmaxOf(x: ArrayLike<number>): number {
  let best = -1;
  let v = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > v) {
      v = x[i];
      best = i;
    }
  }
  return best;
}

/**
 * The distribution sampling draws from, after temperature, top-k and top-p (steps 3-4 of the header); zeros
 * where an id is cut. `logits` are left untouched. Needs temperature > 0.
 */
export function samplingDistribution(logits: ArrayLike<number>, o: SamplingOptions): Float64Array {
  const V = logits.length;
  const z = new Float64Array(V);
  for (let i = 0; i < V; i++) z[i] = logits[i] / o.temperature;
  if (o.topK > 0 && o.topK < V) {
    const kth = Array.from(z)
      .sort((a, b) => b - a)
      .at(o.topK - 1) as number;
    for (let i = 0; i < V; i++) if (z[i] < kth) z[i] = -Infinity;
  }
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, z[i]);
  if (max === -Infinity) throw new Error("sampling: every token is banned, so none can be drawn");
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    p[i] = z[i] === -Infinity ? 0 : Math.exp(z[i] - max);
    sum += p[i];
  }
  for (let i = 0; i < V; i++) p[i] /= sum;
  if (o.topP < 1) {
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
    let mass = 0;
    let kept = 0;
    for (const i of order) {
      if (mass >= o.topP && kept > 0) p[i] = 0;
      else {
        mass += p[i];
        kept++;
      }
    }
  }
  return p;
}

/**
 * The next token of a logits row (see the header). `banned(id)` true = never chosen. Greedy makes no draw;
 * sampling makes exactly one (`rng.next()`), so equal seeds give equal continuations.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  o: SamplingOptions,
  rng: Rng,
  banned: (id: number) => boolean = () => false,
): number {
  const z = Float64Array.from(logits as ArrayLike<number>);
  for (let i = 0; i < z.length; i++) {
    if (Number.isNaN(z[i]))
      throw new Error(`sampling: logit ${i} is NaN: the model produced non-finite outputs (check its weights)`);
    if (banned(i)) z[i] = -Infinity;
  }
  if (o.temperature === 0) {
    const best = argmaxOf(z);
    if (best < 0) throw new Error("sampling: every token is banned, so none can be chosen");
    return best;
  }
  const p = samplingDistribution(z, o);
  let total = 0;
  for (let i = 0; i < p.length; i++) total += p[i];
  const u = rng.next() * total; // the kept mass (top-p leaves it below 1)
  let acc = 0;
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    acc += p[i];
    last = i;
    if (u < acc) return i;
  }
  return last; // subtle: rounding can leave acc a hair under the total for u close to it
}
