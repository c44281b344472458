/**
 * Acoustic speech units: k-means over log-mel frames, the stand-in for the paper's HuBERT + k-means units
 * (there: 25 Hz, K = 501). Any input rate is resampled to 16 kHz; features are logMel (audio/logmel.ts: 40
 * mel bins, 25 ms windows every 10 ms averaged to the unit rate, per-utterance mean normalisation), then
 * every dimension is divided by its standard deviation over the training frames so that all bins weigh the
 * same in the Euclidean distance; each frame's unit is its nearest centroid.
 *
 * Frame count: an utterance of d seconds gives round(d * frameRate) units (at least 1), unit j covering
 * [j / frameRate, (j + 1) / frameRate) s; e.g. 1.23 s at 25 Hz -> round(30.75) = 31 units. align.ts's
 * wordFrames maps a word at [start, end) s to frames [round(start * fr), round(end * fr)), consistent with
 * this. With `dedup` consecutive repeats collapse ([3, 3, 7, 7, 7, 3] -> [3, 7, 3]) and the count no longer
 * follows the formula: the aligner needs the default (no dedup).
 */
import { firstNonFinite, logMel, unitFrameCount, DEFAULT_LOGMEL, type LogMelOptions } from "../audio/logmel";
import { resample } from "../audio/resample";
import { assignAll, kmeans } from "./kmeans";
import { Rng } from "../rng";

/** The rate every input is resampled to before feature extraction. */
export const UNIT_SAMPLE_RATE = 16000;
const FORMAT = "lst-speech-units";
const VERSION = 1;

export interface UnitizerTrainOptions {
  k: number;
  frameRate: number;
  seed: number;
  /** at most this many frames (sampled uniformly without replacement) go into k-means */
  maxFrames: number;
  /** feature settings other than frameRate (default: DEFAULT_LOGMEL) */
  features?: Partial<Omit<LogMelOptions, "frameRate">>;
  /** k-means iteration cap (default 50) */
  maxIter?: number;
}

export interface UnitizerTrainStats {
  framesTotal: number;
  framesUsed: number;
  iterations: number;
  /** mean squared distance of a training frame to its centroid (in standardized feature units) */
  inertiaPerFrame: number;
}

/** Resample to 16 kHz when needed. */
function to16k(samples: Float32Array, sampleRate: number): Float32Array {
  return sampleRate === UNIT_SAMPLE_RATE ? samples : resample(samples, sampleRate, UNIT_SAMPLE_RATE);
}

/** Collapse runs of equal units: [3, 3, 7, 7, 7, 3] -> [3, 7, 3]. */
export function dedupUnits(units: Int32Array): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < units.length; i++) if (i === 0 || units[i] !== units[i - 1]) out.push(units[i]);
  return Int32Array.from(out);
}

export class SpeechUnitizer {
  private constructor(
    private readonly centroids: Float32Array,
    private readonly k: number,
    private readonly features: LogMelOptions,
    /** 1 / std of every feature dimension */
    private readonly invStd: Float32Array,
    /** how the model was trained (saved for the record) */
    readonly stats: UnitizerTrainStats | null,
  ) {}

  get nUnits(): number {
    return this.k;
  }

  get frameRate(): number {
    return this.features.frameRate;
  }

