/**
 * Pure figure builders: lab data in, a Plotly figure object `{ data, layout }` out (no I/O; display.ts shows
 * it in a notebook and export.ts writes PNG/SVG/PDF). All figures share lib/viz/paper-style.ts.
 *
 *   lossCurves          training loss vs step or vs cumulative FLOPs, one line per run     (training dynamics)
 *   accuracyBars        grouped bars, mean ± std over seeds, per benchmark × direction,    (Tables 3, 4, 6, 9)
 *                       with a dashed chance line over each benchmark's bars
 *   pairedBars          each model's paired difference to a reference, per benchmark × direction, with its
 *                       95% bootstrap interval as error bars and a line at 0 (lib/eval/paired.ts)
 *   accuracyVsKnob      accuracy vs a grid knob, one line per model × direction            (Fig. 6 mix ratio,
 *                       Fig. 4 model size on a log axis)
 *   computeSavingBars   compute saving per model in %, ours next to the paper's            (Table 4 "Save")
 *   patchFigure         a spectrogram with word spans and patch boundaries                  (Fig. 2 style)
 * Accuracies are plotted in percent, as in the paper's tables.
 */
import type { AlignedUtterance, LmSequence } from "../data/types";
import { summarize, type ResultRow, type RowDirection } from "../eval/metrics";
import { comparePaired, type PairedOptions, type RunItems } from "../eval/paired";
import {
  benchmarkLabel,
  CHANCE_PCT,
  directionLabel,
  DIRECTION_DASH,
  modelColor,
  paperLayout,
  type Annotation,
  type Figure,
  type Shape,
  type SizeName,
  type Trace,
} from "./paper-style";

/** One logged step, as train's StepMetrics or a run's metrics.jsonl row gives it; other fields are read by name. */
export interface StepLike {
  step: number;
}

function field(m: StepLike, name: string): unknown {
  return (m as unknown as Record<string, unknown>)[name];
}

export interface LossSeries {
  /** legend name; a model kind prefix ('lst-curriculum-…') picks the colour */
  name: string;
  metrics: readonly StepLike[];
}

export interface LossCurveOptions {
  x?: "step" | "flops";
  /** metric fields to plot (default ['loss']); e.g. ['lossSpeech', 'lossText'] (one dash per field) */
  fields?: string[];
  /** step metrics' `flops` is per step (summed here, the default) or already cumulative */
  flops?: "perStep" | "cumulative";
  /** exponential moving average weight of the past, 0 (none, the default) .. <1 */
  smooth?: number;
  title?: string;
  size?: SizeName;
}

/** A step's FLOPs: a number, or an object with `total` (model/flops.ts flopsPerStep). */
function flopsOf(m: StepLike, series: string): number {
  const f = field(m, "flops");
  if (typeof f === "number") return f;
  if (typeof f === "object" && f !== null && typeof (f as { total?: unknown }).total === "number") return (f as { total: number }).total;
  throw new Error(`lossCurves: series '${series}' step ${m.step} has no flops (number or {total}); plot against x: 'step' or log flops in training`);
}

const FIELD_DASH = ["solid", "dash", "dot", "dashdot"];

