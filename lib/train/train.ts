/**
 * `train(opts)`: the training loop for every model kind, in nanoGPT's order per step:
 *   batchAt(step) -> lrAt(step) -> loss + gradients -> refuse non-finite -> clip + AdamW -> log -> checkpoint
 *
 * Deterministic: the weights are a pure function of `model.seed`, the batches of (`train.seed`, step) and the
 * patches of (`patching.seed`, step, sequence), so with a run dir the loop resumes from its last checkpoint and
 * produces the same losses as an uninterrupted run. A non-finite loss or gradient norm stops training with an
 * error naming the step, before the weights change; the last checkpoint on disk stays the last good one.
 *
 * A run dir holds: config.json (the resolved configs, their hash and the backend), metrics.jsonl (one StepMetrics
 * per line; lines of steps a resumed run redoes are dropped, and a line cut short by a kill or a full disk),
 * checkpoint.json + checkpoint-<step>.bin (and the checkpoint before: lib/train/checkpoint.ts). A checkpoint is
 * written only when every weight is finite, and a resume refuses another config or another backend unless
 * asked (allowScheduleChange, allowBackendChange: lib/train/resume.ts). The weights of the last checkpoint are
 * also in model.safetensors (model-export.ts).
 *
 * Host reads (step-reads.ts). On the CPU backends each step's loss, NLL and gradient norm are read right
 * away (asynchronously) and the step is refused before the update if one is not finite. On webgpu
 * (`readsAreAsync()`) nothing is read per step: AdamW takes the clip factor on the device, and the pending
 * steps are read together on log, checkpoint, eval and last steps (and every DEFER_MAX steps); `onStep`
 * then sees them in order, their `ms` is the window's mean, and a non-finite step fails the run at that
 * read, naming the step (the weights, already updated past it, are discarded; checkpoints are written only
 * after a read, so the one on disk is the last good one).
 *
 * Compiled steps (`train.compile`, docs/speed.md): on the CPU tensorflow backend a step may run as one
 * TensorFlow graph (lib/train/compiled-step/), which returns the new parameters and moments instead of
 * assigning them; they are kept (`AdamW.commit`) only after the loss and the norm read finite, as above.
 */
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
// subtle: tfjs-core alone registers no gradients; tfjs-node brings them, the wasm and cpu backends do not
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { initBackend, readsAreAsync } from "../backend";
import { configHash, type DeepPartial } from "../config";
import { appendLine, ensureDir, writeFileDurable } from "../files";
import type { SequenceSource } from "../data/types";
import { resolveModelConfig, type ModelConfig } from "../model/config";
import { createModel } from "../model/create";
import type { UnitEntropyModel } from "../model/entropy";
import { makePatcher, resolvePatchingConfig, type BuiltPatcher, type PatchingConfig } from "../model/patching";
import type { LanguageModel } from "../model/types";
import { AdamW, type AdamWUpdate } from "./adamw";
import { makeBatchStream, type StreamBatch } from "./batches";
import { captureVariables, loadCheckpoint, restoreVariables, saveCheckpoint } from "./checkpoint";
import { compileChoice } from "./compiled-step/policy";
import { CompiledStep, type CompiledStepStats } from "./compiled-step/runner";
import { nodeBackend } from "./compiled-step/native";
import { resolveTrainConfig, type TrainConfig } from "./config";
import { syncRunModelFile, writeRunModelFile } from "./model-export";
import { checkFiniteState, checkResumable, keptMetricLines, withoutSchedule, type ResumeOverrides } from "./resume";
import { lrAt } from "./schedule";
import { StepReads } from "./step-reads";
import {
  countTargets,
  nominalStepFlops,
  noSpeechError,
  sourceHasSpeech,
  SPEECH_PROBE_STEPS,
  stepFlops,
} from "./step-checks";

/** With deferred reads (webgpu), at most this many steps wait for a host read. */
export const DEFER_MAX = 32;

export interface StepMetrics {
  step: number;
  /** mean next-token NLL (nats) over the batch's targets */
  loss: number;
  /** mean NLL over speech targets (id >= unitOffset); NaN when the batch has none */
  lossSpeech: number;
  /** mean NLL over text and special targets; NaN when the batch has none */
  lossText: number;
  lr: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** global positions that held data (baseline tokens, LST patches) */
  globalUnits: number;
  rawTokens: { speech: number; text: number };
  /** training FLOPs of the step (set when a FLOP model is wired in; see lib/model/flops.ts) */
  flops?: number;
  /** results of `onEval` on the steps it ran */
  eval?: Record<string, number>;
  /** wall time of the step in milliseconds */
  ms: number;
}

