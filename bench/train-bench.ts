/**
 * Training throughput of the baseline and LST on the active tfjs backend, next to the PyTorch peer
 * (../shared/peers/torch_lm_bench.py, on `cuda` where torch sees a GPU, else the CPU) run in the same
 * script, one process at a time, at one or more sizes (`--sizes=`, batch 16, vocabulary 1000):
 *   smoke       the smoke preset, 32 tokens (a quick check)
 *   small       the cpuSmall preset (d 128 x 4), 192 tokens: the lab's small-scale model
 *   reference   d 256 x 4 layers x 4 heads, 256 tokens (the default)
 *   d512        d 512 x 8 layers x 8 heads, 1024 tokens (the gpuSmall preset; added to the default on a GPU backend)
 *
 * The two tfjs models alternate step by step in one process, and the peer runs right after them, for
 * `rounds` rounds; each figure is the median over the rounds and each ratio the median of per-round ratios (these 2-core machines are shared and noisy:
 * compare ratios, not absolute times).
 * A timed step = forward + loss + backward + global-norm clip (1.0) + AdamW (0.9, 0.95, wd 0.1) update, on a fresh
 * random batch built before timing; ms/step is the median over the timed steps. LST uses static patches of 4
 * (BOS alone, then 64 patches of 4) and the same global size; its GFLOP/s count the patches it really runs
 * (65 per row, BOS included). FLOPs come from lib/model/flops.ts, the peer's formula.
 *
 * A step ends with an asynchronous read of its loss, which waits for the device (webgpu queues the update
 * before it); on webgpu the clip factor stays on the device (AdamW.applyOnDevice), as in lib/train/train.ts.
 *
 * The peer runs eager and compiled (`--compile`, torch.compile: a first step of about a minute) by default
 * (`--peer-modes=`); every ratio is given against each and against the strongest peer configuration (the one with
 * the most tokens/s over the run). The CPU model and its ISA flags (avx2, avx512f, avx512_bf16, amx) are printed
 * and written with the results: ratios depend on the CPU.
 *
 * Compiled steps (`--compile=off,graph`, the default; `xla` adds the graph compiled by XLA): every tfjs model also
 * runs through lib/train/compiled-step/ (one TensorFlow graph per step form, in a session), its steps interleaved
 * with the eager ones (baseline eager, baseline graph, LST eager, LST graph, ...) on the same batches, named
 * `tfjs-graph baseline reference` etc.; the ratios add graph / eager and graph / the strongest peer. A compiled
 * model's first 3 steps trace it and build its graph (use --warmup >= 3; the profile says how many timed steps ran
 * through the graph), and `--profile` splits its step into capture, session and feed/fetch time
 * (bench/train-bench/compiled.ts).
 *
 * Targets (reference size, CPU; issue 19): LST raw tokens/s >= 2.5x the baseline's; the baseline and LST each
 * >= 1.0x the strongest peer's tokens/s.
 * `--profile` adds a per-kernel profile of one baseline and one LST step (bench/train-bench/step-profile.ts): time
 * by kernel name, by module (forward and gradient) and by phase, printed as top-15 tables and written to the JSON.
 * Run: npx tsx bench/train-bench.ts [--steps=10] [--warmup=3] [--rounds=2] [--no-peer] [--backend=tensorflow|webgpu]
 *      [--sizes=smoke,small,reference,d512] [--batch=16] [--peer-device=cpu|cuda] [--peer-modes=eager,compile]
 *      [--compile=off,graph,xla] [--profile]
 * Results: a table on stdout and data/bench/train-bench.json.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
// gradients are registered by tfjs-node's union package only; on wasm, cpu and webgpu this import brings them
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { parseArgs, SIZES, type Args, type SizeName } from "./train-bench/args";
import { compiledRatioLines, median, medianRound, ratioLines, sizeRatios, type SizeRatios } from "./train-bench/ratios";
import {
  compiledProfile,
  compiledStep,
  makeRunner,
  profileLines,
  tfjsName,
  type CompiledProfile,
} from "./train-bench/compiled";
import { modelScopes, profileStep } from "./train-bench/step-profile";
import { benchPeer, peerDevice, peerName, peerPython, type PeerMode, type PeerResult } from "./train-bench/torch-peer";
import {
  describeBackend,
  initBackend,
  type BackendReport,
  toBatch,
  createModel,
  flopsPerStep,
  modelSizeConfig,
  Rng,
  AdamW,
  BOS,
  type Batch,
  type LanguageModel,
  type ModelKind,
} from "../lib";
import {
  readsAreAsync,
  checkDeviceErrors,
  type BatchRow,
  findPeerScript,
  readCpuInfo,
  describeCpu,
  aggregateKernels,
  profileTable,
  type ProfileSummary,
  type StepReport,
} from "../lib/internal";

const V = 1000;
const PATCH = 4;

/** Whether the backend computes on a GPU (then the d512 size joins the default sizes). */
function onGpu(r: BackendReport): boolean {
  return (r.adapter !== undefined && !r.adapter.software) || r.provider.includes("tfjs-node-gpu");
}