/** Training loss curves, one line per series (and per field). Worked case (a test): smoothing 0.5 of [4, 2] -> [4, 3]. */
export function lossCurves(series: readonly LossSeries[], opts: LossCurveOptions = {}): Figure {
  const xKind = opts.x ?? "step";
  const fields = opts.fields ?? ["loss"];
  const smooth = opts.smooth ?? 0;
  if (!(smooth >= 0 && smooth < 1)) throw new Error(`lossCurves: smooth must be in [0, 1), got ${smooth}`);
  const data: Trace[] = [];
  series.forEach((s, i) => {
    const sorted = [...s.metrics].sort((a, b) => a.step - b.step);
    let cum = 0;
    const xs = sorted.map((m) => {
      if (xKind === "step") return m.step;
      const f = flopsOf(m, s.name);
      cum = opts.flops === "cumulative" ? f : cum + f;
      return cum;
    });
    fields.forEach((name, k) => {
      const ys: (number | null)[] = [];
      let ema = NaN;
      for (const m of sorted) {
        const raw = field(m, name);
        // metrics.jsonl stores NaN as null (JSON has no NaN)
        const v = raw === null && m.step >= 0 && name in (m as object) ? NaN : raw;
        if (typeof v !== "number") throw new Error(`lossCurves: series '${s.name}' step ${m.step} has no numeric '${name}'; pick fields the metrics have`);
        // subtle: lossSpeech/lossText are NaN on a step without that modality; leave a gap, keep the average
        if (!Number.isFinite(v)) {
          ys.push(null);
          continue;
        }
        ema = Number.isNaN(ema) ? v : smooth * ema + (1 - smooth) * v;
        ys.push(ema);
      }
      data.push({
        type: "scatter",
        mode: "lines",
        name: fields.length > 1 ? `${s.name} ${name}` : s.name,
        x: xs,
        y: ys,
        line: { color: modelColor(s.name, i), width: 1.5, dash: FIELD_DASH[k % FIELD_DASH.length] },
      });
    });
  });
  const xTitle = xKind === "step" ? "training step" : "training FLOPs";
  return { data, layout: paperLayout({ title: opts.title, xTitle, yTitle: fields.length === 1 && fields[0] === "loss" ? "loss (nats/token)" : "nats/token", size: opts.size, logX: xKind === "flops" }) };
}

export interface BarOptions {
  /** benchmarks to show, in order (default: order of appearance) */
  benchmarks?: string[];
  /** directions to show (default S2S and T2T, as the paper reports) */
  directions?: RowDirection[];
  /** models in legend order (default: order of appearance) */
  models?: string[];
  /** chance level in % per benchmark, drawn as a dashed line over its bars (default CHANCE_PCT; {} for none) */
  chance?: Record<string, number>;
  title?: string;
  size?: SizeName;
}

/** Dashed chance lines, one over each category's bar group (category k spans k - 0.5 .. k + 0.5 on the axis). */
function chanceLines(cats: readonly { benchmark: string }[], chance: Record<string, number>): Shape[] {
  const out: Shape[] = [];
  cats.forEach((c, k) => {
    const y = chance[c.benchmark];
    if (y === undefined) return;
    out.push({ type: "line", xref: "x", yref: "y", x0: k - 0.45, x1: k + 0.45, y0: y, y1: y, line: { color: "#444", width: 1, dash: "dash" }, layer: "above" });
  });
  return out;
}

/**
 * Grouped bars: x = "HS S→S", "HS T→T", ...; one bar trace per model with the mean over seeds and an error bar
 * of the sample std. A model without a cell gets a gap (null), never a zero.
 */
/** Hatching for the second, third, ... model of one colour in `accuracyBars`. */
const SHARED_COLOUR_PATTERN = ["/", ".", "x", "\\", "-"];

export function accuracyBars(rows: readonly ResultRow[], opts: BarOptions = {}): Figure {
  const directions = opts.directions ?? ["S2S", "T2T"];
  const use = rows.filter((r) => directions.includes(r.direction));
  if (use.length === 0) throw new Error(`accuracyBars: no rows for directions [${directions.join(", ")}]; check the runs' eval directions`);
  const summary = summarize(use);
  const benchmarks = opts.benchmarks ?? [...new Set(use.map((r) => r.benchmark))];
  const models = opts.models ?? [...new Set(use.map((r) => r.model))];
  const cats: { benchmark: string; direction: RowDirection; label: string }[] = [];
  for (const b of benchmarks) for (const d of directions) cats.push({ benchmark: b, direction: d, label: `${benchmarkLabel(b)} ${directionLabel(d)}` });
  // models of one kind share its colour (baseline, baseline-data); the second and later of a colour are hatched
  const seen = new Map<string, number>();
  const data: Trace[] = models.map((model, i) => {
    const cells = cats.map((c) => summary.find((s) => s.model === model && s.benchmark === c.benchmark && s.direction === c.direction));
    const color = modelColor(model, i);
    const k = seen.get(color) ?? 0;
    seen.set(color, k + 1);
    return {
      type: "bar",
      name: model,
      x: cats.map((c) => c.label),
      y: cells.map((s) => (s ? 100 * s.mean : null)),
      error_y: { type: "data", array: cells.map((s) => (s ? 100 * s.std : 0)), visible: true, thickness: 1, width: 3 },
      marker: k === 0 ? { color } : { color, pattern: { shape: SHARED_COLOUR_PATTERN[(k - 1) % SHARED_COLOUR_PATTERN.length], fillmode: "overlay", fgcolor: "#ffffff", size: 6 } },
    };
  });
  const layout = paperLayout({ title: opts.title, xTitle: "benchmark and direction", yTitle: "accuracy (%) (dashed: chance)", size: opts.size ?? "wide" });
  layout.barmode = "group";
  const lines = chanceLines(cats, opts.chance ?? CHANCE_PCT);
  if (lines.length) layout.shapes = lines;
  return { data, layout };
}

