/**
 * A per-kernel profile of one training step (bench/train-bench.ts `--profile`): tfjs's profiler (`tf.profile`)
 * records every kernel the step runs, forward and backward, with its time (on the tensorflow backend the kernels
 * run synchronously, so a kernel's time is its own). Each kernel is labelled with the module that ran it:
 *
 * - forward: a module's method (e.g. the LST's global BlockStack `apply`) is wrapped for the profiled step; the
 *   kernels it runs get its label (the innermost wrapped method wins);
 * - backward: the tape nodes that method recorded get their gradient functions wrapped the same way, so the
 *   kernels of its gradient get its label too;
 * - the rest of forward + backward (embedding gathers, projections between modules, the head and the loss, the
 *   gradient sums the tape adds) is `other`; after `tf.variableGrads` returns, the clip and AdamW are `optimizer`.
 *
 * Every wrapper is removed when the step ends, so the model is left as it was. `modelScopes` names the modules
 * of the baseline (its blocks) and of LST (local encoder blocks, pooling, encoder cross-attention, global
 * transformer, decoder cross-attention, local decoder blocks). A kernel that runs other kernels (an op with a
 * custom gradient, or a backend kernel built of others) keeps only its own time, so times add up without
 * double counting. The summing is lib/tooling/kernel-profile.ts's `aggregateKernels`.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { LanguageModel, ModelKind } from "../../lib";
import type { KernelRecord } from "../../lib/internal";

/** A module to label: `obj[method]` is wrapped while the step is profiled. */
export interface ProfileScope {
  label: string;
  obj: object;
  method: string;
}

type Fn = (...args: unknown[]) => unknown;
interface TapeNodeLike {
  gradient?: (dys: unknown) => Record<string, () => unknown>;
}
interface EngineLike {
  state: { activeProfile: { kernels: { depth?: number }[] }; activeTape: TapeNodeLike[] | null; kernelDepth: number };
}

/**
 * Profile one training step: `tf.variableGrads(loss, variables)` (forward, then backward), then `optimizer` on the
 * gradients (it disposes them and the loss). Returns one record per kernel with its label (scope) and phase
 * (forward, backward, optimizer).
 */
