/**
 * `npm run notebooks [names...]`: execute every notebook in notebooks/ (sorted; or the ones named) top to
 * bottom, headless, through tslab's kernel code (lib/tooling/notebook-runner.ts), each in its own Node process,
 * and write the executed copies with their outputs to notebooks/.executed/ (git-ignored). A failing cell
 * fails the command with "<notebook> cell <n>: <error>". LST_SCALE defaults to 'smoke' here, so CI runs
 * every notebook at smoke scale; `LST_SCALE=small npm run notebooks` runs them at full scale.
 *
 *   npm run notebooks                       all notebooks
 *   npm run notebooks -- 03-patching        one (the name, with or without .ipynb)
 *   npm run notebooks -- --dir test/fixtures/notebooks --out /tmp/x   another folder
 *   npm run notebooks -- --help             every flag with its default
 */
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { writeJsonAtomic } from "../lib";
import { readNotebook, runNotebook, cli } from "../lib/internal";

const ROOT = path.resolve(__dirname, "..");

const NOTEBOOKS_CLI = {
  command: "npm run notebooks --",
  summary:
    "Execute notebooks headless (smoke scale unless LST_SCALE is set), each in its own process, and write the executed copies with their outputs.",
  flags: {
    dir: { type: "string", default: "notebooks", value: "DIR", help: "the folder of notebooks" },
    out: {
      type: "string",
      default: path.join("notebooks", ".executed"),
      value: "DIR",
      help: "where the executed copies go",
    },
    one: {
      type: "string",
      value: "FILE",
      help: "internal: run this one notebook in this process (the runner's child mode)",
    },
  },
  positionals: { name: "notebook", help: "notebook names to run (with or without .ipynb); default: all" },
  examples: [
    "npm run notebooks",
    "npm run notebooks -- 03-patching",
    "LST_SCALE=small npm run notebooks -- 07-speech-text-ratio",
  ],
} as const;

interface Args {
  dir: string;
  out: string;
  names: string[];
  one: string;
}

function parseArgs(argv: string[]): Args {
  const { values: v, positionals, given } = cli(NOTEBOOKS_CLI, argv);
  // a folder given on the command line is relative to the working directory; the defaults to the project
  const where = (k: "dir" | "out") => (given.has(k) ? path.resolve(v[k]) : path.join(ROOT, v[k]));
  return {
    dir: where("dir"),
    out: where("out"),
    one: v.one ? path.resolve(v.one) : "",
    names: positionals.map((n) => n.replace(/\.ipynb$/, "")),
  };
}

/** Child mode: run one notebook in this process, write its executed copy, print a JSON result line. */
async function runOne(file: string, out: string): Promise<void> {
  const nb = readNotebook(file);
  const run = await runNotebook(nb, { cwd: ROOT });
  writeJsonAtomic(path.join(out, path.basename(file)), run.notebook);
  process.stdout.write(`\n@@result ${JSON.stringify({ failure: run.failure, seconds: run.seconds })}\n`);
  process.exit(0);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (args.one) {
    runOne(args.one, args.out).catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(2);
    });
    return;
  }
  if (!fs.existsSync(args.dir)) throw new Error(`notebook folder ${args.dir} does not exist`);
  const all = fs
    .readdirSync(args.dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort();
  const unknown = args.names.filter((n) => !all.includes(`${n}.ipynb`));
  if (unknown.length)
    throw new Error(`no notebook named ${unknown.join(", ")} in ${args.dir}; there are: ${all.join(", ")}`);
  const files = args.names.length ? args.names.map((n) => `${n}.ipynb`) : all;
  fs.mkdirSync(args.out, { recursive: true });
  const env = { ...process.env, LST_SCALE: process.env.LST_SCALE ?? "smoke" };
  console.log(
    `running ${files.length} notebook(s) at scale '${env.LST_SCALE}' -> ${path.relative(ROOT, args.out) || args.out}`,
  );
  const failures: string[] = [];
  for (const f of files) {
    const t0 = Date.now();
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", __filename, "--one", path.join(args.dir, f), "--out", args.out],
      { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 28 },
    );
    const m = /@@result (.*)$/m.exec(child.stdout ?? "");
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (!m) {
      const why = `${(child.stderr ?? "").trim() || (child.stdout ?? "").trim() || `exit code ${child.status}`}`;
      failures.push(`${f}: the runner crashed: ${why}`);
      console.log(`  FAIL ${f} (${secs} s): runner crashed`);
      continue;
    }
    const r = JSON.parse(m[1]) as { failure: { cell: number; error: string } | null };
    if (r.failure) {
      failures.push(`${f} cell ${r.failure.cell}: ${r.failure.error}`);
      console.log(`  FAIL ${f} (${secs} s) cell ${r.failure.cell}`);
    } else console.log(`  ok   ${f} (${secs} s)`);
  }
  if (failures.length) {
    console.error(`\n${failures.length} notebook(s) failed:\n${failures.join("\n\n")}`);
    process.exit(1);
  }
}

main();
