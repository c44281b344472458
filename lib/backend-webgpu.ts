/**
 * The `webgpu` backend under Node: TensorFlow.js's webgpu backend (`@tensorflow/tfjs-backend-webgpu`) on
 * Dawn (npm `webgpu`, a prebuilt `dawn.node`), which runs on the machine's Vulkan driver (Metal, D3D12
 * elsewhere). Any GPU with a Vulkan driver works, and so does a CPU through Mesa's lavapipe (a software
 * adapter: exact enough to test every op, far too slow to train).
 *
 *   probeWebgpu()        the adapter Dawn would give (or why none), without touching TensorFlow.js
 *   initWebgpu(opts)     probe, then register and select tfjs's `webgpu` backend on that adapter
 *
 * How Dawn meets tfjs. tfjs-backend-webgpu registers itself only if `globalThis.navigator.gpu` exists when
 * it is first required, and its factory calls `navigator.gpu.requestAdapter()`. `initWebgpu` installs a
 * `navigator` whose `gpu.requestAdapter` returns the adapter probed here (so the report names the adapter
 * the backend really runs on), requires the package, selects the backend, then puts `globalThis.navigator`
 * back as it was: nothing global is left behind to keep Node running. The Dawn instance itself stays
 * referenced from this module for the life of the process. The adapter goes to tfjs wrapped by
 * lib/webgpu/features.ts `withFeatures`, so its device also gets `shader-f16` and `subgroups` where listed.
 * subtle: the instance must outlive its device: if the garbage collector frees it while tfjs holds the
 * device, Node dies with a segmentation fault on the next GPU call (seen with dawn.node 0.6.2).
 *
 * Kernel fixes (`patchKernels`, applied once the backend exists): tfjs-backend-webgpu 4.22's PadV2 shader
 * does not compile for rank 5 ("cannot index type 'vec5'"), which LST's banded local attention pads
 * (attention.ts `withPrevious`, forward and, through tf.slice's gradient, backward). A rank-5 pad is
 * rewritten exactly as a pad of lower rank: an unpadded dimension merges into the one before it (a pad
 * [a, b] there becomes [a n, b n] for the merged size n), until at most 4 dimensions remain.
 *
 * Device errors. A command the device rejects (a binding larger than `maxStorageBufferBindingSize`, say: the
 * attention scores of d512 x T1024 x B16 are 512 MiB, over lavapipe's 128 MiB) is not an exception in WebGPU:
 * Dawn prints it, skips the command and the tensor reads back as zeros. `initWebgpu` listens for such
 * `uncapturederror` events on the backend's device and keeps the first; `takeWebgpuError()` returns it (and
 * clears it), and `lib/backend.ts`'s `checkDeviceErrors` turns it into an error naming the limit and the fix,
 * called after every host read of training steps and evaluation scores.
 *
 * Exit: with the instance held here and no `navigator` global, a script exits when its work is done (the
 * webgpu parity test checks that its child processes exit). `XDG_RUNTIME_DIR` is set to the temp dir when
 * unset (the Vulkan loader warns without it).
 */
import fs from "fs";
import os from "os";
import * as tf from "@tensorflow/tfjs-core";
import { registerLstKernels } from "./webgpu/kernels";
import { wantedFeatures, withFeatures, type FeatureAdapter } from "./webgpu/features";

/** What to install when Dawn finds no adapter (the message of every "no adapter" error). */
export const VULKAN_HINT =
  "install a Vulkan driver: on a CPU-only Debian 12 machine Mesa 25's lavapipe from bookworm-backports " +
  "(`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1`; bookworm's own Mesa 22.3 is refused by Dawn), " +
  "on an NVIDIA GPU the driver's Vulkan ICD (nvidia_icd.json, shipped with the NVIDIA driver) plus the loader `libvulkan1`";

/** The adapter the webgpu backend runs on, for the backend report. */
export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** a CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP), not a GPU */
  software: boolean;
  /** the limits that bound tensor sizes and kernels (bytes, invocations, workgroups) */
  limits: Record<string, number>;
  /** of the optional features the kernels use (`shader-f16`, `subgroups`), those the adapter lists */
  features?: string[];
}

export type WebgpuProbe = { ok: true; adapter: WebgpuAdapter } | { ok: false; why: string };

/** The limits worth reporting: buffer sizes bound the largest tensor a kernel can bind. */
const REPORTED_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupsPerDimension",
] as const;

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** The small part of the WebGPU API used here (the lib compiles without @webgpu/types). */
interface GpuAdapterLike extends FeatureAdapter {
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
    subgroupMinSize?: number;
  };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** Held for the life of the process (see the header: the instance must outlive the device). */
const held: { gpu: GpuLike | null; adapter: GpuAdapterLike | null; probe: WebgpuProbe | null } = {
  gpu: null,
  adapter: null,
  probe: null,
};

