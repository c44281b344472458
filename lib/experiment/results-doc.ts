/**
 * docs/results.md from the run store: one section per paper table or figure, each with its commands, the
 * accuracy table, the paired verdicts of its findings (findings.ts, through verdicts.ts) with what the
 * measurement could detect, and its figures (docs/figures/). `npm run results` (scripts/results.ts) rewrites the
 * generated blocks of the sections that have runs at its scale and leaves the rest of the file as written:
 *
 *   <!-- results:fig6:small begin -->  ...generated...  <!-- results:fig6:small end -->
 *   <!-- summary begin -->  ...generated from every verdict row of the file...  <!-- summary end -->
 *
 * A verdict row, generated or kept by hand (for runs measured in earlier sessions), is a table line whose first
 * cell holds the finding's id in backticks and whose fifth cell is its verdict:
 *
 *   | claim (`budget:lst-static>baseline-data:hs-macro`) | +2.8 | −1.8 [−4.0, +0.4] | 0.95 | **inconclusive** | small, 3 seeds x 200 items | 2.6 (3 seeds) | 4 |
 *
 * The summary (README.md carries the same block) rolls those rows up per §7 direction, so the README, this file
 * and the verdicts cannot disagree: a test checks that every finding has a row here.
 */
import type { ResultRow, RowDirection } from "../eval/metrics";
import { summarize, withMacroRows } from "../eval/metrics";
import { formatP, reportInterval } from "./report";
import { FINDINGS, findingId, type Finding } from "./findings";
import type { FindingRow } from "./verdicts";
import type { StudyRun } from "./study";

export interface ResultSection {
  /** the anchor and the figures' file-name stem: docs/figures/<id>-<scale>-accuracy.png */
  id: string;
  title: string;
  /** the grids whose runs it reads (their findings are listed in it) */
  grids: string[];
  /** the commands that train (or, when finished, re-print) its runs */
  commands: string[];
  /** the accuracy figure: grouped bars, or accuracy against a grid knob */
  figure: "bars" | "mixRatio" | "size" | "jitter";
}

/** The sections of docs/results.md, in the paper's order (lst-paper.md §6, §7). */
export const RESULT_SECTIONS: ResultSection[] = [
  {
    id: "tab3",
    title: "Table 3: compute-controlled, model type and patching strategy (§7.1, §7.2)",
    grids: ["default", "models"],
    commands: ["npm start", "npm start -- --grid=models"],
    figure: "bars",
  },
  {
    id: "tab4",
    title: "Table 4: data-controlled budget (§7.9)",
    grids: ["budget"],
    commands: ["npm start -- --grid=budget"],
    figure: "bars",
  },
  {
    id: "tab6",
    title: "Table 6: static patch size and silence handling (§7.3, §7.4)",
    grids: ["patchSize", "silence"],
    commands: ["npm start -- --grid=patchSize", "npm start -- --grid=silence"],
    figure: "bars",
  },
  {
    id: "tab10",
    title: "Table 10: word vs BPE alignment under the curriculum (§7.5)",
    grids: ["alignment"],
    commands: ["npm start -- --grid=alignment"],
    figure: "bars",
  },
  {
    id: "curriculum",
    title: "Curriculum schedule (§7.6; the paper gives no table)",
    grids: ["curriculum"],
    commands: ["npm start -- --grid=curriculum"],
    figure: "bars",
  },
  {
    id: "fig6",
    title: "Figure 6: speech:text mix ratio (§7.7)",
    grids: ["mixRatio"],
    commands: ["npm start -- --grid=mixRatio"],
    figure: "mixRatio",
  },
  {
    id: "fig4",
    title: "Figure 4: model size (§7.10)",
    grids: ["scaling"],
    commands: ["npm start -- --grid=scaling"],
    figure: "size",
  },
  {
    id: "noise",
    title: "Aligner noise: boundary jitter (§7.13; paper §6)",
    grids: ["jitter"],
    commands: ["npm start -- --grid=jitter"],
    figure: "jitter",
  },
  {
    id: "phonetic",
    title: "Lab cells: phonetic units, the paper's mix and 4x the budget (Table 3's directions)",
    grids: ["calibration", "phoneticPatching"],
    commands: [
      "npm start -- --grid=calibration",
      "npm start -- --grid=phoneticPatching --where=budget:4x --seeds=1,2,3,4,5 --chain",
    ],
    figure: "bars",
  },
  {
    id: "textpath",
    title: "Lab design: text through the global model or the local modules (lst-paper.md §1 [I])",
    grids: ["textPath"],
    commands: ["npm start -- --grid=textPath"],
    figure: "bars",
  },
];

