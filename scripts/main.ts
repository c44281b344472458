/**
 * The main job (`npm start`): the default study on the embedded defaults. It builds the `small` data if
 * missing, trains baseline, LST static and LST curriculum at the CPU-small size under a compute budget
 * (3 seeds), evaluates every benchmark in every direction, prints the results table, each expected direction
 * of the paper the grid tests (paired Δ, 95% interval, verdict), and writes the figures and a CSV. Finished runs are reused, so a second `npm start` only prints.
 *
 *   npm start                                   the default study at the small scale
 *   npm start -- --grid=mixRatio                another grid (see lib/experiment/grids.ts)
 *   npm start -- --scale=smoke --seeds=1        another scale / seeds
 *   npm start -- --grid=calibration --where=units:phonetic,budget:1x   a part of a grid (by its group values)
 *   npm start -- --grid=phoneticPatching --where=budget:16x   an opt-in cell (lib/experiment/grids.ts)
 *   npm start -- --scale=gpu --dry-run --tflops=40   the one-GPU scale's plan, estimated at 40 TFLOP/s
 *   npm start -- --scale=gpu --dry-run --tflops=baseline:13,lst:4.8   ... at a (measured) rate per model kind
 *   npm start -- --norms=1                      also re-score the runs under mean, sum and PMI (lib/experiment/rescore.ts)
 *   npm start -- --chain=1                      also score the runs on the chain tier (tier 5: two facts from
 *                                               different sentences; built and scored once, then cached)
 *   LST_BACKEND=wasm npm start                  another backend
 *   npm start -- --dry-run                      what would train, cached runs marked, with a time estimate
 *   npm start -- --help                         every flag with its default
 *   npm start -- --executor=processes --jobs=2  the missing runs in 2 worker processes (lib/experiment/executor.ts)
 *   npm start -- --executor=slurm --partition=gpu --gres=gpu:1 --time=2:00:00 --mem=8G --throttle=4
 *                                               the missing runs as one Slurm job array; --wait=0 returns after
 *                                               submitting; --status shows the grid's state; --resubmit-failed
 *                                               submits again only the runs whose task failed
 *   LST_DATA_DIR=/scratch/lst npm start         keep runs/, cache/ and figures/ there instead of data/
 *
 * Figures and the CSV are named `<grid>[-<where>]-<scale>[-s<seeds>]` (lib/paths.ts outputStem: the seeds only when
 * they are not the scale's, so `--seeds` runs never overwrite the main job's files; only [A-Za-z0-9._-]). A bad
 * flag, seed list, grid, scale or LST_DATA_DIR exits 2 with the message alone.
 */
import path from "path";
import * as lab from "../lib";
import { GRID_SUMMARY, formatPlan, planGrid, planSummary } from "../lib";
import {
  checkDirPath,
  cli,
  CliError,
  finalLossSummary,
  flagValue,
  keyValues,
  oneOf,
  outputStem,
  seedList,
  SHELL_NAME,
} from "../lib/internal";

