/**
 * `npm run gpu-bundle`: a self-contained folder (and a .tar of it) that runs the lab's training bench or a
 * training run on a GPU machine with no network and no Node.js, on WebGPU (Dawn over Vulkan) by default.
 *
 *   lst-gpu-bundle/
 *     run.sh                  unpacks the payload once, then runs `bench`, `train` or `info` (see run.sh)
 *     check.sh                the GPU check (scripts/gpu-bundle/check.sh): info, bench, 50 training steps
 *     peer/torch_lm_bench.py  the PyTorch peer (PEER_BENCH, else ../shared/peers/), where found
 *     README.txt, bundle.json what is inside, versions and sources
 *     app/lst.js              the lab bundled by esbuild (scripts/gpu-bundle/entry.ts): tfjs-core, the webgpu, wasm
 *                             and cpu backends, Dawn's JS; no libtensorflow (tfjs-node stays external and absent)
 *     app/*.wasm              the wasm backend's binaries (it looks for them beside lst.js)
 *     payload/node.xz         the node binary running this script (it must need only glibc/libstdc++)
 *     payload/dawn.node.xz    npm `webgpu`'s prebuilt Dawn (linux-x64)
 *     payload/libstdc++.so.6.xz  this machine's libstdc++, used where the target's lacks GLIBCXX_3.4.30
 *     lib/vulkan/libvulkan.so.1  the Vulkan loader from Debian's libvulkan1 .deb (`apt-get download libvulkan1`)
 *     data/cache/<smoke>/     the smoke dataset's JSON files (no audio): what `train --data=smoke` loads
 * At most 64 MiB (checked). xz outputs are cached in ~/.cache/lst-lab/gpu-bundle (LST_BUNDLE_CACHE).
 *
 * Run: npx tsx scripts/gpu-bundle.ts [--out=dist/gpu-bundle] [--no-tar]
 * Env: LST_BUNDLE_NODE (another node binary, e.g. an official linux-x64 build), LST_VULKAN_DEB (a libvulkan1 .deb).
 */
import { spawnSync } from "child_process";
import crypto from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { findPeerScript } from "../lib/internal";

const ROOT = path.resolve(__dirname, "..");
const NAME = "lst-gpu-bundle";
const MAX_BYTES = 64 * 1024 * 1024;
const CACHE = process.env.LST_BUNDLE_CACHE || path.join(os.homedir(), ".cache", "lst-lab", "gpu-bundle");
const DATA_PRESET = "smoke";
/** Libraries a portable node or dawn.node may need from the target: glibc's and the C++ runtime. */
const SYSTEM_LIBS = new Set([
  "libc.so.6",
  "libm.so.6",
  "libdl.so.2",
  "libpthread.so.0",
  "librt.so.1",
  "ld-linux-x86-64.so.2",
  "libstdc++.so.6",
  "libgcc_s.so.1",
]);
/** Packages the bundle leaves out: native TF (the CUDA/CPU route, not portable), TTS, notebooks, figure export. */
const EXTERNAL = [
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs-node-gpu",
  "@echogarden/espeak-ng-emscripten",
  "playwright-core",
  "tslab",
  "@tslab/typescript-for-tslab",
  "danfojs-node",
];

const log = (msg: string) => console.log(`[gpu-bundle] ${msg}`);

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
    );
  return r.stdout;
}

function parseArgs(argv: readonly string[]): { out: string; tar: boolean } {
  const o = { out: path.join(ROOT, "dist", "gpu-bundle"), tar: true };
  for (const a of argv) {
    if (a.startsWith("--out=")) o.out = path.resolve(a.slice("--out=".length));
    else if (a === "--no-tar") o.tar = false;
    else throw new Error(`gpu-bundle: unknown option '${a}'; use --out=DIR --no-tar`);
  }
  return o;
}

