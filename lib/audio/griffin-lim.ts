/**
 * From log-mel frames back to a waveform: mel energies -> a power spectrum (the mel filterbank inverted) ->
 * magnitudes -> phases by (fast) Griffin-Lim -> overlap-add. The framing is logmel.ts's, so that the log-mel of
 * the output approximates the frames it was made from:
 *   16 kHz, 25 ms Hann windows (400 samples, symmetric) every 10 ms (160), 512-point FFT, frame i centred on
 *   (i + 0.5) * hop; `nMels` HTK-mel triangles from 20 Hz to Nyquist; the spectra are of the pre-emphasized
 *   signal (0.97), so the magnitudes are divided by the pre-emphasis response first (bins below 50 Hz, where
 *   that response is ~0, are left silent).
 *
 * Mel inversion: a mel energy e_m is a triangle-weighted sum of power bins; with the power flat across a
 * triangle, its density is e_m / sum_k M[m,k], and each bin takes the triangle-weighted mean of the densities of
 * the filters that cover it; a few multiplicative (non-negative least-squares) updates p <- p * M'e / M'Mp then
 * fit the mel energies closer. Griffin-Lim (Griffin & Lim 1984) with the fast variant's momentum (Perraudin et
 * al. 2013, alpha 0.99): phases start at zero and alternate between the target magnitudes and the phases of a
 * consistent STFT. Pure JS (fft.js).
 *
 * Limits: 40 mel bins keep the spectral envelope, not the harmonics; Griffin-Lim gives the buzzy, phasey sound
 * of an unvoiced vocoder with no pitch. It is a listening aid, not a neural vocoder (docs/generate.md).
 */
import FFT from "fft.js";
import { Rng } from "../rng";

/** logmel.ts's analysis at 16 kHz (its defaults). */
export const GL_SAMPLE_RATE = 16000;
const WIN = 400;
const HOP = 160;
const NFFT = 512;
const BINS = NFFT / 2 + 1;
const PRE = 0.97;

function hzToMel(f: number): number {
  return 2595 * Math.log10(1 + f / 700);
}
function melToHz(m: number): number {
  return 700 * (Math.pow(10, m / 2595) - 1);
}

/** The mel filterbank [nMels][BINS] of logmel.ts (same edges and triangles). */
export function melFilters(nMels: number, sampleRate = GL_SAMPLE_RATE): Float64Array[] {
  const mLo = hzToMel(20);
  const mHi = hzToMel(sampleRate / 2);
  const edges: number[] = [];
  for (let i = 0; i < nMels + 2; i++) edges.push(melToHz(mLo + ((mHi - mLo) * i) / (nMels + 1)));
  const binHz = sampleRate / NFFT;
  const out: Float64Array[] = [];
  for (let m = 0; m < nMels; m++) {
    const [a, b, c] = [edges[m], edges[m + 1], edges[m + 2]];
    const row = new Float64Array(BINS);
    const lo = Math.max(0, Math.ceil(a / binHz));
    const hi = Math.min(NFFT / 2, Math.floor(c / binHz));
    for (let k = lo; k <= hi; k++) {
      const f = k * binHz;
      row[k] = f <= b ? (f - a) / (b - a) : (c - f) / (c - b);
    }
    out.push(row);
  }
  return out;
}

/** Power spectra [nFrames][BINS] whose mel energies approximate exp(logMel) (see the header). */
export function melToPower(logMel: Float32Array, nFrames: number, nMels: number, iterations = 8): Float64Array[] {
  const M = melFilters(nMels);
  // each triangle covers a few bins: keep its [lo, hi] range so every sum runs over those only
  const span = M.map((row) => {
    let lo = 0;
    while (lo < BINS && row[lo] === 0) lo++;
    let hi = BINS - 1;
    while (hi > lo && row[hi] === 0) hi--;
    return [lo, hi] as const;
  });
  const width = M.map((row) => row.reduce((a, b) => a + b, 0));
  const cover = new Float64Array(BINS);
  for (const row of M) for (let k = 0; k < BINS; k++) cover[k] += row[k];
  const e = new Float64Array(nMels);
  const est = new Float64Array(nMels);
  const num = new Float64Array(BINS);
  const den = new Float64Array(BINS);
  const out: Float64Array[] = [];
  for (let i = 0; i < nFrames; i++) {
    for (let m = 0; m < nMels; m++) e[m] = Math.exp(logMel[i * nMels + m]);
    const p = new Float64Array(BINS);
    for (let m = 0; m < nMels; m++) {
      const density = width[m] > 0 ? e[m] / width[m] : 0;
      for (let k = span[m][0]; k <= span[m][1]; k++) p[k] += M[m][k] * density;
    }
    for (let k = 0; k < BINS; k++) p[k] = cover[k] > 0 ? p[k] / cover[k] : 0;
    for (let it = 0; it < iterations; it++) {
      num.fill(0);
      den.fill(0);
      for (let m = 0; m < nMels; m++) {
        let s = 0;
        for (let k = span[m][0]; k <= span[m][1]; k++) s += M[m][k] * p[k];
        est[m] = s;
        for (let k = span[m][0]; k <= span[m][1]; k++) {
          num[k] += M[m][k] * e[m];
          den[k] += M[m][k] * est[m];
        }
      }
      for (let k = 0; k < BINS; k++) if (den[k] > 0) p[k] *= num[k] / den[k];
    }
    out.push(p);
  }
  return out;
}

/** The symmetric Hann window of logmel.ts. */
function hann(): Float64Array {
  const w = new Float64Array(WIN);
  for (let i = 0; i < WIN; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (WIN - 1));
  return w;
}