export interface TrainOptions {
  model: DeepPartial<ModelConfig>;
  train?: DeepPartial<TrainConfig>;
  /** LST only (default: static patches of 4); give this or `patcher`, not both */
  patching?: DeepPartial<PatchingConfig>;
  /** LST only: the run's training patcher, built once by the caller (makePatcher); its config is the run's */
  patcher?: BuiltPatcher;
  source: SequenceSource;
  /** run dir: checkpoints, config.json and metrics.jsonl; a run resumes from its checkpoint */
  dir?: string;
  onStep?: (m: StepMetrics) => void;
  /** called every `train.evalEvery` steps with the model after that step */
  onEval?: (model: LanguageModel, step: number) => Record<string, number> | Promise<Record<string, number>>;
  /** abort = stop after the current step, saving a checkpoint when a dir is given */
  signal?: AbortSignal;
  /** required by patching scheme 'entropy' when `patching` is given (a `patcher` carries its own) */
  entropyModel?: UnitEntropyModel;
  /** continue a checkpoint written under another lr/warmup/... (see lib/train/resume.ts); default false */
  allowScheduleChange?: ResumeOverrides["allowScheduleChange"];
  /** continue a checkpoint written on another backend; default false */
  allowBackendChange?: ResumeOverrides["allowBackendChange"];
}

export interface TrainResult {
  model: LanguageModel;
  /** the metrics of the steps this call ran */
  metrics: StepMetrics[];
  /** the step this call started from (0 for a fresh run) */
  resumedFrom: number;
  configHash: string;
  /** how the steps ran when compiled steps were on (lib/train/compiled-step/runner.ts); absent when eager */
  compiled?: CompiledStepStats;
}

/** Per-modality mean NLL from the [B*T] NLL values and targets. */
export function modalityLosses(
  nll: Float32Array,
  targets: Int32Array,
  unitOffset: number,
): { loss: number; lossSpeech: number; lossText: number } {
  let s = 0;
  let ns = 0;
  let x = 0;
  let nx = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] < 0) continue;
    if (targets[i] >= unitOffset) {
      s += nll[i];
      ns++;
    } else {
      x += nll[i];
      nx++;
    }
  }
  return { loss: (s + x) / (ns + nx), lossSpeech: ns ? s / ns : NaN, lossText: nx ? x / nx : NaN };
}

