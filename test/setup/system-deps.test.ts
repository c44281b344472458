/**
 * The system-packages step of `npm install` (scripts/system-deps.mjs): which packages are missing, which
 * command would run, and whether it runs as root, through `sudo -n`, or is printed for a person. The machine
 * is replaced by injected probes, so nothing is installed or removed here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import path from "path";
import {
  SYSTEM_DEPS,
  installArgv,
  mirrorFor,
  planSystemDeps,
  versionAtLeast,
  type Probes,
} from "../../scripts/system-deps.mjs";

const ROOT = path.resolve(__dirname, "..", "..");

const DEB822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main`;

/** A Debian machine: `installed` maps package -> version; everything else from `over`. */
function machine(installed: Record<string, string>, over: Partial<Probes> = {}): Probes {
  return {
    env: {},
    isRoot: () => true,
    hasCommand: (name) => name === "apt-get",
    sudoWorks: () => false,
    dpkgVersion: (pkg) => installed[pkg] ?? null,
    isFile: () => false,
    codename: () => "bookworm",
    aptSources: () => DEB822,
    ...over,
  };
}

const EVERYTHING: Record<string, string> = {
  chromium: "156.0.8078.114-1~deb12u1",
  "fonts-liberation": "1:1.07.4-11",
  "mesa-vulkan-drivers": "25.0.7-2~bpo12+1",
  libvulkan1: "1.3.239.0-1",
  "python3-venv": "3.11.2-1+b1",
  "python3-pip": "23.0.1+dfsg-1",
  "g++": "4:12.2.0-3",
  make: "4.3-4.1",
  "slurm-wlm": "22.05.8-4+deb12u3",
  munge: "0.5.15-2",
  patchelf: "0.14.3-1+b1",
};

const names = (deps: { apt: string }[]) => deps.map((d) => d.apt);

/** EVERYTHING less some packages. */
function without(...pkgs: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(EVERYTHING).filter(([k]) => !pkgs.includes(k)));
}

test("every row of the table says why and how it is checked, once per package", () => {
  assert.equal(new Set(names(SYSTEM_DEPS)).size, SYSTEM_DEPS.length);
  for (const d of SYSTEM_DEPS) assert.ok(d.why.length > 10 && typeof d.present === "function", d.apt);
  assert.deepEqual(names(SYSTEM_DEPS).slice(0, 4), [
    "chromium",
    "fonts-liberation",
    "mesa-vulkan-drivers",
    "libvulkan1",
  ]);
});

test("Debian versions compare by their numeric upstream parts", () => {
  assert.equal(versionAtLeast("25.0.7-2~bpo12+1", "25"), true);
  assert.equal(versionAtLeast("22.3.6-1+deb12u1", "25"), false);
  assert.equal(versionAtLeast("1:1.07.4-11", "1.7"), true); // the epoch is not a version number
  assert.equal(versionAtLeast("24.9", "25.0"), false);
  assert.equal(versionAtLeast("25", "25.0.1"), false);
});

test("the mirror serving a suite is read from one-line and deb822 sources", () => {
  assert.equal(mirrorFor(DEB822, "bookworm"), "http://mirror.example/debian");
  assert.equal(mirrorFor(DEB822, "bookworm-backports"), null);
  assert.equal(
    mirrorFor("deb [arch=amd64] http://m.example/debian bookworm-backports main", "bookworm-backports"),
    "http://m.example/debian",
  );
  assert.equal(mirrorFor("# deb http://m.example/debian bookworm-backports main", "bookworm-backports"), null);
  assert.equal(
    mirrorFor(
      "Types: deb\nURIs: http://m.example/debian\nSuites: bookworm-backports\nEnabled: no",
      "bookworm-backports",
    ),
    null,
  );
});

test("a machine with everything installs nothing", () => {
  const plan = planSystemDeps(machine(EVERYTHING));
  assert.equal(plan.via, "none");
  assert.deepEqual(plan.missing, []);
  assert.equal(plan.command, null);
  assert.equal(installArgv(plan), null);
});

