/**
 * Figures over a grid's knob (pure: rows in, a Plotly figure out; styled by paper-style.ts):
 *
 *   accuracyVsKnob      accuracy vs a grid knob, one line per model × direction            (Fig. 6 mix ratio,
 *                       Fig. 4 model size on a log axis)
 *   accuracyVsMix, accuracyVsSize   the two knobs the paper plots
 *   computeSavingBars   compute saving per model in %, ours next to the paper's            (Table 4 "Save")
 */
import { summarize, type ResultRow, type RowDirection } from "../eval/metrics";
import {
  benchmarkLabel,
  directionLabel,
  DIRECTION_DASH,
  modelColor,
  paperLayout,
  type Figure,
  type SizeName,
  type Trace,
} from "./paper-style";

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
  if (v === undefined)
    throw new Error(
      `accuracyVsKnob: run '${r.run}' has no group value '${knob}'; give rows from a grid whose group has it (e.g. rowsFromEval(..., { group }))`,
    );
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
  if (use.length === 0)
    throw new Error(
      `accuracyVsKnob: no rows for benchmark '${opts.benchmark}' and directions [${directions.join(", ")}]`,
    );
  // group by (line, direction, knob value) over seeds; the knob goes into `group` so summarize keeps it apart
  const summary = summarize(
    use.map((r) => ({ ...r, model: seriesOf(r), group: { [opts.knob]: knobValue(r, opts.knob) } })),
  );
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
  const layout = paperLayout({
    title: opts.title,
    xTitle: opts.xTitle ?? opts.knob,
    yTitle: `${benchmarkLabel(opts.benchmark)} accuracy (%)`,
    size: opts.size,
    logX: opts.logX,
  });
  if (!numeric) layout.xaxis = { ...layout.xaxis, type: "category", categoryorder: "array", categoryarray: order };
  return { data, layout };
}

/** Fig. 6: accuracy vs the interleaved:text mix ratio (group key 'mixRatio', e.g. "1:2"). */
export function accuracyVsMix(
  rows: readonly ResultRow[],
  benchmark = "hs",
  order: string[] = ["1:4", "1:3", "1:2", "1:1"],
): Figure {
  const present = new Set(rows.map((r) => r.group?.mixRatio));
  return accuracyVsKnob(rows, {
    knob: "mixRatio",
    benchmark,
    order: order.filter((o) => present.has(o)),
    xTitle: "interleaved : text tokens",
    title: `${benchmarkLabel(benchmark)} accuracy vs mix ratio`,
  });
}

/** Fig. 4: accuracy vs model size (group key 'params' or 'flops', numeric) on a log axis. */
export function accuracyVsSize(
  rows: readonly ResultRow[],
  benchmark = "hs",
  knob: "params" | "flops" = "params",
): Figure {
  return accuracyVsKnob(rows, {
    knob,
    benchmark,
    logX: true,
    xTitle: knob === "params" ? "parameters" : "training FLOPs",
    title: `${benchmarkLabel(benchmark)} accuracy vs ${knob === "params" ? "model size" : "compute"}`,
  });
}

export interface SavingItem {
  name: string;
  /** our compute saving as a fraction (0.193 = 19.3 %) */
  saving: number;
  /** the paper's value for the same model, if it has one */
  paper?: number;
}

/** Compute saving per model (1 - LST units / baseline units), ours and the paper's side by side. */
export function computeSavingBars(
  items: readonly SavingItem[],
  opts: { title?: string; size?: SizeName } = {},
): Figure {
  if (items.length === 0) throw new Error("computeSavingBars: no items");
  const names = items.map((it) => it.name);
  const data: Trace[] = [
    {
      type: "bar",
      name: "this lab",
      x: names,
      y: items.map((it) => 100 * it.saving),
      marker: { color: items.map((it, i) => modelColor(it.name, i)) },
    },
  ];
  if (items.some((it) => it.paper !== undefined)) {
    data.push({
      type: "bar",
      name: "paper",
      x: names,
      y: items.map((it) => (it.paper === undefined ? null : 100 * it.paper)),
      marker: { color: "white", line: { color: "#444", width: 1 } },
    });
  }
  const layout = paperLayout({ title: opts.title, xTitle: "model", yTitle: "compute saving (%)", size: opts.size });
  layout.barmode = "group";
  return { data, layout };
}
