import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { buildDataset } from "../../lib/data/build";
import { unitsOfWav } from "../../lib/data/recording";
import { createTts, TEST_VOICES } from "../../lib/audio/tts";
import { resample } from "../../lib/audio/resample";
import { writeWav } from "../../lib/audio/wav";
import { recordingFigure } from "../../lib/viz/data-figures";

test("unitsOfWav: a 22.05 kHz recording is resampled, unitized with the dataset's k-means units, and drawn with its units beneath", async () => {
  const ds = await buildDataset("smoke");
  assert.equal(ds.unitModel.kind, "acoustic");
  if (ds.unitModel.kind !== "acoustic") return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-rec-"));

  // a "recording" the way a user's would arrive: TTS speech in an unseen voice, written at 22.05 kHz
  const said = (await createTts()).synthesize("the red kite flew over the lake on sunday", TEST_VOICES[1]);
  const file = path.join(dir, "me-22k.wav");
  fs.writeFileSync(file, writeWav(resample(said.audio, said.sampleRate, 22050), 22050));
  const rec = unitsOfWav(ds, file);
  assert.equal(rec.fileSampleRate, 22050);
  assert.equal(rec.sampleRate, 16000);
  assert.ok(Math.abs(rec.audio.length - said.audio.length) <= 1, `16 kHz length ${rec.audio.length} vs the TTS's ${said.audio.length}`);
  assert.equal(rec.units.length, Math.max(1, Math.round(rec.seconds * ds.config.units.frameRate)));
  assert.equal(rec.logMel.nFrames, rec.units.length);
  assert.ok(rec.units.every((u) => u >= 0 && u < ds.config.units.k), "every unit is one of the dataset's K");
  // the round trip 16 -> 22.05 -> 16 kHz (and 16-bit PCM) keeps the units the dataset gives the original audio
  const direct = ds.unitModel.unitizer.encode(said.audio, said.sampleRate).units;
  assert.equal(direct.length, rec.units.length);
  const same = rec.units.filter((u, i) => u === direct[i]).length;
  assert.ok(same >= 0.9 * direct.length, `units agree on ${same} of ${direct.length} frames`);

  // the header's worked example: 1.5 s at 22050 Hz (a sine mixture) -> 38 units at 25 Hz
  const n = 33075;
  const mixture = new Float32Array(n);
  for (let i = 0; i < n; i++) mixture[i] = 0.3 * Math.sin((2 * Math.PI * 220 * i) / 22050) + 0.2 * Math.sin((2 * Math.PI * 1800 * i) / 22050);
  const sine = unitsOfWav(ds, writeWav(mixture, 22050));
  assert.equal(sine.file, null);
  assert.equal(sine.audio.length, 24000);
  assert.equal(sine.units.length, 38);

  // the figure: log-mel [mels][frames] on top, one unit cell per frame beneath, sharing the x axis
  const fig = recordingFigure(rec);
  assert.equal(fig.data.length, 2);
  const [mel, strip] = fig.data;
  assert.equal(mel.z?.length, rec.logMel.nMels);
  assert.equal(mel.z?.[0].length, rec.units.length);
  assert.deepEqual(strip.z, [Array.from(rec.units)]);
  assert.equal(strip.yaxis, "y2");
  assert.match(fig.layout.title?.text ?? "", /me-22k\.wav: .* s at 22050 Hz -> \d+ units \(K = 32\)/);
  assert.equal(recordingFigure(rec, { maxFrames: 10 }).data[1].z?.[0].length, 10);

  // what cannot be unitized says why and what to do
  assert.throws(() => unitsOfWav(ds, path.join(dir, "missing.wav")), /does not exist: record a WAV file/);
  fs.writeFileSync(path.join(dir, "bad.wav"), "not a wav file at all, just some text bytes here to pass 44");
  assert.throws(() => unitsOfWav(ds, path.join(dir, "bad.wav")), /bad\.wav: readWav/);
  const phonetic = { ...ds, unitModel: { kind: "phonetic" as const, inventory: null as never } };
  assert.throws(() => unitsOfWav(phonetic, file), /phonetic units .* use a dataset with units.source 'acoustic'/);
  fs.rmSync(dir, { recursive: true });
});
