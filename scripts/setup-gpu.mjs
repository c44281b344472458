#!/usr/bin/env node
/**
 * `npm run setup:gpu`: the CUDA 12 route for the native backend. tfjs-node-gpu 4.22's own install wants
 * libtensorflow 2.9.1 for CUDA 11.2 + cuDNN 8.1 (end of life); instead its binding is built against the
 * `tensorflow` pip wheel (Linux builds carry CUDA 12 support) and the nvidia-*-cu12 libraries that the wheel's
 * `and-cuda` extra requires, with the builder the CPU postinstall uses (scripts/tfjs-wheel-build.mjs).
 *
 * Steps, each stopping with what is missing and the way around it:
 *   1. an NVIDIA driver: `nvidia-smi` ($LST_NVIDIA_SMI) runs and reports CUDA >= 12;
 *   2. python3 with pip;
 *   3. the `tensorflow==2.21.0` wheel (same version as the CPU wheel; $LST_WHEEL_CACHE, else `pip download`);
 *   4. its METADATA's Requires-Dist for the extra `and-cuda` -> `pip download` them (with their dependencies);
 *   5. @tensorflow/tfjs-node-gpu 4.22.0 in node_modules: `npm install --no-save --ignore-scripts` (its own install
 *      script would download the CUDA 11.2 build; --no-save: the next `npm install`/`npm ci` removes it again,
 *      rerun this script then);
 *   6. build its binding against the wheel + CUDA libraries, RUNPATHs set so no LD_LIBRARY_PATH is needed;
 *   7. check, in a fresh process without LD_LIBRARY_PATH, that TensorFlow created a GPU device.
 * lib/backend.ts then prefers tfjs-node-gpu wherever a CUDA GPU is present.
 *
 * `node scripts/setup-gpu.mjs --requirements-of=<wheel>` only prints the CUDA requirements of a wheel (no driver
 * needed): what step 4 would fetch.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  TF_WHEEL_VERSION,
  WHEEL_CACHE,
  buildBinding,
  checkNative,
  extraRequirements,
  findPython,
  findWheel,
  markerEnvironment,
  pipDownload,
  readWheelMetadata,
  run,
  tail,
  wheelsIn,
} from "./tfjs-wheel-build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GPU_PKG_VERSION = "4.22.0";
const PKG = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node-gpu");
const EXTRA = "and-cuda";
const log = (msg) => console.log(`[setup-gpu] ${msg}`);

const ALTERNATIVE =
  "Without CUDA the lab still runs on a GPU through WebGPU: LST_BACKEND=webgpu (Dawn over Vulkan; NVIDIA's driver brings " +
  "its Vulkan ICD, the loader is Debian's libvulkan1), and `npm run gpu-bundle` makes a portable run for a GPU machine " +
  "with no network. Until then the native CPU backend stays in use.";

/** Stop with a message naming what is missing, and the WebGPU alternative. */
function stop(missing, fix) {
  console.error(`[setup-gpu] stopped: ${missing}`);
  if (fix) console.error(`[setup-gpu] fix: ${fix}`);
  console.error(`[setup-gpu] ${ALTERNATIVE}`);
  process.exit(1);
}

/** Step 1: the driver, the GPUs it sees and the newest CUDA it supports. */
function findDriver() {
  const smi = process.env.LST_NVIDIA_SMI || "nvidia-smi";
  const q = run(smi, ["--query-gpu=name,driver_version", "--format=csv,noheader"], { timeout: 60_000 });
  if (q.code === "ENOENT") {
    stop(
      `no NVIDIA driver: '${smi}' was not found (the CUDA route needs an NVIDIA GPU and its driver, >= 525.60 for CUDA 12).`,
      "install the NVIDIA driver (it brings nvidia-smi), or set LST_NVIDIA_SMI to where nvidia-smi is.",
    );
  }
  if (!q.ok)
    stop(
      `'${smi}' is present but fails, so the NVIDIA driver is not usable: ${tail(q.out, 2)}`,
      "load the NVIDIA kernel module / reinstall the driver, then rerun.",
    );
  const gpus = q.stdout.trim().split("\n").filter(Boolean);
  if (gpus.length === 0)
    stop(`'${smi}' lists no GPU.`, "check that the GPU is visible to this machine (container: --gpus all).");
  const cuda = /CUDA Version:\s*([\d.]+)/.exec(run(smi, [], { timeout: 60_000 }).stdout)?.[1];
  if (cuda && Number(cuda.split(".")[0]) < 12) {
    stop(
      `the NVIDIA driver (${gpus.join("; ")}) supports CUDA ${cuda} only; the tensorflow ${TF_WHEEL_VERSION} wheel needs CUDA 12 (driver >= 525.60).`,
      "update the NVIDIA driver.",
    );
  }
  return { gpus, cuda: cuda ?? "unknown" };
}

/** Step 3: the GPU TensorFlow wheel, cached or fetched. */
function gpuWheel(py) {
  let wheel = findWheel(WHEEL_CACHE, "tensorflow", TF_WHEEL_VERSION);
  if (wheel) return path.join(WHEEL_CACHE, wheel);
  log(
    `fetching the tensorflow ${TF_WHEEL_VERSION} wheel (GPU-capable Linux build, ~600 MB) with pip into ${WHEEL_CACHE} ...`,
  );
  const r = pipDownload(py, [`tensorflow==${TF_WHEEL_VERSION}`], WHEEL_CACHE);
  wheel = findWheel(WHEEL_CACHE, "tensorflow", TF_WHEEL_VERSION);
  if (!r.ok || !wheel) {
    stop(
      `the tensorflow==${TF_WHEEL_VERSION} wheel cannot be fetched with pip (${tail(r.out, 2)}).`,
      `give pip an index that has it (pypi.org), or copy tensorflow-${TF_WHEEL_VERSION}-cp3*-manylinux*_x86_64.whl into ${WHEEL_CACHE} ` +
        "(LST_WHEEL_CACHE) and rerun. The tensorflow-cpu wheel of the postinstall has no CUDA kernels.",
    );
  }
  return path.join(WHEEL_CACHE, wheel);
}

