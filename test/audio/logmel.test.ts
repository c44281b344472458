import { test } from "node:test";
import assert from "node:assert/strict";
import { logMel, unitFrameCount } from "../../lib/audio/logmel";

function tone(n: number, sr: number, hz: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / sr);
  return x;
}

test("frame count: round(duration * frameRate), at least 1 (the worked example: 0.1 s at 25 Hz -> 3)", () => {
  assert.equal(unitFrameCount(1600, 16000, 25), 3);
  assert.equal(unitFrameCount(16000, 16000, 25), 25);
  assert.equal(unitFrameCount(19680, 16000, 25), 31); // 1.23 s -> 30.75 -> 31
  assert.equal(unitFrameCount(10, 16000, 25), 1);
  for (const [n, sr, fr] of [
    [1600, 16000, 25],
    [22050, 22050, 50],
    [12345, 16000, 12.5],
  ]) {
    const f = logMel(tone(n, sr, 440), sr, { frameRate: fr });
    assert.equal(f.nFrames, unitFrameCount(n, sr, fr));
    assert.equal(f.frames.length, f.nFrames * f.dim);
  }
});

test("a tone's energy lands in the mel bin of its frequency, and a higher tone in a higher bin", () => {
  const peakBin = (hz: number): number => {
    const f = logMel(tone(16000, 16000, hz), 16000, { cmn: false });
    const j = 10; // a frame in the middle
    let best = 0;
    for (let m = 1; m < f.nMels; m++) if (f.frames[j * f.dim + m] > f.frames[j * f.dim + best]) best = m;
    return best;
  };
  const lo = peakBin(300);
  const mid = peakBin(1000);
  const hi = peakBin(4000);
  assert.ok(lo < mid && mid < hi, `bins ${lo} ${mid} ${hi}`);
});

test("CMN makes every bin zero-mean over the utterance; deltas double the dimension", () => {
  const x = tone(8000, 16000, 700);
  for (let i = 4000; i < 8000; i++) x[i] *= 0.1; // quieter second half
  const f = logMel(x, 16000, { cmn: true, deltas: true, nMels: 20 });
  assert.equal(f.dim, 40);
  for (let m = 0; m < 20; m++) {
    let s = 0;
    for (let j = 0; j < f.nFrames; j++) s += f.frames[j * f.dim + m];
    assert.ok(Math.abs(s / f.nFrames) < 1e-4, `bin ${m} mean ${s / f.nFrames}`);
  }
  // the loudness drop at 0.25 s shows as a negative delta there
  const j = Math.round(0.25 * 25);
  assert.ok(f.frames[j * f.dim + 20 + 5] < -0.5, `delta ${f.frames[j * f.dim + 25]}`);
});

test("logMel rejects empty audio and bad options", () => {
  assert.throws(() => logMel(new Float32Array(0), 16000), /no samples/);
  assert.throws(() => logMel(new Float32Array(100), 0), /sampleRate must be positive/);
  assert.throws(() => logMel(new Float32Array(100), 16000, { nMels: 0 }), /nMels >= 1/);
});