export interface PairedBarOptions extends PairedOptions {
  /** the model the others are compared with */
  reference: string;
  benchmarks?: string[];
  /** default S2S and T2T */
  directions?: RowDirection[];
  models?: string[];
  title?: string;
  size?: SizeName;
}

/**
 * Paired differences to a reference model: x = "HS S→S", ...; one bar trace per other model with its mean
 * per-item difference (points) and its 95% hierarchical-bootstrap interval as asymmetric error bars; a cell
 * without paired seeds is a gap. A line marks 0: a bar whose interval clears it is a difference beyond noise.
 */
export function pairedBars(runs: readonly RunItems[], opts: PairedBarOptions): Figure {
  const directions = opts.directions ?? ["S2S", "T2T"];
  const ref = runs.filter((r) => r.model === opts.reference);
  if (ref.length === 0) throw new Error(`pairedBars: no runs of the reference model '${opts.reference}'; pick one of ${[...new Set(runs.map((r) => r.model))].join(", ")}`);
  const benchmarks = opts.benchmarks ?? [...new Set(runs.flatMap((r) => r.items.map((i) => i.benchmark)))];
  const models = opts.models ?? [...new Set(runs.map((r) => r.model))].filter((m) => m !== opts.reference);
  const cats: { benchmark: string; direction: RowDirection; label: string }[] = [];
  for (const b of benchmarks) for (const d of directions) cats.push({ benchmark: b, direction: d, label: `${benchmarkLabel(b)} ${directionLabel(d)}` });
  const data: Trace[] = models.map((model, i) => {
    const mine = runs.filter((r) => r.model === model);
    const cells = cats.map((c) => comparePaired(mine, ref, c.benchmark, c.direction, opts));
    return {
      type: "bar",
      name: model,
      x: cats.map((c) => c.label),
      y: cells.map((c) => (c ? 100 * c.mean : null)),
      error_y: { type: "data", symmetric: false, array: cells.map((c) => (c ? 100 * (c.hi - c.mean) : 0)), arrayminus: cells.map((c) => (c ? 100 * (c.mean - c.lo) : 0)), visible: true, thickness: 1, width: 3 },
      marker: { color: modelColor(model, i) },
    };
  });
  const title = opts.title ?? `paired difference to ${opts.reference} (95% bootstrap interval)`;
  const layout = paperLayout({ title, xTitle: "benchmark and direction", yTitle: `Δ accuracy vs ${opts.reference} (points)`, size: opts.size ?? "wide" });
  layout.barmode = "group";
  layout.shapes = [{ type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: 0, y1: 0, line: { color: "#444", width: 1 } }];
  return { data, layout };
}

/** Bar hatching per scoring normalisation, so one model's variants share its colour and differ by pattern. */
const NORM_PATTERN: Record<string, string> = { mean: "", sum: "/", pmi: "." };

/**
 * The scoring variants of `scoringVariants` (rows named `<model> · <norm>`) as grouped bars: colour = the
 * model, hatching = the normalisation (mean plain, sum hatched, PMI dotted), in the order model by model.
 */
