/**
 * The one builder of tfjs-node's native binding from a TensorFlow pip wheel, shared by
 * scripts/setup-backend.mjs (postinstall: @tensorflow/tfjs-node against the tensorflow-cpu wheel) and
 * scripts/setup-gpu.mjs (`npm run setup:gpu`: @tensorflow/tfjs-node-gpu against the `tensorflow` wheel and the
 * CUDA 12 libraries of its `and-cuda` extra).
 *
 * Layout it leaves in the package (`<pkg>/deps`), mirroring a pip install where `deps/lib` plays the part of
 * site-packages/tensorflow and `deps/nvidia` the part of site-packages/nvidia:
 *   deps/include/...                       the TF C headers (tensorflow/include in the wheel)
 *   deps/lib/libtensorflow_cc.so.2         + libtensorflow_framework.so.2, stripped, with the names the
 *                                          binding links (libtensorflow.so, .so.2, .so.2.9.1, libtensorflow_framework.so)
 *   deps/nvidia/<component>/lib/*.so*      CUDA wheels only: the nvidia-*-cu12 libraries (headers left out)
 *   deps/lib/<each CUDA .so>               CUDA wheels only: a relative symlink to it, so one directory holds them all
 * The binding's own RUNPATH is `$ORIGIN/../../deps/lib` (tfjs-node's binding.gyp). With CUDA wheels the two TF
 * libraries' RUNPATH gets `$ORIGIN` and `$ORIGIN/../nvidia/<component>/lib` in front of their own entries
 * (patchelf, where installed), so TF's dlopen of libcudart/libcublas/libcudnn/... finds them with no
 * LD_LIBRARY_PATH. Without patchelf the symlinks and the pip-like layout are the fallback (the wheel's own
 * RUNPATH entries are relative to the same layout).
 *
 * Also here: reading a wheel's METADATA and resolving its Requires-Dist for an extra (PEP 508 markers).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const TF_WHEEL_VERSION = process.env.LST_TF_WHEEL_VERSION || "2.21.0";
export const WHEEL_CACHE = process.env.LST_WHEEL_CACHE || path.join(os.homedir(), ".cache", "lst-lab", "wheels");

/** spawnSync with text output; never throws (a missing program gives ok: false, code 'ENOENT' and its error text). */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: opts.timeout ?? 600_000, maxBuffer: 1 << 26, ...opts });
  const err = r.error ? `${r.error.message}\n` : "";
  return {
    ok: r.status === 0,
    out: `${err}${r.stdout ?? ""}${r.stderr ?? ""}`,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    status: r.status,
    code: r.error?.code,
  };
}

/** The last `n` non-empty lines of a command's output, joined for one log line. */
export const tail = (text, n = 2) => text.trim().split("\n").filter(Boolean).slice(-n).join(" | ");

/** A python with pip: $LST_PYTHON, python3 or python; null when none. */
export function findPython() {
  for (const py of [process.env.LST_PYTHON, "python3", "python"].filter(Boolean)) {
    if (run(py, ["-m", "pip", "--version"], { timeout: 30_000 }).ok) return py;
  }
  return null;
}

/** File name of a cached wheel of `dist` (normalised, e.g. tensorflow_cpu) at `version` in `dir`, or null. */
export function findWheel(dir, dist, version) {
  if (!fs.existsSync(dir)) return null;
  const prefix = `${dist.replace(/[-.]+/g, "_")}-${version}-`;
  return fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith(".whl")) ?? null;
}

/**
 * `pip download` binary wheels of `reqs` into `dir` (`deps: false` adds --no-deps). Returns pip's result; the
 * wheels pip fetched are listed by `wheelsIn(dir)`.
 */
export function pipDownload(py, reqs, dir, { deps = false, timeout = 1_800_000 } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const args = ["-m", "pip", "download", "--only-binary=:all:", "-d", dir, ...(deps ? [] : ["--no-deps"]), ...reqs];
  return run(py, args, { timeout });
}

export const wheelsIn = (dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".whl"))
        .sort()
    : [];

