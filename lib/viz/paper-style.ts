/**
 * One look for every figure of the lab: fonts, sizes, a colour per model kind, and labels for benchmarks and
 * directions, so that "LST curriculum" is the same red in the loss curves, the bar charts and the scaling plot.
 * Plain data plus a layout builder; the Plotly figure types live here too (plotly.js-dist ships no types).
 */

/** A Plotly trace: the fields the builders set are typed, anything else Plotly accepts passes through. */
export interface Trace {
  type: "scatter" | "bar" | "heatmap";
  name?: string;
  x?: (number | string)[];
  y?: (number | string | null)[];
  z?: number[][];
  /** `arrayminus` with `symmetric: false` draws an interval that is not symmetric about the bar */
  error_y?: {
    type: "data";
    array: number[];
    arrayminus?: number[];
    symmetric?: boolean;
    visible: boolean;
    thickness?: number;
    width?: number;
  };
  mode?: "lines" | "markers" | "lines+markers";
  [field: string]: unknown;
}

export interface Shape {
  type: "line" | "rect";
  xref: "x" | "paper";
  yref: "y" | "paper";
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  line?: { color: string; width: number; dash?: string };
  fillcolor?: string;
  opacity?: number;
  layer?: "above" | "below";
}

export interface Annotation {
  x: number;
  y: number;
  xref: "x" | "paper";
  yref: "y" | "paper";
  text: string;
  showarrow: boolean;
  font?: { size: number; color?: string; family?: string };
  yanchor?: "bottom" | "middle" | "top";
}

export interface Layout {
  width: number;
  height: number;
  font: { family: string; size: number; color: string };
  title?: { text: string; font?: { size: number }; y?: number; yanchor?: "top" | "middle" | "bottom" };
  xaxis: Record<string, unknown>;
  yaxis: Record<string, unknown>;
  shapes?: Shape[];
  annotations?: Annotation[];
  [field: string]: unknown;
}

/** What every builder returns: a Plotly figure object ({ data, layout }), plain JSON. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

export const FONT = { family: "Liberation Serif, Times New Roman, serif", size: 12, color: "#222" };

/** Pixel sizes at scale 1 (export at scale 3 for print): a single paper column and a full-width figure. */
export const SIZES = {
  column: { width: 480, height: 320 },
  wide: { width: 960, height: 360 },
  tall: { width: 480, height: 480 },
} as const;
export type SizeName = keyof typeof SIZES;

/** Colours per model kind (Tableau 10): baselines in neutral tones, LST variants in saturated ones. */
export const MODEL_COLORS: Record<string, string> = {
  baseline: "#7f7f7f",
  "bpe-speech": "#8c564b",
  "lst-static": "#1f77b4",
  "lst-aligned": "#2ca02c",
  "lst-mixed": "#ff7f0e",
  "lst-curriculum": "#d62728",
  "lst-entropy": "#9467bd",
  lst: "#d62728",
};

/** Colours for series that are not a known model kind, used in order. */
export const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/**
 * The colour of a series: its model kind's colour if the name is a kind or starts with one followed by '-'
 * (the longest such kind wins: "lst-static-p6" -> lst-static's blue), else PALETTE[index].
 */
export function modelColor(name: string, index: number): string {
  let best = "";
  for (const kind of Object.keys(MODEL_COLORS)) {
    if ((name === kind || name.startsWith(`${kind}-`)) && kind.length > best.length) best = kind;
  }
  return best !== "" ? MODEL_COLORS[best] : PALETTE[index % PALETTE.length];
}

export const DIRECTION_LABELS: Record<string, string> = {
  S2S: "S→S",
  T2T: "T→T",
  S2T: "S→T",
  T2S: "T→S",
  macro: "macro",
};
/** Line dash per direction, so speech and text curves of one model share a colour and differ by dash. */
export const DIRECTION_DASH: Record<string, string> = {
  S2S: "solid",
  T2T: "dash",
  S2T: "dot",
  T2S: "dashdot",
  macro: "longdash",
};
export const BENCHMARK_LABELS: Record<string, string> = { hs: "HS", sc: "SC", tsc: "TSC" };
/** What a guess scores, in %, per benchmark (1 over the endings: 1-in-2 for the StoryClozes, 1-in-4 for HellaSwag). */
export const CHANCE_PCT: Record<string, number> = {
  sc: 50,
  tsc: 50,
  hs: 25,
  storycloze: 50,
  "topic-storycloze": 50,
  hellaswag: 25,
};

export function directionLabel(d: string): string {
  return DIRECTION_LABELS[d] ?? d;
}

export function benchmarkLabel(b: string): string {
  return BENCHMARK_LABELS[b] ?? b;
}

export interface LayoutOptions {
  title?: string;
  xTitle: string;
  yTitle: string;
  size?: SizeName;
  logX?: boolean;
}

/** The shared layout: white background, light grid, legend on top, fonts and size from above. */
export function paperLayout(opts: LayoutOptions): Layout {
  const size = SIZES[opts.size ?? "column"];
  const axis = {
    showline: true,
    linecolor: "#444",
    mirror: true,
    ticks: "outside",
    gridcolor: "#e5e5e5",
    zeroline: false,
  };
  const layout: Layout = {
    width: size.width,
    height: size.height,
    font: { ...FONT },
    xaxis: { ...axis, title: { text: opts.xTitle }, ...(opts.logX ? { type: "log" } : {}) },
    yaxis: { ...axis, title: { text: opts.yTitle } },
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    // the legend sits in a row just above the plot, the title (if any) above the legend
    margin: { l: 60, r: 20, t: opts.title ? 75 : 35, b: 50 },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: FONT.size - 1 } },
  };
  if (opts.title) layout.title = { text: opts.title, font: { size: FONT.size + 2 }, y: 0.98, yanchor: "top" };
  return layout;
}
