/**
 * Provenance: which code, packages and machine made a run, so that a cached run made by other code is never
 * silently compared with, or reused in place of, a run of the code that runs now.
 *
 * Every time the run store starts (or resumes) a run it appends one segment to the run's `provenance.json`:
 *
 *   { format: 1, segments: [ { startedAt, code, git, packages, backend, cpu } ] }
 *
 *   code      'lib:<12 hex>', a hash of the lab's result-making code (below): the key runs are compared by
 *   git       { commit, dirty, diffHash, untracked } where git works; { available: false, why } otherwise
 *   packages  tfjs-core, tfjs-node, libtensorflow and node versions
 *   backend   the active TensorFlow.js backend (or 'not initialised'), cpu: '<n> x <model>'
 *
 * Why `code` hashes files and not the commit: a commit that only edits the README or a notebook does not change
 * a result, and an uncommitted edit does. `code` is the sha256 of every file under lib/ (path and content),
 * except the lab's presentation files (PRESENTATION below: tables, figures, display, export, ...), which read
 * finished runs but never make one. A new file under lib/ counts as code until listed there. It needs no git.
 *
 * A run with no provenance.json (written before the lab recorded it) has code 'unknown'; a run resumed under
 * other code has code 'mixed:<a>+<b>'. Both differ from every current code, so `rerunStale` retrains them.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { backendReport } from "../backend";
import { writeJsonAtomic } from "../files";

export const PROVENANCE_FORMAT = 1;
export const PROVENANCE_FILE = "provenance.json";
/** The code of a run written before provenance was recorded. */
export const UNKNOWN_CODE = "unknown";

export type GitInfo =
  | { available: true; commit: string; dirty: boolean; diffHash: string | null; untracked: string[] }
  | { available: false; why: string };

export interface ProvenanceSegment {
  startedAt: string;
  code: string;
  git: GitInfo;
  packages: { "tfjs-core": string; "tfjs-node": string; libtensorflow: string; node: string };
  backend: string;
  cpu: string;
}

export interface RunProvenance {
  format: number;
  segments: ProvenanceSegment[];
}

/**
 * Files under lib/ that never change a run's result, so editing them leaves finished runs current: the barrels,
 * every file of viz/ (presentation) and tooling/ (kernels, notebooks, flags), and the experiment files that store,
 * list, plan, cost or report runs (findings.ts: the paper's directions the report tests). grids.ts is here
 * because a grid only names configs, and a changed config is a new run directory anyway (its hash is the run's
 * key).
 */
export const PRESENTATION_FOLDERS = ["viz/", "tooling/"];
export const PRESENTATION = [
  "index.ts",
  "internal.ts",
  ...[
    "findings.ts",
    "grids.ts",
    "plan.ts",
    "provenance.ts",
    "report.ts",
    "rescore.ts",
    "results-doc.ts",
    "runs.ts",
    "scale-budget.ts",
    "verdicts.ts",
  ].map((f) => `experiment/${f}`),
];

/** Whether a file (relative to lib/) is presentation only (see PRESENTATION). */
export function isPresentation(file: string): boolean {
  return PRESENTATION.includes(file) || PRESENTATION_FOLDERS.some((d) => file.startsWith(d));
}

/** The lab's root (the folder holding lib/). */
const LIB = path.resolve(__dirname, "..");

function listFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...listFiles(dir, r));
    else if (d.isFile()) out.push(r);
  }
  return out.sort();
}

/** 'lib:<12 hex>': the hash of the result-making files under `lib` (see the header). */
export function codeHash(lib: string = LIB): string {
  const h = createHash("sha256");
  for (const f of listFiles(lib)) {
    if (isPresentation(f)) continue;
    h.update(`${f}\u0000`);
    h.update(fs.readFileSync(path.join(lib, f)));
    h.update("\u0000");
  }
  return `lib:${h.digest("hex").slice(0, 12)}`;
}

