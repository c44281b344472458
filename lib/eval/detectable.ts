/**
 * How large an effect a paired comparison can see: the minimum detectable effect (MDE) at the measured
 * variance, and the seeds a given effect needs (paired.ts measures the differences; this file sizes them).
 */

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9):
 * normalQuantile(0.975) = 1.95996..., normalQuantile(0.8) = 0.84162...
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * What a paired comparison of this variance can detect: the minimum detectable effect (MDE) and the seeds a
 * given effect needs. Normal approximation of the hierarchical bootstrap (one seed's mean difference has
 * variance σ² = σ_b² + v/n: the seed-to-seed spread of training plus the item noise of n items):
 *
 *   σ²          the sample variance of the seed means (S >= 2), never below the item noise mean_s(v_s / n_s)
 *               (with one seed only the item noise is measured, and the estimate is a lower bound)
 *   SE(S)       = σ / sqrt(S)
 *   MDE(S)      = (z(1 - α/2) + z(power)) · SE(S)       α = 1 - level: the interval's two tails
 *   seeds(E)    = ceil(σ² · ((z(1 - α/2) + z(power)) / E)²), at least 2: seeds for a true effect E to clear 0
 *               with probability `power`; with n' items a seed, v/n becomes v/n' (`items`)
 *
 * Worked example (a test): 3 seeds whose mean differences are 0.00, 0.02, 0.04 over 200 items of variance 0.25
 * each: sample variance of the seed means 0.0004, item noise 0.25 / 200 = 0.00125, so σ² = 0.00125,
 * SE = 0.0204, MDE = 2.80 · 0.0204 = 0.057 (5.7 points); an effect of 0.03 needs ceil(0.00125 · (2.80 / 0.03)²)
 * = 11 seeds.
 */
export interface Detectable {
  /** seeds and items a seed of the measurement */
  seeds: number;
  items: number;
  /** σ² of one seed's mean difference, and the part of it that is item noise (v / n) */
  seedVar: number;
  itemVar: number;
  /** the standard error and the minimum detectable effect at the measured seeds (fractions) */
  se: number;
  mde: number;
  /** the multiplier z(1 - α/2) + z(power) */
  z: number;
  power: number;
  level: number;
}

export function detectable(
  diffs: readonly (readonly number[])[],
  opts: { power?: number; level?: number } = {},
): Detectable {
  const power = opts.power ?? 0.8;
  const level = opts.level ?? 0.95;
  if (!(power > 0 && power < 1)) throw new Error(`detectable: power must be in (0, 1), got ${power}`);
  if (!(level > 0 && level < 1)) throw new Error(`detectable: level must be in (0, 1), got ${level}`);
  if (diffs.length === 0 || diffs.some((d) => d.length === 0))
    throw new Error("detectable: give at least one seed with items (pairedDiffs' diffs)");
  const S = diffs.length;
  const means = diffs.map((d) => d.reduce((a, x) => a + x, 0) / d.length);
  // per seed: the population variance of its item differences over its item count (the item noise of its mean)
  const itemVar =
    diffs.reduce((acc, d, s) => acc + d.reduce((a, x) => a + (x - means[s]) ** 2, 0) / d.length / d.length, 0) / S;
  const grand = means.reduce((a, x) => a + x, 0) / S;
  const sampleVar = S >= 2 ? means.reduce((a, x) => a + (x - grand) ** 2, 0) / (S - 1) : 0;
  const seedVar = Math.max(sampleVar, itemVar);
  const z = normalQuantile(1 - (1 - level) / 2) + normalQuantile(power);
  const se = Math.sqrt(seedVar / S);
  return { seeds: S, items: diffs[0].length, seedVar, itemVar, se, mde: z * se, z, power, level };
}

/**
 * Seeds a true effect `effect` (a fraction, > 0) needs to clear 0 at the measured variance (see `detectable`);
 * `items` per seed instead of the measured ones scales the item noise (the seed-to-seed part stays). NaN when
 * no variance was measured (the two models answered alike on every item of every seed): nothing to scale.
 */
export function seedsToDetect(m: Detectable, effect: number, items = m.items): number {
  if (!(effect > 0)) throw new Error(`seedsToDetect: the effect must be > 0 (a fraction), got ${effect}`);
  if (!(items > 0)) throw new Error(`seedsToDetect: items must be > 0, got ${items}`);
  if (m.seedVar === 0) return NaN;
  const between = Math.max(0, m.seedVar - m.itemVar);
  const v = between + (m.itemVar * m.items) / items;
  return Math.max(2, Math.ceil(v * (m.z / effect) ** 2));
}
