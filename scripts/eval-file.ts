/**
 * Score finished runs on a real benchmark file (lib/experiment/file-eval.ts): a StoryCloze CSV or a HellaSwag JSONL,
 * spoken with the lab's TTS in the unseen test voices, scored S→S and T→T from each run's final checkpoint.
 * Trains nothing: runs of the grid that are not finished are left out (train them with `npm start`).
 *
 *   npm run eval-file -- --file=cloze_test.csv                      the default grid's runs at the small scale
 *   npm run eval-file -- --file=hellaswag_val.jsonl --limit=200     the first 200 items only
 *   npm run eval-file -- --file=x.csv --grid=models --scale=smoke --seeds=1 --where=model:lst-static
 *
 * Prints the items' lexicon coverage, accuracy per model and direction (mean ± std over seeds) and the paired
 * difference against the grid's first model, and writes the rows as
 * `<out>/<benchmark>-<grid>[-<where>]-<scale>[-s<seeds>].csv` (lib/paths.ts outputStem: the seeds only when they are
 * not the scale's; `<out>` is the data root's figures/ unless given). Bad flags exit 2 with the message alone.
 */
import path from "path";
import { parseArgs } from "util";
import * as lab from "../lib";
import {
  checkDirPath,
  checkFilePath,
  CliError,
  finishedGridRuns,
  keyValues,
  oneOf,
  outputStem,
  seedList,
} from "../lib/internal";

const HELP = `usage: npm run eval-file -- --file=<path> [options]

  --file=<path>      StoryCloze CSV (.csv; Topic-StoryCloze when the name has 'topic' or 'tsc') or HellaSwag JSONL (.jsonl)
  --grid=<name>      whose finished runs to score (default: default)
  --scale=<name>     smoke | small | gpu | paper (default: LST_SCALE, else small)
  --seeds=1,2,3      only these seeds (default: the scale's)
  --where=k:v,...    only the grid entries whose group has these values (a|b: either)
  --kind=sc|tsc|hs   read the file as this benchmark kind (default: by extension and name)
  --limit=<n>        the first n items only
  --lowercase=0      keep the file's case (default 1: lower-cased, as the story world is)
  --backend=<name>   tensorflow | wasm | cpu (default: LST_BACKEND, else the best available)
  --out=<dir>        where the CSV goes (default: $LST_DATA_DIR/figures, else data/figures)
  --help             this text`;

interface EvalFileArgs {
  file: string;
  grid: string;
  scale: string;
  seeds: number[] | undefined;
  where: Record<string, string>;
  kind: lab.BenchKindName | undefined;
  limit: number | undefined;
  lowercase: boolean;
  backend: string;
  /** "" = the data root's figures/ (read when the job runs, so a bad LST_DATA_DIR is a usage error) */
  out: string;
  help: boolean;
}

/** The command line, checked (one function, so that it moves to a shared parser as it is); errors are CliErrors. */
export function parseEvalFileArgs(argv: string[]): EvalFileArgs {
  const str = { type: "string" } as const;
  const options = {
    file: str,
    grid: str,
    scale: str,
    seeds: str,
    where: str,
    kind: str,
    limit: str,
    lowercase: str,
    backend: str,
    out: str,
    help: { type: "boolean" },
  } as const;
  const v = (() => {
    try {
      return parseArgs({ args: argv, strict: true, options }).values;
    } catch (e) {
      throw new CliError(`${(e as Error).message}\n\n${HELP}`);
    }
  })();
  const help = v.help === true;
  if (!help && !v.file)
    throw new CliError(`--file is required: the path of a StoryCloze CSV or a HellaSwag JSONL\n\n${HELP}`);
  for (const k of ["grid", "scale", "where", "kind", "limit", "lowercase", "backend", "out"] as const)
    if (v[k] !== undefined && v[k].trim() === "")
      throw new CliError(`--${k} is empty: give a value, or leave the flag out for its default (see --help)`);
  const seeds = v.seeds === undefined ? undefined : seedList("seeds", v.seeds);
  const where = keyValues("where", v.where ?? "");
  if (v.kind !== undefined && !(lab.BENCH_KIND_NAMES as readonly string[]).includes(v.kind))
    throw new CliError(`--kind must be one of ${lab.BENCH_KIND_NAMES.join(", ")}, got '${v.kind}'`);
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new CliError(`--limit must be a positive integer, got '${v.limit}'`);
  if (v.lowercase !== undefined && v.lowercase !== "0" && v.lowercase !== "1")
    throw new CliError(`--lowercase takes 0 or 1, got '${v.lowercase}'`);
  const grid = v.grid ?? "default";
  const scale = v.scale ?? process.env.LST_SCALE ?? "small";
  if (!help) {
    oneOf("grid", grid, Object.keys(lab.GRIDS));
    oneOf("scale", scale, Object.keys(lab.SCALES));
  }
  return {
    file: v.file ?? "",
    grid,
    scale,
    seeds,
    where,
    kind: v.kind as lab.BenchKindName | undefined,
    limit,
    lowercase: v.lowercase !== "0",
    backend: v.backend ?? process.env.LST_BACKEND ?? "",
    out: v.out ?? "",
    help,
  };
}