/** The text of `<name>.dist-info/METADATA` inside a wheel (a zip), read with python's zipfile. */
export function readWheelMetadata(py, wheel) {
  const code = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = [n for n in z.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]
    if not names: sys.exit('no *.dist-info/METADATA in ' + sys.argv[1])
    sys.stdout.write(z.read(names[0]).decode('utf-8'))
`;
  const r = run(py, ["-c", code, wheel], { timeout: 120_000 });
  if (!r.ok) throw new Error(`cannot read the METADATA of ${wheel}: ${tail(r.out, 3)}`);
  return r.stdout;
}

/** The marker environment of a Linux CPython (PEP 508 names); `extra` is set per evaluation. */
export function markerEnvironment(pythonVersion = "3.11") {
  const machine = { x64: "x86_64", arm64: "aarch64" }[process.arch] ?? process.arch;
  return {
    os_name: "posix",
    sys_platform: "linux",
    platform_system: "Linux",
    platform_machine: machine,
    platform_python_implementation: "CPython",
    implementation_name: "cpython",
    python_version: pythonVersion.split(".").slice(0, 2).join("."),
    python_full_version: pythonVersion,
    extra: "",
  };
}

/** Compare dotted versions numerically where both sides are numeric (enough for python_version markers). */
function cmpVersion(a, b) {
  const pa = a.split("."),
    pb = b.split(".");
  if (![...pa, ...pb].every((x) => /^\d+$/.test(x))) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

/**
 * Evaluate a PEP 508 environment marker, e.g. `extra == "and-cuda" and sys_platform == "linux"`.
 * Supports and/or, parentheses, and ==, !=, <, <=, >, >=, ~= (as >=), in, not in on variables and quoted strings.
 * Extra names compare normalised (PEP 685: runs of -_. become -, lower case).
 */
export function evaluateMarker(marker, env) {
  const tokens = marker.match(
    /\s*("[^"]*"|'[^']*'|\(|\)|===|==|!=|~=|<=|>=|<|>|not\s+in\b|in\b|and\b|or\b|[A-Za-z_][A-Za-z0-9_.]*)/g,
  );
  if (!tokens || tokens.join("").replace(/\s+/g, "") !== marker.replace(/\s+/g, ""))
    throw new Error(`cannot parse the environment marker '${marker}'`);
  const toks = tokens.map((t) => t.trim().replace(/\s+/g, " "));
  let i = 0;
  const norm = (s) => s.toLowerCase().replace(/[-_.]+/g, "-");
  const value = () => {
    const t = toks[i++];
    if (t === undefined) throw new Error(`environment marker '${marker}' ends early`);
    if (/^["']/.test(t)) return { v: t.slice(1, -1), isExtra: false };
    if (!(t in env)) throw new Error(`unknown variable '${t}' in the environment marker '${marker}'`);
    return { v: String(env[t]), isExtra: t === "extra" };
  };
  const comparison = () => {
    if (toks[i] === "(") {
      i++;
      const r = orExpr();
      if (toks[i++] !== ")") throw new Error(`unbalanced parentheses in '${marker}'`);
      return r;
    }
    const l = value();
    const op = toks[i++];
    const r = value();
    const extra = l.isExtra || r.isExtra;
    const [a, b] = extra ? [norm(l.v), norm(r.v)] : [l.v, r.v];
    switch (op) {
      case "==":
      case "===":
        return extra ? a === b : cmpVersion(a, b) === 0 || a === b;
      case "!=":
        return !(a === b || (!extra && cmpVersion(a, b) === 0));
      case "<":
        return cmpVersion(a, b) < 0;
      case "<=":
        return cmpVersion(a, b) <= 0;
      case ">":
        return cmpVersion(a, b) > 0;
      case ">=":
      case "~=":
        return cmpVersion(a, b) >= 0;
      case "in":
        return b.includes(a);
      case "not in":
        return !b.includes(a);
      default:
        throw new Error(`unknown operator '${op}' in the environment marker '${marker}'`);
    }
  };
  const andExpr = () => {
    let r = comparison();
    while (toks[i] === "and") {
      i++;
      r = comparison() && r;
    }
    return r;
  };
  const orExpr = () => {
    let r = andExpr();
    while (toks[i] === "or") {
      i++;
      r = andExpr() || r;
    }
    return r;
  };
  const result = orExpr();
  if (i !== toks.length) throw new Error(`unexpected '${toks[i]}' in the environment marker '${marker}'`);
  return result;
}

/**
 * Every `Requires-Dist` of a METADATA text as { name, requirement, marker }: `requirement` is what pip takes
 * (name, extras and version specifier, no marker), `name` is normalised (lower case, `-`).
 * Example: `Requires-Dist: nvidia-cudnn-cu12<10.0,>=9.3.0.75; extra == "and-cuda"` ->
 *   { name: "nvidia-cudnn-cu12", requirement: "nvidia-cudnn-cu12<10.0,>=9.3.0.75", marker: 'extra == "and-cuda"' }
 */
export function parseRequiresDist(metadata) {
  const out = [];
  // the header ends at the first blank line; the long description follows
  for (const line of metadata.split(/\r?\n\r?\n/)[0].split(/\r?\n/)) {
    const m = /^Requires-Dist:\s*(.+)$/i.exec(line);
    if (!m) continue;
    const [req, ...rest] = m[1].split(";");
    const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req)?.[1];
    if (!name) throw new Error(`cannot parse the requirement '${m[1]}'`);
    out.push({
      name: name.toLowerCase().replace(/[-_.]+/g, "-"),
      requirement: req.trim().replace(/\s+/g, ""),
      marker: rest.join(";").trim(),
    });
  }
  return out;
}

/**
 * The requirements that `extra` adds on this platform: true with the extra, false without it (so the base
 * dependencies are left out). For tensorflow 2.21 and `and-cuda`: the twelve nvidia-*-cu12 packages.
 */
export function extraRequirements(metadata, extra, env = markerEnvironment()) {
  const applies = (r, e) => !r.marker || evaluateMarker(r.marker, { ...env, extra: e });
  return parseRequiresDist(metadata).filter((r) => applies(r, extra) && !applies(r, ""));
}

/** Does `require(<pkgName>)` from `root` load and compute on the `tensorflow` backend? (fresh process) */
export function checkNative(root, pkgName, { env = process.env, timeout = 120_000 } = {}) {
  const code =
    `const tf=require(${JSON.stringify(pkgName)});tf.setBackend('tensorflow');` +
    "const x=tf.tensor([1,2,3]);if(x.sum().dataSync()[0]!==6)process.exit(3);console.log(tf.getBackend())";
  const r = run(process.execPath, ["-e", code], { cwd: root, env, timeout });
  return r.ok && r.stdout.includes("tensorflow")
    ? { ok: true, out: r.out }
    : { ok: false, why: tail(r.out, 3) || `exit ${r.status}`, out: r.out };
}

/** patchelf on PATH ($LST_PATCHELF first), or null. */
export function findPatchelf() {
  for (const p of [process.env.LST_PATCHELF, "patchelf"].filter(Boolean))
    if (run(p, ["--version"], { timeout: 10_000 }).ok) return p;
  return null;
}

/** The DT_RUNPATH/DT_RPATH entries of an ELF file (readelf), [] when it has none. */
export function readRunpath(file) {
  const r = run("readelf", ["-d", file], { timeout: 30_000 });
  const m = /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]/.exec(r.stdout);
  return m ? m[1].split(":").filter(Boolean) : [];
}

/** Extract the wheel's headers and TF libraries, and the CUDA wheels' nvidia/ trees; prints the CUDA lib dirs. */
const EXTRACT_PY = `
import json, os, shutil, sys, zipfile
tf_wheel, deps, cuda_wheels = sys.argv[1], sys.argv[2], sys.argv[3:]
def put(z, n, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with z.open(n) as src, open(dst, 'wb') as out: shutil.copyfileobj(src, out)
    mode = (z.getinfo(n).external_attr >> 16) & 0o777
    if mode & 0o111: os.chmod(dst, mode | 0o644)
with zipfile.ZipFile(tf_wheel) as z:
    found = set()
    for n in z.namelist():
        if n.endswith('/'): continue
        if n.startswith('tensorflow/include/'):
            put(z, n, os.path.join(deps, 'include', n[len('tensorflow/include/'):]))
        elif n in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            found.add(n); put(z, n, os.path.join(deps, 'lib', os.path.basename(n)))
    if len(found) != 2: sys.exit(tf_wheel + ' has no tensorflow/libtensorflow_cc.so.2 + libtensorflow_framework.so.2: not a Linux TensorFlow wheel')
lib_dirs = set()
for w in cuda_wheels:
    with zipfile.ZipFile(w) as z:
        for n in z.namelist():
            parts = n.split('/')
            if n.endswith('/') or parts[0] != 'nvidia' or 'include' in parts: continue
            put(z, n, os.path.join(deps, n))
            if len(parts) >= 4 and parts[2] == 'lib' and '.so' in parts[-1]: lib_dirs.add('/'.join(parts[1:3]))
print(json.dumps(sorted(lib_dirs)))
`;

/** node-gyp's script and node's header prefix, as npm would pass them to an install script. */
function gypEnv(root) {
  const npmRoot = run("npm", ["root", "-g"], { timeout: 60_000 }).stdout.trim();
  const gyp = [
    path.join(npmRoot, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(
      path.dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    ),
  ].find((p) => fs.existsSync(p));
  const nodedir = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), ".."), "/usr"].find(
    (d) => d && fs.existsSync(path.join(d, "include", "node", "node_api.h")),
  );
  return { gyp, nodedir };
}

/**
 * Build the binding of the tfjs-node package at `pkg` (tfjs-node or tfjs-node-gpu, same sources) against
 * `wheel`, with the libraries of `cudaWheels` (nvidia-*-cu12 wheels) beside it. `root` is the project whose
 * node_modules/.bin has node-pre-gyp. Replaces `<pkg>/deps`. Returns { ok, why?, cudaLibDirs, runpath }.
 */
export function buildBinding({ pkg, root, py, wheel, cudaWheels = [], log = () => {} }) {
  const deps = path.join(pkg, "deps");
  const lib = path.join(deps, "lib");
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(lib, { recursive: true });
  log(
    `extracting ${path.basename(wheel)}${cudaWheels.length ? ` and ${cudaWheels.length} CUDA wheels` : ""} into ${path.relative(root, deps) || deps} ...`,
  );
  let r = run(py, ["-c", EXTRACT_PY, wheel, deps, ...cudaWheels], { timeout: 1_800_000 });
  if (!r.ok) return { ok: false, why: `extracting the wheels failed: ${tail(r.out, 3)}` };
  const cudaLibDirs = JSON.parse(r.stdout.trim().split("\n").pop() || "[]");
  const tfLibs = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"].map((f) => path.join(lib, f));
  run("strip", ["--strip-unneeded", ...tfLibs]);
  for (const [link, target] of [
    ["libtensorflow.so", "libtensorflow_cc.so.2"],
    ["libtensorflow.so.2", "libtensorflow_cc.so.2"],
    // tfjs-node's install.js skips its download only when this name exists
    ["libtensorflow.so.2.9.1", "libtensorflow_cc.so.2"],
    ["libtensorflow_framework.so", "libtensorflow_framework.so.2"],
  ])
    fs.symlinkSync(target, path.join(lib, link));

  let runpath = "none needed (no CUDA libraries)";
  if (cudaLibDirs.length) {
    // one directory that holds every CUDA library: relative links, so the package can move
    for (const dir of cudaLibDirs) {
      for (const f of fs.readdirSync(path.join(deps, "nvidia", dir))) {
        if (!f.includes(".so") || fs.existsSync(path.join(lib, f))) continue;
        fs.symlinkSync(path.join("..", "nvidia", dir, f), path.join(lib, f));
      }
    }
    const patchelf = findPatchelf();
    if (patchelf) {
      for (const f of tfLibs) {
        const entries = [
          ...new Set(["$ORIGIN", ...cudaLibDirs.map((d) => `$ORIGIN/../nvidia/${d}`), ...readRunpath(f)]),
        ];
        r = run(patchelf, ["--set-rpath", entries.join(":"), f]);
        if (!r.ok) return { ok: false, why: `patchelf --set-rpath on ${path.basename(f)} failed: ${tail(r.out)}` };
      }
      runpath = "patchelf: $ORIGIN and $ORIGIN/../nvidia/*/lib on the TF libraries";
    } else {
      runpath = "no patchelf: relies on the pip-like deps/nvidia layout and the deps/lib symlinks";
      log("  patchelf not found: the TF libraries keep the wheel's RUNPATH (install patchelf for explicit paths)");
    }
  }

  // Force install.js to build from source against deps/ (a custom tf-lib URI that is never fetched).
  fs.writeFileSync(
    path.join(pkg, "scripts", "custom-binary.json"),
    JSON.stringify({ "tf-lib": "http://127.0.0.1:9/unused" }),
  );
  const { gyp, nodedir } = gypEnv(root);
  // install.js shells out to `node-pre-gyp`: npm puts node_modules/.bin on PATH for scripts, a direct call does not.
  const bins = [path.join(pkg, "node_modules", ".bin"), path.join(root, "node_modules", ".bin")];
  const env = { ...process.env, PATH: [...bins, process.env.PATH ?? ""].join(path.delimiter) };
  if (gyp) env.npm_config_node_gyp = gyp;
  if (nodedir) env.npm_config_nodedir = nodedir;
  log(
    `compiling ${path.basename(path.dirname(pkg)) === "@tensorflow" ? `@tensorflow/${path.basename(pkg)}` : pkg}'s binding with node-gyp ...`,
  );
  r = run(process.execPath, [path.join(pkg, "scripts", "install.js")], { cwd: pkg, env, timeout: 900_000 });
  if (!r.ok) return { ok: false, why: `node-gyp build failed: ${tail(r.out, 5)}`, cudaLibDirs, runpath };
  return { ok: true, cudaLibDirs, runpath };
}
