/**
 * TensorFlow.js backend choice.
 *
 * Order: `tensorflow` on a CUDA GPU (tfjs-node-gpu, when a CUDA GPU and that package are present) >
 * `webgpu` on a hardware GPU adapter (Dawn over Vulkan, lib/backend-webgpu.ts) > `tensorflow` on the CPU
 * (tfjs-node) > `wasm` > `cpu` (pure JS). A software WebGPU adapter (lavapipe, SwiftShader) is never chosen
 * automatically. `LST_BACKEND=tensorflow|webgpu|wasm|cpu` (or `initBackend({ backend })`) forces one and
 * throws, naming the fix, when it is unavailable (`webgpu` then takes a software adapter too).
 * `backendReport()` says which backend runs, its version and threads (webgpu: its adapter and limits), and
 * why better ones were not chosen.
 *
 * All lib code imports `@tensorflow/tfjs-core` (one copy in node_modules); the backend packages register
 * themselves into that same engine when required here.
 */
// Quiet libtensorflow's INFO logs (oneDNN banners) unless the user asked for them.
process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
import * as tf from "@tensorflow/tfjs-core";
import fs from "fs";
import os from "os";
import { describeAdapterLine, hasGpuDevice, initWebgpu, takeWebgpuError, type WebgpuAdapter } from "./backend-webgpu";

export const BACKENDS = ["tensorflow", "webgpu", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendReport {
  backend: BackendName;
  /** the npm package that provides it */
  provider: string;
  /** tfjs-core version, and libtensorflow's where native */
  version: string;
  threads: number;
  forced: boolean;
  /** why each better backend was not chosen (empty when the best one runs) */
  rejected: { backend: string; why: string }[];
  /** webgpu only: the adapter (vendor, architecture, description, software or hardware) and its limits */
  adapter?: WebgpuAdapter;
}

let current: BackendReport | null = null;

function hasCudaGpu(): boolean {
  return fs.existsSync("/proc/driver/nvidia/version") || fs.existsSync("/dev/nvidia0");
}

function errText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 300);
}

type Attempt =
  | { ok: true; provider: string; version: string; threads: number; adapter?: WebgpuAdapter }
  | { ok: false; why: string };

/** tfjs-node-gpu on a CUDA GPU; on failure the reason goes to `rejected` as "tensorflow (gpu)". */
async function tryTensorflowGpu(rejected: { backend: string; why: string }[]): Promise<Attempt> {
  if (!hasCudaGpu()) {
    rejected.push({ backend: "tensorflow (gpu)", why: "no CUDA GPU on this machine" });
    return { ok: false, why: "no CUDA GPU on this machine" };
  }
  try {
    requireNative("@tensorflow/tfjs-node-gpu");
    if (await tf.setBackend("tensorflow"))
      return { ok: true, provider: "@tensorflow/tfjs-node-gpu", version: nativeVersion(), threads: os.cpus().length };
    rejected.push({
      backend: "tensorflow (gpu)",
      why: "tfjs-node-gpu loaded but the 'tensorflow' backend failed to initialise",
    });
  } catch (e) {
    rejected.push({
      backend: "tensorflow (gpu)",
      why: `@tensorflow/tfjs-node-gpu did not load: ${errText(e)}; run 'npm run setup:gpu'`,
    });
  }
  return { ok: false, why: "tfjs-node-gpu unavailable" };
}

/** tfjs-node (the native CPU build), after tfjs-node-gpu where a CUDA GPU is present. */
async function tryTensorflow(rejected: { backend: string; why: string }[]): Promise<Attempt> {
  const gpu = await tryTensorflowGpu(rejected);
  if (gpu.ok) return gpu;
  return tryTensorflowCpu();
}

async function tryTensorflowCpu(): Promise<Attempt> {
  try {
    requireNative("@tensorflow/tfjs-node");
  } catch (e) {
    return {
      ok: false,
      why: `@tensorflow/tfjs-node did not load (${errText(e)}); rebuild it with 'node scripts/setup-backend.mjs' (see environment.md)`,
    };
  }
  if (!(await tf.setBackend("tensorflow")))
    return { ok: false, why: "tfjs-node loaded but the 'tensorflow' backend failed to initialise" };
  return {
    ok: true,
    provider: "@tensorflow/tfjs-node",
    version: nativeVersion(),
    threads: Number(process.env.TF_NUM_INTRAOP_THREADS) || os.cpus().length,
  };
}

function nativeVersion(): string {
  // tfjs-node exposes libtensorflow's version as `version['tfjs-node']`/`tf.version`; keep it defensive.
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const node = require("@tensorflow/tfjs-node") as { version?: Record<string, string> };
    const v = node.version ?? {};
    return `tfjs-core ${tf.version_core}, tfjs-node ${v["tfjs-node"] ?? "?"}, libtensorflow ${v["tf"] ?? "wheel build"}`;
  } catch {
    return `tfjs-core ${tf.version_core}`;
  }
}

/** tfjs's webgpu backend on Dawn; `allowSoftware` takes a software adapter too (forced runs, tests). */
async function tryWebgpu(allowSoftware: boolean): Promise<Attempt> {
  const r = await initWebgpu({ allowSoftware });
  // `"why" in r` narrows under tslab's non-strict TypeScript 5.0 too (a boolean discriminant does not)
  if ("why" in r) return { ok: false, why: r.why };
  return {
    ok: true,
    provider: "@tensorflow/tfjs-backend-webgpu on webgpu (Dawn)",
    version: `tfjs-core ${tf.version_core}`,
    threads: 1,
    adapter: r.adapter,
  };
}