async function main(): Promise<void> {
  const args = parseEvalFileArgs(process.argv.slice(2));
  if (args.help) return console.log(HELP);
  const out = args.out || lab.figuresDir();
  const t0 = Date.now();
  const scale = lab.labScale(args.scale);
  // check the paths and the file before anything slow
  checkFilePath(args.file, "benchmark file (--file)");
  checkDirPath(out, "output folder (--out)");
  const file = lab.fileBenchmark(args.file, { kind: args.kind, limit: args.limit, lowercase: args.lowercase });
  const seeds = args.seeds ?? scale.seeds;
  const { wanted, runs } = finishedGridRuns(args.grid, scale, { seeds, where: args.where });
  const again = `npm start -- --grid=${args.grid} --scale=${scale.name}${args.seeds ? ` --seeds=${seeds.join(",")}` : ""}${
    Object.keys(args.where).length
      ? ` --where=${Object.entries(args.where)
          .map(([k, v]) => `${k}:${v}`)
          .join(",")}`
      : ""
  }`;
  if (runs.length === 0)
    throw new Error(
      `no finished runs of grid '${args.grid}' at scale '${scale.name}' (${wanted.length} wanted): train them first (${again})`,
    );
  console.log(
    `grid '${args.grid}' at scale '${scale.name}': ${runs.length} of ${wanted.length} runs finished${runs.length < wanted.length ? ` (the others are left out; ${again} trains them)` : ""}`,
  );
  await lab.initBackend(args.backend ? { backend: args.backend } : {});
  console.log(lab.describeBackend());

  const r = await lab.fileBenchmarkItems(runs, args.file, {
    scale,
    kind: args.kind,
    limit: args.limit,
    lowercase: args.lowercase,
    onProgress: lab.stageProgress(),
  });
  console.log(lab.fileEvalLines(r).join("\n"));
  console.log(`\naccuracy % (mean ± std over seeds; chance ${(100 / r.endings).toFixed(0)})`);
  for (const s of lab.summarize(r.rows)) {
    console.log(
      `  ${s.model.padEnd(30)} ${s.direction} ${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)} (${s.seeds.length} seeds)`,
    );
  }
  const reference = runs[0].config.name;
  if (r.runs.some((x) => x.model !== reference)) {
    console.log(`\npaired against ${reference} (Δ in points, 95% bootstrap interval over seeds and items)`);
    for (const p of lab
      .pairedTable(r.runs, { reference, directions: ["S2S", "T2T"] })
      .filter((x) => x.model !== reference)) {
      console.log(
        `  ${String(p.model).padEnd(30)} ${p.direction} Δ ${p[`Δ vs ${reference} [95% CI]`]}, p ${p.p}: ${p.verdict}`,
      );
    }
  }
  // <benchmark>-<grid>[-<where>]-<scale>[-s<seeds>].csv (outputStem: seeds only when not the scale's)
  const stem = outputStem({
    prefix: file.key.replace(/^file-/, "").replace(/-[0-9a-f]{12}$/, ""),
    grid: args.grid,
    where: args.where,
    seeds,
    defaultSeeds: scale.seeds,
    scale: scale.name,
  });
  const csv = path.join(out, `${stem}.csv`);
  lab.writeFileAtomic(csv, lab.toCsv(r.rows));
  console.log(`\nwrote ${csv}\ndone in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(e instanceof CliError ? 2 : 1);
  });
}
