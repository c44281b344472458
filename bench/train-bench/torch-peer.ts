/**
 * The PyTorch peer of bench/train-bench.ts: ../shared/peers/torch_lm_bench.py (see ../shared/peers/README.md),
 * run as a child process in `.venv-peers` (or a python3 with torch), eager or through torch.compile
 * (`--compile`), on the CPU or on cuda. Each run prints one JSON line, read into the bench's result shape.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { modelSizeConfig, type ModelKind } from "../../lib";

/** One peer configuration's figures, in train-bench's result shape. */
export interface PeerResult {
  name: string;
  msStep: number;
  tokensPerS: number;
  flopsPerStep: number;
  gflopsPerS: number;
  params?: number;
  lossFirst?: number;
  lossLast?: number;
}

export const PEER_MODES = ["eager", "compile"] as const;
export type PeerMode = (typeof PEER_MODES)[number];
/** The peer's name in results and ratios: "torch" (eager) or "torch.compile". */
export const peerName = (m: PeerMode) => (m === "eager" ? "torch" : "torch.compile");

/** The peer's interpreter: the project's .venv-peers if torch imports there, else python3 if it has torch. */
export function peerPython(): string | null {
  for (const py of [path.join(".venv-peers", "bin", "python"), "python3"]) {
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return null;
}

/** cuda where the peer's torch sees a GPU (asked once), else cpu. */
export function peerDevice(py: string, forced?: "cpu" | "cuda"): "cpu" | "cuda" {
  if (forced) return forced;
  const r = spawnSync(py, ["-c", "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)"], {
    encoding: "utf8",
  });
  return r.status === 0 ? "cuda" : "cpu";
}

/**
 * One peer run: `steps` timed steps after `warmup` (the script's median), the same model as the lab's at this size
 * preset (LST: static patches of `patch`, the preset's local modules). A string says why it failed.
 */
export function benchPeer(
  py: string,
  script: string,
  kind: ModelKind,
  args: { steps: number; warmup: number },
  size: { name: string; preset: string; B: number; T: number },
  device: "cpu" | "cuda",
  mode: PeerMode,
  { V, patch }: { V: number; patch: number },
): PeerResult | string {
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
  if (mode === "compile") cli.push("--compile");
  if (kind === "lst") {
    // the peer's LST gets the same local modules as ours (the size's preset)
    const l = modelSizeConfig(size.preset, "lst", V).lst;
    cli.push(
      "--model",
      "lst",
      "--patch",
      String(patch),
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
    name: `${peerName(mode)} ${kind} ${size.name}`,
    msStep: j.ms_step_median,
    tokensPerS: j.tokens_per_s,
    flopsPerStep: j.flops_per_step,
    gflopsPerS: j.gflops_per_s,
    params: j.params,
    lossFirst: j.loss_first,
    lossLast: j.loss_last,
  };
}