/** The resolved configs of a run, completed from the source (vocabulary size, unit offset). */
export function resolveRun(
  opts: Pick<TrainOptions, "model" | "train" | "patching" | "patcher" | "source" | "entropyModel">,
): {
  model: ModelConfig;
  train: TrainConfig;
  patching: PatchingConfig | null;
  hash: string;
  /** the hash without the optimiser schedule (lr, warmup, ...): what a resume with allowScheduleChange must match */
  scheduleHash: string;
} {
  const { source } = opts;
  const m = opts.model;
  if (m.vocabSize !== undefined && m.vocabSize !== 0 && m.vocabSize < source.vocabSize) {
    throw new Error(
      `model.vocabSize ${m.vocabSize} is smaller than the data's vocabulary ${source.vocabSize}: leave it unset (0) to take the source's`,
    );
  }
  const lstOver = m.lst ?? {};
  const model = resolveModelConfig({
    ...m,
    vocabSize: m.vocabSize || source.vocabSize,
    lst: { ...lstOver, unitOffset: lstOver.unitOffset || source.unitOffset },
  });
  const train = resolveTrainConfig(opts.train, model.kind);
  if (model.kind !== "lst" && (opts.patching !== undefined || opts.patcher !== undefined)) {
    throw new Error("patching applies to LST models only: drop the patching config (or patcher) for a baseline run");
  }
  if (opts.patching !== undefined && opts.patcher !== undefined) {
    throw new Error(
      "give train() either `patching` (a config it builds the patcher from) or `patcher` (one built by makePatcher), not both",
    );
  }
  // a given patcher carries the run's resolved config; else the config is resolved here, once
  const patching =
    model.kind !== "lst" ? null : opts.patcher ? opts.patcher.config : resolvePatchingConfig(opts.patching);
  const entropyModel = opts.patcher ? opts.patcher.entropyModel : opts.entropyModel;
  const entropy = patching?.scheme === "entropy" && entropyModel ? configHash(entropyModel.toJSON()) : null;
  // logging, checkpoint and eval cadence do not change the weights: a run may resume with other values; nor
  // does `compile`, whose losses equal the eager step's to float rounding (docs/speed.md: 50 steps within 1e-5)
  const { logEvery: _log, ckptEvery: _ckpt, evalEvery: _eval, compile: _compile, ...trainForHash } = train;
  const hash = configHash({
    model,
    train: trainForHash,
    patching,
    entropy,
    vocabSize: source.vocabSize,
    unitOffset: source.unitOffset,
  });
  const scheduleHash = configHash({
    model,
    train: withoutSchedule(trainForHash),
    patching,
    entropy,
    vocabSize: source.vocabSize,
    unitOffset: source.unitOffset,
  });
  return { model, train, patching, hash, scheduleHash };
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  await initBackend();
  const { model: modelCfg, train: cfg, patching, hash, scheduleHash } = resolveRun(opts);
  const backend = tf.getBackend();
  const { source, dir } = opts;
  const model = createModel(modelCfg);
  const opt = new AdamW(model.variables, {
    beta1: cfg.beta1,
    beta2: cfg.beta2,
    eps: cfg.eps,
    weightDecay: cfg.weightDecay,
    clip: cfg.clip,
  });
  if (opts.patcher && opts.patcher.totalSteps !== cfg.steps) {
    throw new Error(
      `train(): the patcher was built for ${opts.patcher.totalSteps} steps but the run trains ${cfg.steps}: build it with makePatcher(cfg, { totalSteps: ${cfg.steps} })`,
    );
  }
  const patcher = !patching
    ? undefined
    : (opts.patcher ?? makePatcher(patching, { totalSteps: cfg.steps, entropyModel: opts.entropyModel }));
  const stream = makeBatchStream(source, {
    kind: modelCfg.kind,
    batchSize: cfg.batchSize,
    seqLen: cfg.seqLen,
    globalLen: cfg.globalLen,
    maxRawLen: cfg.maxRawLen,
    patcher,
    seed: cfg.seed,
  });
  const metrics: StepMetrics[] = [];
  let start = 0;
  let lastSaved = -1;
  let speechSeen = false;
  const metricsFile = dir ? path.join(dir, "metrics.jsonl") : "";
  const deferred = readsAreAsync();
  // compiled steps (lib/train/compiled-step/): the graph returns the new state, kept below only when finite
  const choice = compileChoice(cfg.compile, {
    backend,
    gpu: nodeBackend()?.binding.isUsingGpuDevice() ?? false,
    stepFlops: nominalStepFlops(modelCfg, cfg),
    steps: cfg.steps,
  });
  const runner = choice.compile
    ? new CompiledStep(model, opt, {
        xla: choice.xla,
        strict: cfg.compile !== "auto",
        adaptive: cfg.compile === "auto",
      })
    : null;
  if (cfg.logEvery > 0 && cfg.compile !== "off") console.log(`steps: ${choice.why}`);
  const reads = new StepReads<{ step: number; sb: StreamBatch; lr: number; t0: number }>();
  const save = async (next: number) => {
    if (!dir || next === lastSaved) return;
    const params = await captureVariables(model.variables);
    const optimizer = await opt.getState();
    checkFiniteState(params, optimizer, next, cfg.lr, { dir, lastSaved });
    saveCheckpoint(dir, {
      step: next,
      configHash: hash,
      params,
      optimizer,
      cursor: { step: next },
      meta: { model: modelCfg, train: cfg, patching, scheduleHash, backend },
    });
    writeRunModelFile(dir, params, modelCfg, next); // for readers outside the lab; durable, after the checkpoint
    lastSaved = next;
  };
  try {
    if (dir) {
      ensureDir(dir);
      const ckpt = loadCheckpoint(dir);
      if (ckpt) {
        checkResumable(ckpt, { configHash: hash, scheduleHash, backend }, opts, dir);
        restoreVariables(model.variables, ckpt.params);
        opt.setState(ckpt.optimizer);
        start = ckpt.step;
        lastSaved = start;
        syncRunModelFile(dir, ckpt, modelCfg); // a full disk or a kill after the checkpoint left it behind
      }
      const kept = keptMetricLines(metricsFile, start);
      writeFileDurable(metricsFile, kept.map((l) => `${l}\n`).join(""));
      writeFileDurable(
        path.join(dir, "config.json"),
        JSON.stringify({ configHash: hash, backend, model: modelCfg, train: cfg, patching }, null, 1),
      );
    }
    for (let step = start; step < cfg.steps; step++) {
      if (opts.signal?.aborted) break;
      const t0 = performance.now();
      const sb = stream.batchAt(step);
      if (sb.rawTokens.speech > 0) speechSeen = true;
      else if (!speechSeen && start === 0 && step === Math.min(SPEECH_PROBE_STEPS, cfg.steps) - 1)
        if (sourceHasSpeech(source)) throw noSpeechError(cfg, modelCfg.kind, step + 1);
      const { batch } = sb;
      const lr = lrAt(step, {
        lr: cfg.lr,
        warmupSteps: cfg.warmupSteps,
        totalSteps: cfg.steps,
        minLrRatio: cfg.minLrRatio,
      });
      const nTargets = countTargets(batch);
      if (nTargets === 0) throw new Error(`step ${step}: the batch has no targets; check the data source`);
      let grads: tf.NamedTensorMap | null = null;
      // a compiled step's new parameters and moments: assigned only once its loss and norm read finite
      let update: AdamWUpdate | null = null;
      if (runner) {
        const s = runner.step(batch, lr, nTargets);
        update = s.update;
        reads.push({ info: { step, sb, lr, t0 }, nll: s.nll, value: s.loss, normSq: s.normSq });
      } else {
        const kept: { nll?: tf.Tensor2D } = {};
        const vg = tf.variableGrads(() => {
          const nll = model.tokenNll(batch); // [B,T], 0 where the target is ignored
          kept.nll = tf.keep(nll);
          return tf.div(tf.sum(nll), nTargets) as tf.Scalar;
        }, model.variables);
        grads = vg.grads;
        const normSq = opt.gradNormSquared(grads);
        if (deferred) {
          opt.applyOnDevice(grads, lr, normSq);
          tf.dispose(grads);
          grads = null;
        }
        reads.push({ info: { step, sb, lr, t0 }, nll: kept.nll as tf.Tensor2D, value: vg.value, normSq });
      }
      const last = step === cfg.steps - 1;
      const atLog = cfg.logEvery > 0 && step % cfg.logEvery === 0;
      const atCkpt = cfg.ckptEvery > 0 && (step + 1) % cfg.ckptEvery === 0;
      const atEval = opts.onEval !== undefined && cfg.evalEvery > 0 && (step + 1) % cfg.evalEvery === 0;
      if (deferred && !(last || atLog || atCkpt || atEval || reads.size >= DEFER_MAX)) continue;
      const done = await reads.drain();
      const msEach = (performance.now() - done[0].info.t0) / done.length;
      for (const { info, nll, loss, gradNorm } of done) {
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          if (grads) tf.dispose(grads);
          if (update) tf.dispose([update.m, update.v, ...update.params]);
          const where = dir
            ? lastSaved >= 0
              ? `the last good checkpoint (step ${lastSaved}) in ${dir} is kept`
              : `no checkpoint was written to ${dir} yet`
            : "no run dir was given";
          const stopped = deferred
            ? "Stopped; the weights, read late on this backend, are discarded"
            : "Stopped before updating the weights";
          throw new Error(
            `training diverged at step ${info.step}: loss ${loss}, gradient norm ${gradNorm}. ${stopped}; ${where}. ` +
              `Lower train.lr (now ${cfg.lr}) or raise train.warmupSteps, then train into a new directory, or continue this one from its checkpoint ` +
              `with allowScheduleChange (scripts/train.ts: --allowScheduleChange).`,
          );
        }
        if (update) opt.commit(update);
        else if (grads) {
          opt.apply(grads, info.lr, gradNorm);
          tf.dispose(grads);
        }
        const losses = modalityLosses(nll, info.sb.batch.targets, source.unitOffset);
        const m: StepMetrics = {
          step: info.step,
          ...losses,
          lr: info.lr,
          gradNorm,
          globalUnits: info.sb.globalUnits,
          rawTokens: info.sb.rawTokens,
          flops: stepFlops(modelCfg, cfg, info.sb),
          ms: 0,
        };
        if (atEval && info.step === step) m.eval = await opts.onEval!(model, step + 1);
        m.ms = deferred ? msEach : performance.now() - info.t0;
        metrics.push(m);
        if (dir) appendLine(metricsFile, JSON.stringify(m));
        if (cfg.logEvery > 0 && (info.step % cfg.logEvery === 0 || info.step === cfg.steps - 1)) {
          console.log(
            `step ${info.step}/${cfg.steps} loss ${m.loss.toFixed(4)} (speech ${m.lossSpeech.toFixed(3)}, text ${m.lossText.toFixed(3)}) lr ${info.lr.toExponential(2)} |g| ${gradNorm.toFixed(3)} ${m.ms.toFixed(0)} ms`,
          );
        }
        opts.onStep?.(m);
      }
      if (atCkpt) await save(step + 1);
    }
    await save(start + metrics.length);
  } catch (e) {
    reads.dispose();
    model.dispose();
    throw e;
  } finally {
    runner?.dispose();
    opt.dispose();
  }
  return { model, metrics, resumedFrom: start, configHash: hash, ...(runner ? { compiled: runner.stats } : {}) };
}
