/**
 * A user's own recording through a dataset's unit pipeline: WAV -> mono float (audio/wav.ts readWav, any PCM
 * or float WAV, channels averaged) -> 16 kHz (audio/resample.ts, when the file has another rate) -> log-mel at
 * the unit rate -> the dataset's k-means units (tokenizers/units.ts), exactly as the dataset unitized its
 * own speech. The result holds what a figure needs (data-figures.ts recordingFigure): the 16 kHz audio, its
 * log-mel (not standardized, as utteranceFigure shows it) and one unit per frame.
 *
 * Frames: a recording of d seconds gives round(d * frameRate) units (tokenizers/units.ts), whatever its rate;
 * e.g. 1.5 s at 22050 Hz (33075 samples) -> 24000 samples at 16 kHz -> 38 units at 25 Hz (round(37.5)).
 *
 * Phonetic datasets have no audio unit model (their units are the TTS's phoneme timings), so a recording
 * cannot be unitized with them; that is an error naming the fix.
 */
import fs from "fs";
import { readWav } from "../audio/wav";
import { resample } from "../audio/resample";
import { logMel, type LogMelResult } from "../audio/logmel";
import { UNIT_SAMPLE_RATE } from "../tokenizers/units";
import type { Dataset } from "./build";

export interface RecordingUnits {
  /** the file's path, or null when bytes were given */
  file: string | null;
  /** the file's own sample rate (Hz) */
  fileSampleRate: number;
  /** the recording at 16 kHz, mono (play it with showAudio) */
  audio: Float32Array;
  sampleRate: number;
  seconds: number;
  /** log-mel at the unit rate, frame-major [nFrames, nMels] */
  logMel: LogMelResult;
  /** one unit per frame, in 0..K-1 */
  units: Int32Array;
  frameRate: number;
  /** K, the dataset's number of units */
  nUnits: number;
}

/** Read a WAV (a path or its bytes) and unitize it with the dataset's unit model (see the header). */
export function unitsOfWav(ds: Dataset, wav: string | Uint8Array): RecordingUnits {
  const model = ds.unitModel;
  if (model.kind !== "acoustic") {
    throw new Error(`unitsOfWav: dataset ${ds.dir} has phonetic units (the TTS's phoneme timings), which no audio can be mapped to: use a dataset with units.source 'acoustic' (the default)`);
  }
  const file = typeof wav === "string" ? wav : null;
  if (file !== null && !fs.existsSync(file)) throw new Error(`unitsOfWav: ${file} does not exist: record a WAV file (any rate, mono or stereo) and give its path`);
  const bytes = file !== null ? new Uint8Array(fs.readFileSync(file)) : (wav as Uint8Array);
  let decoded: { samples: Float32Array; sampleRate: number };
  try {
    decoded = readWav(bytes);
  } catch (e) {
    throw new Error(`unitsOfWav: ${file ?? "the bytes given"}: ${(e as Error).message}`);
  }
  if (decoded.samples.length === 0) throw new Error(`unitsOfWav: ${file ?? "the bytes given"} holds no samples: record at least a word`);
  const audio = decoded.sampleRate === UNIT_SAMPLE_RATE ? decoded.samples : resample(decoded.samples, decoded.sampleRate, UNIT_SAMPLE_RATE);
  const { units, frameRate } = model.unitizer.encode(audio, UNIT_SAMPLE_RATE);
  const mel = logMel(audio, UNIT_SAMPLE_RATE, { frameRate });
  if (mel.nFrames !== units.length) throw new Error(`unitsOfWav: ${mel.nFrames} log-mel frames but ${units.length} units (internal error)`);
  return { file, fileSampleRate: decoded.sampleRate, audio, sampleRate: UNIT_SAMPLE_RATE, seconds: audio.length / UNIT_SAMPLE_RATE, logMel: mel, units, frameRate, nUnits: model.unitizer.nUnits };
}