/** The main job's flags: one line each (lib/tooling/cli.ts). */
const MAIN_CLI = {
  command: "npm start --",
  summary:
    "The main job: train (or load) every run of a grid at a lab scale, evaluate, print the tables and the paper's expected directions, write figures and a CSV.",
  flags: {
    grid: { type: "string", default: "default", value: "NAME", help: "the grid to run (see --list-grids)" },
    scale: {
      type: "string",
      default: process.env.LST_SCALE ?? "small",
      value: "smoke|small|gpu|paper",
      help: "the lab scale (env LST_SCALE)",
    },
    seeds: { type: "string", value: "1,2,3", help: "seeds to run (default: the scale's)" },
    where: {
      type: "string",
      value: "key:value,...",
      help: "only the grid entries whose group has these values (a|b: either), e.g. units:phonetic,budget:1x or model:baseline|lst-aligned",
    },
    backend: {
      type: "string",
      default: process.env.LST_BACKEND ?? "",
      value: "tensorflow|webgpu|wasm|cpu",
      help: "force a TensorFlow.js backend (env LST_BACKEND)",
    },
    // no default here: LST_DATA_DIR is read when the job starts, so a bad value is an error, not a crash at load
    out: {
      type: "string",
      value: "DIR",
      help: "where figures and the CSV go (default: $LST_DATA_DIR/figures, else data/figures)",
    },
    runs: { type: "string", value: "DIR", help: "the run store (default: $LST_DATA_DIR/runs, else data/runs)" },
    norms: { type: "boolean", help: "also re-score the runs under mean, sum and PMI (lib/experiment/rescore.ts)" },
    chain: {
      type: "boolean",
      help: "also score the runs on the chain tier (tier 5; built and scored once, then cached)",
    },
    "list-grids": { type: "boolean", help: "list the grids with their runs per seed at the scale, and exit" },
    "dry-run": {
      type: "boolean",
      help: "list the runs this command would train (cached ones marked) with estimated times, and exit",
    },
    tflops: {
      type: "string",
      value: "N|baseline:N,lst:M",
      help: "--dry-run: estimate every run to train from its FLOPs at N sustained TFLOP/s, or one rate per model kind (default: measured step times; a GPU scale's assumed rate)",
    },
    "rerun-stale": {
      type: "boolean",
      help: "retrain finished runs made by other (or unknown) code; the old run directory moves to <runs>-stale/",
    },
    executor: {
      type: "string",
      value: "local|processes|slurm",
      help: "where missing runs execute (default local; --jobs implies processes, Slurm flags imply slurm)",
    },
    jobs: { type: "number", default: 2, value: "N", help: "processes: worker processes on this machine" },
    partition: { type: "string", value: "NAME", help: "slurm: the partition" },
    time: { type: "string", value: "H:MM:SS", help: "slurm: time limit per task" },
    cpus: { type: "number", default: 2, value: "N", help: "slurm: CPUs per task" },
    mem: { type: "string", value: "8G", help: "slurm: memory per task" },
    gres: { type: "string", value: "gpu:1", help: "slurm: generic resources per task (GPUs)" },
    throttle: {
      type: "number",
      default: 0,
      value: "K",
      help: "slurm: at most K tasks of the array at once (--array=0-N%K)",
    },
    sbatch: { type: "string", value: '"<flags>"', help: "slurm: extra sbatch flags" },
    env: {
      type: "string",
      value: "K=V,K=V",
      help: "environment for every task (LST_BACKEND and LST_DATA_DIR are passed on anyway)",
    },
    wait: {
      type: "boolean",
      default: true,
      help: "slurm: wait for the array (--wait=0 returns after submitting; a later call picks the results up)",
    },
    status: {
      type: "boolean",
      help: "print the grid's state under its submissions (pending, running, done, failed) and exit",
    },
    "resubmit-failed": {
      type: "boolean",
      help: "slurm: submit again only the runs whose task failed (they resume from their last checkpoint)",
    },
  },
  examples: [
    "npm start",
    "npm start -- --grid mixRatio --scale=smoke --seeds=1,2",
    "npm start -- --grid=calibration --where=units:phonetic,budget:1x --dry-run",
    "npm start -- --grid=phoneticPatching --where=budget:16x --scale=gpu --dry-run",
    "npm start -- --grid=phoneticPatching --where=budget:16x --scale=gpu --dry-run --tflops=baseline:13,lst:4.8",
    "npm start -- --list-grids",
  ],
} as const;

