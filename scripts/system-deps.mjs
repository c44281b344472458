#!/usr/bin/env node
/**
 * postinstall, first step: the system (Debian) packages the lab needs, the way `playwright install --with-deps`
 * brings a browser's: apt-get as root, or through non-interactive `sudo -n`; otherwise it prints the one
 * command to run. Packages already there are skipped; nothing is asked (no stdin); `npm install` never fails
 * because of this step. LST_SKIP_SYSTEM_DEPS=1 only reports. It ends by saying what is present and missing.
 *
 *   node scripts/system-deps.mjs             install what is missing (what `npm install` runs)
 *   node scripts/system-deps.mjs --dry-run   say what is missing and the command that would run
 *
 * SYSTEM_DEPS is the one table of system packages: append a row (apt name, reason, presence check, and the
 * suite per Debian release when the release's own version is too old) and list it in environment.md.
 * The decision (`planSystemDeps`) takes its probes of the machine as an argument, so it is unit-tested.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `a` >= `b` for Debian versions, comparing the numeric parts of the upstream version (epoch dropped). */
export function versionAtLeast(a, b) {
  const nums = (v) =>
    v
      .replace(/^\d+:/, "")
      .split(/[^0-9]+/)
      .filter(Boolean)
      .map(Number);
  const [x, y] = [nums(a), nums(b)];
  for (let i = 0; i < y.length; i++) {
    if ((x[i] ?? 0) !== y[i]) return (x[i] ?? 0) > y[i];
  }
  return true;
}

/** Installed through dpkg, at `min` or newer when given. */
const installed = (p, pkg, min) => {
  const v = p.dpkgVersion(pkg);
  return v !== null && (!min || versionAtLeast(v, min));
};

/**
 * The system packages, each with why the lab needs it, the check that tells whether it is present, and
 * (`suite`) where a Debian release's own version is too old, the suite to take it from.
 */
export const SYSTEM_DEPS = [
  {
    apt: "chromium",
    why: "headless browser: figure export (exportFigure), the PNG fallback of inline figures, the JupyterLab browser test",
    present: (p) => installed(p, "chromium") || Boolean(p.env.CHROMIUM_PATH && p.isFile(p.env.CHROMIUM_PATH)),
  },
  { apt: "fonts-liberation", why: "fonts for exported figures", present: (p) => installed(p, "fonts-liberation") },
  {
    apt: "mesa-vulkan-drivers",
    min: "25",
    suite: { bookworm: "bookworm-backports" },
    why: "Mesa 25 lavapipe (Vulkan on the CPU) for the WebGPU backend's tests; bookworm's Mesa 22.3 is refused by Dawn",
    present: (p) => installed(p, "mesa-vulkan-drivers", "25"),
  },
  {
    apt: "libvulkan1",
    suite: { bookworm: "bookworm-backports" },
    why: "the Vulkan loader that Dawn (WebGPU) opens",
    present: (p) => installed(p, "libvulkan1"),
  },
  {
    apt: "python3-venv",
    why: "the JupyterLab virtualenv of `npm run lab` and the browser test",
    present: (p) => installed(p, "python3-venv"),
  },
  {
    apt: "python3-pip",
    why: "fetches the tensorflow-cpu wheel the native backend is built against",
    present: (p) => installed(p, "python3-pip"),
  },
  { apt: "g++", why: "node-gyp build of tfjs-node's binding", present: (p) => installed(p, "g++") },
  { apt: "make", why: "node-gyp build of tfjs-node's binding", present: (p) => installed(p, "make") },
  {
    apt: "slurm-wlm",
    why: "the `slurm` executor and its test on a one-machine cluster (`npm run slurm:local -- start`)",
    present: (p) => installed(p, "slurm-wlm"),
  },
  { apt: "munge", why: "Slurm's authentication daemon", present: (p) => installed(p, "munge") },
  {
    apt: "patchelf",
    why: "`npm run setup:gpu` writes the CUDA libraries' RUNPATH with it; the wheel-builder test covers that step",
    present: (p) => installed(p, "patchelf"),
  },
];

/** The URI of the apt source that serves `suite` (one-line or deb822 format), or null. */
export function mirrorFor(sources, suite) {
  for (const line of sources.split("\n")) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m && m[2] === suite) return m[1];
  }
  for (const stanza of sources.split(/\n\s*\n/)) {
    const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, "mi").exec(stanza)?.[1].trim().split(/\s+/) ?? [];
    if (!field("Types").includes("deb") || /^Enabled:\s*no/im.test(stanza)) continue;
    if (field("Suites").includes(suite)) return field("URIs")[0] ?? null;
  }
  return null;
}

/**
 * What to do, from probes of the machine:
 *   probes = { env, isRoot(), hasCommand(name), sudoWorks(), dpkgVersion(pkg) -> string | null,
 *              isFile(path), codename() -> Debian release codename | null, aptSources() -> text }
 * Returns { present, missing (rows), via: "none" | "skip" | "root" | "sudo" | "print" | "no-apt",
 *           script (the shell script to run as root) | null, command (the one command for a person) | null }.
 */
