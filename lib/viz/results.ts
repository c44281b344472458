/**
 * `npm run results` (scripts/results.ts): docs/results.md and its figures from the run store, training nothing.
 *
 *   writeResults({ scale })   for every section of docs/results.md (experiment/results-doc.ts) that has finished
 *                             runs at the scale: its accuracy figure and, where a finding was measured, its
 *                             findings figure (paired Δ with the 95% interval) as PNG in `figures`; the section's
 *                             generated block in `doc`, where the doc has one for this scale; and the §7 summary
 *                             block in `doc` and every file of `summaryIn` (README.md)
 *
 * Returns the figure files written, in section order: `${section}-${scale}-accuracy.png`, then
 * `${section}-${scale}-findings.png` (sectionFigureFiles). A section without runs writes no figure and leaves its
 * block as it is. Example at the smoke scale with only the default grid's 3 runs (seed 1) in the store: the
 * baseline and LST static runs are shared by several grids, so tab3 (both figures: the default grid's findings
 * are measured), tab4, tab6, fig6, fig4, phonetic and textpath get an accuracy figure.
 */
import fs from "fs";
import path from "path";
import { runsDir } from "../paths";
import { writeFileAtomic } from "../files";
import { labScale, type LabScale } from "../experiment/experiment";
import { scaleRuns } from "../experiment/grid-study";
import { runItems } from "../experiment/rescore";
import { findingsReport, type FindingRow } from "../experiment/verdicts";
import {
  RESULT_SECTIONS,
  hasBlock,
  replaceBlock,
  sectionBlock,
  sectionFigureFiles,
  summaryMarkdown,
  type ResultSection,
} from "../experiment/results-doc";
import { dropSuperseded } from "../experiment/old-rows";
import type { StudyRun } from "../experiment/study";
import { withMacroRows } from "../eval/metrics";
import { accuracyBars } from "./figures";
import { accuracyVsKnob, accuracyVsMix, accuracyVsSize } from "./knob-figures";
import { reportFigure } from "./data-figures";
import { closeExporter, exportFigure } from "./export";
import type { Figure } from "./paper-style";

export interface ResultsOptions {
  scale?: LabScale;
  runsRoot?: string;
  /** where the PNGs go, default docs/figures */
  figures?: string;
  /** the results document to update, default docs/results.md; null: none */
  doc?: string | null;
  /** files whose summary block gets the doc's summary (README.md), default none */
  summaryIn?: string[];
  /** progress lines, default console.log */
  log?: (line: string) => void;
}

/** The accuracy figure of a section's runs. */
export function sectionAccuracyFigure(s: ResultSection, runs: readonly StudyRun[], title: string): Figure {
  const rows = runs.flatMap((r) => withMacroRows(r.rows));
  if (s.figure === "mixRatio") return accuracyVsMix(rows, "hs");
  if (s.figure === "size" && rows.every((r) => r.group?.params !== undefined)) return accuracyVsSize(rows, "hs");
  if (s.figure === "jitter" && rows.every((r) => r.group?.jitterFrames !== undefined))
    return accuracyVsKnob(rows, {
      knob: "jitterFrames",
      benchmark: "hs",
      xTitle: "boundary jitter (frames of 40 ms)",
      title,
    });
  return accuracyBars(rows, { title });
}

/** See the header. */
export async function writeResults(opts: ResultsOptions = {}): Promise<{ files: string[]; report: FindingRow[] }> {
  const scale = opts.scale ?? labScale();
  const runsRoot = opts.runsRoot ?? runsDir();
  const figDir = opts.figures ?? path.join("docs", "figures");
  const docFile = opts.doc === undefined ? path.join("docs", "results.md") : opts.doc;
  const log = opts.log ?? console.log;
  const all = scaleRuns(scale, runsRoot);
  log(`${all.length} finished runs at scale '${scale.name}' in ${runsRoot}`);
  const report = findingsReport(await runItems(all, { scale, runsRoot }));
  let doc = docFile !== null && fs.existsSync(docFile) ? fs.readFileSync(docFile, "utf8") : null;
  const files: string[] = [];
  for (const s of RESULT_SECTIONS) {
    const runs = scaleRuns(scale, runsRoot, s.grids);
    const rows = report.filter((r) => s.grids.includes(r.grid));
    const measured = rows.filter((r) => r.verdict !== "not run");
    const names = sectionFigureFiles(s, scale.name, runs.length > 0, measured.length > 0);
    for (const name of names) {
      const fig = name.endsWith("-accuracy.png")
        ? sectionAccuracyFigure(s, runs, `${s.id} (${scale.name})`)
        : reportFigure(measured);
      const file = path.join(figDir, name);
      await exportFigure(fig, file);
      files.push(file);
    }
    const key = `results:${s.id}:${scale.name}`;
    if (doc !== null && runs.length > 0) {
      if (hasBlock(doc, key)) doc = replaceBlock(doc, key, sectionBlock(s, scale.name, runs, rows, names));
      else log(`${docFile} has no '<!-- ${key} begin -->' block: section ${s.id} left as it is`);
    }
  }
  await closeExporter();
  if (doc !== null && docFile !== null) {
    const pruned = dropSuperseded(doc);
    for (const id of pruned.dropped) log(`dropped the old-rule row of ${id}: a paired verdict supersedes it`);
    doc = pruned.doc;
    if (hasBlock(doc, "summary")) doc = replaceBlock(doc, "summary", summaryMarkdown(doc, undefined, ""));
    writeFileAtomic(docFile, doc);
    for (const f of opts.summaryIn ?? []) {
      const text = fs.readFileSync(f, "utf8");
      if (hasBlock(text, "summary"))
        writeFileAtomic(
          f,
          replaceBlock(text, "summary", summaryMarkdown(doc, undefined, path.relative(path.dirname(f), docFile))),
        );
    }
  }
  return { files, report };
}
