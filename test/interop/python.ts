/**
 * The Python side of the interop tests: scripts/py-interop.sh makes (once) and returns the venv's python,
 * with safetensors, tokenizers, tensorboard, torch (CPU), pandas and numpy. No python3 or no packages is a
 * test failure with the script's message, not a skip: these tests are the proof that exports are readable.
 */
import { execFileSync, spawnSync } from "child_process";
import path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
let cached: string | null = null;

/** The interop venv's python (made by scripts/py-interop.sh on first use: about a minute from the mirror). */
export function interopPython(): string {
  if (cached) return cached;
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "py-interop.sh")], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  const out = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !out) {
    throw new Error(
      `scripts/py-interop.sh failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}. The interop tests need python3 with venv and pip (sudo apt-get install python3 python3-venv) and pip access to pypi.org or a wheel mirror`,
    );
  }
  cached = out;
  return out;
}

/** Run a script under scripts/interop with the interop python; returns stdout (throws with stderr). */
export function runInterop(script: string, args: readonly string[]): string {
  return execFileSync(interopPython(), [path.join(ROOT, "scripts", "interop", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Run inline Python code with the interop python (argv after the code: `args`); returns stdout. */
export function runPython(code: string, args: readonly string[] = []): string {
  return execFileSync(interopPython(), ["-c", code, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 26,
    stdio: ["ignore", "pipe", "pipe"],
  });
}