interface Size {
  name: SizeName;
  preset: string;
  B: number;
  T: number;
}

/** One run's figures, tfjs or the peer's (the peer module defines the shape); a compiled run adds its profile. */
type Result = PeerResult & { compiled?: CompiledProfile };

/** Random rows of T+1 ids; for LST, patch lengths [1, 4, 4, ...] (BOS alone, then static patches). */
function randomBatch(kind: ModelKind, rng: Rng, { B, T }: Size): Batch {
  const rows: BatchRow[] = [];
  for (let b = 0; b < B; b++) {
    const ids = new Int32Array(T + 1);
    ids[0] = BOS;
    for (let i = 1; i <= T; i++) ids[i] = 5 + rng.int(V - 5);
    const lengths = [1];
    for (let left = T; left > 0; left -= PATCH) lengths.push(Math.min(PATCH, left));
    rows.push(kind === "lst" ? { ids, patchLengths: Int32Array.from(lengths) } : { ids });
  }
  return toBatch(rows, { T });
}

/**
 * One training step as lib/train/train.ts takes it: grads, global-norm clip to 1.0, the lab's AdamW (0.9, 0.95,
 * weight decay 0.1 on matrices, as the peer's torch AdamW). Returns the loss, read after the update is queued.
 */
async function trainStep(model: LanguageModel, opt: AdamW, batch: Batch): Promise<number> {
  const { value, grads } = tf.variableGrads(() => tf.mean(model.tokenNll(batch)) as tf.Scalar, model.variables);
  return applyStep(opt, value, grads);
}

/** The update half of `trainStep` (clip + AdamW, on the device where reads are async); returns the loss. */
async function applyStep(opt: AdamW, value: tf.Scalar, grads: tf.NamedTensorMap): Promise<number> {
  if (readsAreAsync()) {
    const normSq = opt.gradNormSquared(grads);
    opt.applyOnDevice(grads, 4e-4, normSq);
    normSq.dispose();
  } else {
    opt.apply(grads, 4e-4, await opt.gradNorm(grads));
  }
  tf.dispose(grads);
  const v = (await value.data())[0];
  value.dispose();
  checkDeviceErrors("reading a bench step's loss");
  return v;
}

/**
 * Both tfjs models under every step runner of `--compile` (eager, graph, xla), their steps interleaved (baseline
 * eager, baseline graph, LST eager, LST graph, baseline eager, ...) so that all see the same machine load: on a
 * shared machine a load spike then slows all instead of skewing their ratio. The runners of one model kind start
 * from the same weights and take the same batches.
 */
async function benchTfjs(args: Args, size: Size): Promise<Result[]> {
  const { B, T } = size;
  const kinds = ["baseline", "lst"] as const;
  const setups = kinds.flatMap((kind) => {
    const cfg = modelSizeConfig(size.preset, kind, V, { ropeTheta: 1e4, maxSeqLen: Math.max(T + 1, 1024) });
    const rng = new Rng(kind === "lst" ? 2 : 1);
    const batches = Array.from({ length: args.warmup + args.steps }, () => randomBatch(kind, rng, size));
    return args.compile.map((compile) => {
      const model = createModel(cfg);
      const opt = new AdamW(model.variables);
      return {
        kind,
        compile,
        cfg,
        model,
        opt,
        runner: makeRunner(model, opt, compile),
        batches,
        times: [] as number[],
        losses: [] as number[],
        reports: [] as StepReport[],
      };
    });
  });
  for (let i = 0; i < args.warmup + args.steps; i++) {
    for (const s of setups) {
      const t0 = performance.now();
      if (s.runner) {
        const r = await compiledStep(s.runner, s.batches[i], B * T);
        s.losses.push(r.loss);
        if (i >= args.warmup) s.reports.push({ ...r.report });
      } else s.losses.push(await trainStep(s.model, s.opt, s.batches[i]));
      if (i >= args.warmup) s.times.push(performance.now() - t0);
    }
  }
  return setups.map((s) => {
    const P = s.batches[0].P ?? T;
    const flops = flopsPerStep(s.cfg, { globalUnits: B * P, rawTokens: B * T, seqLen: P, localSeqLen: T }).total;
    const ms = median(s.times);
    const params = s.model.paramCount().total;
    const compiled = s.runner ? compiledProfile(s.runner, s.reports) : undefined;
    if (compiled && args.profile) compiled.phases = s.runner?.phaseTimes(s.batches[s.batches.length - 1], 4e-4, B * T);
    s.runner?.dispose();
    s.opt.dispose();
    s.model.dispose();
    return {
      name: `${tfjsName(s.compile)} ${s.kind} ${size.name}`,
      msStep: ms,
      tokensPerS: (B * T) / (ms / 1000),
      flopsPerStep: flops,
      gflopsPerS: flops / ms / 1e6,
      params,
      lossFirst: s.losses[0],
      lossLast: s.losses[s.losses.length - 1],
      ...(compiled ? { compiled } : {}),
    };
  });
}