/** lst-paper.md §7, for the summary: the direction's name, and why the lab does not test it where it does not. */
export const SECTION7: Record<string, { name: string; untested?: string }> = {
  "7.1": { name: "model type: LST vs baseline, BPE speech" },
  "7.2": { name: "patching strategy: static, aligned, mixed, curriculum" },
  "7.3": { name: "static patch size" },
  "7.4": { name: "silence handling" },
  "7.5": { name: "alignment unit: word vs BPE" },
  "7.6": {
    name: "curriculum schedule",
    untested: "the paper ablates no schedule; its direction, curriculum ≥ static, counts under 7.2",
  },
  "7.7": { name: "mix ratio" },
  "7.8": { name: "within-interleave span ratio", untested: "not ablated in the paper; no grid" },
  "7.9": { name: "budget mode: compute- vs data-controlled" },
  "7.10": { name: "scale sweep" },
  "7.11": { name: "hash embeddings, HuBERT dedup", untested: "no grid" },
  "7.12": { name: "seeds", untested: "the method of every verdict here (paired over seeds)" },
  "7.13": { name: "aligner noise" },
  "7.14": { name: "downstream ASR / TTS", untested: "no grid" },
  "7.15": { name: "low-level probes", untested: "no grid" },
};

/** The section that lists a finding (the one whose grids hold the finding's grid). */
export function sectionOf(f: Pick<Finding, "grid">): ResultSection {
  const s = RESULT_SECTIONS.find((x) => x.grids.includes(f.grid));
  if (!s)
    throw new Error(
      `finding of grid '${f.grid}' has no section in RESULT_SECTIONS (results-doc.ts): add the grid to one`,
    );
  return s;
}

/** The figure files of a section at a scale, by what the store holds: accuracy with runs, findings with verdicts. */
export function sectionFigureFiles(s: ResultSection, scale: string, hasRuns: boolean, hasVerdicts: boolean): string[] {
  const out: string[] = [];
  if (hasRuns) out.push(`${s.id}-${scale}-accuracy.png`);
  if (hasVerdicts) out.push(`${s.id}-${scale}-findings.png`);
  return out;
}

const CELLS: { benchmark: string; direction: RowDirection; label: string }[] = [
  { benchmark: "sc", direction: "S2S", label: "sc S→S" },
  { benchmark: "sc", direction: "T2T", label: "sc T→T" },
  { benchmark: "tsc", direction: "S2S", label: "tsc S→S" },
  { benchmark: "tsc", direction: "T2T", label: "tsc T→T" },
  { benchmark: "hs", direction: "S2S", label: "hs S→S" },
  { benchmark: "hs", direction: "T2T", label: "hs T→T" },
  { benchmark: "hs", direction: "macro", label: "hs macro" },
];

const pct = (x: number) => (100 * x).toFixed(1);
const pts = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? "+" : "−"}${Math.abs(100 * x).toFixed(1)}` : "–");

/** The accuracy table of a section's runs: one line per model, mean ± std over seeds, with its steps. */
export function accuracyTable(runs: readonly StudyRun[]): string {
  const rows: ResultRow[] = runs.flatMap((r) => withMacroRows(r.rows));
  const summary = summarize(rows);
  const models = [...new Set(runs.map((r) => r.config.name))];
  const lines = [
    `| model | seeds | steps | ${CELLS.map((c) => c.label).join(" | ")} |`,
    `|---|---|---|${"---|".repeat(CELLS.length)}`,
  ];
  for (const m of models) {
    const mine = runs.filter((r) => r.config.name === m);
    const steps = [
      ...new Set(mine.map((r) => (r.record.result as { steps?: number } | null)?.steps ?? r.config.train.steps)),
    ];
    const cells = CELLS.map((c) => {
      const s = summary.find((x) => x.model === m && x.benchmark === c.benchmark && x.direction === c.direction);
      return s ? `${pct(s.mean)} ± ${pct(s.std)}` : "–";
    });
    lines.push(`| ${m} | ${mine.length} | ${steps.join(", ")} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

const seedsText = (n: number) => `${n} seed${n === 1 ? "" : "s"}`;

