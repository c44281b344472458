/**
 * The figure of a spoken continuation (eval/continuations.ts): the log-mel of its vocoded audio, one frame per
 * unit, with LST's patch boundaries over the continuation's units (the prompt's frames left out; a patch that
 * began in a spoken prompt shows its continued part). Pure: data in, a Plotly figure out (patch-figure.ts).
 *
 * Worked example (a test): prompt BOS <s> u u u (5 ids), continuation u u u, patch lengths [1, 1, 2, 3, 2] ->
 * patches over the continuation's 3 units: [2, 1] (the patch of 3 holds 1 prompt unit and 2 continued ones).
 */
import { logMel } from "../audio/logmel";
import type { Continuation } from "../eval/continuations";
import { patchFigure } from "./patch-figure";
import type { Figure } from "./paper-style";

/** LST's patches over the continuation's speech units only (see the header); [] for the baseline. */
export function continuationPatches(c: Pick<Continuation, "generation" | "sequence">): number[] {
  const lengths = c.generation.patchLengths;
  if (!lengths) return [];
  const from = c.generation.prompt.length;
  const out: number[] = [];
  let t = 0;
  for (const len of lengths) {
    let n = 0;
    for (let k = Math.max(t, from); k < t + len; k++) n += c.sequence.isSpeech[k];
    if (n > 0) out.push(n);
    t += len;
  }
  return out;
}

/** The continuation's audio as a log-mel heatmap (one frame per unit) with its patch boundaries. */
export function continuationFigure(c: Continuation, audio: Float32Array, sampleRate = 16000, title?: string): Figure {
  const n = c.units.length;
  if (n === 0)
    throw new Error("continuationFigure: the continuation has no speech units (it stopped at once): nothing to draw");
  const seconds = audio.length / sampleRate;
  if (!(seconds > 0)) throw new Error("continuationFigure: the audio is empty: vocode the units first (speakUnits)");
  // subtle: a phoneme vocoder's audio is only about n / 25 s long, so the frame rate is set to give n frames
  const mel = logMel(audio, sampleRate, { frameRate: n / seconds });
  const patches = continuationPatches(c);
  const rule = c.generation.rule ? `, patches: ${c.generation.rule}` : "";
  return patchFigure({
    spectrogram: mel,
    patchLengths: patches.length ? patches : undefined,
    title: title ?? `${c.direction} continuation: ${n} units${rule}`,
  });
}
