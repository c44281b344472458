#!/usr/bin/env node
/**
 * postinstall: leave this machine with the best TensorFlow.js backend it can have, and say which.
 *
 * Order of attempts for the native `tensorflow` backend (@tensorflow/tfjs-node 4.22):
 *   1. already built (a previous install) -> nothing to do;
 *   2. tfjs-node's own install script, which downloads libtensorflow 2.9.1 from Google storage
 *      (works where that host is reachable; skipped with LST_SKIP_DOWNLOAD=1);
 *   3. the offline build against the tensorflow-cpu wheel from pip (see environment.md): the wheel carries
 *      the TF C API in libtensorflow_cc.so.2, which tfjs-node's N-API binding builds against unchanged;
 *   4. otherwise a clear message: the lab falls back to wasm (then pure-JS cpu) at run time.
 * The script never fails `npm install`/`npm ci`: a missing native backend is reported, not fatal.
 * tfjs-node's own install script is disabled in package.json (`allowScripts`) because offline it crashes.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PKG = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node");
const DEPS = path.join(PKG, "deps");
const TF_WHEEL = process.env.LST_TF_WHEEL_VERSION || "2.21.0";
const CACHE = process.env.LST_WHEEL_CACHE || path.join(os.homedir(), ".cache", "lst-lab", "wheels");
const REPORT = path.join(ROOT, "node_modules", ".lst-backend.json");
const log = (msg) => console.log(`[setup-backend] ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: opts.timeout ?? 600_000, ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, status: r.status };
}

/** Does `require('@tensorflow/tfjs-node')` load and give the `tensorflow` backend? (fresh process) */
function nativeWorks() {
  if (!fs.existsSync(PKG)) return { ok: false, why: "@tensorflow/tfjs-node is not installed" };
  const r = run(process.execPath, ["-e",
    "const tf=require('@tensorflow/tfjs-node');tf.setBackend('tensorflow');" +
    "const x=tf.tensor([1,2,3]);if(x.sum().dataSync()[0]!==6)process.exit(3);console.log(tf.getBackend())"],
    { cwd: ROOT, timeout: 120_000 });
  return r.ok && r.out.includes("tensorflow") ? { ok: true } : { ok: false, why: r.out.trim().split("\n").slice(-3).join(" | ") };
}

function tryDownloadInstall() {
  if (process.env.LST_SKIP_DOWNLOAD === "1") return false;
  log("trying tfjs-node's own install (downloads libtensorflow 2.9.1 from storage.googleapis.com) ...");
  const r = run(process.execPath, [path.join(PKG, "scripts", "install.js")], { cwd: PKG, timeout: 300_000 });
  if (!r.ok) log(`  download install failed (expected offline): ${r.out.trim().split("\n").slice(-1)[0] ?? ""}`);
  return r.ok && nativeWorks().ok;
}

function findPython() {
  for (const py of [process.env.LST_PYTHON, "python3", "python"].filter(Boolean)) {
    const r = run(py, ["-m", "pip", "--version"], { timeout: 30_000 });
    if (r.ok) return py;
  }
  return null;
}

