import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { WaveFile } from "wavefile";
import { createTts, TRAIN_VOICES, type Tts } from "../../lib/audio/tts";
import { logMel } from "../../lib/audio/logmel";
import { writeWav } from "../../lib/audio/wav";
import { griffinLim, melFilters } from "../../lib/audio/griffin-lim";
import { MelVocoder, PhonemeVocoder } from "../../lib/audio/vocoder";
import { PhonemeInventory, phoneticUnits } from "../../lib/tokenizers/phonetic";
import { SpeechUnitizer } from "../../lib/tokenizers/units";
import { phonemeVocoder } from "../../lib/eval/vocoders";
import { collapseRuns, unitAgreement } from "../../lib/eval/transcribe";
import type { Utterance } from "../../lib/audio/types";

const TRAIN_TEXT = [
  "anna took her red kite to the park and flew the kite all day",
  "ben brought his blue drum to the market. it was a cold morning.",
  "then the boat sank to the bottom, and lily could not sail the boat anymore.",
  "on friday omar rode the bike to the zoo with his friend max.",
];
const HELD_OUT = ["dora gave the yellow book to tom at the library.", "the weather was windy and nice at the lake."];

let tts: Tts;
let train: Utterance[];
let held: Utterance[];

before(async () => {
  tts = await createTts();
  train = TRAIN_TEXT.flatMap((t, i) => [TRAIN_VOICES[i % 3], TRAIN_VOICES[3]].map((v) => tts.synthesize(t, v)));
  held = HELD_OUT.map((t) => tts.synthesize(t, "us-m2")); // a held-out voice (its accent is trained: en-us)
});

/** Pearson correlation of two equal-length arrays. */
function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i] / n, mb + b[i] / n];
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

test("griffinLim: the log-mel of its output follows the log-mel it was made from (correlation > 0.9)", () => {
  const u = held[0];
  const target = logMel(u.audio, 16000, { frameRate: 100, cmn: false });
  const audio = griffinLim(target.frames, target.nFrames, target.nMels);
  assert.equal(audio.length, target.nFrames * 160);
  const again = logMel(audio, 16000, { frameRate: 100, cmn: false });
  const r = corr(target.frames, again.frames.subarray(0, target.frames.length));
  assert.ok(r > 0.9, `log-mel correlation ${r.toFixed(3)}`);
  // the filterbank is logmel.ts's: 40 triangles, each peaking at 1, covering 20 Hz .. 8 kHz
  const M = melFilters(40);
  assert.equal(M.length, 40);
  for (const row of M) assert.ok(Math.max(...row) > 0.5 && Math.max(...row) <= 1);
  assert.throws(() => griffinLim(new Float32Array(10), 2, 40), /10 values are not 2 frames of 40 mel bins/);
});

test("MelVocoder: acoustic units -> audio -> units again agree above 0.6 on held-out speech; bad ids are named", () => {
  const unitizer = SpeechUnitizer.train(
    train.map((u) => ({ samples: u.audio, sampleRate: u.sampleRate })),
    { k: 16, frameRate: 25, seed: 1, maxFrames: 20000 },
  );
  const units = train.map((u) => unitizer.encode(u.audio, u.sampleRate).units);
  const v = MelVocoder.fit(
    train.map((u, i) => ({ audio: u.audio, sampleRate: u.sampleRate, units: units[i] })),
    16,
  );
  const again = MelVocoder.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
  for (const u of held) {
    const orig = unitizer.encode(u.audio, u.sampleRate).units;
    const audio = again.synthesize(orig, { iterations: 16 });
    assert.equal(audio.length, orig.length * 640, "40 ms of audio per unit");
    const back = unitizer.encode(audio, 16000).units;
    const agree = unitAgreement(orig, back);
    assert.ok(agree > 0.6, `acoustic round-trip agreement ${agree.toFixed(3)}`);
  }
  assert.throws(() => v.synthesize([1, 16]), /unknown unit id 16 at position 1: this vocoder has units 0\.\.15/);
  assert.throws(() => v.synthesize([]), /no units to speak/);
});

test("PhonemeVocoder: the worked example's phoneme text, and errors naming the bad id", () => {
  const v = new PhonemeVocoder(
    ["<sil>", "<unk>", "k", "æ", "t"],
    new Map([
      ["k", "k"],
      ["æ", "a"],
      ["t", "t"],
    ]),
  );
  assert.deepEqual(v.text([0, 0, 2, 2, 3, 3, 3, 4, 0, 0, 0]), { text: "[[_: kat _:_:]]", dropped: [] });
  assert.deepEqual(v.text([2, 1, 3]).dropped, ["<unk>"]);
  assert.throws(() => v.text([2, 9]), /unknown unit id 9 at position 1: this inventory has ids 0\.\.4/);
  assert.throws(() => v.synthesize(tts, [0, 0, 1], "us-m2"), /no speakable phoneme/);
});

test("PhonemeVocoder: phonetic units -> eSpeak -> units again: runs agree above 0.75, frames above 0.4", async () => {
  const inventory = PhonemeInventory.fromUtterances(train);
  const v = await phonemeVocoder(inventory, 25);
  const opts = { frameRate: 25, noise: 0, seed: 0, inventory };
  for (const u of held) {
    const orig = phoneticUnits(u, opts);
    const { utterance } = v.synthesize(tts, orig, "us-m2");
    const back = phoneticUnits(utterance, opts);
    const runs = unitAgreement(collapseRuns(orig), collapseRuns(back));
    const frames = unitAgreement(orig, back);
    assert.ok(runs > 0.75, `phoneme-run agreement ${runs.toFixed(3)} for '${u.text}'`);
    assert.ok(frames > 0.4, `frame agreement ${frames.toFixed(3)} for '${u.text}'`);
    assert.ok(
      Math.abs(back.length - orig.length) <= 0.15 * orig.length,
      `${back.length} units back for ${orig.length}`,
    );
  }
});

test("vocoded audio is a valid WAV: wavefile decodes it, and so does sox where present", async (t) => {
  const inventory = PhonemeInventory.fromUtterances(train);
  const v = await phonemeVocoder(inventory, 25);
  const audio = v.synthesize(tts, phoneticUnits(held[1], { frameRate: 25, noise: 0, seed: 0, inventory }), "scot-m7")
    .utterance.audio;
  const bytes = writeWav(audio, 16000);
  const wav = new WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  assert.deepEqual([fmt.sampleRate, fmt.numChannels, fmt.bitsPerSample], [16000, 1, 16]);
  assert.equal((wav.getSamples(false, Int16Array) as unknown as Int16Array).length, audio.length);
  const sox = spawnSync("sox", ["--version"], { encoding: "utf8" });
  if (sox.error) {
    t.skip("sox is not installed here (spawn sox: ENOENT): the wavefile check above stands alone");
    return;
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vocoder-")), "v.wav");
  fs.writeFileSync(file, bytes);
  const info = spawnSync("sox", ["--i", file], { encoding: "utf8" });
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /Sample Rate\s*:\s*16000/);
  assert.match(info.stdout, /Channels\s*:\s*1/);
});
