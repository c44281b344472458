/**
 * The guards of `train`'s run directory (lib/train/train.ts), each a small function so the loop stays plain:
 *   keptMetricLines     metrics.jsonl lines of the steps before the checkpoint (a torn last line is dropped;
 *                       a step before the checkpoint with no line is an error with the fix)
 *   checkResumable      may this checkpoint be continued by this run? same config hash and same backend, or an
 *                       explicit, documented override (`allowScheduleChange`, `allowBackendChange`)
 *   checkFiniteState    refuse to write non-finite weights or optimizer moments as a checkpoint
 *
 * Resume overrides. A run is identified by its config hash. Two things may still differ, each only when asked:
 *   - the optimiser schedule (SCHEDULE_KEYS: lr, warmupSteps, minLrRatio, weightDecay, betas, eps, clip), so a
 *     run that diverged can continue from its last good checkpoint with a lower rate (what the divergence
 *     error suggests). Everything else (model, data, patching, steps, seeds) must match: `scheduleHash`.
 *   - the backend (tensorflow, wasm, cpu, webgpu): backends round differently (the cpu and tensorflow losses
 *     differ by up to 6e-8 a step at smoke scale), so a resume on another backend would silently mix the two.
 */
import path from "path";
import type { Checkpoint, NamedArray } from "./checkpoint";
import type { AdamWState } from "./adamw";
import type { TrainConfig } from "./config";
import { readJsonLines } from "../files";

/** Train keys that change only the optimiser's schedule, not what is trained on or the model's shape. */
export const SCHEDULE_KEYS = [
  "lr",
  "warmupSteps",
  "minLrRatio",
  "weightDecay",
  "beta1",
  "beta2",
  "eps",
  "clip",
] as const;

/** The train config without the schedule keys (for the schedule-free identity of a run). */
export function withoutSchedule(train: Partial<TrainConfig>): Partial<TrainConfig> {
  const out: Record<string, unknown> = { ...train };
  for (const k of SCHEDULE_KEYS) delete out[k];
  return out as Partial<TrainConfig>;
}

