/**
 * Audio and speech-unit speed (and unit quality):
 *   1. TTS: warm ms per generated story (eSpeak wasm + resampling to 16 kHz + timings), real-time factor;
 *   2. resample 22.05 -> 16 kHz and logMel, ms per second of audio;
 *   3. k-means on `--frames` real log-mel frames (default 200k, the `small` preset) with K = `--k` (128);
 *   4. SpeechUnitizer.encode, ms per second of audio;
 *   5. unit quality on held-out voices: phone purity and PNMI (mutual information of unit and phoneme over
 *      the phoneme entropy, as in HuBERT) against the TTS's phoneme timings, for each feature variant in
 *      `--variants` (e.g. "cmn,nocmn,deltas").
 * Run: npx tsx bench/audio.ts [--stories 200] [--frames 200000] [--k 128] [--variants cmn]
 */
import {
  createTts,
  TRAIN_VOICES,
  TEST_VOICES,
  resample,
  logMel,
  type LogMelOptions,
  kmeans,
  SpeechUnitizer,
  PhonemeInventory,
  phoneticUnits,
  makeStories,
  type Utterance,
} from "../lib";
import { cli } from "../lib/internal";

const AUDIO_CLI = {
  command: "npx tsx bench/audio.ts",
  summary: "TTS, log-mel, k-means and unitizer speed, and unit quality (purity, PNMI) on held-out voices.",
  flags: {
    stories: { type: "number", default: 200, help: "stories to synthesize" },
    frames: { type: "number", default: 200000, help: "log-mel frames for k-means (the small preset's)" },
    k: { type: "number", default: 128, help: "k-means clusters" },
    variants: { type: "string", default: "cmn", value: "cmn,nocmn,deltas,mel80", help: "feature variants to compare" },
  },
} as const;

const VARIANTS: Record<string, Partial<LogMelOptions>> = {
  cmn: { cmn: true, deltas: false },
  nocmn: { cmn: false, deltas: false },
  deltas: { cmn: true, deltas: true },
  mel80: { cmn: true, deltas: false, nMels: 80 },
};

/** Phone purity and PNMI of units against frame phoneme labels. */
function unitQuality(
  units: Int32Array[],
  labels: Int32Array[],
  k: number,
  nLabels: number,
): { purity: number; pnmi: number } {
  const joint = new Float64Array(k * nLabels);
  let n = 0;
  units.forEach((u, i) => {
    for (let j = 0; j < u.length; j++) {
      joint[u[j] * nLabels + labels[i][j]]++;
      n++;
    }
  });
  const pu = new Float64Array(k);
  const pl = new Float64Array(nLabels);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < nLabels; b++) {
      pu[a] += joint[a * nLabels + b];
      pl[b] += joint[a * nLabels + b];
    }
  let purity = 0;
  let mi = 0;
  let hl = 0;
  for (let a = 0; a < k; a++) {
    let best = 0;
    for (let b = 0; b < nLabels; b++) {
      const c = joint[a * nLabels + b];
      best = Math.max(best, c);
      if (c > 0) mi += (c / n) * Math.log((c * n) / (pu[a] * pl[b]));
    }
    purity += best;
  }
  for (let b = 0; b < nLabels; b++) if (pl[b] > 0) hl -= (pl[b] / n) * Math.log(pl[b] / n);
  return { purity: purity / n, pnmi: mi / hl };
}