/** Step 4: the CUDA wheels that the wheel's `and-cuda` extra requires. */
function cudaWheels(py, wheel) {
  const pyVersion = run(py, ["-c", "import platform; print(platform.python_version())"]).stdout.trim() || undefined;
  const reqs = extraRequirements(readWheelMetadata(py, wheel), EXTRA, markerEnvironment(pyVersion));
  if (reqs.length === 0)
    stop(`${path.basename(wheel)} requires nothing for the extra '${EXTRA}': it is not a CUDA build of TensorFlow.`);
  const dir = path.join(WHEEL_CACHE, `cuda-${path.basename(wheel, ".whl")}`);
  log(
    `fetching the ${reqs.length} CUDA packages its '${EXTRA}' extra requires (${reqs.map((r) => r.name).join(", ")}) into ${dir} (~3 GB) ...`,
  );
  const r = pipDownload(py, ["--find-links", dir, ...reqs.map((x) => x.requirement)], dir, { deps: true });
  if (!r.ok)
    stop(
      `pip could not fetch the CUDA 12 libraries (${tail(r.out, 2)}).`,
      `give pip an index with ${reqs.map((x) => x.requirement).join(" ")}, or put those wheels into ${dir}.`,
    );
  // pip also brings their own dependencies (e.g. cudnn -> cublas); every nvidia wheel in the folder is used
  return wheelsIn(dir)
    .filter((f) => f.startsWith("nvidia_"))
    .map((f) => path.join(dir, f));
}

/** Step 5: tfjs-node-gpu's JS and sources, without its install script. */
function ensureGpuPackage() {
  const pj = path.join(PKG, "package.json");
  if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, "utf8")).version === GPU_PKG_VERSION) return;
  log(`installing @tensorflow/tfjs-node-gpu@${GPU_PKG_VERSION} into node_modules (--no-save --ignore-scripts) ...`);
  const r = run(
    "npm",
    [
      "install",
      "--no-save",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      `@tensorflow/tfjs-node-gpu@${GPU_PKG_VERSION}`,
    ],
    { cwd: ROOT, timeout: 900_000 },
  );
  if (!r.ok || !fs.existsSync(pj))
    stop(
      `@tensorflow/tfjs-node-gpu@${GPU_PKG_VERSION} could not be installed from npm (${tail(r.out, 2)}).`,
      "run this where the npm registry is reachable.",
    );
}

/** Step 7: a fresh process, no LD_LIBRARY_PATH, TF's INFO log on: did TensorFlow create a GPU device? */
function verifyGpu() {
  const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: "0" };
  delete env.LD_LIBRARY_PATH;
  const c = checkNative(ROOT, "@tensorflow/tfjs-node-gpu", { env, timeout: 300_000 });
  if (!c.ok) stop(`@tensorflow/tfjs-node-gpu was built but does not load: ${c.why}`);
  const device = /Created device \S*GPU:0[^\n]*/.exec(c.out)?.[0];
  if (!device) {
    const why = c.out
      .split("\n")
      .filter((l) => /dlopen|Could not load dynamic library|cuInit|CUDA_ERROR|Skipping registering GPU/i.test(l))
      .slice(0, 6)
      .join("\n  ");
    stop(
      `tfjs-node-gpu loads but TensorFlow created no GPU device (it runs on the CPU):\n  ${why || tail(c.out, 6)}`,
      "install patchelf (apt-get install patchelf) and rerun, so the CUDA library paths are written into the TF libraries.",
    );
  }
  return device;
}

function main() {
  const only = process.argv.slice(2).find((a) => a.startsWith("--requirements-of="));
  const py = findPython();
  if (only) {
    if (!py) stop("python3 with pip is needed to read a wheel.");
    const wheel = only.slice("--requirements-of=".length);
    for (const r of extraRequirements(readWheelMetadata(py, wheel), EXTRA)) console.log(r.requirement);
    return;
  }
  const driver = findDriver();
  log(`NVIDIA driver found: ${driver.gpus.join("; ")} (CUDA ${driver.cuda})`);
  if (!py)
    stop(
      "python3 with pip (to fetch the tensorflow wheel and the CUDA libraries).",
      "install python3 and python3-pip.",
    );
  const wheel = gpuWheel(py);
  const cuda = cudaWheels(py, wheel);
  ensureGpuPackage();
  const b = buildBinding({ pkg: PKG, root: ROOT, py, wheel, cudaWheels: cuda, log: (m) => log(`  ${m}`) });
  if (!b.ok)
    stop(
      `building tfjs-node-gpu's binding failed: ${b.why}`,
      "see environment.md (g++, make, node's headers are needed, as for the CPU build).",
    );
  log(`  CUDA library dirs: ${b.cudaLibDirs.join(", ")}; library paths: ${b.runpath}`);
  const device = verifyGpu();
  log(
    `tfjs-node-gpu runs on the GPU (${device.replace(/^.*Created device /, "")}); the lab's default backend now uses it.`,
  );
}

main();
