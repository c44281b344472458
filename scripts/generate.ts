/**
 * `npm run generate`: make a finished run speak (docs/generate.md). Loads the run's model from its final
 * checkpoint, prompts it in one of the four directions, samples a continuation (key/value cache; LST patches cut
 * on the fly) and writes what it said:
 *   <out>/prompt.wav         the prompt: the held-out utterance or your WAV (S2*), or the text spoken by eSpeak (T2*)
 *   <out>/continuation.wav   the continuation through the dataset's vocoder (T2S, S2S)
 *   <out>/continuation.json  ids, patches, stop reason, decoded text and units, timing
 *
 *   npm run generate -- --run=data/runs/<key> --direction=T2S --prompt="anna took her red kite to the park" --out=/tmp/g
 *   npm run generate -- --run=data/runs/<key> --direction=S2S --item=3 --out=/tmp/g     (a held-out spoken prompt)
 *   npm run generate -- --run=data/runs/<key> --direction=S2T --wav=me.wav --out=/tmp/g (acoustic units only)
 *   npm run generate -- --measure --runs=data/runs/<a>,data/runs/<b>                  the in-lexicon table
 *   npm run generate -- --measure --train=64 --scale=smoke                             ... of runs it trains first
 *   npm run generate -- --round-trip --data=smoke                                     each vocoder's round trip
 */
import path from "path";
import * as lab from "../lib";
import { cli, CliError } from "../lib/internal";

const GENERATE_CLI = {
  command: "npm run generate --",
  summary:
    "Prompt a finished run in one direction (T2T, T2S, S2T, S2S) and write the prompt, the continuation as audio, and its ids; or, with --measure, print the in-lexicon table of runs.",
  flags: {
    run: { type: "string", value: "DIR", help: "the run directory (data/runs/<key>)" },
    direction: {
      type: "string",
      default: "T2S",
      value: "T2T|T2S|S2T|S2S",
      help: "prompt modality 2 continuation modality",
    },
    prompt: { type: "string", value: "TEXT", help: "T2T / T2S: the text prompt" },
    wav: { type: "string", value: "FILE", help: "S2T / S2S: your recording (acoustic-unit runs only; unitsOfWav)" },
    item: {
      type: "number",
      default: 0,
      value: "N",
      help: "S2T / S2S without --wav: the spoken prompt of benchmark item N (held-out voice)",
    },
    out: {
      type: "string",
      default: path.join("data", "generate"),
      value: "DIR",
      help: "where the WAV and JSON files go",
    },
    voice: {
      type: "string",
      default: "scot-m7",
      value: "NAME",
      help: "phonetic units: the eSpeak voice that reads them (and the T2* prompt)",
    },
    "max-tokens": { type: "number", default: 250, value: "N", help: "at most N tokens (250 units = 10 s at 25 Hz)" },
    "min-tokens": { type: "number", default: 0, value: "N", help: "no stop before N tokens" },
    temperature: { type: "number", default: 1, value: "T", help: "0 = greedy" },
    "top-k": { type: "number", default: 0, value: "K", help: "keep the K most likely tokens (0 = all)" },
    "top-p": { type: "number", default: 1, value: "P", help: "keep the most likely tokens up to mass P (1 = all)" },
    seed: { type: "number", default: 0, value: "N", help: "the sampling seed" },
    cache: {
      type: "boolean",
      default: true,
      help: "use the key/value cache (--cache=false: the whole prefix per token, for timing)",
    },
    measure: {
      type: "boolean",
      help: "print the in-lexicon table of T2S and S2S continuations of --runs (phonetic units)",
    },
    runs: { type: "string", value: "DIR,DIR", help: "--measure: the run directories, comma-separated" },
    prompts: { type: "number", default: 8, value: "N", help: "--measure: benchmark prompts per direction" },
    train: {
      type: "number",
      default: 0,
      value: "MULT",
      help: "--measure: train (or load) baseline and LST static on phonetic units at MULT x the scale's steps and measure them (the phoneticPatching grid's cells for 1, 4, 16)",
    },
    scale: { type: "string", default: "smoke", value: "NAME", help: "--measure --train: the lab scale" },
    "round-trip": {
      type: "boolean",
      help: "print each vocoder's round trip (units -> audio -> units) on held-out utterances of the --data preset",
    },
    data: {
      type: "string",
      default: "smoke",
      value: "PRESET",
      help: "--round-trip: the data preset (smoke, small, paper)",
    },
    utterances: { type: "number", default: 8, value: "N", help: "--round-trip: held-out utterances per vocoder" },
  },
  examples: [
    'npm run generate -- --run=data/runs/<key> --direction=T2S --prompt="anna took her red kite to the park" --out=/tmp/g',
    "npm run generate -- --run=data/runs/<key> --direction=S2S --item=3 --temperature=0.8 --top-p=0.95",
    "npm run generate -- --measure --runs=data/runs/<baseline>,data/runs/<lst> --prompts=12",
    "npm run generate -- --measure --train=64 --scale=smoke --prompts=12",
    "npm run generate -- --round-trip --data=smoke --utterances=12",
  ],
} as const;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Baseline and LST static on phonetic units at `mult` x the scale's steps, trained or loaded from the run store:
 * the configs of the phoneticPatching grid's cells (lib/experiment/grids.ts unitCell), so 1, 4 and 16 are its runs.
 */
