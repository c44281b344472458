/**
 * Autoregressive generation for the baseline and LST: a prompt of LM ids -> a continuation, token by token,
 * through a stepper (step-cache.ts; cached by default: kv-cache.ts, lst-cache.ts), sampled by sampling.ts from a
 * seeded Rng, until a stop rule fires:
 *   eos        the model emitted EOS (the document ends)
 *   switch     it emitted a modality marker (<t>, <s>) or a token of the other modality: the continuation's
 *              segment ends (with stopOnSwitch false it goes on, across segments)
 *   maxTokens  the continuation reached maxTokens
 *   context    prompt + continuation filled the model's maxSeqLen
 * The stop token is not part of the continuation (`stopToken` names it). PAD and BOS are never sampled; before
 * `minTokens` tokens, EOS, the markers and the other modality's tokens are not sampled either.
 *
 * LST: patch boundaries on the fly. The model needs to know, before it predicts a token, whether that token
 * starts a patch (step-cache.ts: the 'continue' and 'new' hypotheses). A non-speech token is always a patch of
 * its own, so after one the next token starts a patch. Inside a speech run a `BoundaryRule` decides, from the
 * run's units so far, whether the next speech token starts one:
 *   static p       every p units of the run (paper §2.1) -- also mixed and curriculum runs, whose
 *                  inference patcher is static (the paper's)
 *   entropy        where the run's unit n-gram is uncertain (model/entropy.ts), the run's own threshold
 *   aligned        the model was trained on word patches, but generated speech has no alignment: the rule cuts
 *                  where the unit n-gram's entropy is high (word starts are where the next unit is hard to
 *                  guess), with the threshold calibrated so that patches average the training corpus's aligned
 *                  patch length -- a documented stand-in, not the paper's (which needs an aligner at test time)
 * When the rule says 'continue' but the sampled token is not speech (the run ends mid-patch), that token would
 * have started a patch, so its prediction is remade under 'new' (the open patch closes, the global model runs
 * on it) and drawn from the non-speech tokens only: the 'continue' distribution decides whether the run goes
 * on, the 'new' one which token ends it -- the two the model's own scoring (eval/score.ts) would use.
 * The prompt is patched by the same rule, so prompt and continuation are cut alike.
 *
 * Worked example (static p = 2; a test): prompt BOS <t> w <s> (4 patches of 1); the model emits u u u <t>:
 *   u (after <s>: new patch)  u (run [u], patch 1 < 2: continue)  u (patch full: new)  <t> (under 'continue'
 *   it is not speech: remade under 'new', stop 'switch')  -> continuation u u u, patches [1,1,1,1,2,1]
 */
import { Rng, hashSeed } from "../rng";
import { BOS, EOS, PAD, SPEECH, TEXT } from "../tokenizers/special";
import type { BaselineLM } from "./baseline";
import type { UnitEntropyModel } from "./entropy";
import { LstStepper } from "./lst-cache";
import type { LstLM } from "./lst";
import type { PatchingConfig } from "./patching-config";
import { checkSampling, DEFAULT_SAMPLING, sampleToken, type SamplingOptions } from "./sampling";
import { BaselineStepper, FullForwardStepper, type Hypothesis, type Stepper } from "./step-cache";

/** Decides, inside a speech run, whether the next speech token starts a patch (see the header). */
export interface BoundaryRule {
  /** e.g. "static p=4" */
  readonly name: string;
  /** `run`: the units (0..K-1) of the speech run so far; `open`: tokens in its last patch */
  startsPatch(run: readonly number[], open: number): boolean;
}

/** Static patches of p units (a run's last one may be short), split at maxPatchLen (> 0) like patch-ids.ts. */
export function staticRule(p: number, maxPatchLen = 0): BoundaryRule {
  if (!Number.isInteger(p) || p < 1) throw new Error(`static patch size must be a positive integer, got ${p}`);
  return {
    name: `static p=${p}`,
    startsPatch: (run, open) => run.length % p === 0 || (maxPatchLen > 0 && open >= maxPatchLen),
  };
}

/** Entropy boundaries of model/entropy.ts computed online: H(next | run) > threshold ('global') or its rise. */
export function entropyRule(
  model: UnitEntropyModel,
  threshold: number,
  mode: "global" | "monotonic",
  maxPatchLen = 0,
  name = `entropy ${mode} > ${threshold.toFixed(3)}`,
): BoundaryRule {
  return {
    name,
    startsPatch: (run, open) => {
      if (maxPatchLen > 0 && open >= maxPatchLen) return true;
      const h = model.entropyAfter(run);
      return mode === "global" ? h > threshold : h - model.entropyAfter(run.slice(0, -1)) > threshold;
    },
  };
}

/** What a run's generation rule may need: its unit n-gram, and for 'aligned' the mean aligned patch length. */
export interface RuleContext {
  entropyModel?: UnitEntropyModel;
  /** mean speech patch length of the training corpus under aligned patching (the paper: 5.8 for words) */
  alignedMeanLen?: number;
}

