/**
 * Figures about the data (notebooks 01-03, 09), built from a dataset or from tables; the result figures
 * are in figures.ts. All share the paper style of paper-style.ts.
 *
 *   utteranceFigure(ds, i, {patching})   spectrogram + word/silence spans (+ patch boundaries) of a paired story
 *   recordingFigure(rec)                 a recording's log-mel with its unit sequence beneath (data/recording.ts)
 *   unitHistogram(stats)                 occurrences per unit id
 *   mixSharesFigure(rows)                target vs realised interleaved share per mix ratio
 *   reportFigure(report)                 the reproduction report's paired Δ with its 95% bootstrap interval as
 *                                        (asymmetric) error bars, a line at 0, coloured by verdict
 */
import path from "path";
import type { Dataset } from "../data/build";
import type { RecordingUnits } from "../data/recording";
import { readShards } from "../data/build";
import { speechDocument } from "../data/interleave";
import { logMel } from "../audio/logmel";
import type { DeepPartial } from "../config";
import { makePatcher, needsEntropyModel, resolvePatchingConfig, type PatchingConfig } from "../model/patching";
import { patchFigure, spansFromAligned, speechPatchLengths } from "./patch-figure";
import { paperLayout, type Figure } from "./paper-style";
import type { UnitStats } from "./inspect";
import type { ReportRow, Verdict } from "../experiment/report";
import { entropyModelFor } from "../experiment/study";

export interface UtteranceFigureOptions {
  title?: string;
  /** draw the patch boundaries of this patching scheme */
  patching?: DeepPartial<PatchingConfig>;
  /** at most this many frames from the start (long stories are cut for readability) */
  maxFrames?: number;
}

/** The i-th paired story: its log-mel at the unit rate, its word/silence spans and optionally its patches. */
export function utteranceFigure(ds: Dataset, i: number, opts: UtteranceFigureOptions = {}): Figure {
  const a = ds.paired[i];
  if (!a) throw new Error(`utteranceFigure: paired story ${i} does not exist (the dataset has ${ds.paired.length})`);
  const utt = readShards(ds.dir, "paired").find((u) => u.id === a.id);
  if (!utt) throw new Error(`utteranceFigure: no audio for ${a.id} in ${ds.dir}: rebuild the dataset`);
  const mel = logMel(utt.audio, utt.sampleRate, { frameRate: ds.config.units.frameRate });
  const n = Math.min(a.units.length, mel.nFrames, opts.maxFrames ?? 250);
  const spectrogram = { frames: mel.frames.subarray(0, n * mel.nMels), nFrames: n, nMels: mel.nMels };
  const spans = spansFromAligned(a)
    .filter((s) => s.start < n)
    .map((s) => ({ ...s, end: Math.min(s.end, n) }));
  let patchLengths: number[] | undefined;
  if (opts.patching) {
    const cfg = resolvePatchingConfig(opts.patching);
    const entropyModel = needsEntropyModel(cfg) ? entropyModelFor(ds) : undefined;
    const seq = speechDocument(a, ds.vocab);
    // speech frames of BOS <s> u... EOS are tokens 2..; cut the patches at the n shown frames
    const all = speechPatchLengths(seq, makePatcher(cfg, { totalSteps: 1, entropyModel })(seq, 0));
    patchLengths = [];
    let t = 0;
    for (const len of all) {
      if (t >= n) break;
      patchLengths.push(Math.min(len, n - t));
      t += len;
    }
  }
  return patchFigure({ spectrogram, spans, patchLengths, title: opts.title ?? a.text.slice(0, 80) });
}

/**
 * A recording's log-mel at the unit rate (top) and its units beneath: one cell per frame, coloured by unit id,
 * the id written in it when at most `labelFrames` frames are shown (default 120). Both share the x axis:
 * frame f covers [f, f + 1).
 */