function errText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0].slice(0, 300);
}

/**
 * Whether this machine shows a GPU device node at all (Linux: a DRM render node or an NVIDIA device).
 * Lets the automatic backend choice skip loading Dawn on a machine that can only have a software adapter.
 */
export function hasGpuDevice(): boolean {
  if (process.platform !== "linux") return true;
  if (fs.existsSync("/dev/nvidia0")) return true;
  try {
    return fs.readdirSync("/dev/dri").some((f) => f.startsWith("renderD"));
  } catch {
    return false;
  }
}

function describeAdapter(a: GpuAdapterLike): WebgpuAdapter {
  const info = a.info ?? {};
  const description = info.description ?? "";
  const architecture = info.architecture ?? "";
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) if (typeof a.limits[k] === "number") limits[k] = a.limits[k];
  const software =
    Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter) ||
    architecture === "software" ||
    SOFTWARE_NAMES.test(`${description} ${info.device ?? ""}`);
  const features = wantedFeatures(a.features);
  return {
    vendor: info.vendor ?? "",
    architecture,
    device: info.device ?? "",
    description,
    software,
    limits,
    features,
  };
}

/** Ask Dawn for its high-performance adapter (cached: one Dawn instance per process). */
export async function probeWebgpu(): Promise<WebgpuProbe> {
  if (held.probe) return held.probe;
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  let dawn: { create: (opts: string[]) => GpuLike; globals: Record<string, unknown> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    dawn = require("webgpu") as typeof dawn;
  } catch (e) {
    return (held.probe = {
      ok: false,
      why: `the npm package 'webgpu' (Dawn) did not load: ${errText(e)}; run 'npm install'`,
    });
  }
  try {
    // WebGPU's classes and constants (GPUBufferUsage, ...) that tfjs-backend-webgpu reads as globals
    for (const [k, v] of Object.entries(dawn.globals))
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    held.gpu = dawn.create([]);
    held.adapter = await held.gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return (held.probe = { ok: false, why: `Dawn failed to start (${errText(e)}); ${VULKAN_HINT}` });
  }
  if (!held.adapter)
    return (held.probe = { ok: false, why: `Dawn found no WebGPU adapter (no usable Vulkan driver); ${VULKAN_HINT}` });
  return (held.probe = { ok: true, adapter: describeAdapter(held.adapter) });
}

/**
 * Register and select tfjs's webgpu backend on the probed adapter. `allowSoftware: false` (the automatic
 * choice) refuses a software adapter: on a CPU the native backend is far faster.
 */
export async function initWebgpu(opts: { allowSoftware: boolean }): Promise<WebgpuProbe> {
  const probe = await probeWebgpu();
  if ("why" in probe) return probe;
  if (probe.adapter.software && !opts.allowSoftware) {
    return {
      ok: false,
      why: `only a software adapter (${probe.adapter.description || probe.adapter.device}), slower than the CPU backends; LST_BACKEND=webgpu forces it`,
    };
  }
  if (tf.findBackend("webgpu") === null) {
    const adapter = held.adapter ? withFeatures(held.adapter) : null;
    const g = globalThis as { navigator?: unknown };
    const had = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", {
      value: { gpu: { requestAdapter: () => Promise.resolve(adapter) } },
      configurable: true,
      writable: true,
    });
    try {
      // subtle: tfjs-core alone registers no gradients (tfjs-node brings them on the tensorflow backend)
      require("@tensorflow/tfjs-core/dist/register_all_gradients");
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      require("@tensorflow/tfjs-backend-webgpu");
      if (!(await tf.setBackend("webgpu")))
        return { ok: false, why: `tfjs's webgpu backend failed to initialise on ${probe.adapter.description}` };
      patchKernels();
      registerLstKernels();
      watchDeviceErrors();
    } catch (e) {
      return { ok: false, why: `tfjs's webgpu backend did not start on ${probe.adapter.description}: ${errText(e)}` };
    } finally {
      if (had) Object.defineProperty(globalThis, "navigator", had);
      else delete g.navigator;
    }
  } else if (!(await tf.setBackend("webgpu"))) {
    return { ok: false, why: "tfjs's webgpu backend failed to initialise" };
  }
  return probe;
}

/** The first device error since the last `takeWebgpuError()`, and how many came. */
const deviceErrors: { first: string | null; count: number } = { first: null, count: 0 };

interface ErrorEventTarget {
  addEventListener(type: "uncapturederror", listener: (ev: { error?: { message?: string } }) => void): void;
}

/** Keep the first `uncapturederror` of the webgpu backend's device (see the header). */
function watchDeviceErrors(): void {
  const device = (tf.backend() as unknown as { device?: ErrorEventTarget }).device;
  if (!device || typeof device.addEventListener !== "function") return;
  device.addEventListener("uncapturederror", (ev) => {
    deviceErrors.count += 1;
    if (deviceErrors.first === null) deviceErrors.first = String(ev.error?.message ?? ev);
  });
}

