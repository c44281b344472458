/**
 * The flags of bench/train-bench.ts and the sizes it runs (`--sizes=`): a model preset (lib/model/sizes.ts) and
 * the row length each. Bad values fail here with the flag and what it takes.
 */
import { cli as cliArgs } from "../../lib/internal";
import { BENCH_COMPILE, type BenchCompile } from "./compiled";
import { PEER_MODES, type PeerMode } from "./torch-peer";

/** The bench sizes: a model preset (lib/model/sizes.ts) and the row length. */
export const SIZES = {
  smoke: { preset: "smoke", T: 32 }, // a quick check (the portable bundle's test), not the bench
  reference: { preset: "reference", T: 256 },
  d512: { preset: "gpuSmall", T: 1024 },
  small: { preset: "cpuSmall", T: 192 }, // the lab's small-scale model and row length (compile's auto threshold)
} as const;
export type SizeName = keyof typeof SIZES;

export interface Args {
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
  /** the peer's configurations: eager, torch.compile, or both */
  peerModes: PeerMode[];
  /** profile one step of each tfjs model per size */
  profile: boolean;
  /** the tfjs step runners, interleaved: off (eager), graph, xla (lib/train/compiled-step/) */
  compile: BenchCompile[];
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
      value: "smoke,reference,d512,small",
      help: "model sizes to run (default: reference, plus d512 on a GPU backend)",
    },
    "peer-device": {
      type: "string",
      value: "cpu|cuda",
      help: "the PyTorch peer's device (default: cuda where torch sees a GPU, else cpu)",
    },
    "peer-modes": {
      type: "string",
      default: "eager,compile",
      value: "eager,compile",
      help: "the PyTorch peer's configurations: eager, torch.compile (--compile), or both",
    },
    compile: {
      type: "string",
      default: "off,graph",
      value: "off,graph,xla",
      help: "tfjs step runners run side by side (interleaved): off = eager kernels, graph = compiled step, xla = graph with XLA",
    },
    profile: {
      type: "boolean",
      help: "also profile one baseline and one LST step per size: time by kernel, by module and by phase",
    },
  },
} as const;

export function parseArgs(argv: readonly string[]): Args {
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
  const modes = v["peer-modes"].split(",").filter((m) => m !== "");
  const badModes = modes.filter((m) => !(PEER_MODES as readonly string[]).includes(m));
  if (badModes.length || modes.length === 0)
    throw new Error(
      `train-bench: --peer-modes must list eager and/or compile (e.g. --peer-modes=eager,compile), ` +
        `got '${v["peer-modes"]}'`,
    );
  const compile = v.compile.split(",").filter((m) => m !== "");
  const badCompile = compile.filter((m) => !(BENCH_COMPILE as readonly string[]).includes(m));
  if (badCompile.length || compile.length === 0)
    throw new Error(
      `train-bench: --compile must list off, graph and/or xla (e.g. --compile=off,graph), got '${v.compile}'`,
    );
  return {
    steps: v.steps,
    warmup: v.warmup,
    rounds: v.rounds,
    batch: v.batch,
    sizes,
    peerDevice: pd === "" ? undefined : pd,
    peer: !v["no-peer"],
    backend: v.backend || undefined,
    peerModes: [...new Set(modes)] as PeerMode[],
    profile: v.profile,
    compile: [...new Set(compile)] as BenchCompile[],
  };
}