/** First sample of frame i (logmel.ts: the window centred on (i + 0.5) * hop). */
const frameStart = (i: number) => Math.round((i + 0.5) * HOP - WIN / 2);

/** Complex STFT [nFrames] of interleaved re/im arrays over BINS bins. */
function stft(x: Float64Array, nFrames: number, fft: FFT, win: Float64Array): Float64Array[] {
  const buf = new Float64Array(NFFT);
  const spec = fft.createComplexArray() as number[];
  const out: Float64Array[] = [];
  for (let i = 0; i < nFrames; i++) {
    buf.fill(0);
    const s = frameStart(i);
    for (let k = 0; k < WIN; k++) {
      const n = s + k;
      if (n >= 0 && n < x.length) buf[k] = x[n] * win[k];
    }
    fft.realTransform(spec, buf);
    const row = new Float64Array(2 * BINS);
    for (let j = 0; j < 2 * BINS; j++) row[j] = spec[j];
    out.push(row);
  }
  return out;
}

/** Weighted overlap-add of the inverse FFTs (least-squares ISTFT for the window). */
function istft(frames: Float64Array[], n: number, fft: FFT, win: Float64Array): Float64Array {
  const x = new Float64Array(n);
  const norm = new Float64Array(n);
  const full = fft.createComplexArray() as number[];
  const time = fft.createComplexArray() as number[];
  frames.forEach((f, i) => {
    for (let k = 0; k < BINS; k++) {
      full[2 * k] = f[2 * k];
      full[2 * k + 1] = f[2 * k + 1];
    }
    for (let k = BINS; k < NFFT; k++) {
      full[2 * k] = f[2 * (NFFT - k)];
      full[2 * k + 1] = -f[2 * (NFFT - k) + 1];
    }
    fft.inverseTransform(time, full);
    const s = frameStart(i);
    for (let k = 0; k < WIN; k++) {
      const t = s + k;
      if (t < 0 || t >= n) continue;
      x[t] += time[2 * k] * win[k];
      norm[t] += win[k] * win[k];
    }
  });
  for (let t = 0; t < n; t++) if (norm[t] > 1e-8) x[t] /= norm[t];
  return x;
}

export interface GriffinLimOptions {
  /** phase iterations (default 32) */
  iterations?: number;
  /** fast Griffin-Lim momentum (default 0.99; 0 = plain Griffin-Lim) */
  momentum?: number;
  /** random initial phases from this seed instead of zeros */
  seed?: number;
}

/**
 * A 16 kHz waveform from log-mel frames at 100 Hz (10 ms; `logMel` frame-major [nFrames, nMels], natural log of
 * mel energies as logmel.ts computes them without CMN): nFrames * 160 samples.
 */
export function griffinLim(
  logMel: Float32Array,
  nFrames: number,
  nMels: number,
  opts: GriffinLimOptions = {},
): Float32Array {
  if (!(nFrames >= 1 && logMel.length === nFrames * nMels))
    throw new Error(`griffinLim: ${logMel.length} values are not ${nFrames} frames of ${nMels} mel bins`);
  const iterations = opts.iterations ?? 32;
  const alpha = opts.momentum ?? 0.99;
  const fft = new FFT(NFFT);
  const win = hann();
  const n = nFrames * HOP;
  // target magnitudes of the signal before pre-emphasis: |X| = |Y| / |1 - 0.97 e^{-jw}|
  const binHz = GL_SAMPLE_RATE / NFFT;
  const mag = melToPower(logMel, nFrames, nMels).map((p) => {
    const m = new Float64Array(BINS);
    for (let k = 0; k < BINS; k++) {
      const w = (2 * Math.PI * k) / NFFT;
      const h = Math.sqrt((1 - PRE * Math.cos(w)) ** 2 + (PRE * Math.sin(w)) ** 2);
      m[k] = k * binHz < 50 ? 0 : Math.sqrt(p[k]) / h;
    }
    return m;
  });
  const rng = opts.seed === undefined ? null : new Rng(opts.seed);
  const spec = mag.map((m) => {
    const c = new Float64Array(2 * BINS);
    for (let k = 0; k < BINS; k++) {
      const ph = rng ? 2 * Math.PI * rng.next() : 0;
      c[2 * k] = m[k] * Math.cos(ph);
      c[2 * k + 1] = m[k] * Math.sin(ph);
    }
    return c;
  });
  let prev: Float64Array[] | null = null;
  for (let it = 0; it < iterations; it++) {
    const proj = stft(istft(spec, n, fft, win), nFrames, fft, win);
    for (let i = 0; i < nFrames; i++) {
      const c = proj[i];
      const out = spec[i];
      const before = prev?.[i];
      for (let k = 0; k < BINS; k++) {
        // fast Griffin-Lim: extrapolate the consistent spectrum, then put the target magnitude back
        let re = c[2 * k];
        let im = c[2 * k + 1];
        if (before) {
          re += alpha * (re - before[2 * k]);
          im += alpha * (im - before[2 * k + 1]);
        }
        const r = Math.sqrt(re * re + im * im); // (Math.hypot is several times slower in V8)
        out[2 * k] = r > 0 ? (mag[i][k] * re) / r : mag[i][k];
        out[2 * k + 1] = r > 0 ? (mag[i][k] * im) / r : 0;
      }
    }
    prev = proj;
  }
  const x = istft(spec, n, fft, win);
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const gain = peak > 0.95 ? 0.95 / peak : 1; // the level of the log-mel, unless that would clip
  return Float32Array.from(x, (v) => v * gain);
}