async function trainCells(scaleName: string, mult: number): Promise<string[]> {
  const scale = lab.labScale(scaleName);
  const specs: lab.ExperimentSpec[] = [
    { name: "baseline", variant: "baseline" },
    { name: "lst-static", variant: "lst", patching: { scheme: "static", patchSize: 4 } },
  ];
  const dirs: string[] = [];
  for (const spec of specs) {
    const cell = {
      ...spec,
      name: `${spec.name}-phonetic-${mult}x`,
      data: { units: { source: "phonetic" as const } },
      train: { steps: (scale.train.steps ?? 200) * mult },
      mix: scale.mix,
    };
    dirs.push((await lab.runExperiment(cell, { scale, onProgress: lab.stageProgress() })).record.dir);
  }
  console.log(`runs: ${dirs.join(",")}`);
  return dirs;
}

async function measure(
  args: lab.InLexiconOptions & { runs: string; seed: number; maxTokens: number; train: number; scale: string },
): Promise<void> {
  const dirs = args.train > 0 ? await trainCells(args.scale, args.train) : args.runs.split(",").filter((d) => d.trim());
  if (dirs.length === 0)
    throw new CliError("--measure needs --runs=DIR[,DIR...] (the run directories to compare) or --train=MULT");
  const rows = await lab.inLexiconTable(dirs, {
    prompts: args.prompts,
    generate: { seed: args.seed, maxTokens: args.maxTokens },
    onProgress: lab.stageProgress(),
  });
  console.log(
    lab.tableHtml(
      rows.map((r) => ({
        model: r.model,
        direction: r.direction,
        continuations: r.continuations,
        "mean units": r.meanUnits.toFixed(1),
        phonemes: r.phonemes,
        "in-lexicon": pct(r.inLexicon),
        "distinct words": r.distinctWords,
        example: r.example.slice(0, 60),
      })),
    ).text,
  );
}

/** Both vocoders' round trips on the held-out prompts of a data preset (its acoustic and phonetic builds). */
async function roundTrip(preset: string, n: number): Promise<void> {
  const rows: lab.RoundTripRow[] = [];
  for (const source of ["phonetic", "acoustic"] as const) {
    const ds = await lab.buildDataset(preset, { units: { source } }, { onProgress: lab.stageProgress() });
    rows.push(await lab.vocoderRoundTrip(ds, await lab.vocoderFor(ds), n));
  }
  const f = (x: number) => x.toFixed(3);
  const table = rows.map((r) => ({
    ...r,
    frameAgreement: f(r.frameAgreement),
    runAgreement: f(r.runAgreement),
    chance: f(r.chance),
  }));
  console.log(lab.tableHtml(table).text);
}

