/**
 * Training throughput of the baseline and LST at the reference size (d 256 x 4 layers x 4 heads, 256 tokens,
 * batch 16, vocabulary 1000) on the active tfjs backend, next to the PyTorch peer
 * (/work/shared/peers/torch_lm_bench.py) run in the same script, one process at a time.
 *
 * The two tfjs models alternate step by step in one process, and the peer runs right after them, for
 * `rounds` rounds; each figure is the median over the rounds and each ratio the median of per-round ratios (these 2-core machines are shared and noisy:
 * compare ratios, not absolute times).
 * A timed step = forward + loss + backward + global-norm clip (1.0) + AdamW (0.9, 0.95, wd 0.1) update, on a fresh
 * random batch built before timing; ms/step is the median over the timed steps. LST uses static patches of 4
 * (BOS alone, then 64 patches of 4) and the same global size; its GFLOP/s count the patches it really runs
 * (65 per row, BOS included). FLOPs come from lib/model/flops.ts, the peer's formula.
 *
 * Targets: LST raw tokens/s >= 2x the baseline's; the baseline >= 0.8x the peer's tokens/s.
 * Run: npx tsx bench/train-bench.ts [--steps=10] [--warmup=3] [--rounds=2] [--no-peer] [--backend=tensorflow]
 *        [--size=reference] [--batch=16] [--seq=256]   (another lib/model/sizes.ts preset or shape: a quick check, not the bench)
 * Results: a table on stdout and data/bench/train-bench.json.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
// gradients are registered by tfjs-node's union package only; on wasm, cpu and webgpu this import brings them
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { describeBackend, initBackend } from "../lib/backend";
import { toBatch, type BatchRow } from "../lib/model/batch";
import { createModel } from "../lib/model/create";
import { flopsPerStep } from "../lib/model/flops";
import { modelSizeConfig } from "../lib/model/sizes";
import { Rng } from "../lib/rng";
import { AdamW } from "../lib/train/adamw";
import { BOS } from "../lib/tokenizers/special";
import type { Batch, LanguageModel, ModelKind } from "../lib/model/types";

const V = 1000;
const PATCH = 4;

interface Args {
  steps: number;
  warmup: number;
  rounds: number;
  peer: boolean;
  backend?: string;
  /** model size preset (lib/model/sizes.ts), batch rows and tokens per row */
  size: string;
  batch: number;
  seq: number;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { steps: 10, warmup: 3, rounds: 2, peer: true, size: "reference", batch: 16, seq: 256 };
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`train-bench: cannot parse '${a}'; use --steps=N --warmup=N --rounds=N --no-peer --backend=NAME --size=PRESET --batch=N --seq=N`);
    const [, key, value] = m;
    if (key === "no-peer") out.peer = false;
    else if (key === "backend" && value) out.backend = value;
    else if (key === "size" && value) out.size = value;
    else if ((key === "steps" || key === "warmup" || key === "rounds" || key === "batch" || key === "seq") && value && Number.isInteger(Number(value))) out[key] = Number(value);
    else throw new Error(`train-bench: unknown or malformed option '${a}'`);
  }
  return out;
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
function randomBatch(kind: ModelKind, rng: Rng, B: number, T: number): Batch {
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
 * weight decay 0.1 on matrices, as the peer's torch AdamW). Returns the loss.
 */
function trainStep(model: LanguageModel, opt: AdamW, batch: Batch): number {
  const { value, grads } = tf.variableGrads(() => tf.mean(model.tokenNll(batch)) as tf.Scalar, model.variables);
  opt.apply(grads, 4e-4, opt.gradNorm(grads));
  tf.dispose(grads);
  const v = value.dataSync()[0];
  value.dispose();
  return v;
}

/**
 * Both tfjs models, their steps interleaved (baseline, LST, baseline, ...) so that both see the same machine
 * load: on a shared machine a load spike then slows both instead of skewing their ratio.
 */
function benchTfjs(args: Args): Result[] {
  const kinds = ["baseline", "lst"] as const;
  const setups = kinds.map((kind) => {
    const cfg = modelSizeConfig(args.size, kind, V, { ropeTheta: 1e4 });
    const rng = new Rng(kind === "lst" ? 2 : 1);
    const model = createModel(cfg);
    return {
      kind,
      cfg,
      model,
      opt: new AdamW(model.variables),
      batches: Array.from({ length: args.warmup + args.steps }, () => randomBatch(kind, rng, args.batch, args.seq)),
      times: [] as number[],
      losses: [] as number[],
    };
  });
  for (let i = 0; i < args.warmup + args.steps; i++) {
    for (const s of setups) {
      const t0 = performance.now();
      s.losses.push(trainStep(s.model, s.opt, s.batches[i]));
      if (i >= args.warmup) s.times.push(performance.now() - t0);
    }
  }
  const B = args.batch;
  const T = args.seq;
  return setups.map((s) => {
    const P = s.batches[0].P ?? T;
    const flops = flopsPerStep(s.cfg, { globalUnits: B * P, rawTokens: B * T, seqLen: P, localSeqLen: T }).total;
    const ms = median(s.times);
    const params = s.model.paramCount().total;
    s.opt.dispose();
    s.model.dispose();
    return { name: `tfjs ${s.kind}`, msStep: ms, tokensPerS: (B * T) / (ms / 1000), flopsPerStep: flops, gflopsPerS: flops / ms / 1e6, params, lossFirst: s.losses[0], lossLast: s.losses[s.losses.length - 1] };
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

function benchPeer(py: string, script: string, kind: ModelKind, args: Args): Result | string {
  const g = modelSizeConfig(args.size, "baseline", V);
  const cli = ["--d", String(g.dModel), "--layers", String(g.nLayers), "--heads", String(g.nHeads), "--seq", String(args.seq), "--batch", String(args.batch), "--vocab", String(V)];
  cli.push("--steps", String(args.steps), "--warmup", String(args.warmup), "--threads", "2", "--json", "--no-flop-count");
  if (kind === "lst") {
    // the peer's LST gets the same local modules as ours (the same preset)
    const l = modelSizeConfig(args.size, "lst", V).lst;
    cli.push("--model", "lst", "--patch", String(PATCH), "--d-local", String(l.dLocal), "--local-heads", String(l.nHeadsLocal), "--enc-layers", String(l.encoderLayers));
    cli.push("--dec-layers", String(l.decoderLayers), "--local-window", String(l.localWindow), "--cross-k", String(l.crossAttnK));
  }
  const r = spawnSync(py, [script, ...cli], { encoding: "utf8", maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) return `peer failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`;
  const j = JSON.parse(line) as { ms_step_median: number; tokens_per_s: number; flops_per_step: number; gflops_per_s: number; params: number; loss_first: number; loss_last: number };
  return { name: `torch ${kind}`, msStep: j.ms_step_median, tokensPerS: j.tokens_per_s, flopsPerStep: j.flops_per_step, gflopsPerS: j.gflops_per_s, params: j.params, lossFirst: j.loss_first, lossLast: j.loss_last };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = await initBackend(args.backend ? { backend: args.backend } : {});
  console.log(`train-bench: ${describeBackend(report)}; B ${args.batch} x T ${args.seq}, V ${V}, ${args.size} size, LST static p=${PATCH}`);
  const script = process.env.PEER_BENCH ?? path.resolve("..", "shared", "peers", "torch_lm_bench.py");
  const py = args.peer && fs.existsSync(script) ? peerPython() : null;
  const peerNote = !args.peer ? "skipped (--no-peer)" : !fs.existsSync(script) ? `not found at ${script} (set PEER_BENCH)` : py === null ? "torch not importable (see /work/shared/peers/README.md: .venv-peers)" : `${py} ${script}`;
  console.log(`peer: ${peerNote}`);

  const runs: Record<string, Result[]> = {};
  const add = (r: Result | string, key: string) => {
    if (typeof r === "string") console.log(`${key}: ${r}`);
    else (runs[key] ??= []).push(r);
  };
  for (let round = 0; round < args.rounds; round++) {
    for (const r of benchTfjs(args)) add(r, r.name);
    if (py) for (const kind of ["baseline", "lst"] as const) add(benchPeer(py, script, kind, args), `torch ${kind}`);
  }
  // per configuration, the round with the median step time
  const best: Record<string, Result> = {};
  for (const [key, rs] of Object.entries(runs)) best[key] = [...rs].sort((a, b) => a.msStep - b.msStep)[Math.floor(rs.length / 2)];

  console.log("\n| run | ms/step | tokens/s | GFLOP/step | GFLOP/s | params | loss first -> last |");
  console.log("|---|---:|---:|---:|---:|---:|---|");
  for (const r of Object.values(best)) {
    const loss = r.lossFirst !== undefined ? `${r.lossFirst.toFixed(3)} -> ${(r.lossLast ?? NaN).toFixed(3)}` : "";
    console.log(`| ${r.name} | ${r.msStep.toFixed(1)} | ${r.tokensPerS.toFixed(0)} | ${(r.flopsPerStep / 1e9).toFixed(2)} | ${r.gflopsPerS.toFixed(1)} | ${r.params ?? ""} | ${loss} |`);
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
  const ratios = {
    lstOverBaseline: ratio("tfjs lst", "tfjs baseline"),
    baselineOverPeer: ratio("tfjs baseline", "torch baseline"),
    lstOverPeerLst: ratio("tfjs lst", "torch lst"),
    peerLstOverPeerBaseline: ratio("torch lst", "torch baseline"),
  };
  // the spread of the per-round ratios says how far a verdict can be trusted on a noisy machine
  const range = (a: string, b: string) => {
    const per = perRound(a, b);
    return per.length > 1 ? `, rounds ${Math.min(...per).toFixed(2)}-${Math.max(...per).toFixed(2)}` : "";
  };
  const fmt = (x: number | null, target?: number) => (x === null ? "n/a" : `${x.toFixed(2)}x${target ? (x >= target ? ` (target >= ${target}x: met)` : ` (target >= ${target}x: MISSED)`) : ""}`);
  console.log(`\nLST raw tokens/s / baseline: ${fmt(ratios.lstOverBaseline, 2)}${range("tfjs lst", "tfjs baseline")}`);
  console.log(`baseline / PyTorch peer:     ${fmt(ratios.baselineOverPeer, 0.8)}${range("tfjs baseline", "torch baseline")}`);
  console.log(`LST / PyTorch peer LST:      ${fmt(ratios.lstOverPeerLst)}`);
  console.log(`peer LST / peer baseline:    ${fmt(ratios.peerLstOverPeerBaseline)}`);

  const outDir = path.join("data", "bench");
  fs.mkdirSync(outDir, { recursive: true });
  const out = { bench: "train-bench", date: new Date().toISOString(), backend: report, args, B: args.batch, T: args.seq, V, patch: PATCH, peer: peerNote, runs, best, ratios };
  fs.writeFileSync(path.join(outDir, "train-bench.json"), JSON.stringify(out, null, 2));
  console.log(`\nwrote ${path.join(outDir, "train-bench.json")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