interface StepProfile {
  /** wall-clock of the profiled step's twin run without the profiler (ms) */
  stepMs: number;
  /** this model's median step time in the bench rounds (ms) */
  benchMsStep?: number;
  /** absent where the backend gives no per-kernel times (then `unavailable` says why, and `stepTime` has tf.time's) */
  summary?: ProfileSummary;
  unavailable?: string;
  /** tf.time of forward + backward: the backend's kernel ms (or its error) and the wall ms */
  stepTime?: { kernelMs: number | string; wallMs: number };
}

/** Both tfjs models: `warmup` steps (at least 1), one timed step, then one profiled step each. */
async function profileModels(
  args: Args,
  size: Size,
  best: Record<string, Result>,
): Promise<Record<string, StepProfile>> {
  const out: Record<string, StepProfile> = {};
  for (const kind of ["baseline", "lst"] as const) {
    const cfg = modelSizeConfig(size.preset, kind, V, { ropeTheta: 1e4, maxSeqLen: Math.max(size.T + 1, 1024) });
    const rng = new Rng(kind === "lst" ? 4 : 3);
    const model = createModel(cfg);
    const opt = new AdamW(model.variables);
    const batch = randomBatch(kind, rng, size);
    for (let i = 0; i < Math.max(1, args.warmup); i++) await trainStep(model, opt, batch);
    const t0 = performance.now();
    await trainStep(model, opt, batch);
    const stepMs = performance.now() - t0;
    const loss = () => tf.mean(model.tokenNll(batch)) as tf.Scalar;
    const records = await profileStep(
      loss,
      model.variables,
      async ({ value, grads }) => {
        await applyStep(opt, value, grads);
      },
      modelScopes(kind, model),
    ).catch((e: Error) => e);
    const benchMsStep = best[`tfjs ${kind} ${size.name}`]?.msStep;
    if (records instanceof Error) {
      // no kernel times on this backend (e.g. webgpu without timestamp queries): tf.time of the whole pass
      const t = await tf.time(() => {
        const { value, grads } = tf.variableGrads(loss, model.variables);
        tf.dispose(grads);
        value.dispose();
      });
      const kernelMs = typeof t.kernelMs === "number" ? t.kernelMs : t.kernelMs.error;
      out[kind] = { stepMs, benchMsStep, unavailable: records.message, stepTime: { kernelMs, wallMs: t.wallMs } };
    } else out[kind] = { stepMs, benchMsStep, summary: aggregateKernels(records) };
    opt.dispose();
    model.dispose();
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cpu = readCpuInfo();
  const report = await initBackend(args.backend ? { backend: args.backend } : {});
  // compiled steps run TF sessions: the tensorflow backend's only (wasm, cpu, webgpu bench eagerly)
  if (report.backend !== "tensorflow" && args.compile.some((c) => c !== "off")) {
    console.log(`compile: eager only on the ${report.backend} backend (compiled steps need tfjs-node)`);
    args.compile = ["off"];
  }
  const sizes: Size[] = (args.sizes ?? (onGpu(report) ? ["reference", "d512"] : ["reference"])).map((name) => ({
    name,
    preset: SIZES[name].preset,
    B: args.batch,
    T: SIZES[name].T,
  }));
  console.log(
    `train-bench: ${describeBackend(report)}; sizes ${sizes.map((z) => `${z.name} (B ${z.B} x T ${z.T})`).join(", ")}, V ${V}, LST static p=${PATCH}`,
  );
  const peer = findPeerScript();
  const script = peer.path;
  const py = args.peer && peer.found ? peerPython() : null;
  const device = py ? peerDevice(py, args.peerDevice) : "cpu";
  const peerNote = !args.peer
    ? "skipped (--no-peer)"
    : !peer.found
      ? `not found at ${script} (set PEER_BENCH)`
      : py === null
        ? "torch not importable (see ../shared/peers/README.md: .venv-peers)"
        : `${py} ${script} --device ${device}`;
  console.log(`peer: ${peerNote}${py ? `; modes ${args.peerModes.join(", ")}` : ""}`);
  console.log(`cpu: ${describeCpu(cpu)}`);

  const runs: Record<string, Result[]> = {};
  const add = (r: Result | string, key: string) => {
    if (typeof r === "string") console.log(`${key}: ${r}`);
    else (runs[key] ??= []).push(r);
  };
  for (let round = 0; round < args.rounds; round++) {
    for (const size of sizes) {
      for (const r of await benchTfjs(args, size)) add(r, r.name);
      if (py)
        for (const mode of args.peerModes)
          for (const kind of ["baseline", "lst"] as const)
            add(
              benchPeer(py, script, kind, args, size, device, mode, { V, patch: PATCH }),
              `${peerName(mode)} ${kind} ${size.name}`,
            );
    }
  }
  // per configuration, the round with the median step time
  const best: Record<string, Result> = {};
  for (const [key, rs] of Object.entries(runs)) best[key] = medianRound(rs);

  console.log(
    `\n| run (${report.backend}${report.adapter ? `, ${report.adapter.description}` : ""}; peer ${device}) | ms/step | tokens/s | GFLOP/step | GFLOP/s | params | loss first -> last |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|---|");
  for (const r of Object.values(best)) {
    const loss = r.lossFirst !== undefined ? `${r.lossFirst.toFixed(3)} -> ${(r.lossLast ?? NaN).toFixed(3)}` : "";
    console.log(
      `| ${r.name} | ${r.msStep.toFixed(1)} | ${r.tokensPerS.toFixed(0)} | ${(r.flopsPerStep / 1e9).toFixed(2)} | ${r.gflopsPerS.toFixed(1)} | ${r.params ?? ""} | ${loss} |`,
    );
  }
  // ratios are paired within a round (same load), then the median over rounds (bench/train-bench/ratios.ts)
  const ratios: Record<string, SizeRatios> = {};
  for (const { name } of sizes) {
    ratios[name] = sizeRatios(runs, name, args.peerModes);
    // the targets are the CPU reference size's (issue 19)
    const cpuRef = name === "reference" && report.backend === "tensorflow" && !onGpu(report);
    console.log(`\n${name}:`);
    for (const l of ratioLines(runs, name, ratios[name], args.peerModes, cpuRef)) console.log(l);
    for (const c of args.compile.filter((m) => m !== "off")) {
      const { lines, ratios: cr } = compiledRatioLines(runs, name, tfjsName(c), ratios[name]);
      (ratios[name].compiled ??= {})[tfjsName(c)] = cr;
      for (const l of lines) console.log(l);
    }
  }

  const profiles: Record<string, Record<string, StepProfile>> = {};
  if (args.profile) {
    console.log("\ncompiled steps (the median round's timed steps):");
    for (const r of Object.values(best))
      if (r.compiled) for (const l of profileLines(r.name, r.compiled, r.msStep)) console.log(l);
    for (const size of sizes) {
      profiles[size.name] = await profileModels(args, size, best);
      for (const [kind, p] of Object.entries(profiles[size.name])) {
        if (!p.summary) {
          console.log(
            `\nprofile, one ${kind} step (${size.name}): ${p.unavailable}; tf.time: ${JSON.stringify(p.stepTime)}`,
          );
          continue;
        }
        console.log(
          `\nprofile, one ${kind} step (${size.name}): ${p.summary.kernels} kernels (${p.summary.dispatches} dispatches), ` +
            `${p.summary.totalMs.toFixed(1)} ms in kernels; the unprofiled step took ${p.stepMs.toFixed(1)} ms ` +
            `(bench median ${p.benchMsStep?.toFixed(1) ?? "n/a"} ms)`,
        );
        console.log(profileTable("kernel", p.summary.byKernel));
        console.log();
        console.log(profileTable("module (forward + its gradient)", p.summary.byScope));
        console.log();
        console.log(profileTable("phase", p.summary.byPhase));
      }
    }
  }

  const outDir = path.join("data", "bench");
  fs.mkdirSync(outDir, { recursive: true });
  const out = {
    bench: "train-bench",
    date: new Date().toISOString(),
    backend: report,
    args,
    sizes,
    V,
    patch: PATCH,
    peer: peerNote,
    peerDevice: device,
    runs,
    best,
    cpu,
    ratios,
    ...(args.profile ? { profile: profiles } : {}),
  };
  fs.writeFileSync(path.join(outDir, "train-bench.json"), JSON.stringify(out, null, 2));
  console.log(`\nwrote ${path.join(outDir, "train-bench.json")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