export function recordingFigure(
  rec: RecordingUnits,
  opts: { title?: string; maxFrames?: number; labelFrames?: number } = {},
): Figure {
  const n = Math.min(rec.units.length, rec.logMel.nFrames, opts.maxFrames ?? 250);
  const nMels = rec.logMel.nMels;
  const dim = rec.logMel.dim;
  // [frames, dim] -> [frames, nMels]: the static bins only (deltas, if any, follow them in every row)
  const frames = new Float32Array(n * nMels);
  for (let f = 0; f < n; f++) frames.set(rec.logMel.frames.subarray(f * dim, f * dim + nMels), f * nMels);
  const name = rec.file === null ? "recording" : path.basename(rec.file);
  const title =
    opts.title ??
    `${name}: ${rec.seconds.toFixed(2)} s at ${rec.fileSampleRate} Hz -> ${rec.units.length} units (K = ${rec.nUnits})${n < rec.units.length ? `, first ${n} shown` : ""}`;
  const fig = patchFigure({ spectrogram: { frames, nFrames: n, nMels }, title });
  const units = Array.from(rec.units.subarray(0, n));
  const labelled = n <= (opts.labelFrames ?? 120);
  fig.data.push({
    type: "heatmap",
    name: "units",
    z: [units],
    x0: 0.5,
    dx: 1,
    yaxis: "y2",
    colorscale: "Viridis",
    zmin: 0,
    zmax: Math.max(1, rec.nUnits - 1),
    showscale: false,
    text: [units.map(String)],
    texttemplate: labelled ? "%{text}" : "",
    textfont: { size: 8 },
    hovertemplate: "frame %{x}<br>unit %{z}<extra></extra>",
  });
  fig.layout.xaxis = { ...fig.layout.xaxis, anchor: "y2" };
  fig.layout.yaxis = { ...fig.layout.yaxis, domain: [0.28, 1] };
  fig.layout.yaxis2 = {
    domain: [0, 0.16],
    anchor: "x",
    range: [-0.5, 0.5],
    showticklabels: false,
    ticks: "",
    showline: true,
    linecolor: "#444",
    mirror: true,
    title: { text: "unit" },
  };
  fig.layout.height = fig.layout.height + 60;
  return fig;
}

export function unitHistogram(stats: UnitStats): Figure {
  const layout = paperLayout({
    title: `unit occurrences (K = ${stats.nUnits}, ${stats.unitsUsed} used)`,
    xTitle: "unit id",
    yTitle: "frames",
  });
  return {
    data: [
      { type: "bar", name: "frames", x: stats.counts.map((_, i) => i), y: stats.counts, marker: { color: "#4c72b0" } },
    ],
    layout,
  };
}

export function mixSharesFigure(
  rows: readonly { mixRatio: string | number; target: string | number; interleavedShare: string | number }[],
): Figure {
  const x = rows.map((r) => String(r.mixRatio));
  const layout = paperLayout({
    title: "interleaved token share: knob vs realised",
    xTitle: "interleaved : text-only",
    yTitle: "share of tokens",
  });
  return {
    data: [
      { type: "bar", name: "target", x, y: rows.map((r) => Number(r.target)), marker: { color: "#bbbbbb" } },
      {
        type: "bar",
        name: "realised",
        x,
        y: rows.map((r) => Number(r.interleavedShare)),
        marker: { color: "#dd8452" },
      },
    ],
    layout: { ...layout, barmode: "group" },
  };
}

const VERDICT_COLOURS: Record<Verdict, string> = {
  reproduces: "#2ca02c",
  contradicts: "#d62728",
  inconclusive: "#999999",
  "not run": "#eeeeee",
};

export function reportFigure(report: readonly ReportRow[]): Figure {
  const run = report.filter((r) => r.verdict !== "not run");
  const y = run.map((r) => `${r.higher} > ${r.lower} (${r.cell})`);
  const layout = paperLayout({
    title: "paper findings: paired Δ accuracy, 95% bootstrap interval",
    xTitle: "Δ accuracy, expected higher - lower (points)",
    yTitle: "",
    size: "wide",
  });
  const marginL = Math.max(200, Math.ceil(6.4 * Math.max(0, ...y.map((l) => l.length))));
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        name: "Δ",
        y,
        x: run.map((r) => 100 * r.delta),
        // the interval is not symmetric about Δ: plus and minus arms apart
        error_x: {
          type: "data",
          symmetric: false,
          array: run.map((r) => 100 * (r.hi - r.delta)),
          arrayminus: run.map((r) => 100 * (r.delta - r.lo)),
          visible: true,
        },
        marker: { color: run.map((r) => VERDICT_COLOURS[r.verdict]) },
      },
    ],
    // the left margin fits the longest label (~6.4 px a character in the paper font), the plot keeps its width
    layout: {
      ...layout,
      margin: { l: marginL, r: 20, t: 50, b: 50 },
      width: layout.width - 330 + marginL,
      height: 120 + 28 * run.length,
      // no difference: the line a verdict's interval must clear
      shapes: [
        {
          type: "line",
          xref: "x",
          yref: "paper",
          x0: 0,
          x1: 0,
          y0: 0,
          y1: 1,
          line: { color: "#444", width: 1, dash: "dot" },
        },
      ],
    },
  };
}