async function main(): Promise<void> {
  const { values: v, given } = cli(GENERATE_CLI);
  await lab.initBackend();
  if (v["round-trip"]) return roundTrip(v.data, v.utterances);
  if (v.measure) {
    const [seed, maxTokens] = [given.has("seed") ? v.seed : 1, given.has("max-tokens") ? v["max-tokens"] : 100];
    return measure({ runs: v.runs, prompts: v.prompts, seed, maxTokens, train: v.train, scale: v.scale });
  }
  if (!v.run) throw new CliError("--run=DIR is required: a finished run's directory (data/runs/<key>)");
  const direction = v.direction as lab.Direction;
  if (!lab.DIRECTIONS.includes(direction))
    throw new CliError(`--direction must be one of ${lab.DIRECTIONS.join(", ")}, got '${v.direction}'`);
  const g = await lab.loadRunGenerator(v.run);
  try {
    const { ds } = g;
    const speechPrompt = direction === "S2T" || direction === "S2S";
    let promptAudio: Float32Array;
    let input: lab.PromptInput;
    if (speechPrompt && v.wav) {
      const rec = lab.unitsOfWav(ds, v.wav);
      input = { units: rec.units };
      promptAudio = rec.audio;
    } else if (speechPrompt) {
      const items = ds.bench.sc;
      if (!(Number.isInteger(v.item) && v.item >= 0 && v.item < items.length))
        throw new CliError(`--item must be 0..${items.length - 1} (the dataset's sc benchmark prompts), got ${v.item}`);
      input = { units: items[v.item].prompt.units };
      promptAudio =
        lab.readShards(ds.dir, "bench-sc").find((u) => u.id === `${items[v.item].item.id}/0`)?.audio ??
        new Float32Array(0);
    } else {
      if (!v.prompt.trim()) throw new CliError(`empty prompt: ${direction} needs --prompt="some words"`);
      input = { text: v.prompt };
      promptAudio = (await lab.createTts()).synthesize(v.prompt, v.voice).audio;
    }
    const c = await lab.continueFrom(g.model, direction, input, ds, {
      rule: g.rule,
      maxTokens: v["max-tokens"],
      minTokens: v["min-tokens"],
      temperature: v.temperature,
      topK: v["top-k"],
      topP: v["top-p"],
      seed: v.seed,
      cache: v.cache,
    });
    lab.ensureDir(v.out);
    const written: string[] = [];
    const wav = (name: string, audio: Float32Array) => {
      const file = path.join(v.out, name);
      lab.writeFileAtomic(file, lab.writeWav(audio, lab.TTS_SAMPLE_RATE));
      written.push(file);
    };
    if (promptAudio.length > 0) wav("prompt.wav", promptAudio);
    if (c.units.length > 0) wav("continuation.wav", await lab.speakUnits(await lab.vocoderFor(ds), c.units, v.voice));
    const gen = c.generation;
    const json = path.join(v.out, "continuation.json");
    lab.writeJsonAtomic(json, {
      run: g.dir,
      model: g.name,
      step: g.step,
      direction,
      prompt: Array.from(gen.prompt),
      ids: Array.from(gen.ids),
      stop: gen.stop,
      stopToken: gen.stopToken,
      patchLengths: gen.patchLengths && Array.from(gen.patchLengths),
      rule: gen.rule,
      text: c.text,
      units: Array.from(c.units),
      seconds: gen.seconds,
      fullForwards: gen.fullForwards,
    });
    written.push(json);
    const patches = gen.patchLengths ? `, ${gen.patchLengths.length} patches (${gen.rule})` : "";
    console.log(
      `${g.name} (step ${g.step}) ${direction}: ${gen.ids.length} tokens in ${gen.seconds.toFixed(2)} s, stop '${gen.stop}'${patches}, ${gen.fullForwards} full forwards`,
    );
    if (c.text) console.log(`text: ${c.text}`);
    if (c.units.length) console.log(`units: ${Array.from(c.units).join(" ")}`);
    console.log(`wrote ${written.join(", ")}`);
  } finally {
    g.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof CliError ? 2 : 1);
});