/**
 * The device errors since the last call, or null; clears them. `message` starts with the first error's first
 * line and, for a binding over the adapter's limit, says how large the limit is and what to change.
 */
export function takeWebgpuError(): { message: string; count: number } | null {
  if (deviceErrors.first === null) return null;
  const first = deviceErrors.first;
  const count = deviceErrors.count;
  deviceErrors.first = null;
  deviceErrors.count = 0;
  const line = first.split("\n")[0].trim();
  const bind = /binding size \((\d+)\).*maximum storage buffer binding size \((\d+)\)/i.exec(first);
  const fix = bind
    ? `a binding of ${bind[1]} bytes (${mib(Number(bind[1]))} MiB) is over this adapter's ${bind[2]} bytes ` +
      `(${mib(Number(bind[2]))} MiB) per binding: ` +
      "lower the batch size or the row length, or train on LST_BACKEND=tensorflow"
    : "the results since the last read are not valid; rerun with LST_BACKEND=tensorflow to compare";
  return { message: `${line} (${count} device error${count === 1 ? "" : "s"}); ${fix}`, count };
}

const mib = (bytes: number): string => String(Math.round((bytes / 2 ** 20) * 10) / 10);

type KernelFunc = (args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) => tf.TensorInfo;

/**
 * Shape and paddings of an exact lower-rank pad (see the header). Worked example (a test): x [2, 3, 4, 5, 6]
 * padded [[0,0],[0,0],[1,0],[0,0],[0,0]] -> x [6, 120] padded [[0,0],[30,0]].
 */
export function mergePadDims(
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
): { shape: number[]; paddings: [number, number][] } {
  const outShape: number[] = [];
  const outPad: [number, number][] = [];
  shape.forEach((n, i) => {
    const [a, b] = paddings[i];
    if (outShape.length > 0 && a === 0 && b === 0) {
      const j = outShape.length - 1;
      outShape[j] *= n;
      outPad[j] = [outPad[j][0] * n, outPad[j][1] * n];
    } else {
      outShape.push(n);
      outPad.push([a, b]);
    }
  });
  return { shape: outShape, paddings: outPad };
}

let patched = false;

/** Wrap webgpu kernels that fail on shapes the lab uses (see the header); idempotent. */
function patchKernels(): void {
  if (patched) return;
  patched = true;
  const pad = tf.getKernel("PadV2", "webgpu");
  const reshape = tf.getKernel("Reshape", "webgpu");
  if (!pad || !reshape) return;
  const padFunc = pad.kernelFunc as unknown as KernelFunc;
  const reshapeFunc = reshape.kernelFunc as unknown as KernelFunc;
  tf.unregisterKernel("PadV2", "webgpu");
  tf.registerKernel({
    kernelName: "PadV2",
    backendName: "webgpu",
    kernelFunc: ((args: Parameters<KernelFunc>[0]) => {
      const x = args.inputs.x;
      const paddings = (args.attrs?.paddings ?? []) as [number, number][];
      if (x.shape.length <= 4) return padFunc(args);
      const merged = mergePadDims(x.shape, paddings);
      if (merged.shape.length > 4)
        throw new Error(
          `webgpu PadV2: a rank-${x.shape.length} pad of [${x.shape}] by ${JSON.stringify(paddings)} does not reduce to rank 4`,
        );
      const backend = args.backend as { disposeData(id: unknown): void };
      const xr = reshapeFunc({ inputs: { x }, backend, attrs: { shape: merged.shape } });
      const padded = padFunc({ inputs: { x: xr }, backend, attrs: { ...args.attrs, paddings: merged.paddings } });
      const outShape = x.shape.map((n, i) => n + paddings[i][0] + paddings[i][1]);
      const out = reshapeFunc({ inputs: { x: padded }, backend, attrs: { shape: outShape } });
      backend.disposeData(xr.dataId);
      backend.disposeData(padded.dataId);
      return out;
    }) as unknown as tf.KernelFunc,
  });
}

/**
 * One line: `mesa llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) [software adapter, architecture software, 128 MiB per
 * binding, shader-f16 subgroups]` (the last part: the optional features the adapter lists, lib/webgpu/features.ts).
 */
export function describeAdapterLine(a: WebgpuAdapter): string {
  const bind = a.limits.maxStorageBufferBindingSize;
  const name = [a.vendor, a.description || a.device].filter((x) => x).join(" ");
  const parts = [a.software ? "software adapter" : "hardware adapter", `architecture ${a.architecture || "?"}`];
  if (bind) parts.push(`${Math.round(bind / 2 ** 20)} MiB per binding`);
  if (a.features?.length) parts.push(a.features.join(" "));
  return `${name || "unknown adapter"} [${parts.join(", ")}]`;
}
