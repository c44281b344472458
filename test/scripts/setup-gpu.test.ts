/**
 * `npm run setup:gpu` (scripts/setup-gpu.mjs) where it cannot finish, which is every machine without an NVIDIA
 * GPU: each stop names what is missing and the WebGPU alternative. The driver is looked up through
 * LST_NVIDIA_SMI; a small stand-in script plays a driver to reach the later steps, and pip is pointed at an
 * empty wheel folder (PIP_NO_INDEX), so nothing is ever downloaded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TF_WHEEL_VERSION, WHEEL_CACHE, findPython, findWheel } from "../../scripts/tfjs-wheel-build.mjs";

const ROOT = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lst-setup-gpu-test-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function setupGpu(env: Record<string, string>, args: string[] = []) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "setup-gpu.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, LST_WHEEL_CACHE: path.join(tmp, "cache"), ...env },
    encoding: "utf8",
    timeout: 300_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** What nvidia-smi prints for the two queries the script makes, for a driver supporting CUDA `cuda`. */
function driverStandIn(cuda: string): string {
  const file = path.join(tmp, `nvidia-smi-${cuda}`);
  fs.writeFileSync(
    file,
    [
      "#!/bin/sh",
      'if [ "$1" = "--query-gpu=name,driver_version" ]; then echo "NVIDIA H100 80GB HBM3, 550.54.15"; exit 0; fi',
      `echo "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: ${cuda}     |"`,
    ].join("\n"),
    { mode: 0o755 },
  );
  return file;
}

const ALTERNATIVE = /LST_BACKEND=webgpu.*npm run gpu-bundle/s;

test("without an NVIDIA driver it stops, naming nvidia-smi and the WebGPU alternative", () => {
  const r = setupGpu({ LST_NVIDIA_SMI: path.join(tmp, "no-such-dir", "nvidia-smi") });
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /stopped: no NVIDIA driver: '.*nvidia-smi' was not found/);
  assert.match(r.out, ALTERNATIVE);
});

test("a driver older than CUDA 12 is refused with the version it supports", () => {
  const r = setupGpu({ LST_NVIDIA_SMI: driverStandIn("11.8") });
  assert.equal(r.status, 1, r.out);
  assert.match(
    r.out,
    /the NVIDIA driver \(NVIDIA H100 80GB HBM3, 550\.54\.15\) supports CUDA 11\.8 only; the tensorflow \d+\.\d+\.\d+ wheel needs CUDA 12/,
  );
  assert.match(r.out, ALTERNATIVE);
});

test(
  "where the tensorflow wheel cannot be fetched it stops, naming the wheel, where to put it, and WebGPU",
  { skip: findPython() ? false : "no python3 with pip", timeout: 300_000 },
  () => {
    const empty = path.join(tmp, "empty-index");
    fs.mkdirSync(empty, { recursive: true });
    const gpuPkg = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node-gpu");
    const hadGpuPkg = fs.existsSync(gpuPkg);
    const r = setupGpu({ LST_NVIDIA_SMI: driverStandIn("12.4"), PIP_NO_INDEX: "1", PIP_FIND_LINKS: empty });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /CUDA 12\.4/);
    assert.match(
      r.out,
      new RegExp(`stopped: the tensorflow==${TF_WHEEL_VERSION.replace(/\./g, "\\.")} wheel cannot be fetched with pip`),
    );
    assert.ok(r.out.includes(path.join(tmp, "cache")), "names the wheel cache to copy the wheel into");
    assert.match(r.out, ALTERNATIVE);
    assert.equal(fs.existsSync(gpuPkg), hadGpuPkg, "tfjs-node-gpu is not installed before the wheel is there");
  },
);

const py = findPython();
const cpuWheel = findWheel(WHEEL_CACHE, "tensorflow_cpu", TF_WHEEL_VERSION);

test(
  "--requirements-of prints the CUDA 12 packages a wheel's and-cuda extra requires",
  { skip: !py || !cpuWheel ? "no cached tensorflow-cpu wheel" : false },
  () => {
    const r = setupGpu({}, [`--requirements-of=${path.join(WHEEL_CACHE, cpuWheel!)}`]);
    assert.equal(r.status, 0, r.out);
    const reqs = r.stdout.trim().split("\n");
    assert.ok(reqs.length >= 10, r.stdout);
    assert.ok(
      reqs.every((q) => /^nvidia-[a-z-]+-cu12[<>=!,.\d]*$/.test(q)),
      r.stdout,
    );
    assert.ok(
      reqs.some((q) => q.startsWith("nvidia-cudnn-cu12")),
      r.stdout,
    );
  },
);