test("a bare bookworm as root: backports added on the configured mirror, Mesa from there, one apt run", () => {
  const plan = planSystemDeps(machine({ make: "4.3-4.1" }));
  assert.equal(plan.via, "root");
  assert.deepEqual(
    names(plan.missing),
    names(SYSTEM_DEPS).filter((n) => n !== "make"),
  );
  assert.equal(
    plan.script,
    "export DEBIAN_FRONTEND=noninteractive" +
      ' && echo "deb http://mirror.example/debian bookworm-backports main" > /etc/apt/sources.list.d/bookworm-backports.list' +
      " && apt-get update -qq" +
      " && apt-get install -y -qq chromium fonts-liberation python3-venv python3-pip g++ slurm-wlm munge patchelf" +
      " && apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1",
  );
  assert.deepEqual(installArgv(plan), ["sh", ["-c", plan.script]]);
  assert.equal(spawnSync("sh", ["-n", "-c", plan.command ?? ""]).status, 0, "the printed command is valid shell");
});

test("without root, non-interactive sudo runs the same script; without it, the one command is printed", () => {
  const missing = without("chromium", "fonts-liberation");
  const sudo = planSystemDeps(machine(missing, { isRoot: () => false, sudoWorks: () => true }));
  assert.equal(sudo.via, "sudo");
  assert.equal(
    sudo.script,
    "export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq chromium fonts-liberation",
  );
  assert.deepEqual(installArgv(sudo), ["sudo", ["-n", "sh", "-c", sudo.script]]);
  const print = planSystemDeps(machine(missing, { isRoot: () => false, sudoWorks: () => false }));
  assert.equal(print.via, "print");
  assert.equal(print.command, `sudo sh -c '${sudo.script}'`);
  assert.equal(installArgv(print), null);
});

test("LST_SKIP_SYSTEM_DEPS=1 runs nothing, even as root, and still says what is missing", () => {
  const plan = planSystemDeps(machine({}, { env: { LST_SKIP_SYSTEM_DEPS: "1" } }));
  assert.equal(plan.via, "skip");
  assert.equal(plan.missing.length, SYSTEM_DEPS.length);
  assert.equal(installArgv(plan), null);
});

test("bookworm's own Mesa 22.3 counts as missing; a configured backports suite is not added again", () => {
  const sources = `${DEB822}\n\ndeb http://mirror.example/debian bookworm-backports main`;
  const plan = planSystemDeps(
    machine({ ...EVERYTHING, "mesa-vulkan-drivers": "22.3.6-1+deb12u1" }, { aptSources: () => sources }),
  );
  assert.deepEqual(names(plan.missing), ["mesa-vulkan-drivers"]);
  assert.equal(
    plan.script,
    "export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers",
  );
});

test("on a newer release the packages come from its own suite", () => {
  const plan = planSystemDeps(machine(without("mesa-vulkan-drivers", "libvulkan1"), { codename: () => "trixie" }));
  assert.equal(
    plan.script,
    "export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers libvulkan1",
  );
});

test("a Chromium at CHROMIUM_PATH counts as present; without apt-get nothing runs", () => {
  const withPath = planSystemDeps(
    machine(without("chromium"), {
      env: { CHROMIUM_PATH: "/opt/chromium/chrome" },
      isFile: (f) => f === "/opt/chromium/chrome",
    }),
  );
  assert.equal(withPath.via, "none");
  const noApt = planSystemDeps(machine({}, { hasCommand: () => false }));
  assert.equal(noApt.via, "no-apt");
  assert.equal(installArgv(noApt), null);
});

test("the script itself never fails: opted out, it reports and exits 0", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "system-deps.mjs")], {
    env: { ...process.env, LST_SKIP_SYSTEM_DEPS: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[system-deps\] (all system packages are present|missing: )/);
});
