import { test } from "node:test";
import assert from "node:assert/strict";
import { SpeechUnitizer, dedupUnits } from "../../lib/tokenizers/units";
import { createTts, TRAIN_VOICES, TEST_VOICES } from "../../lib/audio/tts";
import { resample } from "../../lib/audio/resample";
import { wordFrames } from "../../lib/data/align";
import type { Utterance } from "../../lib/data/types";

const TEXTS = [
  "on monday dora took her purple cup to the castle.",
  "hana wanted the cup, but dora said no.",
  "kai took his white hat to the river.",
  "later fay caught fish with the net at the market.",
];

let cache: Utterance[] | null = null;
async function utterances(): Promise<Utterance[]> {
  if (cache === null) {
    const tts = await createTts();
    cache = TEXTS.flatMap((t, i) => [
      tts.synthesize(t, TRAIN_VOICES[i % TRAIN_VOICES.length]),
      tts.synthesize(t, TEST_VOICES[i % TEST_VOICES.length]),
    ]);
  }
  return cache;
}

const OPTS = { k: 16, frameRate: 25, seed: 7, maxFrames: 100000 };

test("dedupUnits collapses runs: [3, 3, 7, 7, 7, 3] -> [3, 7, 3]", () => {
  assert.deepEqual(Array.from(dedupUnits(Int32Array.from([3, 3, 7, 7, 7, 3]))), [3, 7, 3]);
  assert.deepEqual(Array.from(dedupUnits(new Int32Array(0))), []);
});

test("units: one per frame, round(duration * frameRate) of them, ids in 0..k-1, consistent with align.wordFrames", async () => {
  const utts = await utterances();
  const u = SpeechUnitizer.train(
    utts.map((x) => ({ samples: x.audio, sampleRate: x.sampleRate })),
    OPTS,
  );
  assert.equal(u.nUnits, 16);
  assert.equal(u.frameRate, 25);
  for (const x of utts) {
    const { units, frameRate } = u.encode(x.audio, x.sampleRate);
    assert.equal(frameRate, 25);
    assert.equal(units.length, Math.round((x.audio.length / x.sampleRate) * 25));
    assert.ok(units.every((v) => v >= 0 && v < 16));
    // every word maps to a non-empty frame range inside the units
    const wf = wordFrames(x, units.length, frameRate);
    assert.equal(wf.length, x.words.length);
    for (const [s, e] of wf) assert.ok(s >= 0 && e > s && e <= units.length);
    // the last word ends near the last frames (the trailing pause is short)
    assert.ok(
      units.length - wf[wf.length - 1][1] <= 15,
      `${units.length - wf[wf.length - 1][1]} frames after the last word`,
    );
  }
  // more than a handful of units in use, and silence differs from speech
  const used = new Set(utts.flatMap((x) => Array.from(u.encode(x.audio, x.sampleRate).units)));
  assert.ok(used.size >= 12, `${used.size} of 16 units used`);
});

test("units: same seed same model and units; other seed differs; other input rates are resampled", async () => {
  const utts = await utterances();
  const audios = utts.map((x) => ({ samples: x.audio, sampleRate: x.sampleRate }));
  const a = SpeechUnitizer.train(audios, OPTS);
  const b = SpeechUnitizer.train(audios, OPTS);
  assert.deepEqual(a.toJSON(), b.toJSON());
  const x = utts[0];
  assert.deepEqual(a.encode(x.audio, 16000).units, b.encode(x.audio, 16000).units);
  assert.notDeepEqual(SpeechUnitizer.train(audios, { ...OPTS, seed: 8 }).toJSON(), a.toJSON());
  // the same audio at 22.05 kHz gives the same number of frames and mostly the same units
  const up = resample(x.audio, 16000, 22050);
  const u16 = a.encode(x.audio, 16000).units;
  const u22 = a.encode(up, 22050).units;
  assert.equal(u22.length, u16.length);
  let same = 0;
  for (let i = 0; i < u16.length; i++) same += u16[i] === u22[i] ? 1 : 0;
  assert.ok(same / u16.length > 0.8, `${same}/${u16.length} frames agree after resampling`);
  // dedup shortens and has no repeats
  const d = a.encode(x.audio, 16000, { dedup: true }).units;
  assert.ok(d.length < u16.length);
  for (let i = 1; i < d.length; i++) assert.notEqual(d[i], d[i - 1]);
});

test("units: maxFrames subsamples the training frames; JSON round trip gives the same units", async () => {
  const utts = await utterances();
  const audios = utts.map((x) => ({ samples: x.audio, sampleRate: x.sampleRate }));
  const u = SpeechUnitizer.train(audios, { ...OPTS, maxFrames: 200 });
  assert.equal(u.stats?.framesUsed, 200);
  assert.ok((u.stats?.framesTotal ?? 0) > 200);
  const back = SpeechUnitizer.fromJSON(JSON.parse(JSON.stringify(u.toJSON())));
  assert.equal(back.nUnits, 16);
  for (const x of utts)
    assert.deepEqual(back.encode(x.audio, x.sampleRate).units, u.encode(x.audio, x.sampleRate).units);
});

test("units: bad inputs throw naming the problem", async () => {
  const utts = await utterances();
  const audios = utts.map((x) => ({ samples: x.audio, sampleRate: x.sampleRate }));
  assert.throws(() => SpeechUnitizer.train([], OPTS), /no audio given/);
  assert.throws(
    () => SpeechUnitizer.train(audios, { ...OPTS, maxFrames: 10 }),
    /maxFrames \(10\) must be at least k \(16\)/,
  );
  assert.throws(
    () => SpeechUnitizer.train([{ samples: new Float32Array(1600), sampleRate: 16000 }], OPTS),
    /only 3 frames of audio for k = 16/,
  );
  const u = SpeechUnitizer.train(audios, OPTS);
  assert.throws(() => u.encode(new Float32Array(0), 16000), /audio is empty/);
  assert.throws(() => SpeechUnitizer.fromJSON({ format: "nope" }), /not a 'lst-speech-units' object/);
  assert.throws(
    () => SpeechUnitizer.fromJSON({ ...(u.toJSON() as object), version: 99 }),
    /version 99 is not supported/,
  );
  assert.throws(
    () => SpeechUnitizer.fromJSON({ ...(u.toJSON() as object), centroids: [1, 2, 3] }),
    /inconsistent model/,
  );
});
