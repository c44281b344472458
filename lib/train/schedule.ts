/**
 * Learning-rate schedule (paper §4): linear warmup to the peak, then cosine decay to `minLrRatio` x peak at
 * the last step (the paper: peak 4e-4, 2,000 warmup steps, final 0.01x).
 *
 *   step < warmup:   lr * (step + 1) / warmup                          (step 0 already trains)
 *   after:           min + 0.5 * (1 + cos(pi * progress)) * (lr - min),  progress = (step - warmup) / (total - 1 - warmup)
 * Worked example (this exact case is a test): lr 1, warmup 2, total 6, minLrRatio 0.01:
 *   step   0     1     2       3        4        5
 *   lr     0.5   1     1       0.7525   0.2575   0.01
 */

export interface LrSchedule {
  /** peak learning rate */
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** final learning rate as a fraction of the peak */
  minLrRatio: number;
}

export function lrAt(step: number, s: LrSchedule): number {
  if (!(s.lr >= 0)) throw new Error(`learning rate must be >= 0, got ${s.lr}`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0)
    throw new Error(`warmupSteps must be an integer >= 0, got ${s.warmupSteps}`);
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1)
    throw new Error(`totalSteps must be a positive integer, got ${s.totalSteps}`);
  if (!(s.minLrRatio >= 0 && s.minLrRatio <= 1))
    throw new Error(`minLrRatio must be in [0, 1], got ${s.minLrRatio} (the paper uses 0.01)`);
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const min = s.lr * s.minLrRatio;
  const span = s.totalSteps - 1 - s.warmupSteps;
  // subtle: with no decay phase (total <= warmup + 1) the peak is held
  if (span <= 0) return s.lr;
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  return min + 0.5 * (1 + Math.cos(Math.PI * progress)) * (s.lr - min);
}