/** Shared libraries an ELF file needs (readelf). */
function needed(file: string): string[] {
  return [...sh("readelf", ["-d", file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** `src` compressed with xz -9 into `dst`, through a cache keyed by name, size and mtime. */
function xzCached(src: string, dst: string): void {
  const st = fs.statSync(src);
  const key = `${path.basename(src)}-${st.size}-${Math.floor(st.mtimeMs)}.xz`;
  const cached = path.join(CACHE, key);
  if (!fs.existsSync(cached)) {
    log(`compressing ${src} (${(st.size / 2 ** 20).toFixed(1)} MiB) with xz -9, cached for later builds ...`);
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = `${cached}.tmp-${process.pid}`;
    const fd = fs.openSync(tmp, "w");
    const r = spawnSync("xz", ["-9", "-T1", "-c", src], { stdio: ["ignore", fd, "pipe"] });
    fs.closeSync(fd);
    if (r.status !== 0) throw new Error(`xz failed on ${src}: ${r.error?.message ?? r.stderr?.toString()}`);
    fs.renameSync(tmp, cached);
  }
  fs.copyFileSync(cached, dst);
}

/** The node binary to ship: portable (glibc and the C++ runtime only), or a clear error. */
function portableNode(): { file: string; version: string } {
  const file = fs.realpathSync(process.env.LST_BUNDLE_NODE || process.execPath);
  const extra = needed(file).filter((l) => !SYSTEM_LIBS.has(l));
  if (extra.length) {
    throw new Error(
      `${file} links ${extra.join(", ")} (a distribution build of node), so it cannot run without them: set LST_BUNDLE_NODE to an official nodejs.org linux-x64 node binary`,
    );
  }
  return { file, version: sh(file, ["--version"]).trim() };
}

/** libvulkan.so.1 from the libvulkan1 .deb ($LST_VULKAN_DEB or `apt-get download`), else this system's copy. */
function vulkanLoader(dst: string): string {
  let deb = process.env.LST_VULKAN_DEB;
  if (!deb) {
    const dir = path.join(CACHE, "deb");
    fs.mkdirSync(dir, { recursive: true });
    deb = fs.readdirSync(dir).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f));
    if (!deb) {
      const r = spawnSync("apt-get", ["download", "libvulkan1"], { cwd: dir, encoding: "utf8" });
      deb = fs.readdirSync(dir).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f));
      if (!deb)
        log(
          `apt-get download libvulkan1 failed (${(r.error?.message ?? r.stderr ?? "").trim().split("\n").pop()}); using this system's loader`,
        );
    }
    if (deb) deb = path.join(dir, deb);
  }
  if (deb) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lst-vulkan-"));
    try {
      sh("dpkg-deb", ["-x", deb, tmp]);
      const libDir = path.join(tmp, "usr", "lib", "x86_64-linux-gnu");
      const so = fs.readdirSync(libDir).find((f) => /^libvulkan\.so\.1\.\d+/.test(f));
      if (!so) throw new Error(`${deb} has no usr/lib/x86_64-linux-gnu/libvulkan.so.1.*`);
      fs.copyFileSync(path.join(libDir, so), dst);
      return `${path.basename(deb)} (${so})`;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const sys = ["/usr/lib/x86_64-linux-gnu/libvulkan.so.1", "/usr/lib64/libvulkan.so.1"].find((f) => fs.existsSync(f));
  if (!sys)
    throw new Error(
      "no Vulkan loader: apt-get download libvulkan1 failed and none is installed (apt-get install libvulkan1, or set LST_VULKAN_DEB)",
    );
  fs.copyFileSync(fs.realpathSync(sys), dst);
  return `this system's ${fs.realpathSync(sys)}`;
}

/** The smoke dataset's JSON files (built here first if missing; its audio shards stay behind). */
async function smokeData(dstRoot: string): Promise<string> {
  const { buildDataset } = await import("../lib");
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const ds = await buildDataset(DATA_PRESET);
    const rel = path.relative(ROOT, ds.dir);
    const dst = path.join(dstRoot, rel);
    fs.mkdirSync(dst, { recursive: true });
    for (const f of fs.readdirSync(ds.dir).filter((f) => f.endsWith(".json")))
      fs.copyFileSync(path.join(ds.dir, f), path.join(dst, f));
    return rel;
  } finally {
    process.chdir(cwd);
  }
}

function libstdcxx(): string {
  const f = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6"].find((p) => fs.existsSync(p));
  if (!f) throw new Error("no libstdc++.so.6 on this machine to bundle");
  return fs.realpathSync(f);
}

function version(pkg: string): string {
  return (
    JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }
  ).version;
}

function filesUnder(dir: string): { rel: string; bytes: number }[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((rel) => ({ rel, full: path.join(dir, rel) }))
    .filter((f) => fs.statSync(f.full).isFile())
    .map((f) => ({ rel: f.rel, bytes: fs.statSync(f.full).size }))
    .sort((a, b) => a.rel.localeCompare(b.rel));
}

