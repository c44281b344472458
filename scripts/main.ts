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
 *   LST_DATA_DIR=/scratch/lst npm start         keep runs/, cache/ and figures/ there instead of data/
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
  const args: MainArgs = { grid: "default", scale: process.env.LST_SCALE ?? "small", seeds: "", backend: process.env.LST_BACKEND ?? "", out: lab.figuresDir(), where: "", norms: "" };
  for (const a of argv) {
    const m = /^--([a-zA-Z]+)=(.*)$/.exec(a);
    if (!m || !(m[1] in args)) throw new Error(`unknown argument '${a}': use --grid=, --scale=, --seeds=1,2,3, --backend=, --out=, --where=key:value,..., --norms=1`);
    (args as unknown as Record<string, string>)[m[1]] = m[2];
  }
  return args;
}

function pct(x: number): string {
  return (100 * x).toFixed(1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
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
    onProgress: (stage, done, total) => {
      const line = `${stage} ${done}/${total}`;
      const every = stage.startsWith("train") ? Math.max(1, Math.floor(total / 10)) : 1;
      if (line !== last && (done === total || done % every === 0)) console.log(`  ${line}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      last = line;
    },
  });

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
