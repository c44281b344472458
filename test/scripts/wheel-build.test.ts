/**
 * The shared wheel builder (scripts/tfjs-wheel-build.mjs): Requires-Dist resolution on a synthetic METADATA and
 * on the cached tensorflow-cpu wheel, and a real build of tfjs-node's binding into a temporary copy of the
 * package (never the shared node_modules/@tensorflow/tfjs-node), with a synthetic nvidia-*-cu12 wheel to check
 * the CUDA library layout and RUNPATH.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  TF_WHEEL_VERSION,
  WHEEL_CACHE,
  buildBinding,
  checkNative,
  evaluateMarker,
  extraRequirements,
  findPatchelf,
  findPython,
  findWheel,
  markerEnvironment,
  parseRequiresDist,
  readRunpath,
  readWheelMetadata,
} from "../../scripts/tfjs-wheel-build.mjs";

const ROOT = path.resolve(__dirname, "../..");

// The shape of tensorflow 2.21's METADATA header (names and markers as the real wheel writes them), and a body.
const METADATA = [
  "Metadata-Version: 2.4",
  "Name: tensorflow",
  "Version: 2.21.0",
  "Requires-Dist: absl-py>=1.0.0",
  "Requires-Dist: numpy>=1.26.0",
  'Requires-Dist: tensorflow-io-gcs-filesystem>=0.23.1; python_version < "3.12"',
  "Provides-Extra: and-cuda",
  'Requires-Dist: nvidia-cublas-cu12<13.0,>=12.5.3.2; extra == "and-cuda"',
  'Requires-Dist: nvidia-cudnn-cu12<10.0,>=9.3.0.75; extra == "and_cuda"',
  'Requires-Dist: nvidia-nccl-cu12<3.0,>=2.27.7; (extra == "and-cuda") and sys_platform == "linux"',
  'Requires-Dist: nvidia-cuda-runtime-cu12 (<13.0,>=12.5.82) ; extra == "and-cuda" and platform_system == "Windows"',
  'Requires-Dist: pytest; extra == "test"',
  "",
  "Requires-Dist: not-a-header; this is the description",
].join("\n");

test("parseRequiresDist reads name, pip requirement and marker of every header line", () => {
  const reqs = parseRequiresDist(METADATA);
  assert.equal(reqs.length, 8);
  assert.deepEqual(reqs[3], {
    name: "nvidia-cublas-cu12",
    requirement: "nvidia-cublas-cu12<13.0,>=12.5.3.2",
    marker: 'extra == "and-cuda"',
  });
  assert.equal(reqs[6].requirement, "nvidia-cuda-runtime-cu12(<13.0,>=12.5.82)");
  assert.ok(!reqs.some((r) => r.name === "not-a-header"));
});

test("extraRequirements keeps what the extra adds on Linux, not the base or other extras", () => {
  const names = extraRequirements(METADATA, "and-cuda", markerEnvironment("3.11.2")).map((r) => r.name);
  assert.deepEqual(names, ["nvidia-cublas-cu12", "nvidia-cudnn-cu12", "nvidia-nccl-cu12"]);
  assert.deepEqual(
    extraRequirements(METADATA, "test").map((r) => r.name),
    ["pytest"],
  );
});

test("evaluateMarker: versions compare numerically, and/or/parentheses, bad markers throw with the marker", () => {
  const env = markerEnvironment("3.11.2");
  assert.equal(evaluateMarker('python_version < "3.12"', env), true);
  assert.equal(evaluateMarker('python_version >= "3.9" and python_version < "3.10"', env), false);
  assert.equal(
    evaluateMarker('(sys_platform == "win32" or sys_platform == "linux") and "x86" in platform_machine', {
      ...env,
      platform_machine: "x86_64",
    }),
    true,
  );
  assert.throws(() => evaluateMarker('python_version <> "3"', env), /python_version <> "3"/);
  assert.throws(() => evaluateMarker('color == "red"', env), /unknown variable 'color'/);
});

const py = findPython();
const cpuWheel = findWheel(WHEEL_CACHE, "tensorflow_cpu", TF_WHEEL_VERSION);

test(
  "the cached tensorflow-cpu wheel's METADATA lists the CUDA 12 libraries under and-cuda",
  {
    skip:
      !py || !cpuWheel
        ? `no python or no cached tensorflow_cpu-${TF_WHEEL_VERSION} wheel in ${WHEEL_CACHE} (postinstall fetches it)`
        : false,
  },
  () => {
    const reqs = extraRequirements(readWheelMetadata(py!, path.join(WHEEL_CACHE, cpuWheel!)), "and-cuda");
    const names = reqs.map((r) => r.name);
    for (const n of ["nvidia-cublas-cu12", "nvidia-cudnn-cu12", "nvidia-cuda-runtime-cu12"])
      assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);
    assert.ok(
      names.every((n) => n.startsWith("nvidia-") && n.endsWith("-cu12")),
      names.join(", "),
    );
  },
);

/** A wheel laid out like nvidia-*-cu12: nvidia/<component>/lib/<lib>.so.N and headers (which the builder skips). */
function probeCudaWheel(dir: string): string {
  const file = path.join(dir, "nvidia_lstprobe_cu12-12.0.0-py3-none-manylinux2014_x86_64.whl");
  const code = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('nvidia/__init__.py', '')
    z.writestr('nvidia/lstprobe/lib/liblstprobe.so.12', b'\\x7fELF not a real library')
    z.writestr('nvidia/lstprobe/include/lstprobe.h', '/* header */')
    z.writestr('nvidia_lstprobe_cu12-12.0.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: nvidia-lstprobe-cu12\\nVersion: 12.0.0\\n')
`;
  const r = spawnSync(py!, ["-c", code, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

test(
  "buildBinding builds tfjs-node against the CPU wheel in a copy of the package, and lays out CUDA libraries",
  { skip: !py || !cpuWheel ? "no python or no cached tensorflow-cpu wheel" : false, timeout: 600_000 },
  () => {
    // under the project (git-ignored), so the copy resolves its dependencies from the shared node_modules
    fs.mkdirSync(path.join(ROOT, ".scratch"), { recursive: true });
    const tmp = fs.mkdtempSync(path.join(ROOT, ".scratch", "wheel-build-"));
    try {
      const src = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node");
      const pkg = path.join(tmp, "node_modules", "@tensorflow", "tfjs-node");
      const skip = new Set(
        ["deps", "lib", "build-tmp-napi-v8", path.join("scripts", "custom-binary.json")].map((p) => path.join(src, p)),
      );
      fs.cpSync(src, pkg, { recursive: true, filter: (p) => !skip.has(p) });
      const before = fs.statSync(path.join(src, "deps", "lib", "libtensorflow_cc.so.2")).mtimeMs;

      const logs: string[] = [];
      const b = buildBinding({
        pkg,
        root: ROOT,
        py: py!,
        wheel: path.join(WHEEL_CACHE, cpuWheel!),
        cudaWheels: [probeCudaWheel(tmp)],
        log: (m: string) => logs.push(m),
      });
      assert.ok(b.ok, `${b.why}\n${logs.join("\n")}`);

      // the binding links the wheel's libraries through the copy's own deps/lib, and runs
      const c = checkNative(tmp, "@tensorflow/tfjs-node");
      assert.ok(c.ok, c.why);
      const binding = fs
        .readdirSync(path.join(pkg, "lib"))
        .map((d) => path.join(pkg, "lib", d, "tfjs_binding.node"))
        .find((f) => fs.existsSync(f));
      assert.ok(binding, "tfjs_binding.node built into the copy");
      assert.deepEqual(readRunpath(binding!), ["$ORIGIN/../../deps/lib"]);

      // CUDA layout: pip-like deps/nvidia tree without headers, one flat symlink per library in deps/lib
      assert.deepEqual(b.cudaLibDirs, ["lstprobe/lib"]);
      const deps = path.join(pkg, "deps");
      assert.ok(fs.existsSync(path.join(deps, "nvidia", "lstprobe", "lib", "liblstprobe.so.12")));
      assert.ok(!fs.existsSync(path.join(deps, "nvidia", "lstprobe", "include")));
      assert.equal(
        fs.readlinkSync(path.join(deps, "lib", "liblstprobe.so.12")),
        path.join("..", "nvidia", "lstprobe", "lib", "liblstprobe.so.12"),
      );
      if (findPatchelf()) {
        // RUNPATH of the TF libraries names the CUDA dirs relative to themselves, before the wheel's own entries
        for (const f of ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"]) {
          const rp = readRunpath(path.join(deps, "lib", f));
          assert.deepEqual(rp.slice(0, 2), ["$ORIGIN", "$ORIGIN/../nvidia/lstprobe/lib"], `${f}: ${rp.join(":")}`);
        }
      } else {
        assert.match(b.runpath, /no patchelf/);
      }
      // the shared package was not touched
      assert.equal(fs.statSync(path.join(src, "deps", "lib", "libtensorflow_cc.so.2")).mtimeMs, before);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
);
