/**
 * Training throughput of the baseline and LST on the active tfjs backend, next to the PyTorch peer
 * (../shared/peers/torch_lm_bench.py, on `cuda` where torch sees a GPU, else the CPU) run in the same
 * script, one process at a time, at one or more sizes (`--sizes=`, batch 16, vocabulary 1000):
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
 * Targets (reference size, CPU): LST raw tokens/s >= 2x the baseline's; the baseline >= 0.8x the peer's tokens/s.
 * Run: npx tsx bench/train-bench.ts [--steps=10] [--warmup=3] [--rounds=2] [--no-peer] [--backend=tensorflow|webgpu]
 *      [--sizes=reference,d512] [--batch=16] [--peer-device=cpu|cuda]
 * Results: a table on stdout and data/bench/train-bench.json.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
// gradients are registered by tfjs-node's union package only; on wasm, cpu and webgpu this import brings them
import "@tensorflow/tfjs-core/dist/register_all_gradients";
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
import { readsAreAsync, cli as cliArgs, type BatchRow } from "../lib/internal";

const V = 1000;
const PATCH = 4;

/** The bench sizes: a model preset (lib/model/sizes.ts) and the row length. */
const SIZES = {
  smoke: { preset: "smoke", T: 32 }, // a quick check (the portable bundle's test), not the bench
  reference: { preset: "reference", T: 256 },
  d512: { preset: "gpuSmall", T: 1024 },
} as const;
type SizeName = keyof typeof SIZES;

interface Args {
  steps: number;
  warmup: number;
  rounds: number;
  peer: boolean;
  backend?: string;
  /** undefined: reference, plus d512 on a GPU backend */
  sizes?: SizeName[];
  batch: number;
  /** undefined: cuda where torch sees a GPU, else cpu */
  peerDevice?: "cpu" | "cuda";
}

const BENCH_CLI = {
  command: "npx tsx bench/train-bench.ts",
  summary: "Training throughput of the baseline and LST at the reference size, next to the PyTorch peer.",
  flags: {
    steps: { type: "number", default: 10, help: "timed steps per round" },
    warmup: { type: "number", default: 3, help: "warm-up steps per round" },
    rounds: { type: "number", default: 2, help: "rounds (medians and ratios are over rounds)" },
    "no-peer": { type: "boolean", help: "skip the PyTorch peer" },
    backend: { type: "string", value: "tensorflow|webgpu|wasm|cpu", help: "force a TensorFlow.js backend" },
    batch: { type: "number", default: 16, help: "rows per step" },
    sizes: {
      type: "string",
      value: "reference,d512",
      help: "model sizes to run (default: reference, plus d512 on a GPU backend)",
    },
    "peer-device": {
      type: "string",
      value: "cpu|cuda",
      help: "the PyTorch peer's device (default: cuda where torch sees a GPU, else cpu)",
    },
  },
} as const;

function parseArgs(argv: readonly string[]): Args {
  const { values: v } = cliArgs(BENCH_CLI, argv);
  for (const k of ["steps", "warmup", "rounds", "batch"] as const) {
    if (!Number.isInteger(v[k]) || v[k] < 0)
      throw new Error(`train-bench: --${k} must be a non-negative integer, got ${v[k]}`);
  }
  let sizes: SizeName[] | undefined;
  if (v.sizes) {
    const names = v.sizes.split(",");
    const bad = names.filter((n) => !(n in SIZES));
    if (bad.length)
      throw new Error(`train-bench: unknown size '${bad.join(",")}'; use ${Object.keys(SIZES).join(", ")}`);
    sizes = names as SizeName[];
  }
  const pd = v["peer-device"];
  if (pd !== "" && pd !== "cpu" && pd !== "cuda")
    throw new Error(`train-bench: --peer-device must be cpu or cuda, got '${pd}'`);
  return {
    steps: v.steps,
    warmup: v.warmup,
    rounds: v.rounds,
    batch: v.batch,
    sizes,
    peerDevice: pd === "" ? undefined : pd,
    peer: !v["no-peer"],
    backend: v.backend || undefined,
  };
}

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

interface Result {
  name: string;
  msStep: number;
  tokensPerS: number;
  flopsPerStep: number;
  gflopsPerS: number;
  params?: number;
  lossFirst?: number;
  lossLast?: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
  return v;
}

/**
 * Both tfjs models, their steps interleaved (baseline, LST, baseline, ...) so that both see the same machine
 * load: on a shared machine a load spike then slows both instead of skewing their ratio.
 */