async function tryWasm(): Promise<Attempt> {
  try {
    require("@tensorflow/tfjs-backend-wasm");
    if (await tf.setBackend("wasm"))
      return {
        ok: true,
        provider: "@tensorflow/tfjs-backend-wasm",
        version: `tfjs-core ${tf.version_core}`,
        threads: 1,
      };
    return { ok: false, why: "the wasm backend failed to initialise" };
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm did not load: ${errText(e)}` };
  }
}

async function tryCpu(): Promise<Attempt> {
  require("@tensorflow/tfjs-backend-cpu");
  if (await tf.setBackend("cpu"))
    return { ok: true, provider: "@tensorflow/tfjs-backend-cpu", version: `tfjs-core ${tf.version_core}`, threads: 1 };
  return { ok: false, why: "the pure-JS cpu backend failed to initialise" };
}

/**
 * Load a native binding package. node-pre-gyp (which tfjs-node uses to find its addon) parses
 * `process.argv` while loading, so a script flag such as `--dir=...` would change where it looks and
 * silently lose the native backend; the flags are hidden for the duration of the require.
 */
function requireNative(pkg: string): unknown {
  const argv = process.argv;
  process.argv = argv.slice(0, 2);
  try {
    return require(pkg);
  } finally {
    process.argv = argv;
  }
}

const TRY: Record<BackendName, (r: { backend: string; why: string }[]) => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  webgpu: () => tryWebgpu(true),
  wasm: tryWasm,
  cpu: tryCpu,
};

/** The automatic order; `label` names an attempt in `rejected` (tensorflow (gpu) records its own reason). */
const AUTO: {
  name: BackendName;
  label: string | null;
  attempt: (r: { backend: string; why: string }[]) => Promise<Attempt>;
}[] = [
  { name: "tensorflow", label: null, attempt: tryTensorflowGpu },
  {
    name: "webgpu",
    label: "webgpu",
    attempt: async () =>
      hasGpuDevice()
        ? tryWebgpu(false)
        : {
            ok: false,
            why: "no GPU device on this machine (/dev/dri/renderD*, /dev/nvidia0); LST_BACKEND=webgpu forces a software adapter",
          },
  },
  { name: "tensorflow", label: "tensorflow", attempt: () => tryTensorflowCpu() },
  { name: "wasm", label: "wasm", attempt: () => tryWasm() },
  { name: "cpu", label: "cpu", attempt: () => tryCpu() },
];

/**
 * Select and initialise the backend (idempotent: a second call returns the first report unless a
 * different backend is forced). `LST_BACKEND` in the environment forces one, as does `opts.backend`.
 */
export async function initBackend(opts: { backend?: string } = {}): Promise<BackendReport> {
  const forcedName = opts.backend ?? process.env.LST_BACKEND;
  if (current && (!forcedName || forcedName === current.backend)) return current;
  const rejected: { backend: string; why: string }[] = [];
  if (forcedName) {
    if (!(BACKENDS as readonly string[]).includes(forcedName)) {
      throw new Error(
        `unknown backend '${forcedName}' (from ${opts.backend ? "initBackend" : "LST_BACKEND"}): choose one of ${BACKENDS.join(", ")}`,
      );
    }
    const name = forcedName as BackendName;
    const a = await TRY[name](rejected);
    // `"why" in a` narrows under tslab's non-strict TypeScript 5.0 too (a boolean discriminant does not)
    if ("why" in a)
      throw new Error(
        `backend '${name}' was forced but is unavailable: ${a.why}. Unset LST_BACKEND to pick the best available one.`,
      );
    current = {
      backend: name,
      provider: a.provider,
      version: a.version,
      threads: a.threads,
      forced: true,
      rejected: [],
    };
    if (a.adapter) current.adapter = a.adapter;
    return current;
  }
  for (const { name, label, attempt } of AUTO) {
    const a = await attempt(rejected);
    if ("why" in a) {
      if (label) rejected.push({ backend: label, why: a.why });
      continue;
    }
    current = { backend: name, provider: a.provider, version: a.version, threads: a.threads, forced: false, rejected };
    if (a.adapter) current.adapter = a.adapter;
    return current;
  }
  throw new Error("no TensorFlow.js backend could be initialised (tensorflow, webgpu, wasm and cpu all failed)");
}

/** The report of the active backend; throws if `initBackend` has not run. */
export function backendReport(): BackendReport {
  if (!current) throw new Error("no backend selected yet: call `await initBackend()` first");
  return current;
}

/** One line for logs: `tensorflow (@tensorflow/tfjs-node, 2 threads; ...)`, or webgpu with its adapter. */
export function describeBackend(r: BackendReport = backendReport()): string {
  if (r.adapter) return `${r.backend} (${r.provider}; adapter ${describeAdapterLine(r.adapter)}; ${r.version})`;
  return `${r.backend} (${r.provider}, ${r.threads} thread${r.threads === 1 ? "" : "s"}; ${r.version})`;
}

/** Whether the active backend keeps tensors off the host, so that every read is asynchronous (webgpu). */
export function readsAreAsync(): boolean {
  return tf.getBackend() === "webgpu";
}

/**
 * Throw if the webgpu device rejected a command since the last check (it does so silently: the outputs read
 * back as zeros; see lib/backend-webgpu.ts). `where` names what was being read, for the message. A no-op on
 * the other backends, whose kernels throw.
 */
export function checkDeviceErrors(where: string): void {
  if (tf.getBackend() !== "webgpu") return;
  const e = takeWebgpuError();
  if (e) throw new Error(`webgpu: the GPU rejected a command before ${where}: ${e.message}`);
}

export { tf };
