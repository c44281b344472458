/**
 * Band-limited resampling with a Kaiser-windowed sinc kernel (the classic "bandlimited interpolation" of
 * Smith & Gossett). For every output sample at input time t = i * from / to, the output is
 *   y[i] = sum_k x[k] * c * sinc(c * (t - k)) * w(t - k),   c = min(1, to / from)
 * over the input samples k within `HALF_WIDTH / c` of t. c < 1 (downsampling) lowers the cutoff to the new
 * Nyquist frequency, so that nothing aliases. The output has round(n * to / from) samples.
 *
 * Worked example (from 2 Hz to 4 Hz, x = [0, 1, 0, -1]): output length round(4 * 4 / 2) = 8; output sample
 * i = 2 sits at t = 1 (exactly on x[1]), where the kernel is 1 at k = 1 and 0 at the other integers, so
 * y[2] = x[1] = 1 (a test checks this).
 */

/** zero crossings of the sinc kept on each side of the centre */
const HALF_WIDTH = 16;
/** Kaiser window shape: beta 8.6 gives ~ -90 dB sidelobes */
const KAISER_BETA = 8.6;

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** The windowed-sinc kernel at offset d (input samples) for cutoff c, zero beyond `reach`. */
function kernel(d: number, c: number, reach: number, i0Beta: number): number {
  const r = d / reach;
  if (r <= -1 || r >= 1) return 0;
  const w = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
  const a = Math.PI * c * d;
  return c * w * (a === 0 ? 1 : Math.sin(a) / a);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Resample `x` from `from` Hz to `to` Hz. Same rate returns a copy. */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (!(from > 0) || !(to > 0)) throw new Error(`resample: rates must be positive, got from=${from} to=${to}`);
  if (from === to) return x.slice();
  const nOut = Math.round((x.length * to) / from);
  const out = new Float32Array(nOut);
  const c = Math.min(1, to / from);
  const reach = HALF_WIDTH / c; // kernel half-width in input samples
  const i0Beta = besselI0(KAISER_BETA);
  const g = Number.isInteger(from) && Number.isInteger(to) ? gcd(from, to) : 0;
  const phases = g > 0 ? to / g : 0;
  if (phases > 0 && phases <= 4096) {
    // Polyphase: output i sits at t = i * from / to = base + p / phases with p = (i * from / g) mod phases,
    // so the kernel weights depend only on the phase p and are tabulated once.
    // e.g. 22050 -> 16000: g = 50, phases = 320, ~45 taps per phase.
    const up = from / g;
    const kOff = Math.ceil(reach) - 1; // taps run over k = base - kOff .. base + kOff + 1
    const taps = 2 * kOff + 2;
    const table = new Float64Array(phases * taps);
    for (let p = 0; p < phases; p++) {
      const frac = p / phases;
      for (let j = 0; j < taps; j++) table[p * taps + j] = kernel(frac + kOff - j, c, reach, i0Beta);
    }
    for (let i = 0; i < nOut; i++) {
      const num = i * up; // t = num / phases
      const base = Math.floor(num / phases);
      const p = num - base * phases;
      let acc = 0;
      const k0 = base - kOff;
      const row = p * taps;
      for (let j = 0; j < taps; j++) {
        const k = k0 + j;
        if (k >= 0 && k < x.length) acc += x[k] * table[row + j];
      }
      out[i] = acc;
    }
    return out;
  }
  const step = from / to;
  for (let i = 0; i < nOut; i++) {
    const t = i * step;
    const kLo = Math.max(0, Math.ceil(t - reach));
    const kHi = Math.min(x.length - 1, Math.floor(t + reach));
    let acc = 0;
    for (let k = kLo; k <= kHi; k++) acc += x[k] * kernel(t - k, c, reach, i0Beta);
    out[i] = acc;
  }
  return out;
}
