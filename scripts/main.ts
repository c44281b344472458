/**
 * The main job (`npm start`): the default study on the embedded defaults. It builds the `small` data if
 * missing, trains baseline, LST static and LST curriculum at the CPU-small size under a compute budget
 * (3 seeds), evaluates every benchmark in every direction, prints the results table and writes the figures
 * and a CSV. Finished runs are reused, so a second `npm start` only prints.
 *
 *   npm start                                   the default study at the small scale
 *   npm start -- --grid=mixRatio                another grid (see lib/lab/grids.ts)
 *   npm start -- --scale=smoke --seeds=1        another scale / seeds
 *   npm start -- --grid=calibration --where=units:phonetic,budget:1x   a part of a grid (by its group values)
 *   npm start -- --norms=1                      also re-score the runs under mean, sum and PMI (lib/lab/rescore.ts)
 *   LST_BACKEND=wasm npm start                  another backend
 *   npm start -- --executor=processes --jobs=2  the missing runs in 2 worker processes (lib/lab/executor.ts)
 *   npm start -- --executor=slurm --partition=gpu --gres=gpu:1 --time=2:00:00 --mem=8G --throttle=4
 *                                               the missing runs as one Slurm job array; --wait=0 returns after
 *                                               submitting; --status shows the grid's state; --resubmit-failed
 *                                               submits again only the runs whose task failed
 */
import path from "path";
import * as lab from "../lib";

interface MainArgs {
  grid: string;
  scale: string;
  seeds: string;
  backend: string;
  out: string;
  where: string;
  norms: string;
}

function parseArgs(argv: string[]): MainArgs {
  const args: MainArgs = { grid: "default", scale: process.env.LST_SCALE ?? "small", seeds: "", backend: process.env.LST_BACKEND ?? "", out: path.join("data", "figures"), where: "", norms: "" };
  for (const a of argv) {
    const m = /^--([a-zA-Z]+)=(.*)$/.exec(a);
    if (!m || !(m[1] in args)) throw new Error(`unknown argument '${a}': use --grid=, --scale=, --seeds=1,2,3, --backend=, --out=, --where=key:value,..., --norms=1`);
    (args as unknown as Record<string, string>)[m[1]] = m[2];
  }
  return args;
}

/**
 * The executor flags (kept apart from parseArgs so they can join a shared flag table): --executor=, --jobs=,
 * --partition=, --time=, --cpus=, --mem=, --gres=, --throttle=, --sbatch="<flags>", --env=K=V,K=V, --wait=0,
 * --status, --resubmit-failed. Returns the executor options, whether --status was asked, and the other args.
 */
