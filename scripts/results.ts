/**
 * `npm run results`: docs/results.md and docs/figures/ from the run store; trains nothing (lib/viz/results.ts).
 *
 *   npm run results                            the small scale's runs: figures, the generated blocks, the summary
 *                                              in docs/results.md and README.md
 *   npm run results -- --scale=smoke --runs=/tmp/runs --figures=/tmp/fig --doc=none   figures only
 *
 * It prints every figure file it wrote. A section whose grids have no finished runs keeps what docs/results.md
 * says; `npm start -- --grid=<name>` trains them first (`--dry-run` for the time).
 */
import path from "path";
import * as lab from "../lib";
import { cli } from "../lib/internal";
// lib/index.ts does not export the results writer yet: the one import outside the two entries

const RESULTS_CLI = {
  command: "npm run results --",
  summary:
    "Regenerate docs/results.md's measured blocks, its figures (PNG) and the §7 summary (docs/results.md, README.md) from the run store; trains nothing.",
  flags: {
    scale: {
      type: "string",
      default: process.env.LST_SCALE ?? "small",
      value: "smoke|small|gpu|paper",
      help: "the lab scale whose runs are read (env LST_SCALE)",
    },
    runs: { type: "string", value: "DIR", help: "the run store (default: $LST_DATA_DIR/runs, else data/runs)" },
    figures: { type: "string", default: path.join("docs", "figures"), value: "DIR", help: "where the PNGs go" },
    doc: {
      type: "string",
      default: path.join("docs", "results.md"),
      value: "FILE",
      help: "the results document to update ('none': figures only)",
    },
    readme: {
      type: "string",
      default: "README.md",
      value: "FILE",
      help: "a file whose summary block gets the document's summary ('none': no file)",
    },
    backend: {
      type: "string",
      default: process.env.LST_BACKEND ?? "",
      value: "tensorflow|webgpu|wasm|cpu",
      help: "force a TensorFlow.js backend (runs without stored per-item scores are re-scored from their checkpoints)",
    },
  },
  examples: ["npm run results", "npm run results -- --scale=smoke --runs=/tmp/runs --figures=/tmp/fig --doc=none"],
} as const;

async function main(): Promise<void> {
  const args = cli(RESULTS_CLI).values;
  await lab.initBackend(args.backend ? { backend: args.backend } : {});
  const { files, report } = await lab.writeResults({
    scale: lab.labScale(args.scale),
    runsRoot: args.runs || lab.runsDir(),
    figures: args.figures,
    doc: args.doc === "none" ? null : args.doc,
    summaryIn: args.doc !== "none" && args.readme !== "none" ? [args.readme] : [],
  });
  const measured = report.filter((r) => r.verdict !== "not run");
  console.log(`${measured.length} of ${report.length} findings measured at scale '${args.scale}'`);
  for (const r of measured)
    console.log(`  ${r.verdict.padEnd(13)} ${r.id}: Δ ${lab.reportInterval(r)}, p ${lab.formatP(r.p)}`);
  console.log(`wrote ${files.length} figures:`);
  for (const f of files) console.log(`  ${f}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
