import { test } from "node:test";
import assert from "node:assert/strict";
import { WaveFile } from "wavefile";
import { readWav, writeWav } from "../../lib/audio/wav";

function tone(n: number, sr: number, hz: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / sr);
  return x;
}

test("writeWav/readWav round trip keeps rate, length and samples to 16-bit precision", () => {
  const x = tone(1600, 16000, 440);
  const bytes = writeWav(x, 16000);
  assert.equal(bytes.length, 44 + 2 * x.length);
  const back = readWav(bytes);
  assert.equal(back.sampleRate, 16000);
  assert.equal(back.samples.length, x.length);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(back.samples[i] - x[i]) < 1 / 16000, `sample ${i}`);
  // a second round trip is bit-exact
  assert.deepEqual(writeWav(back.samples, 16000), writeWav(readWav(writeWav(back.samples, 16000)).samples, 16000));
});

test("writeWav clips out-of-range samples and rejects NaN and bad rates", () => {
  const back = readWav(writeWav(Float32Array.from([2, -2, 0]), 8000)).samples;
  assert.ok(Math.abs(back[0] - 32767 / 32768) < 1e-6 && back[1] < -0.999 && back[2] === 0);
  assert.throws(() => writeWav(Float32Array.from([NaN]), 16000), /sample 0 is NaN/);
  assert.throws(() => writeWav(new Float32Array(4), 0), /sampleRate must be a positive integer/);
});

test("readWav mixes stereo down to mono and reads float WAVs", () => {
  const w = new WaveFile();
  // interleaved L/R: L = 0.5, R = -0.25 -> mono 0.125
  w.fromScratch(2, 22050, "32f", [Float32Array.from([0.5, 0.5]), Float32Array.from([-0.25, -0.25])]);
  const r = readWav(w.toBuffer());
  assert.equal(r.sampleRate, 22050);
  assert.equal(r.samples.length, 2);
  assert.ok(Math.abs(r.samples[0] - 0.125) < 1e-6);
});

test("readWav scales 8-bit (unsigned), 24-bit and 32-bit integer WAVs to [-1, 1]", () => {
  const cases: [string, number[], number[]][] = [
    ["8", [0, 128, 255], [-1, 0, 127 / 128]],
    ["24", [-8388608, 0, 4194304], [-1, 0, 0.5]],
    ["32", [-2147483648, 1073741824, 0], [-1, 0.5, 0]],
  ];
  for (const [depth, raw, want] of cases) {
    const w = new WaveFile();
    w.fromScratch(1, 8000, depth, raw);
    const got = Array.from(readWav(w.toBuffer()).samples);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-6, `${depth}-bit sample ${i}: ${g} vs ${want[i]}`));
  }
});

test("readWav names the problem for empty, truncated and corrupt input", () => {
  assert.throws(() => readWav(new Uint8Array(0)), /empty \(0 bytes\)/);
  assert.throws(() => readWav(new Uint8Array(10)), /only 10 bytes/);
  const junk = new Uint8Array(100).fill(65);
  assert.throws(() => readWav(junk), /not a readable WAV file/);
});