async function main(): Promise<void> {
  const { values: args } = cli(AUDIO_CLI);
  const nStories = args.stories;
  const nFrames = args.frames;
  const k = args.k;
  const variants = args.variants.split(",");
  const tts = await createTts();
  const stories = makeStories(4321, "train", nStories + 20).map((s) => s.text);

  // 1. TTS (after a warm-up that loads every voice)
  for (const v of [...TRAIN_VOICES, ...TEST_VOICES]) tts.synthesize(stories[0], v);
  let t0 = performance.now();
  let audioSec = 0;
  const utts: Utterance[] = [];
  for (let i = 0; i < nStories; i++) {
    const u = tts.synthesize(stories[i], TRAIN_VOICES[i % TRAIN_VOICES.length]);
    audioSec += u.audio.length / u.sampleRate;
    if (i < 100) utts.push(u);
  }
  let ms = performance.now() - t0;
  const sentences = stories.slice(0, nStories).reduce((a, s) => a + s.split(".").length - 1, 0) / nStories;
  console.log(
    `tts: ${nStories} stories (${sentences.toFixed(1)} sentences, ${(audioSec / nStories).toFixed(1)} s audio each): ${(ms / nStories).toFixed(1)} ms/story, ${(audioSec / (ms / 1000)).toFixed(0)}x real time`,
  );

  // 2. resample and logMel
  const secs = utts.slice(0, 20).reduce((a, u) => a + u.audio.length / u.sampleRate, 0);
  const up = utts.slice(0, 20).map((u) => resample(u.audio, 16000, 22050));
  t0 = performance.now();
  for (const x of up) resample(x, 22050, 16000);
  ms = performance.now() - t0;
  console.log(`resample 22050 -> 16000: ${(ms / secs).toFixed(2)} ms per second of audio`);
  t0 = performance.now();
  for (const u of utts.slice(0, 20)) logMel(u.audio, 16000);
  ms = performance.now() - t0;
  console.log(
    `logMel (40 bins, 25 Hz): ${(ms / secs).toFixed(2)} ms per second of audio (${(secs / (ms / 1000)).toFixed(0)}x real time)`,
  );

  // 3. k-means on nFrames real frames: synthesize until there are enough (features only, audio dropped)
  const dim = 40;
  const data = new Float32Array(nFrames * dim);
  let have = 0;
  t0 = performance.now();
  const more = makeStories(777, "train", Math.ceil(nFrames / 150));
  for (let i = 0; have < nFrames; i++) {
    const u = tts.synthesize(more[i % more.length].text, TRAIN_VOICES[i % TRAIN_VOICES.length]);
    const f = logMel(u.audio, 16000);
    const take = Math.min(f.nFrames, nFrames - have);
    data.set(f.frames.subarray(0, take * dim), have * dim);
    have += take;
  }
  console.log(
    `collected ${nFrames} frames (${(nFrames / 25 / 3600).toFixed(2)} h of speech) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  t0 = performance.now();
  const km = kmeans(data, nFrames, dim, { k, seed: 1 });
  ms = performance.now() - t0;
  console.log(
    `kmeans n=${nFrames} dim=${dim} K=${k}: ${(ms / 1000).toFixed(1)} s, ${km.iterations} iterations, inertia/frame ${(km.inertia / nFrames).toFixed(2)}`,
  );

  // 4 + 5. unitizer per feature variant: train on the first 100 stories, evaluate on held-out voices
  const heldOut = stories
    .slice(nStories, nStories + 20)
    .map((t, i) => tts.synthesize(t, TEST_VOICES[i % TEST_VOICES.length]));
  const inv = PhonemeInventory.fromUtterances([...utts, ...heldOut]);
  const labels = heldOut.map((u) => phoneticUnits(u, { frameRate: 25, noise: 0, seed: 0, inventory: inv }));
  for (const name of variants) {
    const features = VARIANTS[name];
    if (!features) throw new Error(`unknown variant '${name}': use ${Object.keys(VARIANTS).join(", ")}`);
    t0 = performance.now();
    const unitizer = SpeechUnitizer.train(
      utts.map((u) => ({ samples: u.audio, sampleRate: u.sampleRate })),
      { k, frameRate: 25, seed: 1, maxFrames: nFrames, features },
    );
    const trainS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const units = heldOut.map((u) => unitizer.encode(u.audio, u.sampleRate).units);
    ms = performance.now() - t0;
    const hs = heldOut.reduce((a, u) => a + u.audio.length / u.sampleRate, 0);
    const q = unitQuality(units, labels, k, inv.size);
    const trainLabels = utts
      .slice(0, 20)
      .map((u) => phoneticUnits(u, { frameRate: 25, noise: 0, seed: 0, inventory: inv }));
    const qt = unitQuality(
      utts.slice(0, 20).map((u) => unitizer.encode(u.audio, u.sampleRate).units),
      trainLabels,
      k,
      inv.size,
    );
    console.log(
      `units[${name}] train on ${unitizer.stats?.framesUsed} frames: ${trainS.toFixed(1)} s; encode ${(ms / hs).toFixed(2)} ms per second of audio; ` +
        `held-out voices purity ${q.purity.toFixed(3)} PNMI ${q.pnmi.toFixed(3)}; train voices purity ${qt.purity.toFixed(3)} PNMI ${qt.pnmi.toFixed(3)}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
