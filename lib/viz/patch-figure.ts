/**
 * The patch figure (Fig. 2 style): a spectrogram with word spans and patch boundaries, and the helpers that turn
 * an aligned utterance and a patcher's lengths into its inputs. Pure: data in, a Plotly figure out.
 */
import type { AlignedUtterance, LmSequence } from "../data/types";
import { paperLayout, type Annotation, type Figure, type Shape, type SizeName, type Trace } from "./paper-style";

/** A labelled frame span [start, end) in unit frames. */
export interface LabelledSpan {
  start: number;
  end: number;
  label: string;
  silence?: boolean;
}

/** The word and silence spans of an aligned utterance, labelled with the word (silences as "·"). */
export function spansFromAligned(u: AlignedUtterance): LabelledSpan[] {
  return u.spans.map((s) => ({
    start: s.start,
    end: s.end,
    label: s.kind === "word" ? u.words[s.wordIndex] : "·",
    silence: s.kind === "sil",
  }));
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
    if (speech !== 0 && speech !== len)
      throw new Error(
        `speechPatchLengths: the patch at token ${t} (length ${len}) mixes ${speech} speech and ${len - speech} other tokens`,
      );
    if (speech > 0) out.push(len);
    t += len;
  }
  if (t !== seq.ids.length)
    throw new Error(`speechPatchLengths: the lengths sum to ${t}, the sequence has ${seq.ids.length} tokens`);
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
  const data: Trace[] = [
    {
      type: "heatmap",
      name: "log-mel",
      z,
      x0: 0.5 / fpu,
      dx: 1 / fpu,
      y0: 0,
      dy: 1,
      colorscale: "Greys",
      reversescale: true,
      showscale: false,
    },
  ];
  const shapes: Shape[] = [];
  const annotations: Annotation[] = [];
  if (input.patchLengths) {
    const total = input.patchLengths.reduce((a, b) => a + b, 0);
    if (Math.abs(total - unitFrames) > 1e-9)
      throw new Error(
        `patchFigure: patch lengths sum to ${total} frames but the spectrogram has ${unitFrames} unit frames; pass lengths over the speech frames (speechPatchLengths)`,
      );
    let x = 0;
    for (const len of input.patchLengths.slice(0, -1)) {
      x += len;
      shapes.push({
        type: "line",
        xref: "x",
        yref: "paper",
        x0: x,
        x1: x,
        y0: 0,
        y1: 1,
        line: { color: "#d62728", width: 1.5 },
      });
    }
  }
  for (const s of input.spans ?? []) {
    if (s.start < 0 || s.end > unitFrames || s.end <= s.start)
      throw new Error(`patchFigure: span '${s.label}' [${s.start}, ${s.end}) is outside 0..${unitFrames} or empty`);
    shapes.push({
      type: "rect",
      xref: "x",
      yref: "paper",
      x0: s.start,
      x1: s.end,
      y0: 1.01,
      y1: 1.09,
      line: { color: "#444", width: 0.5 },
      fillcolor: s.silence ? "#eeeeee" : "#c6dbef",
    });
    annotations.push({
      x: (s.start + s.end) / 2,
      y: 1.05,
      xref: "x",
      yref: "paper",
      text: s.label,
      showarrow: false,
      yanchor: "middle",
      font: { size: 10 },
    });
  }
  const layout = paperLayout({
    title: input.title,
    xTitle: "unit frame (40 ms)",
    yTitle: "mel bin",
    size: input.size ?? "wide",
  });
  layout.xaxis = { ...layout.xaxis, range: [0, unitFrames] };
  layout.yaxis = { ...layout.yaxis, range: [-0.5, nMels - 0.5] };
  layout.margin = { l: 60, r: 20, t: input.title ? 80 : 50, b: 50 };
  layout.shapes = shapes;
  layout.annotations = annotations;
  return { data, layout };
}

/** logmel.ts output (frame-major) -> rows of mel bins. */
function unflatten(s: { frames: Float32Array; nFrames: number; nMels: number }): number[][] {
  if (s.frames.length !== s.nFrames * s.nMels)
    throw new Error(
      `patchFigure: spectrogram has ${s.frames.length} values, expected nFrames*nMels = ${s.nFrames}*${s.nMels}`,
    );
  const rows: number[][] = [];
  for (let f = 0; f < s.nFrames; f++) rows.push(Array.from(s.frames.subarray(f * s.nMels, (f + 1) * s.nMels))); // [F*M] -> [F][M]
  return rows;
}
