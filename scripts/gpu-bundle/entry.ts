/**
 * Entry of the portable GPU bundle (`npm run gpu-bundle`), bundled by esbuild into app/lst.js and started by the
 * bundle's run.sh with the bundled node:
 *   lst.js bench [train-bench options]   the training bench (bench/train-bench.ts), e.g. --sizes=smoke --no-peer
 *   lst.js step-time [--scale=gpu]       a lab scale's training step time (bench/step-time.ts; synthetic data)
 *   lst.js kernels [--size=d512]         each fused webgpu kernel against the tfjs ops it replaces
 *                                        (bench/webgpu-kernels.ts)
 *   lst.js train [train options]         one training run (scripts/train.ts), e.g. --data=smoke --train.steps=50
 *   lst.js info                          node, the WebGPU adapter Dawn finds (vendor, architecture, limits) and
 *                                        the Vulkan loader it loaded; exit 2 when there is no adapter
 * The backend comes from LST_BACKEND (run.sh sets webgpu unless given) through lib/backend.ts, as in the lab.
 */
import fs from "fs";

const USAGE =
  "usage: run.sh bench|step-time|kernels|train|info [options]   (bench: bench/train-bench.ts options; step-time: bench/step-time.ts options; kernels: bench/webgpu-kernels.ts options; train: scripts/train.ts options)";

/** The WebGPU adapter that Dawn (npm `webgpu`, dawn.node beside this file) finds, described for a log. */
async function info(): Promise<number> {
  console.log(`node ${process.version} (${process.execPath}); LST_BACKEND=${process.env.LST_BACKEND ?? "(unset)"}`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { create, globals } = require("webgpu") as {
    create: (flags: string[]) => GpuLike;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, globals);
  const adapter = await create([]).requestAdapter({ powerPreference: "high-performance" });
  const vulkan = [
    ...new Set(
      fs
        .readFileSync("/proc/self/maps", "utf8")
        .split("\n")
        .map((l) => l.split(/\s+/).pop() ?? "")
        .filter((p) => /libvulkan\.so/.test(p)),
    ),
  ];
  console.log(`vulkan loader: ${vulkan.join(", ") || "not loaded"}`);
  if (!adapter) {
    console.log(
      "webgpu: no adapter. Dawn needs a Vulkan driver (ICD): on NVIDIA the driver's nvidia_icd.json (in /usr/share/vulkan/icd.d " +
        "or /etc/vulkan/icd.d; containers need NVIDIA_DRIVER_CAPABILITIES to include graphics), elsewhere Mesa >= 25 " +
        "(mesa-vulkan-drivers, lavapipe on the CPU). VK_ICD_FILENAMES=<icd.json> picks one.",
    );
    return 2;
  }
  const a = adapter.info;
  console.log(
    `webgpu adapter: vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}', ${a.isFallbackAdapter ? "software (fallback)" : "hardware"}`,
  );
  const l = adapter.limits;
  console.log(
    `limits: maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`,
  );
  return 0;
}

interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<null | {
    info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
    limits: Record<string, number>;
  }>;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  // the bench and the CLI read process.argv.slice(2) when loaded; each runs its main() on require
  process.argv = [process.argv[0], process.argv[1], ...rest];
  if (command === "bench") require("../../bench/train-bench");
  else if (command === "step-time") require("../../bench/step-time");
  else if (command === "kernels") require("../../bench/webgpu-kernels");
  else if (command === "train") require("../train");
  // exit explicitly: a live Dawn instance can keep Node from exiting
  else if (command === "info") process.exit(await info());
  else {
    console.error(
      command === undefined || command === "help" || command === "--help"
        ? USAGE
        : `unknown command '${command}'. ${USAGE}`,
    );
    process.exitCode = command === undefined || command === "help" || command === "--help" ? 0 : 1;
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