export function scoringBars(rows: readonly ResultRow[], opts: BarOptions = {}): Figure {
  const split = (name: string) => {
    const at = name.lastIndexOf(" · ");
    if (at < 0) throw new Error(`scoringBars: row model '${name}' is not '<model> · <norm>'; pass rows from lab.scoringVariants`);
    return { model: name.slice(0, at), norm: name.slice(at + 3) };
  };
  const fig = accuracyBars(rows, { title: "scoring variants: mean, sum, PMI", ...opts });
  const models = [...new Set(fig.data.map((t) => split(String(t.name)).model))];
  for (const t of fig.data) {
    const { model, norm } = split(String(t.name));
    t.marker = { color: modelColor(model, models.indexOf(model)), pattern: { shape: NORM_PATTERN[norm] ?? "x", fillmode: "overlay", fgcolor: "#ffffff", size: 6 } };
  }
  return fig;
}

export interface KnobOptions {
  /** the grid knob: a key of row.group (e.g. 'mixRatio', 'params') */
  knob: string;
  benchmark: string;
  directions?: RowDirection[];
  /** knob values in axis order for categorical knobs (default: numeric sort, or order of appearance) */
  order?: (string | number)[];
  logX?: boolean;
  xTitle?: string;
  title?: string;
  size?: SizeName;
}

/** A row's knob value: its group entry. */
function knobValue(r: ResultRow, knob: string): string | number {
  const v = r.group?.[knob];
  if (v === undefined) throw new Error(`accuracyVsKnob: run '${r.run}' has no group value '${knob}'; give rows from a grid whose group has it (e.g. rowsFromEval(..., { group }))`);
  return v;
}

/**
 * A row's line in a knob figure: its grid group's `model` where the grid gives one, else its run name. Grids
 * name each knob value's run apart (baseline-mix-1-4, baseline-mix-1-3, ...) and say which model it is in
 * the group ({ model: "baseline", mixRatio: "1:4" }); the line must follow the model across the knob.
 */
function seriesOf(r: ResultRow): string {
  const m = r.group?.model;
  return typeof m === "string" ? m : r.model;
}

/** Accuracy (mean ± std over seeds) against a knob, one line per model × direction (colour = model, dash = direction). */
export function accuracyVsKnob(rows: readonly ResultRow[], opts: KnobOptions): Figure {
  const directions = opts.directions ?? ["S2S", "T2T"];
  const use = rows.filter((r) => r.benchmark === opts.benchmark && directions.includes(r.direction));
  if (use.length === 0) throw new Error(`accuracyVsKnob: no rows for benchmark '${opts.benchmark}' and directions [${directions.join(", ")}]`);
  // group by (line, direction, knob value) over seeds; the knob goes into `group` so summarize keeps it apart
  const summary = summarize(use.map((r) => ({ ...r, model: seriesOf(r), group: { [opts.knob]: knobValue(r, opts.knob) } })));
  const values = [...new Set(use.map((r) => knobValue(r, opts.knob)))];
  const numeric = values.every((v) => typeof v === "number");
  const order = opts.order ?? (numeric ? (values as number[]).sort((a, b) => a - b) : values);
  const models = [...new Set(use.map(seriesOf))];
  const data: Trace[] = [];
  models.forEach((model, i) => {
    for (const d of directions) {
      const pts = order
        .map((v) => summary.find((s) => s.model === model && s.direction === d && s.group?.[opts.knob] === v))
        .filter((s): s is NonNullable<typeof s> => s !== undefined);
      if (pts.length === 0) continue;
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: `${model} ${directionLabel(d)}`,
        x: pts.map((s) => (s.group as Record<string, string | number>)[opts.knob]),
        y: pts.map((s) => 100 * s.mean),
        error_y: { type: "data", array: pts.map((s) => 100 * s.std), visible: true, thickness: 1, width: 3 },
        line: { color: modelColor(model, i), width: 1.5, dash: DIRECTION_DASH[d] ?? "solid" },
        marker: { color: modelColor(model, i), size: 6 },
      });
    }
  });
  const layout = paperLayout({ title: opts.title, xTitle: opts.xTitle ?? opts.knob, yTitle: `${benchmarkLabel(opts.benchmark)} accuracy (%)`, size: opts.size, logX: opts.logX });
  if (!numeric) layout.xaxis = { ...layout.xaxis, type: "category", categoryorder: "array", categoryarray: order };
  return { data, layout };
}

