/**
 * Shared pieces of the fault-injection suite (RELIABILITY.md): temp dirs, the tiniest training config (the
 * issue's 4,912-parameter baseline on the synthetic corpus), a runner for scripts/train.ts, and readers of a
 * run dir's losses and checkpoint.
 */
import { after } from "node:test";
import { spawn, spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

export function tmpDir(prefix = "lst-rel-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A 4,912-parameter baseline: each step takes milliseconds, a checkpoint .bin is 59 KB. */
export const TINY_MODEL = { kind: "baseline" as const, dModel: 16, nLayers: 1, nHeads: 2, maxSeqLen: 32 };
export const TINY_TRAIN = {
  steps: 8,
  batchSize: 2,
  seqLen: 16,
  globalLen: 16,
  maxRawLen: 32,
  lr: 1e-2,
  warmupSteps: 2,
  ckptEvery: 1,
};

/** The same config as scripts/train.ts arguments. */
export function tinyCliArgs(steps: number, extra: string[] = []): string[] {
  const m = Object.entries(TINY_MODEL).map(([k, v]) => `--model.${k}=${v}`);
  const t = Object.entries({ ...TINY_TRAIN, steps, logEvery: 1 }).map(([k, v]) => `--train.${k}=${v}`);
  return [...m, ...t, ...extra];
}

const REPO = path.resolve(__dirname, "..", "..");
const TRAIN_CLI = path.join(REPO, "scripts", "train.ts");

/** Run scripts/train.ts to its end: exit code and output. */
export function trainCli(args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", TRAIN_CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Run scripts/train.ts and SIGKILL it `delayMs` after it prints `step <atStep>/`; resolves with whether it was killed. */
export function trainCliKilled(
  args: string[],
  atStep: number,
  delayMs: number,
): Promise<{ killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", TRAIN_CLI, ...args], { cwd: REPO, env: process.env });
    let out = "";
    let armed = false;
    const onData = (b: Buffer) => {
      out += b.toString();
      if (!armed && out.includes(`step ${atStep}/`)) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve({ killed: signal === "SIGKILL", out }));
  });
}

/** The losses of metrics.jsonl by step (throws if a step is logged twice: nothing may be duplicated or lost). */
export function lossesOf(dir: string): { step: number; loss: number; gradNorm: number }[] {
  const lines = fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "");
  const rows = lines.map((l) => JSON.parse(l) as { step: number; loss: number; gradNorm: number });
  rows.forEach((r, i) => {
    if (r.step !== i) throw new Error(`${dir}/metrics.jsonl line ${i + 1} is step ${r.step}, expected ${i}`);
  });
  return rows.map(({ step, loss, gradNorm }) => ({ step, loss, gradNorm }));
}

/** The sha256 of the checkpoint's weights and optimizer state, from its manifest. */
export function checkpointSha(dir: string): { step: number; sha256: string } {
  const m = JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8")) as { step: number; sha256: string };
  return { step: m.step, sha256: m.sha256 };
}

/** Files a failed or killed write may leave behind (none must remain after a failed write). */
export function tempFiles(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.includes(".tmp-")) : [];
}

/** Mount a tmpfs of `size` at a new temp dir; null when this process may not mount (not root, no CAP_SYS_ADMIN). */
export function mountTmpfs(size: string): string | null {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-tmpfs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return null;
  }
  after(() => {
    spawnSync("umount", [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function remountTmpfs(dir: string, opts: string): void {
  const r = spawnSync("mount", ["-o", `remount,${opts}`, dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`remount ${dir} ${opts} failed: ${r.stderr}`);
}
