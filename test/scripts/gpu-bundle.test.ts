/**
 * `npm run gpu-bundle`: builds the bundle, unpacks its .tar into an empty folder and runs it from there with an
 * environment holding only HOME and a PATH of the few tools run.sh needs (no node): the WebGPU adapter probe
 * (Dawn + the bundled Vulkan loader, on lavapipe where Mesa's ICD is installed), a short training bench on wasm,
 * a short training run on the bundled smoke data on cpu, and, once lib/backend.ts has the webgpu backend, the
 * same bench on webgpu (the bundle's default) against the wasm losses, and the fused-kernel bench on webgpu.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const NAME = "lst-gpu-bundle";
// Mesa's CPU Vulkan driver: lvp_icd.json (Mesa 25) or lvp_icd.x86_64.json
const LAVAPIPE = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].some(
  (d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => /^lvp_icd.*\.json$/.test(f)),
);
const WEBGPU_IN_LAB = /BACKENDS\s*=\s*\[[^\]]*"webgpu"/.test(
  fs.readFileSync(path.join(ROOT, "lib", "backend.ts"), "utf8"),
);
const BENCH = ["bench", "--sizes=smoke", "--batch=2", "--steps=1", "--warmup=1", "--rounds=1", "--no-peer"];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lst-gpu-bundle-test-"));
const out = path.join(tmp, "out");
const target = path.join(tmp, "target");
const cleanBin = path.join(tmp, "bin");
let built = false;

/** run.sh from the unpacked bundle, with nothing from this environment but what is given. */
function runBundle(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(path.join(target, NAME, "run.sh"), args, {
    cwd: target,
    env: { PATH: cleanBin, HOME: tmp, ...env },
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

interface BenchJson {
  backend: { backend: string };
  best: Record<string, { lossFirst: number; lossLast: number }>;
}
const benchJson = (): BenchJson =>
  JSON.parse(fs.readFileSync(path.join(target, NAME, "data", "bench", "train-bench.json"), "utf8")) as BenchJson;

test("gpu-bundle builds a folder and a .tar under 64 MiB without libtensorflow", { timeout: 900_000 }, () => {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "scripts", "gpu-bundle.ts"), `--out=${out}`],
    { cwd: ROOT, encoding: "utf8", timeout: 900_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const tar = path.join(out, `${NAME}.tar`);
  assert.ok(fs.statSync(tar).size <= 64 * 2 ** 20, `${tar}: ${fs.statSync(tar).size} bytes`);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, NAME, "bundle.json"), "utf8")) as {
    files: { rel: string }[];
    backendsBundled: string[];
  };
  const files = manifest.files.map((f) => f.rel);
  for (const f of [
    "run.sh",
    "check.sh",
    "app/lst.js",
    "app/tfjs-backend-wasm-simd.wasm",
    "payload/node.xz",
    "payload/dawn.node.xz",
    "lib/vulkan/libvulkan.so.1",
  ])
    assert.ok(files.includes(f), `${f} in ${files.join(", ")}`);
  assert.ok(
    files.some((f) => /^data\/cache\/smoke-[0-9a-f]+\/paired\.json$/.test(f)),
    "the smoke dataset",
  );
  assert.ok(!files.some((f) => /tensorflow|tfjs_binding/.test(f)), "no libtensorflow");
  // the GPU check is POSIX sh (dash here), and carries the PyTorch peer where ../shared/peers has it
  const checkSyntax = spawnSync("sh", ["-n", path.join(out, NAME, "check.sh")], { encoding: "utf8" });
  assert.equal(checkSyntax.status, 0, checkSyntax.stderr);
  if (fs.existsSync(path.resolve(ROOT, "..", "shared", "peers", "torch_lm_bench.py")))
    assert.ok(files.includes("peer/torch_lm_bench.py"), "the peer is bundled");
  assert.deepEqual(
    manifest.backendsBundled.filter((b) => b !== "webgpu"),
    ["wasm", "cpu"],
  );
  if (WEBGPU_IN_LAB) assert.ok(manifest.backendsBundled.includes("webgpu"), "the webgpu backend is bundled");

  // unpack into an empty folder; PATH gets only what run.sh uses (no node)
  fs.mkdirSync(target);
  const x = spawnSync("tar", ["-xf", tar, "-C", target], { encoding: "utf8" });
  assert.equal(x.status, 0, x.stderr);
  fs.mkdirSync(cleanBin);
  for (const tool of ["sh", "xz", "mkdir", "chmod", "mv", "grep", "uname"]) {
    const p = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    assert.ok(p, `${tool} on this machine`);
    fs.symlinkSync(p, path.join(cleanBin, tool));
  }
  const nodeOnPath = spawnSync("sh", ["-c", "command -v node"], { env: { PATH: cleanBin }, encoding: "utf8" });
  assert.ok(
    nodeOnPath.status !== 0 && nodeOnPath.stdout.trim() === "",
    `no node on the clean PATH: ${nodeOnPath.stdout}`,
  );
  built = true;
});