/** Fig. 6: accuracy vs the interleaved:text mix ratio (group key 'mixRatio', e.g. "1:2"). */
export function accuracyVsMix(rows: readonly ResultRow[], benchmark = "hs", order: string[] = ["1:4", "1:3", "1:2", "1:1"]): Figure {
  const present = new Set(rows.map((r) => r.group?.mixRatio));
  return accuracyVsKnob(rows, { knob: "mixRatio", benchmark, order: order.filter((o) => present.has(o)), xTitle: "interleaved : text tokens", title: `${benchmarkLabel(benchmark)} accuracy vs mix ratio` });
}

/** Fig. 4: accuracy vs model size (group key 'params' or 'flops', numeric) on a log axis. */
export function accuracyVsSize(rows: readonly ResultRow[], benchmark = "hs", knob: "params" | "flops" = "params"): Figure {
  return accuracyVsKnob(rows, { knob, benchmark, logX: true, xTitle: knob === "params" ? "parameters" : "training FLOPs", title: `${benchmarkLabel(benchmark)} accuracy vs ${knob === "params" ? "model size" : "compute"}` });
}

export interface SavingItem {
  name: string;
  /** our compute saving as a fraction (0.193 = 19.3 %) */
  saving: number;
  /** the paper's value for the same model, if it has one */
  paper?: number;
}

/** Compute saving per model (1 - LST units / baseline units), ours and the paper's side by side. */
export function computeSavingBars(items: readonly SavingItem[], opts: { title?: string; size?: SizeName } = {}): Figure {
  if (items.length === 0) throw new Error("computeSavingBars: no items");
  const names = items.map((it) => it.name);
  const data: Trace[] = [
    { type: "bar", name: "this lab", x: names, y: items.map((it) => 100 * it.saving), marker: { color: items.map((it, i) => modelColor(it.name, i)) } },
  ];
  if (items.some((it) => it.paper !== undefined)) {
    data.push({ type: "bar", name: "paper", x: names, y: items.map((it) => (it.paper === undefined ? null : 100 * it.paper)), marker: { color: "white", line: { color: "#444", width: 1 } } });
  }
  const layout = paperLayout({ title: opts.title, xTitle: "model", yTitle: "compute saving (%)", size: opts.size });
  layout.barmode = "group";
  return { data, layout };
}

/** A labelled frame span [start, end) in unit frames. */
export interface LabelledSpan {
  start: number;
  end: number;
  label: string;
  silence?: boolean;
}

/** The word and silence spans of an aligned utterance, labelled with the word (silences as "·"). */
export function spansFromAligned(u: AlignedUtterance): LabelledSpan[] {
  return u.spans.map((s) => ({ start: s.start, end: s.end, label: s.kind === "word" ? u.words[s.wordIndex] : "·", silence: s.kind === "sil" }));
}

/**
 * The patches of a patched LmSequence that hold speech tokens, as lengths over the speech frames only.
 * Example: tokens BOS <s> u u u u u <t> w with lengths [1,1,3,2,1,1] -> [3,2] (the 5 speech frames).
 * A patch mixing speech and non-speech tokens is an error (patchers never build one).
 */
export function speechPatchLengths(seq: LmSequence, lengths: Int32Array): number[] {
  const out: number[] = [];
  let t = 0;
  for (const len of lengths) {
    let speech = 0;
    for (let k = t; k < t + len; k++) speech += seq.isSpeech[k];
    if (speech !== 0 && speech !== len) throw new Error(`speechPatchLengths: the patch at token ${t} (length ${len}) mixes ${speech} speech and ${len - speech} other tokens`);
    if (speech > 0) out.push(len);
    t += len;
  }
  if (t !== seq.ids.length) throw new Error(`speechPatchLengths: the lengths sum to ${t}, the sequence has ${seq.ids.length} tokens`);
  return out;
}

/** A spectrogram: rows of mel bins per frame, or logmel.ts output (frame-major Float32Array). */
export type Spectrogram = number[][] | { frames: Float32Array; nFrames: number; nMels: number };