function tryWheelBuild() {
  const py = findPython();
  if (!py) { log("  no python3 with pip: cannot fetch the tensorflow-cpu wheel"); return false; }
  fs.mkdirSync(CACHE, { recursive: true });
  let wheel = fs.readdirSync(CACHE).find((f) => f.startsWith(`tensorflow_cpu-${TF_WHEEL}-`) && f.endsWith(".whl"));
  if (!wheel) {
    log(`fetching the tensorflow-cpu ${TF_WHEEL} wheel with pip into ${CACHE} (~274 MB) ...`);
    const r = run(py, ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", CACHE, `tensorflow-cpu==${TF_WHEEL}`], { timeout: 900_000 });
    if (!r.ok) { log(`  pip download failed: ${r.out.trim().split("\n").slice(-2).join(" | ")}`); return false; }
    wheel = fs.readdirSync(CACHE).find((f) => f.startsWith(`tensorflow_cpu-${TF_WHEEL}-`) && f.endsWith(".whl"));
    if (!wheel) return false;
  }
  log(`building tfjs-node against ${wheel} (headers + libtensorflow_cc from the wheel) ...`);
  fs.rmSync(DEPS, { recursive: true, force: true });
  fs.mkdirSync(path.join(DEPS, "lib"), { recursive: true });
  // Extract only what the binding needs: the C headers and the two shared libraries.
  const extract = `
import zipfile, sys, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n.startswith('tensorflow/include/'):
            dst = os.path.join(deps, 'include', n[len('tensorflow/include/'):])
        elif n in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            dst = os.path.join(deps, 'lib', os.path.basename(n))
        else:
            continue
        if n.endswith('/'): continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with z.open(n) as src, open(dst, 'wb') as out: shutil.copyfileobj(src, out)
`;
  let r = run(py, ["-c", extract, path.join(CACHE, wheel), DEPS]);
  if (!r.ok) { log(`  extracting the wheel failed: ${r.out.trim()}`); return false; }
  const lib = path.join(DEPS, "lib");
  run("strip", ["--strip-unneeded", path.join(lib, "libtensorflow_cc.so.2"), path.join(lib, "libtensorflow_framework.so.2")]);
  for (const [link, target] of [
    ["libtensorflow.so", "libtensorflow_cc.so.2"],
    ["libtensorflow.so.2", "libtensorflow_cc.so.2"],
    ["libtensorflow.so.2.9.1", "libtensorflow_cc.so.2"],
    ["libtensorflow_framework.so", "libtensorflow_framework.so.2"],
  ]) fs.symlinkSync(target, path.join(lib, link));
  // Force install.js to build from source against deps/ (it skips the download when libtensorflow.so.2.9.1 exists).
  fs.writeFileSync(path.join(PKG, "scripts", "custom-binary.json"), JSON.stringify({ "tf-lib": "http://127.0.0.1:9/unused" }));
  const npmRoot = run("npm", ["root", "-g"]).out.trim();
  const gyp = [path.join(npmRoot, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js")]
    .find((p) => fs.existsSync(p));
  const nodedir = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), ".."), "/usr"]
    .find((d) => d && fs.existsSync(path.join(d, "include", "node", "node_api.h")));
  // install.js shells out to `node-pre-gyp`: npm puts node_modules/.bin on PATH for scripts, a direct call does not.
  const bins = [path.join(PKG, "node_modules", ".bin"), path.join(ROOT, "node_modules", ".bin")];
  const env = { ...process.env, PATH: [...bins, process.env.PATH ?? ""].join(path.delimiter) };
  if (gyp) env.npm_config_node_gyp = gyp;
  if (nodedir) env.npm_config_nodedir = nodedir;
  r = run(process.execPath, [path.join(PKG, "scripts", "install.js")], { cwd: PKG, env, timeout: 900_000 });
  if (!r.ok) { log(`  node-gyp build failed: ${r.out.trim().split("\n").slice(-5).join(" | ")}`); return false; }
  return nativeWorks().ok;
}

function main() {
  let route = null;
  let check = nativeWorks();
  if (check.ok) route = "already built";
  else if (process.env.LST_SKIP_NATIVE === "1") log("LST_SKIP_NATIVE=1: not building the native backend");
  else if (tryDownloadInstall()) route = "tfjs-node download (libtensorflow 2.9.1)";
  else if (tryWheelBuild()) route = `offline build against the tensorflow-cpu ${TF_WHEEL} wheel`;
  check = nativeWorks();
  const report = { backend: check.ok ? "tensorflow" : "wasm", route, why: check.ok ? null : check.why, at: new Date().toISOString() };
  fs.writeFileSync(REPORT, JSON.stringify(report, null, 2));
  if (check.ok) log(`best backend on this machine: tensorflow (native libtensorflow, ${route})`);
  else {
    log(`native backend unavailable (${check.why}).`);
    log("best backend on this machine: wasm (single-threaded, ~10x slower). See environment.md to build the native one.");
  }
}
main();