/** The executor options from the executor flags of MAIN_CLI (lib/experiment/executor.ts checks them). */
function executorFromArgs(
  args: {
    executor: string;
    jobs: number;
    partition: string;
    time: string;
    cpus: number;
    mem: string;
    gres: string;
    throttle: number;
    sbatch: string;
    env: string;
    wait: boolean;
    "resubmit-failed": boolean;
  },
  given: Set<string>,
): lab.ExecutorOptions {
  const x: Record<string, unknown> = {};
  for (const k of ["jobs", "cpus", "throttle"] as const) if (given.has(k)) x[k] = args[k];
  for (const k of ["partition", "time", "mem", "gres"] as const) if (args[k]) x[k] = args[k];
  if (args.sbatch) x.sbatch = args.sbatch.split(/\s+/).filter((s) => s !== "");
  if (given.has("wait")) x.wait = args.wait;
  if (args["resubmit-failed"]) x.resubmitFailed = true;
  if (args.env) {
    const env: Record<string, string> = {};
    for (const kv of args.env.split(",")) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new CliError(`--env takes KEY=value pairs separated by commas, got '${args.env}'`);
      const name = kv.slice(0, i);
      // the name goes into task.sh as it is (the value is quoted): `X;touch marker;Y` would be shell code
      if (!SHELL_NAME.test(name))
        throw new CliError(
          `--env name '${name}' is not a variable name: names are letters, digits and _, not starting with a digit (e.g. --env=LST_BACKEND=cpu)`,
        );
      env[name] = kv.slice(i + 1);
    }
    x.env = env;
  }
  x.kind =
    args.executor ||
    (x.resubmitFailed || x.partition || x.gres || x.throttle ? "slurm" : x.jobs ? "processes" : "local");
  return lab.resolveExecutor(x as unknown as lab.ExecutorOptions);
}

function pct(x: number): string {
  return (100 * x).toFixed(1);
}