/** The rule a run generates with, from its inference-time patching config (see the header). */
export function generationRule(cfg: PatchingConfig, ctx: RuleContext = {}): BoundaryRule {
  if (cfg.scheme === "static" || cfg.scheme === "mixed" || cfg.scheme === "curriculum")
    return staticRule(cfg.patchSize, cfg.maxPatchLen);
  const model = ctx.entropyModel;
  if (!model)
    throw new Error(
      `generating with '${cfg.scheme}' patches needs a unit n-gram: pass ctx.entropyModel (fitUnitEntropyModel; the lab's entropyModelFor(ds))`,
    );
  if (cfg.scheme === "entropy") {
    const th =
      cfg.entropyMeanLen > 0 ? model.thresholdForMeanLength(cfg.entropyMeanLen, cfg.entropyMode) : cfg.entropyThreshold;
    return entropyRule(model, th, cfg.entropyMode, cfg.maxPatchLen);
  }
  const mean = ctx.alignedMeanLen;
  if (!(mean !== undefined && mean >= 1))
    throw new Error(
      `generating with aligned patches needs ctx.alignedMeanLen >= 1 (the training corpus's mean aligned patch length), got ${mean}`,
    );
  const th = model.thresholdForMeanLength(mean, "global");
  return entropyRule(model, th, "global", cfg.maxPatchLen, `aligned stand-in: entropy, mean ${mean.toFixed(1)}`);
}

/** Patch starts of a prompt under a rule: BOS and every non-speech token and its successor start one. */
export function promptPatchStarts(ids: ArrayLike<number>, unitOffset: number, rule: BoundaryRule): boolean[] {
  const out: boolean[] = [];
  let run: number[] = [];
  let open = 0;
  for (let i = 0; i < ids.length; i++) {
    const speech = ids[i] >= unitOffset;
    const prevSpeech = i > 0 && ids[i - 1] >= unitOffset;
    const start = i === 0 || !speech || !prevSpeech || rule.startsPatch(run, open);
    out.push(start);
    open = start ? 1 : open + 1;
    run = speech ? (prevSpeech ? [...run, ids[i] - unitOffset] : [ids[i] - unitOffset]) : [];
  }
  return out;
}

export type StopReason = "eos" | "switch" | "maxTokens" | "context";

export interface GenerateOptions extends Partial<SamplingOptions> {
  /** LM id of speech unit 0: ids at or above it are speech (the dataset's vocab.unitOffset) */
  unitOffset: number;
  /** at most this many generated tokens (default 250: 10 s of units at 25 Hz) */
  maxTokens?: number;
  /** no stop before this many tokens (default 0) */
  minTokens?: number;
  /** the sampling seed (default 0); greedy ignores it */
  seed?: number;
  stopOnEos?: boolean;
  stopOnSwitch?: boolean;
  /** LST: the boundary rule (generationRule); required for LST, ignored by the baseline */
  rule?: BoundaryRule;
  /** false: every token runs the whole prefix through the model's own forward (the reference); default true */
  cache?: boolean;
  /** every step's logits, hypothesis and choice (tests compare the cached and uncached logits) */
  onStep?: (s: { step: number; hyp: Hypothesis; logits: Float32Array; token: number }) => void;
}

export interface Generation {
  prompt: Int32Array;
  /** the continuation (the stop token left out) */
  ids: Int32Array;
  stop: StopReason;
  /** the token that stopped it (eos / switch), else null */
  stopToken: number | null;
  /** LST: patch lengths tiling prompt ++ ids; null for the baseline */
  patchLengths: Int32Array | null;
  /** LST: the boundary rule's name */
  rule: string | null;
  /** forward passes over the whole prefix (0 with the cache) */
  fullForwards: number;
  seconds: number;
}

function checkPrompt(prompt: ArrayLike<number>, vocabSize: number, capacity: number): void {
  if (prompt.length === 0)
    throw new Error("generate: the prompt is empty: it holds at least BOS (build it with promptFor)");
  if (prompt[0] !== BOS)
    throw new Error(`generate: the prompt starts with id ${prompt[0]}, not BOS (${BOS}): build it with promptFor`);
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i]) || prompt[i] < 0 || prompt[i] >= vocabSize)
      throw new Error(
        `generate: prompt id ${prompt[i]} at position ${i} is outside 0..${vocabSize - 1} (the model's vocabulary)`,
      );
  }
  if (prompt.length >= capacity)
    throw new Error(
      `generate: a prompt of ${prompt.length} tokens leaves no room in the model's maxSeqLen ${capacity}: shorten it`,
    );
}