/** One verdict row (the format in the header), from a measured (or not run) finding row. */
export function verdictLine(r: FindingRow, scale: string): string {
  const measured =
    r.verdict === "not run"
      ? `${scale}: not in the run store`
      : `${scale}, ${seedsText(r.pairedSeeds)} x ${r.items} items${r.note ? ` (${r.note})` : ""}`;
  // no variance measured (identical answers on every item): no MDE to give
  const mde =
    r.detectable && r.detectable.seedVar > 0 ? `${pct(r.detectable.mde)} (${seedsText(r.detectable.seeds)})` : "–";
  const seeds = Number.isFinite(r.seedsForPaper)
    ? `${r.seedsForPaper}${r.detectable && r.detectable.itemVar > r.detectable.seedVar / 2 ? " (mostly item noise: more items help too)" : ""}`
    : "–";
  const verdict = r.verdict === "not run" ? "not run" : `**${r.verdict}**`;
  return `| ${r.claim} (\`${r.id}\`) | ${pts(r.paperEffect)} | ${reportInterval(r)} | ${formatP(r.p)} | ${verdict} | ${measured} | ${mde} | ${seeds} |`;
}

export const VERDICT_HEADER = [
  "| finding (id) | paper Δ | paired Δ [95% CI] | p | verdict | measured | MDE, 80% power | seeds for the paper's Δ |",
  "|---|---|---|---|---|---|---|---|",
].join("\n");

/** The commits and code keys that made a section's runs (from each run's provenance). */
export function runProvenance(runs: readonly StudyRun[]): { commits: string[]; codes: string[]; dirty: boolean } {
  const commits = new Set<string>();
  const codes = new Set<string>();
  let dirty = false;
  for (const r of runs) {
    codes.add(r.record.code);
    for (const seg of r.record.provenance?.segments ?? []) {
      if (seg.git.available) {
        commits.add(seg.git.commit.slice(0, 7));
        dirty ||= seg.git.dirty;
      }
    }
  }
  return { commits: [...commits].sort(), codes: [...codes].sort(), dirty };
}

/**
 * The generated block of a section at a scale: what the store holds, the accuracy table, the verdict rows of the
 * section's findings (every one, measured or not) and the figure links (relative to docs/).
 */
export function sectionBlock(
  s: ResultSection,
  scale: string,
  runs: readonly StudyRun[],
  rows: readonly FindingRow[],
  figures: readonly string[],
): string {
  const mine = rows.filter((r) => s.grids.includes(r.grid));
  const out: string[] = [];
  if (runs.length === 0) {
    out.push(
      `Not in the run store at scale \`${scale}\` when this block was generated: ${s.commands.map((c) => `\`${c}\``).join(", ")} train${s.commands.length === 1 ? "s" : ""} it (add \`--dry-run\` for the time), then \`npm run results\`.`,
    );
  } else {
    const seeds = [...new Set(runs.map((r) => r.config.seed))].sort((a, b) => a - b);
    const p = runProvenance(runs);
    out.push(
      `Scale \`${scale}\`: ${runs.length} runs in the store (seeds ${seeds.join(",")}), made at commit${p.commits.length === 1 ? "" : "s"} ${p.commits.join(", ") || "unknown"}${p.dirty ? " (with uncommitted edits)" : ""}, code ${p.codes.join(", ")}. Accuracy in %, mean ± std over seeds.`,
      "",
      accuracyTable(runs),
    );
  }
  if (mine.length) out.push("", VERDICT_HEADER, ...mine.map((r) => verdictLine(r, scale)));
  for (const f of figures) out.push("", `![${f}](figures/${f})`);
  return out.join("\n");
}