  /** Fit the unit model on a set of utterances (see the header). */
  static train(audios: { samples: Float32Array; sampleRate: number }[], opts: UnitizerTrainOptions): SpeechUnitizer {
    if (audios.length === 0) throw new Error("SpeechUnitizer.train: no audio given: pass at least one utterance");
    if (!(opts.frameRate > 0))
      throw new Error(`SpeechUnitizer.train: frameRate must be positive, got ${opts.frameRate}`);
    if (!(opts.maxFrames >= opts.k))
      throw new Error(`SpeechUnitizer.train: maxFrames (${opts.maxFrames}) must be at least k (${opts.k})`);
    const features: LogMelOptions = { ...DEFAULT_LOGMEL, ...(opts.features ?? {}), frameRate: opts.frameRate };
    // Choose which frames to keep before computing any feature: frame g of the concatenated utterances is kept
    // when picked by a partial Fisher-Yates draw of maxFrames indices out of the total.
    const counts = audios.map((a) =>
      unitFrameCount(
        Math.round((a.samples.length * UNIT_SAMPLE_RATE) / a.sampleRate),
        UNIT_SAMPLE_RATE,
        opts.frameRate,
      ),
    );
    const total = counts.reduce((x, y) => x + y, 0);
    const used = Math.min(total, opts.maxFrames);
    if (used < opts.k)
      throw new Error(
        `SpeechUnitizer.train: only ${total} frames of audio for k = ${opts.k} units: give more audio or lower k`,
      );
    const keep = new Uint8Array(total);
    if (used === total) keep.fill(1);
    else {
      const idx = new Int32Array(total);
      for (let i = 0; i < total; i++) idx[i] = i;
      const rng = new Rng(opts.seed);
      for (let i = 0; i < used; i++) {
        const j = i + rng.int(total - i);
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        keep[idx[i]] = 1;
      }
    }
    let dim = 0;
    let data = new Float32Array(0);
    let row = 0;
    let g = 0;
    audios.forEach((a, u) => {
      const first = g;
      g += counts[u];
      let any = false;
      for (let i = first; i < g && !any; i++) any = keep[i] === 1;
      if (!any) return;
      const f = logMel(to16k(a.samples, a.sampleRate), UNIT_SAMPLE_RATE, features);
      if (f.nFrames !== counts[u])
        throw new Error(
          `SpeechUnitizer.train: utterance ${u} gave ${f.nFrames} frames, expected ${counts[u]} (internal error)`,
        );
      if (dim === 0) {
        dim = f.dim;
        data = new Float32Array(used * dim);
      }
      for (let j = 0; j < f.nFrames; j++) {
        if (!keep[first + j]) continue;
        data.set(f.frames.subarray(j * dim, (j + 1) * dim), row * dim);
        row++;
      }
    });
    // standardize every dimension by its std over the kept frames
    const invStd = new Float32Array(dim);
    for (let d = 0; d < dim; d++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < used; i++) {
        const x = data[i * dim + d];
        s += x;
        s2 += x * x;
      }
      const mean = s / used;
      const std = Math.sqrt(Math.max(s2 / used - mean * mean, 0));
      invStd[d] = std > 1e-8 ? 1 / std : 1;
    }
    for (let i = 0; i < used; i++) for (let d = 0; d < dim; d++) data[i * dim + d] *= invStd[d];
    const km = kmeans(data, used, dim, { k: opts.k, seed: opts.seed, maxIter: opts.maxIter ?? 50 });
    const stats: UnitizerTrainStats = {
      framesTotal: total,
      framesUsed: used,
      iterations: km.iterations,
      inertiaPerFrame: km.inertia / used,
    };
    return new SpeechUnitizer(km.centroids, opts.k, features, invStd, stats);
  }

  /** Standardized features of one utterance, row-major [nFrames, dim]. */
  featuresOf(samples: Float32Array, sampleRate: number): { frames: Float32Array; nFrames: number; dim: number } {
    const f = logMel(to16k(samples, sampleRate), UNIT_SAMPLE_RATE, this.features);
    const dim = f.dim;
    for (let i = 0; i < f.nFrames; i++) for (let d = 0; d < dim; d++) f.frames[i * dim + d] *= this.invStd[d];
    return { frames: f.frames, nFrames: f.nFrames, dim };
  }

  /** One unit per frame (round(duration * frameRate) of them), or run-length deduplicated with `dedup`. */
  encode(
    samples: Float32Array,
    sampleRate: number,
    opts: { dedup?: boolean } = {},
  ): { units: Int32Array; frameRate: number } {
    if (samples.length === 0) throw new Error("SpeechUnitizer.encode: no samples: the audio is empty");
    const bad = firstNonFinite(samples);
    if (bad >= 0)
      throw new Error(
        `SpeechUnitizer.encode: sample ${bad} is ${samples[bad]}: the audio holds non-finite values; clean it (or check the file it was read from)`,
      );
    const { frames, nFrames, dim } = this.featuresOf(samples, sampleRate);
    const units = assignAll(this.centroids, this.k, frames, nFrames, dim);
    return { units: opts.dedup ? dedupUnits(units) : units, frameRate: this.features.frameRate };
  }

  /** Versioned JSON (format, version, features, invStd, centroids). */
  toJSON(): object {
    return {
      format: FORMAT,
      version: VERSION,
      k: this.k,
      features: this.features,
      invStd: Array.from(this.invStd),
      centroids: Array.from(this.centroids),
      stats: this.stats,
    };
  }

  static fromJSON(j: unknown): SpeechUnitizer {
    const o = j as Record<string, unknown> | null;
    if (o === null || typeof o !== "object" || o.format !== FORMAT) {
      throw new Error(
        `SpeechUnitizer.fromJSON: not a '${FORMAT}' object (format ${o && typeof o === "object" ? JSON.stringify(o.format) : typeof o})`,
      );
    }
    if (o.version !== VERSION)
      throw new Error(
        `SpeechUnitizer.fromJSON: version ${JSON.stringify(o.version)} is not supported (expected ${VERSION}): retrain the units`,
      );
    const k = o.k as number;
    const features = { ...DEFAULT_LOGMEL, ...(o.features as Partial<LogMelOptions>) };
    const invStd = Float32Array.from(o.invStd as number[]);
    const centroids = Float32Array.from(o.centroids as number[]);
    if (!Number.isInteger(k) || k < 1 || centroids.length !== k * invStd.length || invStd.length === 0) {
      throw new Error(
        `SpeechUnitizer.fromJSON: inconsistent model (k ${k}, ${invStd.length} dims, ${centroids.length} centroid values): the file is corrupt`,
      );
    }
    return new SpeechUnitizer(centroids, k, features, invStd, (o.stats as UnitizerTrainStats | null) ?? null);
  }
}