async function benchTfjs(args: Args, size: Size): Promise<Result[]> {
  const { B, T } = size;
  const kinds = ["baseline", "lst"] as const;
  const setups = kinds.map((kind) => {
    const cfg = modelSizeConfig(size.preset, kind, V, { ropeTheta: 1e4, maxSeqLen: Math.max(T + 1, 1024) });
    const rng = new Rng(kind === "lst" ? 2 : 1);
    const model = createModel(cfg);
    return {
      kind,
      cfg,
      model,
      opt: new AdamW(model.variables),
      batches: Array.from({ length: args.warmup + args.steps }, () => randomBatch(kind, rng, size)),
      times: [] as number[],
      losses: [] as number[],
    };
  });
  for (let i = 0; i < args.warmup + args.steps; i++) {
    for (const s of setups) {
      const t0 = performance.now();
      s.losses.push(await trainStep(s.model, s.opt, s.batches[i]));
      if (i >= args.warmup) s.times.push(performance.now() - t0);
    }
  }
  return setups.map((s) => {
    const P = s.batches[0].P ?? T;
    const flops = flopsPerStep(s.cfg, { globalUnits: B * P, rawTokens: B * T, seqLen: P, localSeqLen: T }).total;
    const ms = median(s.times);
    const params = s.model.paramCount().total;
    s.opt.dispose();
    s.model.dispose();
    return {
      name: `tfjs ${s.kind} ${size.name}`,
      msStep: ms,
      tokensPerS: (B * T) / (ms / 1000),
      flopsPerStep: flops,
      gflopsPerS: flops / ms / 1e6,
      params,
      lossFirst: s.losses[0],
      lossLast: s.losses[s.losses.length - 1],
    };
  });
}

