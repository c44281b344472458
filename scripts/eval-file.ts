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
 * difference against the grid's first model, and writes the rows as `<out>/<benchmark>-<grid>-<scale>.csv`.
 */
import path from "path";
import { parseArgs } from "util";
import * as lab from "../lib";

const HELP = `usage: npm run eval-file -- --file=<path> [options]

  --file=<path>      StoryCloze CSV (.csv; Topic-StoryCloze when the name has 'topic' or 'tsc') or HellaSwag JSONL (.jsonl)
  --grid=<name>      whose finished runs to score (default: default)
  --scale=<name>     smoke | small | gpu | paper (default: LST_SCALE, else small)
  --seeds=1,2,3      only these seeds (default: the scale's)
  --where=k:v,...    only the grid entries whose group has these values
  --kind=sc|tsc|hs   read the file as this benchmark kind (default: by extension and name)
  --limit=<n>        the first n items only
  --lowercase=0      keep the file's case (default 1: lower-cased, as the story world is)
  --backend=<name>   tensorflow | wasm | cpu (default: LST_BACKEND, else the best available)
  --out=<dir>        where the CSV goes (default data/figures)
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
  out: string;
  help: boolean;
}

/** The command line, checked (one function, so that it moves to a shared parser as it is). */
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
      throw new Error(`${(e as Error).message}\n\n${HELP}`);
    }
  })();
  const help = v.help === true;
  if (!help && !v.file)
    throw new Error(`--file is required: the path of a StoryCloze CSV or a HellaSwag JSONL\n\n${HELP}`);
  const seeds = v.seeds ? v.seeds.split(",").map(Number) : undefined;
  if (seeds?.some((s) => !Number.isInteger(s)))
    throw new Error(`--seeds must be integers separated by commas, got '${v.seeds}'`);
  const where: Record<string, string> = {};
  for (const kv of v.where ? v.where.split(",") : []) {
    const [k, val] = kv.split(":");
    if (!k || val === undefined) throw new Error(`--where takes key:value pairs separated by commas, got '${v.where}'`);
    where[k] = val;
  }
  if (v.kind !== undefined && !(lab.BENCH_KIND_NAMES as readonly string[]).includes(v.kind))
    throw new Error(`--kind must be one of ${lab.BENCH_KIND_NAMES.join(", ")}, got '${v.kind}'`);
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
    throw new Error(`--limit must be a positive integer, got '${v.limit}'`);
  if (v.lowercase !== undefined && v.lowercase !== "0" && v.lowercase !== "1")
    throw new Error(`--lowercase takes 0 or 1, got '${v.lowercase}'`);
  return {
    file: v.file ?? "",
    grid: v.grid ?? "default",
    scale: v.scale ?? process.env.LST_SCALE ?? "small",
    seeds,
    where,
    kind: v.kind as lab.BenchKindName | undefined,
    limit,
    lowercase: v.lowercase !== "0",
    backend: v.backend ?? process.env.LST_BACKEND ?? "",
    out: v.out ?? path.join("data", "figures"),
    help,
  };
}

async function main(): Promise<void> {
  const args = parseEvalFileArgs(process.argv.slice(2));
  if (args.help) return console.log(HELP);
  const t0 = Date.now();
  await lab.initBackend(args.backend ? { backend: args.backend } : {});
  const scale = lab.labScale(args.scale);
  // check the file before anything slow
  lab.fileBenchmark(args.file, { kind: args.kind, limit: args.limit, lowercase: args.lowercase });

  const wanted = lab.selectGrid(args.grid, scale, args.seeds ?? scale.seeds, args.where);
  const runs = lab
    .scaleRuns(scale, undefined, [args.grid])
    .filter(
      (r) =>
        (args.seeds ?? scale.seeds).includes(r.config.seed) &&
        Object.entries(args.where).every(([k, val]) => String(r.group[k]) === val),
    );
  const again = `npm start -- --grid=${args.grid} --scale=${scale.name}`;
  if (runs.length === 0)
    throw new Error(
      `no finished runs of grid '${args.grid}' at scale '${scale.name}' (${wanted.length} wanted): train them first (${again})`,
    );
  console.log(
    `${lab.describeBackend()}\ngrid '${args.grid}' at scale '${scale.name}': ${runs.length} of ${wanted.length} runs finished${runs.length < wanted.length ? ` (the others are left out; ${again} trains them)` : ""}`,
  );

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
  const csv = path.join(
    args.out,
    `${r.key.replace(/^file-/, "").replace(/-[0-9a-f]{12}$/, "")}-${args.grid}-${scale.name}.csv`,
  );
  lab.writeFileAtomic(csv, lab.toCsv(r.rows));
  console.log(`\nwrote ${csv}\ndone in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