function parseExecutorArgs(argv: string[]): { executor: lab.ExecutorOptions; status: boolean; rest: string[] } {
  const x: Record<string, unknown> = {};
  let status = false;
  const rest: string[] = [];
  const int = (k: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${k} must be a positive integer, got '${v}'`);
    return n;
  };
  for (const a of argv) {
    const m = /^--([a-zA-Z-]+)(?:=(.*))?$/.exec(a);
    const [k, v] = m ? [m[1], m[2]] : ["", undefined];
    if (k === "status" && v === undefined) status = true;
    else if (k === "resubmit-failed" && v === undefined) x.resubmitFailed = true;
    else if (v === undefined) rest.push(a);
    else if (k === "executor") x.kind = v;
    else if (k === "jobs" || k === "cpus" || k === "throttle") x[k] = int(k, v);
    else if (k === "partition" || k === "time" || k === "mem" || k === "gres") x[k] = v;
    else if (k === "sbatch") x.sbatch = v.split(/\s+/).filter((s) => s !== "");
    else if (k === "wait") x.wait = !/^(0|false|no)$/i.test(v);
    else if (k === "env") {
      const env: Record<string, string> = {};
      for (const kv of v.split(",")) {
        const i = kv.indexOf("=");
        if (i <= 0) throw new Error(`--env takes KEY=value pairs separated by commas, got '${v}'`);
        env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      x.env = env;
    } else rest.push(a);
  }
  if (x.kind === undefined) x.kind = x.resubmitFailed || x.partition || x.gres || x.throttle ? "slurm" : x.jobs ? "processes" : "local";
  return { executor: lab.resolveExecutor(x as unknown as lab.ExecutorOptions), status, rest };
}

function pct(x: number): string {
  return (100 * x).toFixed(1);
}

async function main(): Promise<void> {
  const exec = parseExecutorArgs(process.argv.slice(2));
  const args = parseArgs(exec.rest);
  if (args.backend && exec.executor.kind !== "local") exec.executor.env = { LST_BACKEND: args.backend, ...exec.executor.env };
  const t0 = Date.now();
  await lab.initBackend(args.backend ? { backend: args.backend } : {});
  console.log(lab.describeBackend());
  const scale = lab.labScale(args.scale);
  const where: Record<string, string> = {};
  for (const kv of args.where ? args.where.split(",") : []) {
    const [k, v] = kv.split(":");
    if (!k || v === undefined) throw new Error(`--where takes key:value pairs separated by commas, got '${args.where}'`);
    where[k] = v;
  }
  const seeds = args.seeds ? args.seeds.split(",").map((s) => Number(s)) : scale.seeds;
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds must be integers separated by commas, got '${args.seeds}'`);
  console.log(`grid '${args.grid}' at scale '${scale.name}', seeds ${seeds.join(",")}`);
  if (exec.status) {
    lab.printGridState(lab.gridStatus(args.grid, { scale, seeds, where, executor: exec.executor }));
    return;
  }

  // The dataset first (built once, then cached), with its size and build speed.
  const first = lab.resolveExperiment(lab.selectGrid(args.grid, scale, seeds, where)[0].spec, scale);
  const ds = await lab.datasetFor(first, { onProgress: lab.stageProgress() });
  const st = ds.stats;
  const audioS = st.audioHours * 3600;
  const build = Object.entries(st.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ");
  console.log(`data '${ds.config.name}': ${st.pairedStories} paired stories, ${st.audioHours.toFixed(2)} h of speech, ${st.frames} unit frames; build: ${build || "cached"}`);
  if (st.seconds["tts-paired"]) console.log(`  paired TTS ${(audioS / st.seconds["tts-paired"]).toFixed(0)}x realtime`);

  let last = "";
  const runs = await lab.runGrid(args.grid, {
    scale,
    seeds,
    where,
    executor: exec.executor,
    onProgress: (stage, done, total) => {
      const line = `${stage} ${done}/${total}`;
      const every = stage.startsWith("train") ? Math.max(1, Math.floor(total / 10)) : 1;
      if (line !== last && (done === total || done % every === 0)) console.log(`  ${line}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      last = line;
    },
  });

  if (exec.executor.wait === false) return; // submitted; --status shows the state, a later call the results
  const rows = runs.flatMap((r) => lab.withMacroRows(r.rows));
  const summary = lab.summarize(rows);
  console.log("\naccuracy % (mean ± std over seeds; chance: sc/tsc 50, hs 25)");
  const directions = ["S2S", "T2T", "S2T", "T2S", "macro"];
  const models = [...new Set(summary.map((s) => s.model))];
  const benches = [...new Set(summary.map((s) => s.benchmark))];
  const header = ["model", "bench", ...directions].map((h, i) => (i < 2 ? h.padEnd(i === 0 ? 16 : 5) : h.padStart(12))).join(" ");
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
    console.log(`  ${String(t.model).padEnd(30)} ${String(t.benchmark).padEnd(4)} ${t.direction} tier ${t.tier} (${t.items} items): ${t["accuracy %"]}`);
  }
  // the paper's expected directions this grid tests (verdict: LST minus baseline beyond 2 spreads over seeds)
  const findings = lab.PAPER_FINDINGS.filter((f) => f.grid === args.grid);
  if (findings.length) {
    console.log("\nexpected directions (lst-paper.md §7) tested by this grid:");
    for (const r of lab.reproductionReport(rows, findings)) {
      if (r.verdict === "not run") {
        console.log(`  ${r.verdict.padEnd(18)} ${r.claim}: ${r.higher} vs ${r.lower} are not both among this run's rows (seeds ${r.seeds})`);
        continue;
      }
      console.log(`  ${r.verdict.padEnd(18)} ${r.claim}: ${r.higher} ${pct(r.meanHigher)}±${pct(r.stdHigher)} vs ${r.lower} ${pct(r.meanLower)}±${pct(r.stdLower)} (seeds ${r.seeds})${r.why ? `\n                     likely reason: ${r.why}` : ""}`);
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
  for (const r of runs.filter((x) => x.config.seed === seeds[0])) {
    const lastStep = r.metrics[r.metrics.length - 1];
    if (lastStep) console.log(`  ${r.config.name}: ${r.metrics.length} steps, final loss ${lastStep.loss.toFixed(3)} (speech ${lastStep.lossSpeech.toFixed(3)}, text ${lastStep.lossText.toFixed(3)})`);
  }

  const base = path.join(args.out, `${args.grid}${args.where ? `-${args.where.replace(/[:,]/g, "-")}` : ""}-${scale.name}`);
  const csv = lab.toCsv(rows);
  lab.writeFileAtomic(`${base}.csv`, csv);
  const bars = lab.accuracyBars(rows, { title: `${args.grid} (${scale.name}, ${seeds.length} seeds)` });
  const loss = lab.lossCurves(runs.filter((r) => r.config.seed === seeds[0]).map((r) => ({ name: r.config.name, metrics: r.metrics })), { title: "training loss" });
  const written: string[] = [`${base}.csv`];
  for (const ext of ["png", "svg", "pdf"]) {
    await lab.exportFigure(bars, `${base}-accuracy.${ext}`);
    await lab.exportFigure(loss, `${base}-loss.${ext}`);
    written.push(`${base}-accuracy.${ext}`, `${base}-loss.${ext}`);
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
  process.exit(1);
});