/** Continue `prompt` (LM ids starting with BOS) with the model (see the header). */
export async function generate(
  model: BaselineLM | LstLM,
  prompt: ArrayLike<number>,
  opts: GenerateOptions,
): Promise<Generation> {
  const t0 = Date.now();
  const sampling: SamplingOptions = {
    temperature: opts.temperature ?? DEFAULT_SAMPLING.temperature,
    topK: opts.topK ?? DEFAULT_SAMPLING.topK,
    topP: opts.topP ?? DEFAULT_SAMPLING.topP,
  };
  checkSampling(sampling);
  const maxTokens = opts.maxTokens ?? 250;
  const minTokens = opts.minTokens ?? 0;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new Error(`generate: maxTokens must be a positive integer, got ${maxTokens}`);
  const { unitOffset } = opts;
  if (!(Number.isInteger(unitOffset) && unitOffset > SPEECH && unitOffset < model.vocabSize))
    throw new Error(
      `generate: unitOffset ${unitOffset} must lie in ${SPEECH + 1}..${model.vocabSize - 1}: pass the dataset's vocab.unitOffset`,
    );
  const lst = model.kind === "lst";
  const rule = opts.rule;
  if (lst && !rule)
    throw new Error(
      "generate: an LST model needs opts.rule, its patch boundary rule (generationRule(cfg.evalPatching, ...))",
    );
  const stepper: Stepper =
    opts.cache === false
      ? new FullForwardStepper(model, unitOffset)
      : lst
        ? new LstStepper(model as LstLM, unitOffset)
        : new BaselineStepper(model as BaselineLM);
  const rng = new Rng(hashSeed(opts.seed ?? 0, "generate"));
  const isSpeech = (id: number) => id >= unitOffset;
  try {
    checkPrompt(prompt, model.vocabSize, stepper.capacity);
    const ids = Array.from(prompt);
    const starts = lst ? promptPatchStarts(ids, unitOffset, rule as BoundaryRule) : ids.map((_, i) => i === 0);
    stepper.push(ids, starts);
    // the continuation's segment: the modality of the prompt's last marker, else of its last token
    let speech = isSpeech(ids[ids.length - 1]);
    for (let i = ids.length - 1; i >= 0; i--) {
      if (ids[i] === TEXT || ids[i] === SPEECH) {
        speech = ids[i] === SPEECH;
        break;
      }
    }
    let run: number[] = [];
    for (let i = ids.length - 1; i >= 0 && isSpeech(ids[i]); i--) run.unshift(ids[i] - unitOffset);
    let open = 0;
    for (let i = ids.length - 1; i >= 0 && !starts[i]; i--) open++;
    open++;
    const out: number[] = [];
    let stop: StopReason = "maxTokens";
    let stopToken: number | null = null;
    for (let step = 0; ; step++) {
      const early = out.length < minTokens;
      const banned = (id: number) =>
        id === PAD || id === BOS || (early && (id === EOS || id === TEXT || id === SPEECH || isSpeech(id) !== speech));
      const last = ids[ids.length - 1];
      let hyp: Hypothesis =
        !lst || !isSpeech(last) || (rule as BoundaryRule).startsPatch(run, open) ? "new" : "continue";
      let next = await stepper.next(hyp);
      let token = sampleToken(next.logits, sampling, rng, banned);
      if (hyp === "continue" && !isSpeech(token)) {
        // the run ends mid-patch: the ending token starts a patch, so it is predicted under 'new' (header)
        opts.onStep?.({ step, hyp, logits: next.logits, token });
        next.discard();
        hyp = "new";
        next = await stepper.next(hyp);
        token = sampleToken(next.logits, sampling, rng, (id) => banned(id) || isSpeech(id));
      }
      opts.onStep?.({ step, hyp, logits: next.logits, token });
      const switches = token === TEXT || token === SPEECH || (token !== EOS && isSpeech(token) !== speech);
      if ((token === EOS && opts.stopOnEos !== false) || (switches && opts.stopOnSwitch !== false)) {
        next.discard();
        stop = token === EOS ? "eos" : "switch";
        stopToken = token;
        break;
      }
      next.commit();
      const startsPatch = hyp === "new";
      stepper.push([token], [startsPatch]);
      ids.push(token);
      out.push(token);
      if (token === TEXT || token === SPEECH) speech = token === SPEECH;
      run = isSpeech(token) ? (isSpeech(last) ? [...run, token - unitOffset] : [token - unitOffset]) : [];
      open = startsPatch ? 1 : open + 1;
      if (out.length >= maxTokens) break;
      if (stepper.length >= stepper.capacity) {
        stop = "context";
        break;
      }
    }
    const patchLengths = lst ? Int32Array.from((stepper as LstStepper | FullForwardStepper).book.lengths) : null;
    return {
      prompt: Int32Array.from(prompt),
      ids: Int32Array.from(out),
      stop,
      stopToken,
      patchLengths,
      rule: lst ? (rule as BoundaryRule).name : null,
      fullForwards: stepper.fullForwards,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    stepper.dispose();
  }
}