async function bundleJs(dir: string): Promise<string[]> {
  const esbuild = await import("esbuild");
  // left-out packages become modules that throw when loaded (the lab's loaders catch that), rather than
  // externals that Node could find in some node_modules above the bundle and mix with the bundle's tfjs-core
  const leftOut = new RegExp(`^(${EXTERNAL.map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})(/.*)?$`);
  const leaveOut = {
    name: "leave-out",
    setup(b: import("esbuild").PluginBuild) {
      b.onResolve({ filter: leftOut }, (a) => ({ path: a.path, namespace: "left-out" }));
      b.onLoad({ filter: /.*/, namespace: "left-out" }, (a) => ({
        contents: `throw new Error(${JSON.stringify(`${a.path} is not in the GPU bundle (it has the webgpu, wasm and cpu backends)`)});`,
        loader: "js",
      }));
    },
  };
  const r = await esbuild.build({
    entryPoints: [path.join(ROOT, "scripts", "gpu-bundle", "entry.ts")],
    outfile: path.join(dir, "app", "lst.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // not minified: stack traces on the GPU machine stay readable (about 2 MiB more)
    minify: false,
    plugins: [leaveOut],
    // npm `webgpu` is ESM and finds dawn.node from import.meta.url: point it at app/lst.js
    define: { "import.meta.url": "__lstImportMetaUrl" },
    // and no node_modules lookups at run time: a dynamic require (lib/backend.ts loads tfjs-node by a variable
    // name) must not find a tfjs-node of some checkout above the bundle
    banner: { js: 'var __lstImportMetaUrl = require("url").pathToFileURL(__filename).href; module.paths.length = 0;' },
    metafile: true,
    logLevel: "error",
  });
  const inputs = Object.keys(r.metafile.inputs);
  // a backend lib/backend.ts loads with a non-literal require would silently be missing from the bundle
  const backendSrc = fs.readFileSync(path.join(ROOT, "lib", "backend.ts"), "utf8");
  for (const pkg of [
    "@tensorflow/tfjs-backend-webgpu",
    "@tensorflow/tfjs-backend-wasm",
    "@tensorflow/tfjs-backend-cpu",
  ]) {
    if (backendSrc.includes(pkg) && !inputs.some((i) => i.includes(`node_modules/${pkg}/`))) {
      throw new Error(
        `lib/backend.ts loads ${pkg} but esbuild did not bundle it: load it with a literal require("${pkg}") or import`,
      );
    }
  }
  return inputs;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.join(args.out, NAME);
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, "bundle.json")))
    throw new Error(`${dir} exists and is not a bundle: move it away or pick another --out`);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const d of ["app", "payload", "lib/vulkan"]) fs.mkdirSync(path.join(dir, d), { recursive: true });

  const t0 = Date.now();
  const node = portableNode();
  log(`bundling the lab with esbuild (entry scripts/gpu-bundle/entry.ts) ...`);
  const inputs = await bundleJs(dir);
  const wasmDir = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
  for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith(".wasm")))
    fs.copyFileSync(path.join(wasmDir, f), path.join(dir, "app", f));
  const dawn = path.join(ROOT, "node_modules", "webgpu", "dist", "linux-x64", "dawn.node");
  const dawnExtra = needed(dawn).filter((l) => !SYSTEM_LIBS.has(l));
  if (dawnExtra.length) throw new Error(`${dawn} links ${dawnExtra.join(", ")}: not portable`);
  xzCached(node.file, path.join(dir, "payload", "node.xz"));
  xzCached(dawn, path.join(dir, "payload", "dawn.node.xz"));
  const cxx = libstdcxx();
  xzCached(cxx, path.join(dir, "payload", "libstdc++.so.6.xz"));
  const vulkan = vulkanLoader(path.join(dir, "lib", "vulkan", "libvulkan.so.1"));
  log(`the ${DATA_PRESET} dataset (JSON only) ...`);
  const data = await smokeData(dir);

  const payloadHash = crypto.createHash("sha256");
  for (const f of fs.readdirSync(path.join(dir, "payload")).sort())
    payloadHash.update(fs.readFileSync(path.join(dir, "payload", f)));
  const id = payloadHash.digest("hex").slice(0, 16);
  const runSh = fs.readFileSync(path.join(ROOT, "scripts", "gpu-bundle", "run.sh"), "utf8").replace("@BUNDLE_ID@", id);
  fs.writeFileSync(path.join(dir, "run.sh"), runSh, { mode: 0o755 });
  fs.copyFileSync(path.join(ROOT, "scripts", "gpu-bundle", "check.sh"), path.join(dir, "check.sh"));
  fs.chmodSync(path.join(dir, "check.sh"), 0o755);
  const peer = findPeerScript(ROOT);
  if (peer.found) {
    fs.mkdirSync(path.join(dir, "peer"), { recursive: true });
    fs.copyFileSync(peer.path, path.join(dir, "peer", "torch_lm_bench.py"));
  }
  const commit =
    spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim() || "unknown";
  const dirty =
    spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: ROOT,
      encoding: "utf8",
    }).stdout.trim() !== "";
  const manifest = {
    name: NAME,
    id,
    lab: `${commit}${dirty ? " (with uncommitted changes)" : ""}`,
    builtAt: new Date().toISOString(),
    node: `${node.version} from ${node.file}`,
    webgpu: `npm webgpu ${version("webgpu")} (dawn.node linux-x64)`,
    tfjs: `tfjs-core ${version("@tensorflow/tfjs-core")}, tfjs-backend-webgpu ${version("@tensorflow/tfjs-backend-webgpu")}, tfjs-backend-wasm ${version("@tensorflow/tfjs-backend-wasm")}, tfjs-backend-cpu ${version("@tensorflow/tfjs-backend-cpu")}`,
    backendsBundled: ["webgpu", "wasm", "cpu"].filter((b) =>
      inputs.some((i) => i.includes(`node_modules/@tensorflow/tfjs-backend-${b}/`)),
    ),
    vulkanLoader: vulkan,
    libstdcxx: cxx,
    data: `${data} (${DATA_PRESET} preset, JSON files only)`,
    peer: peer.found
      ? `peer/torch_lm_bench.py from ${path.relative(ROOT, peer.path)}`
      : `none (not found at ${path.relative(ROOT, peer.path)}; set PEER_BENCH)`,
    files: [] as { rel: string; bytes: number }[],
  };
  fs.writeFileSync(path.join(dir, "README.txt"), readme(manifest));
  manifest.files = filesUnder(dir);
  fs.writeFileSync(path.join(dir, "bundle.json"), JSON.stringify(manifest, null, 2));
  const total = filesUnder(dir).reduce((a, f) => a + f.bytes, 0);
  if (total > MAX_BYTES)
    throw new Error(
      `the bundle is ${(total / 2 ** 20).toFixed(1)} MiB, over the 64 MiB limit: ${JSON.stringify(manifest.files)}`,
    );
  log(`${dir}: ${(total / 2 ** 20).toFixed(1)} MiB, backends ${manifest.backendsBundled.join(", ")}, ${vulkan}`);
  if (args.tar) {
    const tarFile = path.join(args.out, `${NAME}.tar`);
    sh("tar", ["-cf", tarFile, "-C", args.out, NAME]);
    log(
      `${tarFile}: ${(fs.statSync(tarFile).size / 2 ** 20).toFixed(1)} MiB (copy it over, then: tar -xf ${NAME}.tar && ${NAME}/run.sh bench)`,
    );
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function readme(m: {
  id: string;
  lab: string;
  node: string;
  webgpu: string;
  tfjs: string;
  vulkanLoader: string;
  data: string;
  peer: string;
}): string {
  return `LST Lab: portable GPU run (bundle ${m.id}, lab ${m.lab})

  tar -xf ${NAME}.tar && cd ${NAME}
  ./run.sh info                     node, the WebGPU adapter Dawn finds, the Vulkan loader in use
  ./check.sh [OUTDIR]               the GPU check: info, the bench at d512 and reference, 50 training steps,
                                    the gpu scale's step time
  ./run.sh bench                    the training bench (reference size, plus d512 on a GPU; tokens/s, ms/step)
  ./run.sh bench --sizes=d512 --no-peer
  ./run.sh step-time --scale=gpu    ms per step of each model at the gpu scale (what --dry-run estimates)
  ./run.sh kernels --size=d512      each fused webgpu kernel against the tfjs ops it replaces
  ./run.sh train --data=${DATA_PRESET} --model.kind=lst --train.steps=50 --runDir=data/runs/lst-${DATA_PRESET}

Backend: LST_BACKEND=webgpu unless set (LST_BACKEND=wasm or cpu also work; no libtensorflow is bundled).
Needs: Linux x86_64, glibc >= 2.34, /bin/sh, xz or python3 (first run only), and for WebGPU a Vulkan driver:
NVIDIA's driver ships its ICD (nvidia_icd.json; in a container NVIDIA_DRIVER_CAPABILITIES must include
graphics); on a CPU-only machine Mesa >= 25's lavapipe works (slowly). No Node.js and no network needed.
Results: data/bench/train-bench.json and data/runs/ in this folder.

Inside: ${m.node}; ${m.webgpu}; ${m.tfjs}; Vulkan loader ${m.vulkanLoader}; data ${m.data}; PyTorch peer ${m.peer}
(the bench runs it where python3 has torch, on cuda when torch sees a GPU).
`;
}

main().catch((e: unknown) => {
  console.error(`[gpu-bundle] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