/** A block: its begin marker on its own line, its content (empty, or lines each ending in a newline), its end marker. */
function blockRe(key: string): RegExp {
  const k = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(<!-- ${k} begin -->\\n)([\\s\\S]*?)(<!-- ${k} end -->)`);
}

/** Whether a document has the block `key` (e.g. "results:fig6:small", "summary"). */
export function hasBlock(doc: string, key: string): boolean {
  return blockRe(key).test(doc);
}

/** The document with block `key`'s content replaced (the markers stay); an error when it has no such block. */
export function replaceBlock(doc: string, key: string, content: string): string {
  if (!hasBlock(doc, key))
    throw new Error(`replaceBlock: no '<!-- ${key} begin -->' ... '<!-- ${key} end -->' block in the document`);
  const body = content === "" || content.endsWith("\n") ? content : `${content}\n`;
  return doc.replace(blockRe(key), (_, a: string, _old: string, b: string) => `${a}${body}${b}`);
}

/** The content of block `key` without its last newline, or null when the document has none. */
export function readBlock(doc: string, key: string): string | null {
  const m = blockRe(key).exec(doc);
  return m ? m[2].replace(/\n$/, "") : null;
}

export type DocVerdict = "reproduces" | "contradicts" | "inconclusive" | "not re-paired" | "not run";

export interface DocVerdictRow {
  id: string;
  verdict: DocVerdict;
  /** the measured cell up to its first comma: the scale and cell the verdict was measured at */
  scale: string;
}

/** Every verdict row of a document (the format in the header), for the findings it knows, in order. */
export function docVerdictRows(doc: string, findings: readonly Finding[] = FINDINGS): DocVerdictRow[] {
  const ids = new Set(findings.map(findingId));
  const out: DocVerdictRow[] = [];
  for (const line of doc.split("\n")) {
    const row = verdictRowOf(line, ids);
    if (row) out.push(row);
  }
  return out;
}

/** One line as a verdict row of a finding in `ids`, or null when it is not one. */
export function verdictRowOf(line: string, ids: ReadonlySet<string>): DocVerdictRow | null {
  if (!line.startsWith("|")) return null;
  const cells = line.split("|").slice(1, -1);
  if (cells.length < 6) return null;
  const id = /`([^`]+)`/.exec(cells[0])?.[1];
  if (id === undefined || !ids.has(id)) return null;
  const v = cells[4];
  // an old-rule row says "not re-paired" first, whatever its old words were
  const verdict: DocVerdict = /not re-paired/.test(v)
    ? "not re-paired"
    : /not run/.test(v)
      ? "not run"
      : /reproduces/.test(v)
        ? "reproduces"
        : /contradicts/.test(v)
          ? "contradicts"
          : /inconclusive/.test(v)
            ? "inconclusive"
            : "not re-paired";
  return { id, verdict, scale: cells[5].split(",")[0].trim() };
}

/** the verdicts of the paired rule */
export const PAIRED: readonly DocVerdict[] = ["reproduces", "contradicts", "inconclusive"];

/**
 * Each finding's verdict in a document: its first paired row (generated rows come first in a section), else its
 * first "not re-paired" row (an earlier measurement under the old 2-spread rule), else "not run".
 */
export function docVerdicts(doc: string, findings: readonly Finding[] = FINDINGS): Map<string, DocVerdictRow> {
  const rows = docVerdictRows(doc, findings);
  const out = new Map<string, DocVerdictRow>();
  for (const f of findings) {
    const id = findingId(f);
    const mine = rows.filter((r) => r.id === id);
    const pick =
      mine.find((r) => PAIRED.includes(r.verdict)) ?? mine.find((r) => r.verdict === "not re-paired") ?? mine[0];
    out.set(id, pick ?? { id, verdict: "not run", scale: "" });
  }
  return out;
}

/** The §7 summary table, rolled up from a document's verdict rows (the block README.md and docs/results.md share). */
export function summaryMarkdown(
  doc: string,
  findings: readonly Finding[] = FINDINGS,
  link = "docs/results.md",
): string {
  const verdicts = docVerdicts(doc, findings);
  const lines = ["| §7 direction | verdicts under the paired rule | measured at | read |", "|---|---|---|---|"];
  const order = Object.keys(SECTION7).sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  for (const sec of order) {
    const info = SECTION7[sec];
    const mine = findings.filter((f) => f.section === sec);
    if (mine.length === 0) {
      lines.push(`| ${sec} ${info.name} | not tested: ${info.untested ?? "no finding"} | – | – |`);
      continue;
    }
    const vs = mine.map((f) => verdicts.get(findingId(f)) as DocVerdictRow);
    const count = (v: DocVerdict) => vs.filter((x) => x.verdict === v).length;
    const parts: string[] = [];
    for (const [v, one, many] of [
      ["reproduces", "reproduces", "reproduce"],
      ["contradicts", "contradicts", "contradict"],
      ["inconclusive", "inconclusive", "inconclusive"],
      ["not re-paired", "not re-paired (old rule)", "not re-paired (old rule)"],
      ["not run", "not run", "not run"],
    ] as const) {
      const n = count(v);
      if (n) parts.push(`${n} ${n === 1 ? one : many}`);
    }
    const scales = [...new Set(vs.filter((x) => PAIRED.includes(x.verdict)).map((x) => x.scale))];
    const sections = [...new Set(mine.map((f) => sectionOf(f)))];
    const read = sections.map((s) => `[${s.id}](${link}#${anchor(s.title)})`).join(", "); // link "": this file
    lines.push(`| ${sec} ${info.name} | ${parts.join(", ")} | ${scales.join("; ") || "–"} | ${read} |`);
  }
  return lines.join("\n");
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}
