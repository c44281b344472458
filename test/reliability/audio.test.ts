/**
 * Audio and token ids never turn silently into garbage: A-law, mu-law and other encodings are refused by name,
 * a data chunk shorter than its header says is an error, and so is a sample rate outside 4-384 kHz; a NaN or
 * infinite sample is an error naming the file (and the feature and unit front ends refuse one too), NaN token ids
 * are errors, and a header-only or empty benchmark file is an error naming the file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import path from "path";
import { readWav, readWavFile, writeWav } from "../../lib/audio/wav";
import { logMel } from "../../lib/audio/logmel";
import { SpeechUnitizer } from "../../lib/tokenizers/units";
import { SequenceBuilder } from "../../lib/data/interleave";
import { i32 } from "../../lib/data/store";
import { loadBenchmarkFile } from "../../lib/data/formats";
import { tmpDir } from "./helpers";

/** A WAV by hand: format code, bits, channels, the data bytes, and the data size the header declares. */
function wav(o: {
  format: number;
  bits: number;
  channels?: number;
  data: Uint8Array;
  declared?: number;
  extensible?: number;
  rate?: number;
}): Uint8Array {
  const ch = o.channels ?? 1;
  const fmtSize = o.extensible !== undefined ? 40 : 16;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + o.data.length);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  put(0, "RIFF");
  v.setUint32(4, out.length - 8, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, o.extensible !== undefined ? 0xfffe : o.format, true);
  v.setUint16(22, ch, true);
  const rate = o.rate ?? 8000;
  v.setUint32(24, rate, true);
  v.setUint32(28, Math.min(2 ** 32 - 1, (rate * ch * o.bits) / 8), true);
  v.setUint16(32, (ch * o.bits) / 8, true);
  v.setUint16(34, o.bits, true);
  if (o.extensible !== undefined) {
    v.setUint16(36, 22, true);
    v.setUint16(38, o.bits, true);
    v.setUint16(44, o.extensible, true); // the sub-format GUID's first u16
  }
  const d = 20 + fmtSize;
  put(d, "data");
  v.setUint32(d + 4, o.declared ?? o.data.length, true);
  out.set(o.data, d + 8);
  return out;
}

test("A-law, mu-law, ADPCM, MP3 and 64-bit float WAVs are refused by name, with the conversion to use", () => {
  const bytes = new Uint8Array(8000).fill(0xd5); // A-law silence: read as 8-bit PCM it would be a constant -0.336
  for (const [format, name] of [
    [6, "A-law"],
    [7, "mu-law"],
    [2, "Microsoft ADPCM"],
    [0x55, "MP3"],
  ] as const) {
    assert.throws(
      () => readWav(wav({ format, bits: 8, data: bytes }), "call.wav"),
      (e: Error) =>
        e.message.includes("call.wav") &&
        e.message.includes(`${name} audio is not supported`) &&
        /pcm_s16le|sox/.test(e.message),
    );
  }
  assert.throws(() => readWav(wav({ format: 3, bits: 64, data: new Uint8Array(64) })), /only 32-bit float/);
  assert.throws(() => readWav(wav({ format: 1, bits: 12, data: new Uint8Array(64) })), /unsupported bit depth 12/);
  assert.throws(() => readWav(wav({ format: 0, bits: 16, extensible: 6, data: new Uint8Array(64) })), /A-law/);
});

test("a sample rate outside 4-384 kHz is refused, naming the rate (1 Hz once ran unitsOfWav for 15 minutes)", () => {
  const pcm16 = new Uint8Array(new Int16Array(64).fill(1000).buffer);
  for (const rate of [1, 100, 3999, 384001, 2e9]) {
    assert.throws(
      () => readWav(wav({ format: 1, bits: 16, data: pcm16, rate }), "odd.wav"),
      (e: Error) =>
        e.message.includes("odd.wav") &&
        e.message.includes(`sample rate of ${rate} Hz, outside 4-384 kHz`) &&
        /-r 16000|-ar 16000/.test(e.message),
    );
  }
  for (const rate of [4000, 8000, 16000, 44100, 384000])
    assert.equal(readWav(wav({ format: 1, bits: 16, data: pcm16, rate })).sampleRate, rate);
});

