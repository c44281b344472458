import { test } from "node:test";
import assert from "node:assert/strict";
import { resample } from "../../lib/audio/resample";

function tone(n: number, sr: number, hz: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * hz * i) / sr);
  return x;
}

/** Frequency estimate from positive-going zero crossings over the middle of the signal. */
function zeroCrossingHz(x: Float32Array, sr: number): number {
  const a = Math.floor(x.length * 0.1);
  const b = Math.floor(x.length * 0.9);
  const cross: number[] = [];
  for (let i = a + 1; i < b; i++) if (x[i - 1] < 0 && x[i] >= 0) cross.push(i - x[i] / (x[i] - x[i - 1]));
  return ((cross.length - 1) * sr) / (cross[cross.length - 1] - cross[0]);
}

test("worked example: 2 Hz -> 4 Hz has round(4 * 4 / 2) = 8 samples and y[2] = x[1]", () => {
  const y = resample(Float32Array.from([0, 1, 0, -1]), 2, 4);
  assert.equal(y.length, 8);
  assert.ok(Math.abs(y[2] - 1) < 1e-9, `y[2] = ${y[2]}`);
});

test("a tone keeps its frequency and the length scales by to/from (22050 -> 16000, 16000 -> 8000, 8000 -> 16000)", () => {
  for (const [from, to, hz] of [
    [22050, 16000, 440],
    [16000, 8000, 1000],
    [8000, 16000, 300],
    [44100, 16000, 2500],
  ]) {
    const x = tone(from, from, hz); // 1 s
    const y = resample(x, from, to);
    assert.equal(y.length, Math.round((x.length * to) / from));
    const est = zeroCrossingHz(y, to);
    assert.ok(Math.abs(est - hz) / hz < 0.002, `${from}->${to}: ${hz} Hz became ${est.toFixed(2)} Hz`);
    // amplitude preserved in the middle
    let peak = 0;
    for (let i = Math.floor(y.length * 0.2); i < Math.floor(y.length * 0.8); i++) peak = Math.max(peak, Math.abs(y[i]));
    assert.ok(Math.abs(peak - 1) < 0.01, `peak ${peak}`);
  }
});

test("downsampling removes tones above the new Nyquist frequency (no aliasing)", () => {
  const y = resample(tone(22050, 22050, 9000), 22050, 16000); // 9 kHz > 8 kHz Nyquist
  let e = 0;
  for (let i = 1000; i < y.length - 1000; i++) e += y[i] * y[i];
  assert.ok(Math.sqrt(e / (y.length - 2000)) < 0.01, `residual rms ${Math.sqrt(e / (y.length - 2000))}`);
});

test("same rate copies; non-integer rates use the direct kernel; bad rates throw", () => {
  const x = tone(100, 1000, 50);
  const same = resample(x, 1000, 1000);
  assert.deepEqual(same, x);
  assert.notEqual(same, x);
  assert.equal(resample(x, 1000, 1500.5).length, Math.round((100 * 1500.5) / 1000));
  assert.throws(() => resample(x, 0, 16000), /rates must be positive, got from=0/);
});
