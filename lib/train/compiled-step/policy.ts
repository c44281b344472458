/**
 * Whether a run trains through compiled steps: `train.compile` (lib/train/config.ts) and where it runs.
 *
 *   off    eager steps (tfjs kernel by kernel), as before compiled steps existed
 *   graph  every step form as a TensorFlow graph in a session (tensorflow backend only; else an error)
 *   xla    graph, with every node marked for XLA (`_XlaCompile`): one cluster, compiled on first use
 *   auto   graph on the CPU tensorflow backend for runs of at least AUTO_MIN_STEPS steps of at least
 *          AUTO_MIN_GFLOP each, else eager; eager on wasm, cpu, webgpu and on tfjs-node-gpu (a session run feeds
 *          the parameters through host memory there: docs/speed.md). It keeps compiling only while a compiled step
 *          measures faster than an eager one in the run, and pauses while shapes churn (guard.ts).
 *
 * The thresholds (docs/speed.md, "When compiling pays"): a compiled step costs a capture of the step's JS
 * (tens of ms, about the same at every size) plus the session run, and each step form costs once a trace,
 * writing and loading its graph and the graph's first run (0.5-4 s). Per step the graph won 1.4-1.8x at the
 * cpuSmall and reference sizes and lost at LST's smoke size (0.76x: the capture costs what the kernels do);
 * a smoke run (12 steps of 0.1-0.3 GFLOP) cannot pay back the one-off cost, the small scale (400 steps of
 * 9-33 GFLOP) gains 1.5-1.8x a step.
 */
import type { CompileMode } from "../config";

export const COMPILE_MODES: readonly CompileMode[] = ["auto", "graph", "xla", "off"];

/** `auto` compiles steps of at least this many GFLOP (training FLOPs, lib/model/flops.ts)... */
export const AUTO_MIN_GFLOP = 5;
/** ...in runs of at least this many steps. */
export const AUTO_MIN_STEPS = 50;

export interface CompileChoice {
  compile: boolean;
  xla: boolean;
  /** one line: why (for logs and the bench) */
  why: string;
}

/**
 * The choice for mode `mode` on backend `backend` (`gpu`: tfjs-node-gpu on a CUDA device) for `steps` steps of
 * `stepFlops` training FLOPs. Throws for an unknown mode, and for graph/xla where no graph can run.
 */
export function compileChoice(
  mode: string,
  ctx: { backend: string; gpu: boolean; stepFlops: number; steps: number },
): CompileChoice {
  if (!(COMPILE_MODES as readonly string[]).includes(mode))
    throw new Error(`train config 'compile' must be one of ${COMPILE_MODES.join(", ")}, got '${mode}'`);
  if (mode === "off") return { compile: false, xla: false, why: "compile: off" };
  const native = ctx.backend === "tensorflow";
  if (mode === "graph" || mode === "xla") {
    if (!native)
      throw new Error(
        `train config compile: '${mode}' needs the tensorflow backend (tfjs-node), but this run is on '${ctx.backend}': use compile: 'auto' or 'off'`,
      );
    return { compile: true, xla: mode === "xla", why: `compile: ${mode}` };
  }
  if (!native) return { compile: false, xla: false, why: `auto: eager on the ${ctx.backend} backend (no TF sessions)` };
  if (ctx.gpu)
    return { compile: false, xla: false, why: "auto: eager on tfjs-node-gpu (session feeds go through the host)" };
  if (ctx.steps < AUTO_MIN_STEPS)
    return { compile: false, xla: false, why: `auto: eager, ${ctx.steps} steps < ${AUTO_MIN_STEPS}` };
  const gflop = ctx.stepFlops / 1e9;
  if (gflop < AUTO_MIN_GFLOP)
    return { compile: false, xla: false, why: `auto: eager, ${gflop.toFixed(2)} GFLOP a step < ${AUTO_MIN_GFLOP}` };
  return { compile: true, xla: false, why: `auto: graph, ${gflop.toFixed(1)} GFLOP a step >= ${AUTO_MIN_GFLOP}` };
}
