#!/usr/bin/env node
/**
 * postinstall: leave this machine with the best TensorFlow.js backend it can have, and say which.
 *
 * Order of attempts for the native `tensorflow` backend (@tensorflow/tfjs-node 4.22):
 *   1. already built (a previous install) -> nothing to do;
 *   2. tfjs-node's own install script, which downloads libtensorflow 2.9.1 from Google storage
 *      (works where that host is reachable; skipped with LST_SKIP_DOWNLOAD=1);
 *   3. the offline build against the tensorflow-cpu wheel from pip (see environment.md): the wheel carries
 *      the TF C API in libtensorflow_cc.so.2, which tfjs-node's N-API binding builds against unchanged
 *      (scripts/tfjs-wheel-build.mjs, the builder `npm run setup:gpu` shares);
 *   4. otherwise a clear message: the lab falls back to wasm (then pure-JS cpu) at run time.
 * The script never fails `npm install`/`npm ci`: a missing native backend is reported, not fatal.
 * tfjs-node's own install script is disabled in package.json (`allowScripts`) because offline it crashes.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  TF_WHEEL_VERSION as TF_WHEEL,
  WHEEL_CACHE as CACHE,
  buildBinding,
  checkNative,
  findPython,
  findWheel,
  pipDownload,
  run,
  tail,
} from "./tfjs-wheel-build.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PKG = path.join(ROOT, "node_modules", "@tensorflow", "tfjs-node");
const REPORT = path.join(ROOT, "node_modules", ".lst-backend.json");
const log = (msg) => console.log(`[setup-backend] ${msg}`);

/** Does `require('@tensorflow/tfjs-node')` load and give the `tensorflow` backend? (fresh process) */
function nativeWorks() {
  if (!fs.existsSync(PKG)) return { ok: false, why: "@tensorflow/tfjs-node is not installed" };
  return checkNative(ROOT, "@tensorflow/tfjs-node");
}

function tryDownloadInstall() {
  if (process.env.LST_SKIP_DOWNLOAD === "1") return false;
  log("trying tfjs-node's own install (downloads libtensorflow 2.9.1 from storage.googleapis.com) ...");
  const r = run(process.execPath, [path.join(PKG, "scripts", "install.js")], { cwd: PKG, timeout: 300_000 });
  if (!r.ok) log(`  download install failed (expected offline): ${r.out.trim().split("\n").slice(-1)[0] ?? ""}`);
  return r.ok && nativeWorks().ok;
}

function tryWheelBuild() {
  const py = findPython();
  if (!py) {
    log("  no python3 with pip: cannot fetch the tensorflow-cpu wheel");
    return false;
  }
  let wheel = findWheel(CACHE, "tensorflow_cpu", TF_WHEEL);
  if (!wheel) {
    log(`fetching the tensorflow-cpu ${TF_WHEEL} wheel with pip into ${CACHE} (~274 MB) ...`);
    const r = pipDownload(py, [`tensorflow-cpu==${TF_WHEEL}`], CACHE, { timeout: 900_000 });
    if (!r.ok) {
      log(`  pip download failed: ${tail(r.out)}`);
      return false;
    }
    wheel = findWheel(CACHE, "tensorflow_cpu", TF_WHEEL);
    if (!wheel) return false;
  }
  log(`building tfjs-node against ${wheel} (headers + libtensorflow_cc from the wheel) ...`);
  const b = buildBinding({ pkg: PKG, root: ROOT, py, wheel: path.join(CACHE, wheel), log: (m) => log(`  ${m}`) });
  if (!b.ok) {
    log(`  ${b.why}`);
    return false;
  }
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
  const report = {
    backend: check.ok ? "tensorflow" : "wasm",
    route,
    why: check.ok ? null : check.why,
    at: new Date().toISOString(),
  };
  fs.writeFileSync(REPORT, JSON.stringify(report, null, 2));
  if (check.ok) log(`best backend on this machine: tensorflow (native libtensorflow, ${route})`);
  else {
    log(`native backend unavailable (${check.why}).`);
    log(
      "best backend on this machine: wasm (single-threaded, ~10x slower). See environment.md to build the native one.",
    );
  }
}
main();