/** Step numbers for a message: "step 3", "steps 3, 4", "steps 0-7", "steps 0-3, 9". */
export function formatSteps(steps: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < steps.length;) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j] + 1) j++;
    if (j - i >= 2) parts.push(`${steps[i]}-${steps[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(steps[k]));
    i = j + 1;
  }
  return `${steps.length === 1 ? "step" : "steps"} ${parts.join(", ")}`;
}

/** The steps of 0..count-1 that `have` lacks. */
export function missingSteps(have: Iterable<number>, count: number): number[] {
  const seen = new Set(have);
  const out: number[] = [];
  for (let s = 0; s < count; s++) if (!seen.has(s)) out.push(s);
  return out;
}

/**
 * The metrics.jsonl lines of steps < `step` (what a resume from a checkpoint at `step` keeps). A last line cut
 * short by a kill or a full disk is dropped; a broken line elsewhere throws, naming the file and the fix. The
 * kept lines must hold every step 0..step-1: a line of a step before the checkpoint cannot be recomputed from
 * it, so a lost one (a power cut before appends were fsynced, a line removed by hand) is an error naming the
 * steps and the fix (train the run again from step 0), not a finished run with a gap in its curve.
 */
export function keptMetricLines(file: string, step: number): string[] {
  const dir = path.dirname(file);
  const restart = `delete ${path.join(dir, "checkpoint*")} and run the same command again (the run trains again from step 0, to the same losses)`;
  const fix =
    step > 0
      ? `if that line is of step ${step} or later (the resume recomputes those), remove that line and run the same command again; else the step is lost with it: delete ${file} and ${restart}`
      : `remove that line (or the file) and run the same command again`;
  const { rows, lines } = readJsonLines(file, "metrics file", fix);
  const steps: number[] = [];
  const kept = lines.filter((_, i) => {
    const r = rows[i] as { step?: unknown } | null;
    if (typeof r !== "object" || r === null || typeof r.step !== "number")
      throw new Error(`metrics file ${file} line ${i + 1} has no numeric 'step': ${fix}`);
    if (r.step < step) steps.push(r.step);
    return r.step < step;
  });
  const lost = missingSteps(steps, step);
  if (lost.length > 0)
    throw new Error(
      `metrics file ${file} lacks the lines of ${formatSteps(lost)} before the checkpoint (step ${step}), ` +
        `lost after the checkpoint was written or removed by hand; they cannot be recomputed from it: ${restart}`,
    );
  return kept;
}

export interface RunIdentity {
  configHash: string;
  scheduleHash: string;
  backend: string;
}

export interface ResumeOverrides {
  /** continue a checkpoint written under another optimiser schedule (lr, warmup, ...; see SCHEDULE_KEYS) */
  allowScheduleChange?: boolean;
  /** continue a checkpoint written on another backend */
  allowBackendChange?: boolean;
}

/** Throw unless the checkpoint of `dir` may be continued by a run of identity `run` (see the header). */
export function checkResumable(ckpt: Checkpoint, run: RunIdentity, allow: ResumeOverrides, dir: string): void {
  const meta = ckpt.meta as { scheduleHash?: unknown; backend?: unknown };
  if (ckpt.configHash !== run.configHash) {
    const sameSchedFree = typeof meta.scheduleHash === "string" && meta.scheduleHash === run.scheduleHash;
    if (!(sameSchedFree && allow.allowScheduleChange)) {
      const hint = sameSchedFree
        ? `only the optimiser schedule (${SCHEDULE_KEYS.join(", ")}) differs: to continue from it with the new values, pass allowScheduleChange (scripts/train.ts: --allowScheduleChange), or train into a new directory`
        : "resume with the same config, or train into a new directory";
      throw new Error(
        `checkpoint in ${dir} (step ${ckpt.step}) was written under config hash ${ckpt.configHash}, but this run's config hashes to ${run.configHash}: ${hint}`,
      );
    }
  }
  if (typeof meta.backend === "string" && meta.backend !== run.backend && !allow.allowBackendChange) {
    throw new Error(
      `checkpoint in ${dir} (step ${ckpt.step}) was written on the '${meta.backend}' backend, but this process runs on '${run.backend}': ` +
        `backends round differently, so the run would mix two. Resume on '${meta.backend}' (LST_BACKEND=${meta.backend}), ` +
        `or pass allowBackendChange (scripts/train.ts: --allowBackendChange) to continue on '${run.backend}' knowingly`,
    );
  }
}

function countNonFinite(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) n++;
  return n;
}

/**
 * Throw if any weight or AdamW moment is NaN or infinite: such a state must never be written as a checkpoint
 * (it would become the "last good" one). `lastSaved` is the step of the checkpoint on disk (-1: none).
 */
export function checkFiniteState(
  params: readonly NamedArray[],
  optimizer: AdamWState,
  step: number,
  lr: number,
  where: { dir: string; lastSaved: number },
): void {
  let bad = 0;
  let total = 0;
  let first = "";
  for (const p of params) {
    const n = countNonFinite(p.data);
    total += p.data.length;
    if (n > 0 && first === "") first = p.name;
    bad += n;
  }
  for (const s of optimizer.slots) {
    const n = countNonFinite(s.m) + countNonFinite(s.v);
    if (n > 0 && first === "") first = `AdamW moments of ${s.name}`;
    bad += n;
  }
  if (bad === 0) return;
  const kept =
    where.lastSaved >= 0
      ? `the last good checkpoint (step ${where.lastSaved}) in ${where.dir} is kept`
      : `no checkpoint was written to ${where.dir}`;
  throw new Error(
    `training diverged before step ${step}: ${bad} weights or optimizer values are NaN or infinite (of ${total} weights; first in '${first}'). ` +
      `They were not written as a checkpoint; ${kept}. Lower train.lr (now ${lr}) or raise train.warmupSteps, then train into a new directory, ` +
      `or continue this one from its checkpoint with allowScheduleChange (scripts/train.ts: --allowScheduleChange).`,
  );
}