export async function profileStep(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  optimizer: (g: { value: tf.Scalar; grads: tf.NamedTensorMap }) => Promise<void>,
  scopes: readonly ProfileScope[],
): Promise<KernelRecord[]> {
  const engine = tf.engine() as unknown as EngineLike;
  const kernels = () => engine.state.activeProfile.kernels;
  const labels: (string | undefined)[] = [];
  const phases: (string | undefined)[] = [];
  const mark = (from: number, label: string | undefined, phase: string) => {
    for (let i = from; i < kernels().length; i++) {
      if (labels[i] === undefined && label !== undefined) labels[i] = label;
      if (phases[i] === undefined) phases[i] = phase;
    }
  };
  const wrapped = new WeakSet<object>();
  const wrapGradient = (node: TapeNodeLike, label: string) => {
    const g = node.gradient;
    if (!g || wrapped.has(node)) return;
    wrapped.add(node);
    node.gradient = (dys) => {
      const k0 = kernels().length;
      const out = g(dys);
      mark(k0, label, "backward");
      const lazy: Record<string, () => unknown> = {};
      for (const [name, f] of Object.entries(out))
        lazy[name] = () => {
          const k1 = kernels().length;
          const r = f();
          mark(k1, label, "backward");
          return r;
        };
      return lazy;
    };
  };
  const restore: (() => void)[] = [];
  for (const s of scopes) {
    const obj = s.obj as Record<string, Fn>;
    const orig = obj[s.method];
    if (typeof orig !== "function") throw new Error(`profileStep: '${s.label}' has no method '${s.method}'`);
    const own = Object.prototype.hasOwnProperty.call(obj, s.method);
    obj[s.method] = function (this: unknown, ...args: unknown[]) {
      const k0 = kernels().length;
      const tape = engine.state.activeTape;
      const t0 = tape ? tape.length : 0;
      const out = orig.apply(this, args);
      mark(k0, s.label, "forward");
      if (tape) for (let i = t0; i < tape.length; i++) wrapGradient(tape[i], s.label);
      return out;
    };
    restore.push(() => {
      if (own) obj[s.method] = orig;
      else delete obj[s.method];
    });
  }
  let profile: { kernels: { name: string; kernelTimeMs: number | { error: string }; depth?: number }[] };
  let forwardEnd = 0;
  let gradsEnd = 0;
  try {
    profile = (await tf.profile(async () => {
      // tag each record with the kernel depth it ran at: an op with a custom gradient is recorded after the
      // kernels its forward ran (depth + 1), with a time that includes theirs
      const ks = kernels();
      const push = ks.push;
      ks.push = (...items: { depth?: number }[]) => {
        for (const it of items) it.depth = engine.state.kernelDepth;
        return push.apply(ks, items);
      };
      const g = tf.variableGrads(() => {
        const l = loss();
        forwardEnd = kernels().length;
        return l;
      }, variables);
      gradsEnd = kernels().length;
      await optimizer(g);
      mark(gradsEnd, undefined, "optimizer");
      return {};
    })) as unknown as typeof profile;
  } finally {
    for (const r of restore.reverse()) r();
  }
  // self times: a record's time less that of the records nested in it (pushed before it, one level deeper)
  const childMs: number[] = [];
  const backend = tf.getBackend();
  return profile.kernels.map((k, i) => {
    const total = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : NaN;
    if (Number.isNaN(total)) throw new Error(`profileStep: no kernel time for '${k.name}' on this backend`);
    const d = k.depth ?? 0;
    const nested = childMs[d] ?? 0;
    const ms = Math.max(0, total - nested);
    childMs[d] = 0;
    if (d > 0) childMs[d - 1] = (childMs[d - 1] ?? 0) + total;
    const phase = phases[i] ?? (i < forwardEnd ? "forward" : i < gradsEnd ? "backward" : "optimizer");
    return {
      // an op with a custom gradient is no kernel: its record (named after the enclosing scope) keeps its own time
      name: nested > 0 && !tf.getKernel(k.name, backend) ? `${k.name} (custom-gradient op, own time)` : k.name,
      ms,
      scope: labels[i] ?? (phase === "optimizer" ? "optimizer (clip + AdamW)" : undefined),
      phase,
    };
  });
}

/** The modules to label in a profiled step (private fields, read for the profile only). */
export function modelScopes(kind: ModelKind, model: LanguageModel): ProfileScope[] {
  const m = model as unknown as Record<string, unknown>;
  const field = (name: string) => {
    const v = m[name];
    if (v === undefined || v === null) throw new Error(`train-bench --profile: the ${kind} model has no '${name}'`);
    return v as Record<string, unknown>;
  };
  if (kind === "baseline") return [{ label: "transformer blocks", obj: field("blocks"), method: "apply" }];
  const decoder = field("decoder") as { layers: object[] };
  return [
    { label: "local encoder blocks", obj: field("encoder"), method: "apply" },
    { label: "encoder pooling", obj: model, method: "pool" },
    { label: "encoder pooling", obj: model, method: "poolDense" },
    { label: "encoder cross-attention", obj: field("encCross"), method: "apply" },
    { label: "encoder cross-attention", obj: field("encCross"), method: "applyDense" },
    { label: "encoder cross-attention", obj: field("encCross"), method: "applyCompact" },
    // the rest of each form's encoder and decoder (k|v projections, gathers, residual adds); inner labels win
    ...["encodeGathered", "encodeFused"].map((method) => ({ label: "encoder cross-attention", obj: model, method })),
    ...["decodeGathered", "decodeFused", "decodeCompact"].map((method) => ({
      label: "decoder cross-attention",
      obj: model,
      method,
    })),
    { label: "global transformer", obj: field("global"), method: "apply" },
    ...(field("decCross") as unknown as object[]).flatMap((obj) =>
      ["apply", "applyDense", "applyCompact"].map((method) => ({ label: "decoder cross-attention", obj, method })),
    ),
    ...decoder.layers.map((obj) => ({ label: "local decoder blocks", obj, method: "apply" })),
  ];
}
