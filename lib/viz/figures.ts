/**
 * Pure figure builders: lab data in, a Plotly figure object `{ data, layout }` out (no I/O; display.ts shows
 * it in a notebook and export.ts writes PNG/SVG/PDF). All figures share lib/viz/paper-style.ts.
 *
 *   lossCurves          training loss vs step or vs cumulative FLOPs, one line per run     (training dynamics)
 *   accuracyBars        grouped bars, mean ± std over seeds, per benchmark × direction,    (Tables 3, 4, 6, 9)
 *                       with a dashed chance line over each benchmark's bars
 *   pairedBars          each model's paired difference to a reference, per benchmark × direction, with its
 *                       95% bootstrap interval as error bars and a line at 0 (lib/eval/paired.ts)
 * Figures over a grid's knob are in knob-figures.ts, the patch figure in patch-figure.ts.
 * Accuracies are plotted in percent, as in the paper's tables.
 */
import { summarize, type ResultRow, type RowDirection } from "../eval/metrics";
import { comparePaired, type PairedOptions, type RunItems } from "../eval/paired";
import {
  benchmarkLabel,
  CHANCE_PCT,
  directionLabel,
  modelColor,
  paperLayout,
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
  if (typeof f === "object" && f !== null && typeof (f as { total?: unknown }).total === "number")
    return (f as { total: number }).total;
  throw new Error(
    `lossCurves: series '${series}' step ${m.step} has no flops (number or {total}); plot against x: 'step' or log flops in training`,
  );
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
        if (typeof v !== "number")
          throw new Error(
            `lossCurves: series '${s.name}' step ${m.step} has no numeric '${name}'; pick fields the metrics have`,
          );
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
  return {
    data,
    layout: paperLayout({
      title: opts.title,
      xTitle,
      yTitle: fields.length === 1 && fields[0] === "loss" ? "loss (nats/token)" : "nats/token",
      size: opts.size,
      logX: xKind === "flops",
    }),
  };
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
    out.push({
      type: "line",
      xref: "x",
      yref: "y",
      x0: k - 0.45,
      x1: k + 0.45,
      y0: y,
      y1: y,
      line: { color: "#444", width: 1, dash: "dash" },
      layer: "above",
    });
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
  if (use.length === 0)
    throw new Error(`accuracyBars: no rows for directions [${directions.join(", ")}]; check the runs' eval directions`);
  const summary = summarize(use);
  const benchmarks = opts.benchmarks ?? [...new Set(use.map((r) => r.benchmark))];
  const models = opts.models ?? [...new Set(use.map((r) => r.model))];
  const cats: { benchmark: string; direction: RowDirection; label: string }[] = [];
  for (const b of benchmarks)
    for (const d of directions)
      cats.push({ benchmark: b, direction: d, label: `${benchmarkLabel(b)} ${directionLabel(d)}` });
  // models of one kind share its colour (baseline, baseline-data); the second and later of a colour are hatched
  const seen = new Map<string, number>();
  const data: Trace[] = models.map((model, i) => {
    const cells = cats.map((c) =>
      summary.find((s) => s.model === model && s.benchmark === c.benchmark && s.direction === c.direction),
    );
    const color = modelColor(model, i);
    const k = seen.get(color) ?? 0;
    seen.set(color, k + 1);
    return {
      type: "bar",
      name: model,
      x: cats.map((c) => c.label),
      y: cells.map((s) => (s ? 100 * s.mean : null)),
      error_y: { type: "data", array: cells.map((s) => (s ? 100 * s.std : 0)), visible: true, thickness: 1, width: 3 },
      marker:
        k === 0
          ? { color }
          : {
              color,
              pattern: {
                shape: SHARED_COLOUR_PATTERN[(k - 1) % SHARED_COLOUR_PATTERN.length],
                fillmode: "overlay",
                fgcolor: "#ffffff",
                size: 6,
              },
            },
    };
  });
  const layout = paperLayout({
    title: opts.title,
    xTitle: "benchmark and direction",
    yTitle: "accuracy (%) (dashed: chance)",
    size: opts.size ?? "wide",
  });
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
  if (ref.length === 0)
    throw new Error(
      `pairedBars: no runs of the reference model '${opts.reference}'; pick one of ${[...new Set(runs.map((r) => r.model))].join(", ")}`,
    );
  const benchmarks = opts.benchmarks ?? [...new Set(runs.flatMap((r) => r.items.map((i) => i.benchmark)))];
  const models = opts.models ?? [...new Set(runs.map((r) => r.model))].filter((m) => m !== opts.reference);
  const cats: { benchmark: string; direction: RowDirection; label: string }[] = [];
  for (const b of benchmarks)
    for (const d of directions)
      cats.push({ benchmark: b, direction: d, label: `${benchmarkLabel(b)} ${directionLabel(d)}` });
  const data: Trace[] = models.map((model, i) => {
    const mine = runs.filter((r) => r.model === model);
    const cells = cats.map((c) => comparePaired(mine, ref, c.benchmark, c.direction, opts));
    return {
      type: "bar",
      name: model,
      x: cats.map((c) => c.label),
      y: cells.map((c) => (c ? 100 * c.mean : null)),
      error_y: {
        type: "data",
        symmetric: false,
        array: cells.map((c) => (c ? 100 * (c.hi - c.mean) : 0)),
        arrayminus: cells.map((c) => (c ? 100 * (c.mean - c.lo) : 0)),
        visible: true,
        thickness: 1,
        width: 3,
      },
      marker: { color: modelColor(model, i) },
    };
  });
  const title = opts.title ?? `paired difference to ${opts.reference} (95% bootstrap interval)`;
  const layout = paperLayout({
    title,
    xTitle: "benchmark and direction",
    yTitle: `Δ accuracy vs ${opts.reference} (points)`,
    size: opts.size ?? "wide",
  });
  layout.barmode = "group";
  layout.shapes = [
    { type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: 0, y1: 0, line: { color: "#444", width: 1 } },
  ];
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
    if (at < 0)
      throw new Error(`scoringBars: row model '${name}' is not '<model> · <norm>'; pass rows from lab.scoringVariants`);
    return { model: name.slice(0, at), norm: name.slice(at + 3) };
  };
  const fig = accuracyBars(rows, { title: "scoring variants: mean, sum, PMI", ...opts });
  const models = [...new Set(fig.data.map((t) => split(String(t.name)).model))];
  for (const t of fig.data) {
    const { model, norm } = split(String(t.name));
    t.marker = {
      color: modelColor(model, models.indexOf(model)),
      pattern: { shape: NORM_PATTERN[norm] ?? "x", fillmode: "overlay", fgcolor: "#ffffff", size: 6 },
    };
  }
  return fig;
}
