/**
 * `npm run bench`: runs every bench/*.ts script except this one, one after another (each in its own process,
 * so a backend or a heap never carries over), and prints a summary of exit codes and times.
 * Run: npx tsx bench/index.ts [name ...] [--backend=NAME] [--flag ...]
 *   names filter the scripts (e.g. `train-bench`); `--backend=webgpu` runs every script on that backend (as
 *   LST_BACKEND); other `--flags` go to each script run, so name the script they belong to
 *   (`npm run bench -- train-bench --backend=webgpu --sizes=reference,d512`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { cli } from "../lib/internal";

function main(): void {
  const dir = __dirname;
  const args = process.argv.slice(2);
  // --help through the lab's one parser; every other --flag is passed on to the scripts run (see the header)
  if (args.includes("--help") || args.includes("-h")) {
    cli(
      {
        command: "npm run bench --",
        summary:
          "Run every bench/*.ts script (or the ones named), each in its own process, and print a summary of exit codes and times. Other --flags go to each script run.",
        flags: {
          backend: {
            type: "string",
            value: "tensorflow|webgpu|wasm|cpu",
            help: "run every script on this backend (as LST_BACKEND)",
          },
        },
        positionals: { name: "script", help: "bench scripts to run (e.g. train-bench); default: all" },
      } as const,
      ["--help"],
    );
    return;
  }
  const only = args.filter((a) => !a.startsWith("--"));
  const flags = args.filter((a) => a.startsWith("--") && !a.startsWith("--backend="));
  const backend = args.find((a) => a.startsWith("--backend="))?.slice("--backend=".length);
  const env = backend ? { ...process.env, LST_BACKEND: backend } : process.env;
  const all = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "index.ts")
    .sort();
  const scripts = only.length ? all.filter((f) => only.some((o) => f === o || f === `${o}.ts`)) : all;
  if (scripts.length === 0) throw new Error(`no bench script matches ${only.join(", ")}; available: ${all.join(", ")}`);
  const summary: { script: string; status: number | null; seconds: number }[] = [];
  for (const script of scripts) {
    console.log(`\n=== bench/${script} ===`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(dir, script), ...flags], {
      stdio: "inherit",
      env,
    });
    summary.push({ script, status: r.status, seconds: (Date.now() - t0) / 1000 });
  }
  console.log("\n| bench | exit | seconds |\n|---|---:|---:|");
  for (const s of summary) console.log(`| ${s.script} | ${s.status} | ${s.seconds.toFixed(1)} |`);
  if (summary.some((s) => s.status !== 0)) process.exitCode = 1;
}

main();