async function main(): Promise<void> {
  const parsed = cli(MAIN_CLI);
  const args = {
    ...parsed.values,
    out: parsed.values.out || lab.figuresDir(),
    runs: parsed.values.runs || lab.runsDir(),
  };
  const executor = executorFromArgs(args, parsed.given);
  if (args.backend && executor.kind !== "local") executor.env = { LST_BACKEND: args.backend, ...executor.env };
  const t0 = Date.now();
  const scale = lab.labScale(oneOf("scale", args.scale, Object.keys(lab.SCALES)));
  if (!args["list-grids"]) oneOf("grid", args.grid, Object.keys(lab.GRIDS));
  const where = keyValues("where", args.where);
  const seeds = parsed.given.has("seeds") ? seedList("seeds", args.seeds) : scale.seeds;
  checkDirPath(args.runs, "run store (--runs)");
  checkDirPath(args.out, "output folder (--out)");
  if (args["list-grids"]) {
    console.log(`grids at scale '${scale.name}' (runs per seed; --grid=NAME runs one, --dry-run shows its plan):`);
    for (const name of Object.keys(lab.GRIDS)) {
      const n = lab.gridEntries(name, scale).length;
      const extra = lab.gridEntries(name, scale, true).length - n; // opt-in entries: run when --where names them
      const optIn = extra ? ` (+${extra} opt-in)` : "";
      console.log(`  ${name.padEnd(18)}${String(n).padStart(3)}  ${GRID_SUMMARY[name] ?? ""}${optIn}`);
    }
    return;
  }
  const tflops = parsed.given.has("tflops") ? flagValue("tflops", args.tflops, lab.parseTflops) : undefined;
  if (args["dry-run"]) {
    const plan = planGrid(args.grid, scale, {
      seeds,
      where,
      runsRoot: args.runs,
      rerunStale: args["rerun-stale"],
      tflops,
    });
    console.log(formatPlan(plan));
    return;
  }
  await lab.initBackend(args.backend ? { backend: args.backend } : {});
  console.log(lab.describeBackend());
  if (args.status) {
    lab.printGridState(lab.gridStatus(args.grid, { scale, seeds, where, runsRoot: args.runs, executor }));
    return;
  }
  console.log(
    planSummary(
      planGrid(args.grid, scale, { seeds, where, runsRoot: args.runs, rerunStale: args["rerun-stale"], tflops }),
    ),
  );

  // The dataset first (built once, then cached), with its size and build speed.
  const first = lab.resolveExperiment(lab.selectGrid(args.grid, scale, seeds, where)[0].spec, scale);
  const ds = await lab.datasetFor(first, { onProgress: lab.stageProgress() });
  const st = ds.stats;
  const audioS = st.audioHours * 3600;
  const build = Object.entries(st.seconds)
    .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
    .join(", ");
  console.log(
    `data '${ds.config.name}': ${st.pairedStories} paired stories, ${st.audioHours.toFixed(2)} h of speech, ${st.frames} unit frames; build: ${build || "cached"}`,
  );
  if (st.seconds["tts-paired"]) console.log(`  paired TTS ${(audioS / st.seconds["tts-paired"]).toFixed(0)}x realtime`);

  let last = "";
  const runs = await lab.runGrid(args.grid, {
    scale,
    seeds,
    where,
    runsRoot: args.runs,
    rerunStale: args["rerun-stale"],
    announceAfterMs: Infinity,
    executor,
    onProgress: (stage, done, total) => {
      const line = `${stage} ${done}/${total}`;
      const every = stage.startsWith("train") ? Math.max(1, Math.floor(total / 10)) : 1;
      if (line !== last && (done === total || done % every === 0))
        console.log(`  ${line}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      last = line;
    },
  });

  if (executor.kind === "slurm" && executor.wait === false) return; // submitted; --status shows the state, a later call the results
  const rows = runs.flatMap((r) => lab.withMacroRows(r.rows));
  const summary = lab.summarize(rows);
  console.log("\naccuracy % (mean ± std over seeds; chance: sc/tsc 50, hs 25)");
  const directions = ["S2S", "T2T", "S2T", "T2S", "macro"];
  const models = [...new Set(summary.map((s) => s.model))];
  const benches = [...new Set(summary.map((s) => s.benchmark))];
  const header = ["model", "bench", ...directions]
    .map((h, i) => (i < 2 ? h.padEnd(i === 0 ? 16 : 5) : h.padStart(12)))
    .join(" ");
  console.log(header);
  for (const m of models) {
    for (const b of benches) {
      const cells = directions.map((d) => {
        const s = summary.find((x) => x.model === m && x.benchmark === b && x.direction === d);
        return (s ? `${pct(s.mean)}±${pct(s.std)}` : "-").padStart(12);
      });
      console.log([m.padEnd(16), b.padEnd(5), ...cells].join(" "));
    }
  }
  // per difficulty tier, S→S and T→T (the per-tier accuracies add up to the overall, weighted by items)
  console.log("\naccuracy % by tier (S→S, T→T; mean ± std over seeds)");
  for (const t of lab.tierTable(runs).filter((x) => x.direction === "S2S" || x.direction === "T2T")) {
    console.log(
      `  ${String(t.model).padEnd(30)} ${String(t.benchmark).padEnd(4)} ${t.direction} tier ${t.tier} (${t.items} items): ${t["accuracy %"]}`,
    );
  }
  // the paper's expected directions this grid tests: paired per-item differences over seeds, with a seeded
  // hierarchical-bootstrap 95% interval; the verdict says where the interval lies (lib/eval/paired.ts)
  const findings = lab.FINDINGS.filter((f) => f.grid === args.grid);
  const report = findings.length
    ? lab.findingsReport(await lab.runItems(runs, { onProgress: lab.stageProgress() }), findings)
    : [];
  if (report.length) {
    console.log(
      "\nexpected directions (lst-paper.md §7) tested by this grid (paired Δ in points, 95% bootstrap interval over seeds and items):",
    );
    for (const r of report) {
      if (r.verdict === "not run") {
        console.log(
          `  ${r.verdict.padEnd(13)} ${r.claim}: ${r.higher} vs ${r.lower} are not both among this run's rows (seeds ${r.seeds})${r.note ? `; ${r.note}` : ""}`,
        );
        continue;
      }
      console.log(
        `  ${r.verdict.padEnd(13)} ${r.claim}: Δ ${lab.reportInterval(r)}, p ${lab.formatP(r.p)} (${r.higher} ${pct(r.meanHigher)}±${pct(r.stdHigher)} vs ${r.lower} ${pct(r.meanLower)}±${pct(r.stdLower)}, ${r.pairedSeeds} paired seeds x ${r.items} items)${r.note ? `\n                likely limit: ${r.note}` : ""}${r.why ? `\n                likely reason: ${r.why}` : ""}${r.verdict === "inconclusive" && r.detectable && r.detectable.mde > 0 ? `\n                detectable here: ${pct(r.detectable.mde)} points (80% power); the paper's effect needs ${Number.isFinite(r.seedsForPaper) ? `${r.seedsForPaper} seeds` : "a larger effect than this scale gives"}` : ""}`,
      );
    }
  }
  // the chain tier (tier 5), scored from the runs' checkpoints: accuracy by tier, and paired against the first model
  if (args.chain) {
    const chain = await lab.extraBenchmarkItems(runs, "chain", { onProgress: lab.stageProgress() });
    console.log("\nchain tier (tier 5: two facts from different sentences; 1-in-4, chance 25; mean ± std over seeds)");
    for (const t of lab.tierTableOfItems(chain)) {
      console.log(
        `  ${String(t.model).padEnd(30)} ${String(t.benchmark).padEnd(5)} ${t.direction} tier ${t.tier} (${t.items} items): ${t["accuracy %"]}`,
      );
    }
    const reference = runs[0].config.name;
    for (const r of lab
      .pairedTable(chain, { reference, directions: ["S2S", "T2T"] })
      .filter((x) => x.model !== reference)) {
      console.log(
        `  ${String(r.model).padEnd(30)} ${r.direction} Δ vs ${reference} ${r[`Δ vs ${reference} [95% CI]`]}, p ${r.p}: ${r.verdict}`,
      );
    }
  }
  // scoring variants: S→S and T→T under per-token mean (the runs' own), sum and PMI
  const variants = args.norms ? await lab.scoringVariants(runs, { onProgress: lab.stageProgress() }) : [];
  if (variants.length) {
    console.log("\naccuracy % by scoring (mean ± std over seeds)");
    for (const s of lab.summarize(variants).filter((x) => x.direction === "S2S" || x.direction === "T2T")) {
      console.log(`  ${s.model.padEnd(34)} ${s.benchmark.padEnd(4)} ${s.direction} ${pct(s.mean)}±${pct(s.std)}`);
    }
  }
  // a loss the last step had none of (no speech target: NaN, null in metrics.jsonl) shows its last finite value, or n/a
  for (const r of runs.filter((x) => x.config.seed === seeds[0]))
    if (r.metrics.length > 0) console.log(`  ${r.config.name}: ${finalLossSummary(r.metrics)}`);

  // --where=budget:4x,model:baseline|lst-aligned -> phoneticPatching-budget-4x-model-baseline_lst-aligned-small;
  // seeds other than the scale's add -s<seeds> (outputStem: only [A-Za-z0-9._-], whatever the flags hold)
  const base = path.join(
    args.out,
    outputStem({ grid: args.grid, where, seeds, defaultSeeds: scale.seeds, scale: scale.name }),
  );
  const csv = lab.toCsv(rows);
  lab.writeFileAtomic(`${base}.csv`, csv);
  const bars = lab.accuracyBars(rows, { title: `${args.grid} (${scale.name}, ${seeds.length} seeds)` });
  const loss = lab.lossCurves(
    runs.filter((r) => r.config.seed === seeds[0]).map((r) => ({ name: r.config.name, metrics: r.metrics })),
    { title: "training loss" },
  );
  const written: string[] = [`${base}.csv`];
  for (const ext of ["png", "svg", "pdf"]) {
    await lab.exportFigure(bars, `${base}-accuracy.${ext}`);
    await lab.exportFigure(loss, `${base}-loss.${ext}`);
    written.push(`${base}-accuracy.${ext}`, `${base}-loss.${ext}`);
    if (report.some((r) => r.verdict !== "not run")) {
      await lab.exportFigure(lab.reportFigure(report), `${base}-findings.${ext}`);
      written.push(`${base}-findings.${ext}`);
    }
    if (variants.length) {
      await lab.exportFigure(lab.scoringBars(variants), `${base}-scoring.${ext}`);
      written.push(`${base}-scoring.${ext}`);
    }
  }
  await lab.closeExporter();
  console.log(`\nwrote ${written.join(", ")}`);
  console.log(`done in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof CliError ? 2 : 1);
});