export interface PatchFigureInput {
  spectrogram: Spectrogram;
  /** spectrogram frames per unit frame (1 when both run at 25 Hz; 4 for a 100 Hz spectrogram) */
  framesPerUnit?: number;
  /** word/silence spans in unit frames */
  spans?: readonly LabelledSpan[];
  /** patch lengths over the unit frames (they must sum to the unit frame count) */
  patchLengths?: readonly number[];
  title?: string;
  size?: SizeName;
}

/**
 * The spectrogram as a heatmap (x = unit frames: frame f covers [f, f+1)), patch boundaries as vertical
 * lines, word spans as boxes in a strip above the plot with the word as text. Worked case (a test):
 * patch lengths [2, 3] over 5 frames -> boundary lines at x = 2 only (the outer edges are the plot's).
 */
export function patchFigure(input: PatchFigureInput): Figure {
  const fpu = input.framesPerUnit ?? 1;
  if (!(fpu > 0)) throw new Error(`patchFigure: framesPerUnit must be > 0, got ${fpu}`);
  const rows = Array.isArray(input.spectrogram) ? input.spectrogram : unflatten(input.spectrogram);
  if (rows.length === 0) throw new Error("patchFigure: empty spectrogram");
  const nMels = rows[0].length;
  // [frames, mels] -> [mels, frames]: Plotly draws z[row] as one horizontal line of the heatmap
  const z: number[][] = [];
  for (let m = 0; m < nMels; m++) z.push(rows.map((r) => r[m]));
  const unitFrames = rows.length / fpu;
  const data: Trace[] = [{ type: "heatmap", name: "log-mel", z, x0: 0.5 / fpu, dx: 1 / fpu, y0: 0, dy: 1, colorscale: "Greys", reversescale: true, showscale: false }];
  const shapes: Shape[] = [];
  const annotations: Annotation[] = [];
  if (input.patchLengths) {
    const total = input.patchLengths.reduce((a, b) => a + b, 0);
    if (Math.abs(total - unitFrames) > 1e-9) throw new Error(`patchFigure: patch lengths sum to ${total} frames but the spectrogram has ${unitFrames} unit frames; pass lengths over the speech frames (speechPatchLengths)`);
    let x = 0;
    for (const len of input.patchLengths.slice(0, -1)) {
      x += len;
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1, line: { color: "#d62728", width: 1.5 } });
    }
  }
  for (const s of input.spans ?? []) {
    if (s.start < 0 || s.end > unitFrames || s.end <= s.start) throw new Error(`patchFigure: span '${s.label}' [${s.start}, ${s.end}) is outside 0..${unitFrames} or empty`);
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: s.start, x1: s.end, y0: 1.01, y1: 1.09, line: { color: "#444", width: 0.5 }, fillcolor: s.silence ? "#eeeeee" : "#c6dbef" });
    annotations.push({ x: (s.start + s.end) / 2, y: 1.05, xref: "x", yref: "paper", text: s.label, showarrow: false, yanchor: "middle", font: { size: 10 } });
  }
  const layout = paperLayout({ title: input.title, xTitle: "unit frame (40 ms)", yTitle: "mel bin", size: input.size ?? "wide" });
  layout.xaxis = { ...layout.xaxis, range: [0, unitFrames] };
  layout.yaxis = { ...layout.yaxis, range: [-0.5, nMels - 0.5] };
  layout.margin = { l: 60, r: 20, t: input.title ? 80 : 50, b: 50 };
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout };
}

/** logmel.ts output (frame-major) -> rows of mel bins. */
function unflatten(s: { frames: Float32Array; nFrames: number; nMels: number }): number[][] {
  if (s.frames.length !== s.nFrames * s.nMels) throw new Error(`patchFigure: spectrogram has ${s.frames.length} values, expected nFrames*nMels = ${s.nFrames}*${s.nMels}`);
  const rows: number[][] = [];
  for (let f = 0; f < s.nFrames; f++) rows.push(Array.from(s.frames.subarray(f * s.nMels, (f + 1) * s.nMels))); // [F*M] -> [F][M]
  return rows;
}