/** The peer's interpreter: the project's .venv-peers if torch imports there, else python3 if it has torch. */
function peerPython(): string | null {
  for (const py of [path.join(".venv-peers", "bin", "python"), "python3"]) {
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return null;
}

/** cuda where the peer's torch sees a GPU (asked once), else cpu. */
function peerDevice(py: string, args: Args): "cpu" | "cuda" {
  if (args.peerDevice) return args.peerDevice;
  const r = spawnSync(py, ["-c", "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)"], {
    encoding: "utf8",
  });
  return r.status === 0 ? "cuda" : "cpu";
}

function benchPeer(
  py: string,
  script: string,
  kind: ModelKind,
  args: Args,
  size: Size,
  device: "cpu" | "cuda",
): Result | string {
  const g = modelSizeConfig(size.preset, "baseline", V);
  const cli = [
    "--d",
    String(g.dModel),
    "--layers",
    String(g.nLayers),
    "--heads",
    String(g.nHeads),
    "--seq",
    String(size.T),
    "--batch",
    String(size.B),
    "--vocab",
    String(V),
  ];
  cli.push(
    "--steps",
    String(args.steps),
    "--warmup",
    String(args.warmup),
    "--threads",
    "2",
    "--json",
    "--no-flop-count",
    "--device",
    device,
  );
  if (kind === "lst") {
    // the peer's LST gets the same local modules as ours (the size's preset)
    const l = modelSizeConfig(size.preset, "lst", V).lst;
    cli.push(
      "--model",
      "lst",
      "--patch",
      String(PATCH),
      "--d-local",
      String(l.dLocal),
      "--local-heads",
      String(l.nHeadsLocal),
      "--enc-layers",
      String(l.encoderLayers),
    );
    cli.push(
      "--dec-layers",
      String(l.decoderLayers),
      "--local-window",
      String(l.localWindow),
      "--cross-k",
      String(l.crossAttnK),
    );
  }
  const r = spawnSync(py, [script, ...cli], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{"))
    return `peer failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
  const j = JSON.parse(line) as {
    ms_step_median: number;
    tokens_per_s: number;
    flops_per_step: number;
    gflops_per_s: number;
    params: number;
    loss_first: number;
    loss_last: number;
  };
  return {
    name: `torch ${kind} ${size.name}`,
    msStep: j.ms_step_median,
    tokensPerS: j.tokens_per_s,
    flopsPerStep: j.flops_per_step,
    gflopsPerS: j.gflops_per_s,
    params: j.params,
    lossFirst: j.loss_first,
    lossLast: j.loss_last,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = await initBackend(args.backend ? { backend: args.backend } : {});
  const sizes: Size[] = (args.sizes ?? (onGpu(report) ? ["reference", "d512"] : ["reference"])).map((name) => ({
    name,
    preset: SIZES[name].preset,
    B: args.batch,
    T: SIZES[name].T,
  }));
  console.log(
    `train-bench: ${describeBackend(report)}; sizes ${sizes.map((z) => `${z.name} (B ${z.B} x T ${z.T})`).join(", ")}, V ${V}, LST static p=${PATCH}`,
  );
  const script = process.env.PEER_BENCH ?? path.resolve("..", "shared", "peers", "torch_lm_bench.py");
  const py = args.peer && fs.existsSync(script) ? peerPython() : null;
  const device = py ? peerDevice(py, args) : "cpu";
  const peerNote = !args.peer
    ? "skipped (--no-peer)"
    : !fs.existsSync(script)
      ? `not found at ${script} (set PEER_BENCH)`
      : py === null
        ? "torch not importable (see ../shared/peers/README.md: .venv-peers)"
        : `${py} ${script} --device ${device}`;
  console.log(`peer: ${peerNote}`);

  const runs: Record<string, Result[]> = {};
  const add = (r: Result | string, key: string) => {
    if (typeof r === "string") console.log(`${key}: ${r}`);
    else (runs[key] ??= []).push(r);
  };
  for (let round = 0; round < args.rounds; round++) {
    for (const size of sizes) {
      for (const r of await benchTfjs(args, size)) add(r, r.name);
      if (py)
        for (const kind of ["baseline", "lst"] as const)
          add(benchPeer(py, script, kind, args, size, device), `torch ${kind} ${size.name}`);
    }
  }
  // per configuration, the round with the median step time
  const best: Record<string, Result> = {};
  for (const [key, rs] of Object.entries(runs))
    best[key] = [...rs].sort((a, b) => a.msStep - b.msStep)[Math.floor(rs.length / 2)];

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
  // ratios are paired within a round (same load), then the median over rounds
  const perRound = (a: string, b: string) => {
    const ra = runs[a] ?? [];
    const rb = runs[b] ?? [];
    return ra.slice(0, Math.min(ra.length, rb.length)).map((r, i) => r.tokensPerS / rb[i].tokensPerS);
  };
  const ratio = (a: string, b: string) => {
    const per = perRound(a, b);
    return per.length ? median(per) : null;
  };
  // the spread of the per-round ratios says how far a verdict can be trusted on a noisy machine
  const range = (a: string, b: string) => {
    const per = perRound(a, b);
    return per.length > 1 ? `, rounds ${Math.min(...per).toFixed(2)}-${Math.max(...per).toFixed(2)}` : "";
  };
  const fmt = (x: number | null, target?: number) =>
    x === null
      ? "n/a"
      : `${x.toFixed(2)}x${target ? (x >= target ? ` (target >= ${target}x: met)` : ` (target >= ${target}x: MISSED)`) : ""}`;
  const ratios: Record<string, Record<string, number | null>> = {};
  for (const { name } of sizes) {
    const k = (who: string, kind: string) => `${who} ${kind} ${name}`;
    ratios[name] = {
      lstOverBaseline: ratio(k("tfjs", "lst"), k("tfjs", "baseline")),
      baselineOverPeer: ratio(k("tfjs", "baseline"), k("torch", "baseline")),
      lstOverPeerLst: ratio(k("tfjs", "lst"), k("torch", "lst")),
      peerLstOverPeerBaseline: ratio(k("torch", "lst"), k("torch", "baseline")),
    };
    // the targets are the CPU reference size's
    const cpuRef = name === "reference" && report.backend === "tensorflow" && !onGpu(report);
    console.log(`\n${name}:`);
    console.log(
      `LST raw tokens/s / baseline: ${fmt(ratios[name].lstOverBaseline, cpuRef ? 2 : undefined)}${range(k("tfjs", "lst"), k("tfjs", "baseline"))}`,
    );
    console.log(
      `baseline / PyTorch peer:     ${fmt(ratios[name].baselineOverPeer, cpuRef ? 0.8 : undefined)}${range(k("tfjs", "baseline"), k("torch", "baseline"))}`,
    );
    console.log(`LST / PyTorch peer LST:      ${fmt(ratios[name].lstOverPeerLst)}`);
    console.log(`peer LST / peer baseline:    ${fmt(ratios[name].peerLstOverPeerBaseline)}`);
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
    ratios,
  };
  fs.writeFileSync(path.join(outDir, "train-bench.json"), JSON.stringify(out, null, 2));
  console.log(`\nwrote ${path.join(outDir, "train-bench.json")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