export function planSystemDeps(probes, deps = SYSTEM_DEPS) {
  const present = deps.filter((d) => d.present(probes));
  const missing = deps.filter((d) => !present.includes(d));
  const base = { present, missing, script: null, command: null };
  if (!missing.length) return { ...base, via: "none" };
  if (!probes.hasCommand("apt-get")) return { ...base, via: "no-apt" };
  const codename = probes.codename();
  const bySuite = new Map();
  for (const d of missing) {
    const suite = (codename && d.suite?.[codename]) || "";
    bySuite.set(suite, [...(bySuite.get(suite) ?? []), d.apt]);
  }
  const steps = ["export DEBIAN_FRONTEND=noninteractive"];
  const sources = probes.aptSources();
  for (const suite of [...bySuite.keys()].filter(Boolean)) {
    if (mirrorFor(sources, suite)) continue;
    const mirror = mirrorFor(sources, codename) ?? "http://deb.debian.org/debian";
    steps.push(`echo "deb ${mirror} ${suite} main" > /etc/apt/sources.list.d/${suite}.list`);
  }
  steps.push("apt-get update -qq");
  for (const [suite, names] of bySuite)
    steps.push(`apt-get install -y -qq ${suite ? `-t ${suite} ` : ""}${names.join(" ")}`);
  const script = steps.join(" && ");
  const command = `sudo sh -c '${script}'`;
  const optOut = probes.env.LST_SKIP_SYSTEM_DEPS === "1";
  const via = optOut ? "skip" : probes.isRoot() ? "root" : probes.sudoWorks() ? "sudo" : "print";
  return { ...base, via, script, command };
}

/** The argv that runs the plan's script (root: sh; sudo: `sudo -n sh`), or null when nothing runs. */
export function installArgv(plan) {
  if (plan.via === "root") return ["sh", ["-c", plan.script]];
  if (plan.via === "sudo") return ["sudo", ["-n", "sh", "-c", plan.script]];
  return null;
}

/** Probes of this machine. */
export function machineProbes(env = process.env) {
  const run = (cmd, args) =>
    spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  const read = (f) => {
    try {
      return fs.readFileSync(f, "utf8");
    } catch {
      return "";
    }
  };
  return {
    env,
    isRoot: () => typeof process.getuid === "function" && process.getuid() === 0,
    hasCommand: (name) => run("sh", ["-c", `command -v ${name}`]).status === 0,
    sudoWorks: () => run("sudo", ["-n", "true"]).status === 0,
    dpkgVersion: (pkg) => {
      const r = run("dpkg-query", ["-W", "-f=${Status}\t${Version}", pkg]);
      const [status, version] = (r.stdout ?? "").split("\t");
      return r.status === 0 && status === "install ok installed" && version ? version : null;
    },
    isFile: (f) => fs.existsSync(f),
    codename: () => /^VERSION_CODENAME=(.+)$/m.exec(read("/etc/os-release"))?.[1].replace(/"/g, "") ?? null,
    aptSources: () => {
      const dir = "/etc/apt/sources.list.d";
      const files = fs.existsSync(dir)
        ? fs
            .readdirSync(dir)
            .filter((f) => /\.(list|sources)$/.test(f))
            .map((f) => `${dir}/${f}`)
        : [];
      return ["/etc/apt/sources.list", ...files].map(read).join("\n\n");
    },
  };
}

const log = (msg) => console.log(`[system-deps] ${msg}`);

function report(plan) {
  if (plan.present.length) log(`present: ${plan.present.map((d) => d.apt).join(", ")}`);
  for (const d of plan.missing) log(`missing: ${d.apt}${d.min ? ` (>= ${d.min})` : ""} (${d.why})`);
  if (!plan.missing.length) log("all system packages are present");
}

function main() {
  const dryRun = process.argv.includes("--dry-run");
  const probes = machineProbes();
  let plan = planSystemDeps(probes);
  const argv = installArgv(plan);
  if (plan.via === "no-apt")
    log(`no apt-get here: install ${plan.missing.map((d) => d.apt).join(", ")} with this system's package manager`);
  else if (plan.via === "skip") log(`LST_SKIP_SYSTEM_DEPS=1: not installing; to install, run:\n  ${plan.command}`);
  else if (plan.via === "print")
    log(`not root and no non-interactive sudo: to install what is missing, run:\n  ${plan.command}`);
  else if (argv && dryRun)
    log(`would run (${plan.via}): ${argv[0]} ${argv[1].slice(0, -1).join(" ")} '${plan.script}'`);
  else if (argv) {
    log(`installing ${plan.missing.map((d) => d.apt).join(", ")} with apt-get (${plan.via}) ...`);
    // apt's progress goes to a log file, not into npm's output; its tail is shown when something went wrong
    const logFile = path.join(os.tmpdir(), "lst-system-deps.log");
    const r = spawnSync(argv[0], argv[1], {
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      maxBuffer: 1 << 28,
      timeout: 1_800_000,
    });
    fs.writeFileSync(logFile, `${r.stdout ?? ""}${r.stderr ?? ""}`);
    const before = plan.command;
    plan = planSystemDeps(machineProbes());
    if (r.status !== 0 || plan.missing.length) {
      log(`apt-get did not finish the job (exit ${r.status ?? r.signal}); the last lines of ${logFile}:`);
      for (const line of `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-15)) log(`  ${line}`);
      log(`run by hand:\n  ${plan.command ?? before}`);
    } else log(`done (apt's output: ${logFile})`);
  }
  report(plan);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    // never fail `npm install` over system packages: say so and go on
    log(`could not check the system packages (${e instanceof Error ? e.message : e}); see environment.md`);
  }
}