/**
 * Git's view of `root`: the commit, whether tracked files differ from it (diffHash: sha256 of `git diff HEAD`
 * and of the untracked files under lib/), or why git could not say (not installed, not a repository).
 */
export function gitInfo(root: string = path.dirname(LIB), gitBin = "git"): GitInfo {
  const git = (args: string[]): string =>
    execFileSync(gitBin, args, {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 10_000,
      maxBuffer: 1 << 28,
    });
  let commit: string;
  try {
    commit = git(["rev-parse", "HEAD"]).trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") return { available: false, why: `git is not installed (no '${gitBin}' on PATH)` };
    const msg = String(err.stderr ?? err.message)
      .trim()
      .split("\n")[0];
    return {
      available: false,
      why: /not a git repository/i.test(msg) ? `${root} is not a git repository` : `git failed: ${msg}`,
    };
  }
  try {
    const diff = git(["diff", "HEAD", "--binary"]);
    const untracked = git(["ls-files", "--others", "--exclude-standard", "--", "lib"])
      .split("\n")
      .filter((f) => f !== "");
    const dirty = diff !== "" || untracked.length > 0;
    let diffHash: string | null = null;
    if (dirty) {
      const h = createHash("sha256").update(diff);
      for (const f of untracked) h.update(`\u0000${f}\u0000`).update(fs.readFileSync(path.join(root, f)));
      diffHash = h.digest("hex").slice(0, 12);
    }
    return { available: true, commit, dirty, diffHash, untracked };
  } catch (e) {
    return { available: false, why: `git failed: ${(e as Error).message.split("\n")[0]}` };
  }
}

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

function backendNow(): { backend: string; libtensorflow: string } {
  let backend = "not initialised";
  try {
    const r = backendReport();
    backend = `${r.backend} (${r.provider}, ${r.threads} threads)`;
  } catch {
    return { backend, libtensorflow: "not loaded" };
  }
  // tfjs-node's binding exposes TF_Version ('2.21.0' for the lab's wheel build)
  const b = tf.getBackend() === "tensorflow" ? (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }) : {};
  return { backend, libtensorflow: typeof b.binding?.TF_Version === "string" ? b.binding.TF_Version : "not loaded" };
}

let cached: { code: string; git: GitInfo } | null = null;

/** The code and git state of this process (computed once: the code a process runs does not change under it). */
export function currentCode(): { code: string; git: GitInfo } {
  cached ??= { code: codeHash(), git: gitInfo() };
  return cached;
}

/** A segment describing this process now. */
export function provenanceNow(): ProvenanceSegment {
  const { code, git } = currentCode();
  const { backend, libtensorflow } = backendNow();
  const cpus = os.cpus();
  return {
    startedAt: new Date().toISOString(),
    code,
    git,
    packages: {
      "tfjs-core": pkgVersion("@tensorflow/tfjs-core"),
      "tfjs-node": pkgVersion("@tensorflow/tfjs-node"),
      libtensorflow,
      node: process.version,
    },
    backend,
    cpu: `${cpus.length} x ${cpus[0]?.model ?? "unknown cpu"}`,
  };
}

/** The run's provenance.json, or null when it has none (a run written before provenance was recorded). */
export function readProvenance(dir: string): RunProvenance | null {
  const file = path.join(dir, PROVENANCE_FILE);
  if (!fs.existsSync(file)) return null;
  let p: RunProvenance;
  try {
    p = JSON.parse(fs.readFileSync(file, "utf8")) as RunProvenance;
  } catch {
    throw new Error(`run provenance ${file} is corrupt (not valid JSON): delete the directory ${dir} and rerun`);
  }
  if (p.format !== PROVENANCE_FORMAT || !Array.isArray(p.segments)) {
    throw new Error(
      `run provenance ${file} has format ${JSON.stringify(p.format)}, this code reads ${PROVENANCE_FORMAT}: delete the directory ${dir} and rerun`,
    );
  }
  return p;
}