test(
  "the unpacked bundle finds a WebGPU adapter through its own Vulkan loader (lavapipe here)",
  { timeout: 300_000 },
  (t) => {
    if (!built) return t.skip("bundle not built");
    const r = runBundle(["info"]);
    assert.match(r.out, /^node v\d+/m);
    assert.ok(r.out.includes(`vulkan loader: ${path.join(target, NAME, "lib", "vulkan", "libvulkan.so.1")}`), r.out);
    if (LAVAPIPE) {
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /webgpu adapter: vendor 'mesa', architecture 'software'.*software \(fallback\)/);
    } else {
      assert.equal(r.status, 2, r.out);
      assert.match(r.out, /no adapter.*Vulkan driver/);
    }
  },
);

let wasmLosses: { lossFirst: number; lossLast: number } | null = null;

test(
  "the unpacked bundle runs a short training bench (LST_BACKEND=wasm) with a clean PATH",
  { timeout: 300_000 },
  (t) => {
    if (!built) return t.skip("bundle not built");
    const r = runBundle(BENCH, { LST_BACKEND: "wasm" });
    assert.equal(r.status, 0, r.out);
    assert.match(r.stdout, /train-bench: wasm .* sizes smoke \(B 2 x T 32\)/);
    assert.match(r.stdout, /\| tfjs baseline smoke \|/);
    const j = benchJson();
    assert.equal(j.backend.backend, "wasm");
    for (const k of ["tfjs baseline smoke", "tfjs lst smoke"])
      assert.ok(Number.isFinite(j.best[k].lossFirst) && Number.isFinite(j.best[k].lossLast), JSON.stringify(j.best[k]));
    wasmLosses = j.best["tfjs baseline smoke"];
  },
);

test("the unpacked bundle trains on its smoke data (LST_BACKEND=cpu)", { timeout: 300_000 }, (t) => {
  if (!built) return t.skip("bundle not built");
  const model = [
    "--model.kind=lst",
    "--model.dModel=32",
    "--model.nLayers=1",
    "--model.nHeads=2",
    "--model.lst.dLocal=16",
    "--model.lst.nHeadsLocal=2",
    "--model.lst.crossAttnK=2",
  ];
  const train = [
    "--train.steps=2",
    "--train.batchSize=2",
    "--train.seqLen=64",
    "--train.globalLen=32",
    "--train.maxRawLen=64",
  ];
  const r = runBundle(["train", "--data=smoke", ...model, ...train], { LST_BACKEND: "cpu" });
  assert.equal(r.status, 0, r.out);
  assert.match(r.stdout, /backend: cpu/);
  assert.match(r.stdout, /done: lst, \d+ parameters, steps 0\.\.2, final loss \d+\.\d+/);
});

test("the unpacked bundle times a lab scale's step (step-time, LST_BACKEND=cpu)", { timeout: 300_000 }, (t) => {
  if (!built) return t.skip("bundle not built");
  const r = runBundle(["step-time", "--scale=smoke", "--steps=3"], { LST_BACKEND: "cpu" });
  assert.equal(r.status, 0, r.out);
  assert.match(r.stdout, /backend: cpu/);
  for (const kind of ["baseline", "lst"]) assert.match(r.stdout, new RegExp(`${kind}\\b.*\\d+ ms`), r.stdout);
});

test(
  "the unpacked bundle runs the bench on webgpu, its default, matching wasm's losses",
  {
    skip: !WEBGPU_IN_LAB
      ? "lib/backend.ts has no webgpu backend yet (issue 14 item 1)"
      : !LAVAPIPE
        ? "no Vulkan driver (mesa-vulkan-drivers >= 25)"
        : false,
    timeout: 600_000,
  },
  (t) => {
    if (!built || !wasmLosses) return t.skip("bundle or wasm bench missing");
    const r = runBundle(BENCH);
    assert.equal(r.status, 0, r.out);
    assert.match(r.stdout, /train-bench: webgpu /);
    const j = benchJson();
    assert.equal(j.backend.backend, "webgpu");
    const w = j.best["tfjs baseline smoke"];
    // same seed, same batches: the first loss is the same forward; the second follows one AdamW step
    assert.ok(
      Math.abs(w.lossFirst - wasmLosses.lossFirst) < 1e-3,
      `first loss webgpu ${w.lossFirst} vs wasm ${wasmLosses.lossFirst}`,
    );
    assert.ok(
      Math.abs(w.lossLast - wasmLosses.lossLast) < 1e-2,
      `second loss webgpu ${w.lossLast} vs wasm ${wasmLosses.lossLast}`,
    );
  },
);

test(
  "the unpacked bundle runs the fused-kernel bench on webgpu: every op, each through its fused kernel",
  { skip: !LAVAPIPE ? "no Vulkan driver (mesa-vulkan-drivers >= 25)" : false, timeout: 600_000 },
  (t) => {
    if (!built) return t.skip("bundle not built");
    // correctness only (lavapipe is a CPU): the bundled WGSL compiles and runs, and nothing fell back
    const r = runBundle(["kernels", "--size=tiny", "--reps=1"]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.stdout, /backend: webgpu /);
    for (const op of [
      "rmsNorm",
      "swiglu",
      "rope",
      "attention core",
      "self-attention",
      "cross-entropy",
      "matmul",
      "AdamW",
    ])
      assert.match(r.stdout, new RegExp(`^${op}.*\\d+\\.\\d+x`, "m"), `no timed row for ${op}:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /not fused here/, r.stdout);
  },
);

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