test("PCM 8/16/24/32-bit, float32 and WAVE_FORMAT_EXTENSIBLE PCM still read", () => {
  const pcm16 = new Uint8Array(new Int16Array([16384, -16384]).buffer);
  assert.deepEqual(Array.from(readWav(wav({ format: 1, bits: 16, data: pcm16 })).samples), [0.5, -0.5]);
  assert.deepEqual(Array.from(readWav(wav({ format: 0, bits: 16, extensible: 1, data: pcm16 })).samples), [0.5, -0.5]);
  const f32 = new Uint8Array(new Float32Array([0.25, -1]).buffer);
  assert.deepEqual(Array.from(readWav(wav({ format: 3, bits: 32, data: f32 })).samples), [0.25, -1]);
  assert.deepEqual(Array.from(readWav(wav({ format: 1, bits: 8, data: Uint8Array.from([128, 0]) })).samples), [0, -1]);
});

test("a data chunk shorter than its header says (a cut file) is an error, not fewer samples", () => {
  const full = writeWav(new Float32Array(8000).fill(0.1), 16000);
  const half = full.slice(0, 44 + 8000); // 4,000 of 8,000 samples
  assert.throws(
    () => readWav(half, "cut.wav"),
    (e: Error) =>
      e.message.includes("cut.wav") &&
      /declares 16000 bytes but only 8000 are present: the file is truncated/.test(e.message),
  );
  const odd = wav({ format: 1, bits: 16, channels: 2, data: new Uint8Array(6) });
  assert.throws(() => readWav(odd), /not whole frames of 4 bytes/);
  assert.throws(() => readWav(wav({ format: 1, bits: 16, data: new Uint8Array(0) })), /holds no samples/);
});

test("a NaN or infinite sample is an error naming the file (and the log-mel and unit front ends refuse one too)", () => {
  const dir = tmpDir();
  for (const bad of [NaN, Infinity]) {
    const f = path.join(dir, `bad-${bad}.wav`);
    const x = new Float32Array(100).fill(0.1);
    x[37] = bad;
    fs.writeFileSync(f, wav({ format: 3, bits: 32, data: new Uint8Array(x.buffer) }));
    assert.throws(
      () => readWavFile(f),
      (e: Error) => e.message.includes(f) && e.message.includes(`sample 37 (channel 0) is ${bad}`),
    );
    assert.throws(() => logMel(x, 16000), new RegExp(`sample 37 is ${bad}`));
  }
  const tone = new Float32Array(16000).map((_, i) => 0.3 * Math.sin(i / 7));
  const unitizer = SpeechUnitizer.train([{ samples: tone, sampleRate: 16000 }], {
    k: 2,
    frameRate: 25,
    seed: 1,
    maxFrames: 20,
  });
  const poisoned = tone.slice();
  poisoned[5000] = NaN;
  assert.throws(() => unitizer.encode(poisoned, 16000), /sample 5000 is NaN: the audio holds non-finite values/);
});

test("NaN token ids are errors, not id 0", () => {
  assert.throws(() => new SequenceBuilder().token(1).token(NaN), /token id NaN at position 1 is not an integer id/);
  assert.throws(() => new SequenceBuilder().tokens([3, 4.5]), /token id 4.5/);
  assert.throws(() => i32.fromJson([1, NaN, 3]), /index 1, not an integer id: the cache file is corrupt/);
  assert.throws(() => i32.fromJson([1, null as unknown as number]), /null at index 1/);
});

test("a header-only or empty benchmark file is an error naming the file", () => {
  const dir = tmpDir();
  const header =
    "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding\n";
  const cases: [string, string, RegExp][] = [
    ["storycloze.csv", header, /header but no items/],
    ["empty.csv", "", /CSV is empty/],
    ["hellaswag.jsonl", "", /JSONL is empty/],
    ["blank.jsonl", "\n\n", /JSONL is empty/],
  ];
  for (const [name, text, want] of cases) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    assert.throws(
      () => loadBenchmarkFile(f),
      (e: Error) => e.message.startsWith(`benchmark file ${f}: `) && want.test(e.message),
    );
  }
});