/** Append this process's segment to the run's provenance.json (atomically); the run store calls it before execute. */
export function appendProvenance(dir: string, segment: ProvenanceSegment = provenanceNow()): void {
  const prev = readProvenance(dir);
  writeJsonAtomic(path.join(dir, PROVENANCE_FILE), {
    format: PROVENANCE_FORMAT,
    segments: [...(prev?.segments ?? []), segment],
  } satisfies RunProvenance);
}

/** The code key of a run: its one code, 'mixed:a+b' when resumed under other code, 'unknown' without provenance. */
export function runCode(p: RunProvenance | null): string {
  const codes = [...new Set((p?.segments ?? []).map((s) => s.code))];
  if (codes.length === 0) return UNKNOWN_CODE;
  return codes.length === 1 ? codes[0] : `mixed:${codes.join("+")}`;
}

export type Freshness = "current" | "stale" | "unknown" | "absent";

/** Is the finished run in `dir` made by the code that runs now? ('absent' when the run is not finished.) */
export function runFreshness(dir: string, code: string = currentCode().code): Freshness {
  if (!fs.existsSync(path.join(dir, "done"))) return "absent";
  const c = runCode(readProvenance(dir));
  return c === UNKNOWN_CODE ? "unknown" : c === code ? "current" : "stale";
}

/**
 * Move a finished run out of the store, so that the next `ensure` trains it again: one rename (atomic, so the
 * run is either whole in the store or whole aside, never half-deleted) to `<root>-stale/<id>@<time>`, kept for
 * comparison. Returns the new path. A run that is not finished or is locked by a process is refused.
 */
export function moveRunAside(dir: string): string {
  if (!fs.existsSync(path.join(dir, "done")))
    throw new Error(`run ${dir} is not finished: only a finished run is moved aside for retraining`);
  if (fs.existsSync(path.join(dir, "lock")))
    throw new Error(
      `run ${dir} is locked by a process (lock file present): wait for it, or remove the lock if that process is gone`,
    );
  const root = path.dirname(dir);
  const asideRoot = path.join(path.dirname(root), `${path.basename(root)}-stale`);
  fs.mkdirSync(asideRoot, { recursive: true });
  const to = path.join(asideRoot, `${path.basename(dir)}@${new Date().toISOString().replace(/[:.]/g, "-")}`);
  fs.renameSync(dir, to);
  return to;
}

/** The code of the rows' runs: rows from the run store carry `code`; rows without it are not counted. */
export function codeWarning(
  rows: readonly { run: string; code?: string }[],
  now: string = currentCode().code,
): string | null {
  const byCode = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.code === undefined) continue;
    const s = byCode.get(r.code) ?? new Set<string>();
    s.add(r.run);
    byCode.set(r.code, s);
  }
  const unknown = byCode.get(UNKNOWN_CODE)?.size ?? 0;
  const known = [...byCode.keys()].filter((c) => c !== UNKNOWN_CODE);
  if (known.length <= 1 && unknown === 0) return null;
  const parts = [...byCode.entries()].map(([c, runs]) => {
    const what =
      c === UNKNOWN_CODE
        ? "unknown code (written before the lab recorded provenance)"
        : c === now
          ? `${c} (the code running now)`
          : c;
    return `${runs.size} run${runs.size === 1 ? "" : "s"} from ${what}`;
  });
  const head =
    known.length > 1
      ? `the runs compared come from ${known.length} different versions of the code`
      : "some runs compared have no record of the code that made them";
  return `warning: ${head}: ${parts.join("; ")}. Retrain the others with \`--rerun-stale\` (CLI) or runGrid(name, { rerunStale: true }).`;
}

const warned = new Set<string>();

/** console.warn the rows' code warning, once per distinct message in a process. */
export function warnIfMixedCode(rows: readonly { run: string; code?: string }[]): void {
  const w = codeWarning(rows);
  if (w === null || warned.has(w)) return;
  warned.add(w);
  console.warn(w);
}
