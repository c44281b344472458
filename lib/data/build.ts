/**
 * Dataset build and cache: one function builds everything a data config needs into
 * `data/cache/<name>-<hash>/` (`$LST_DATA_DIR/cache/`, lib/paths.ts; git-ignored; the hash is over the fully resolved config), resumable stage by
 * stage (each stage's output is written atomically and skipped when present), and reused by every later run.
 *
 * Stages (files in the cache dir):
 *   bpe.json                  text BPE trained on `bpeStories` training stories
 *   paired/NNN.json + .pcm    synthesized paired stories (training voices), 16-bit PCM, in shards of 50
 *   units.json                the unit model: k-means over log-mel frames (acoustic) or a phoneme inventory (phonetic)
 *   paired.json               the paired corpus as aligned utterances (units + word/silence/BPE spans)
 *   bench-<kind>.json         spoken benchmark items (test split, voices never heard in training), aligned
 *   manifest.json             config, stats (hours of audio, frames, timings), format version — written last
 *
 * Extra benchmarks (EXTRA_BENCH_KINDS: the 'chain' tier; loaded benchmark files) are built on demand into a
 * finished dataset by `buildExtraBenchmark` / `speakBenchmark`, outside the config and its hash, so adding one
 * rebuilds nothing and changes no run's key. Their files are named by a hash of the items
 * (`extra-<kind>-<itemsHash>.json` + audio shards), so a changed generator (or file) writes new files next to
 * the old ones instead of reusing stale audio.
 */
import fs from "fs";
import path from "path";
import { createHash } from "crypto";
import { canonicalJson, configHash } from "../config";
import { writeJsonAtomic, writeFileAtomic, readJson, ensureDir } from "../files";
import { floatToPcm16, pcm16ToFloat, i32 } from "./store";
import { cacheDir } from "../paths";
import { resolveDataConfig, type DataConfig } from "./config";
import type { AlignedUtterance, Utterance } from "./types";
import { alignUtterance, checkAlignment } from "./align";
import { BpeTokenizer } from "../tokenizers/bpe";
import { makeStories, storyAt } from "./story";
import { BENCH_KINDS, EXTRA_BENCH_KINDS, makeBenchmark, type BenchItem, type BenchKind, type ExtraBenchKind } from "./benchmarks";
import { createTts, TRAIN_VOICES, TEST_VOICES, type Tts, type VoiceSpec } from "../audio/tts";
import { SpeechUnitizer } from "../tokenizers/units";
import { PhonemeInventory, phoneticUnits } from "../tokenizers/phonetic";
import { makeVocab, type Vocab } from "../tokenizers/special";
import { hashSeed } from "../rng";
import type { DeepPartial } from "../config";
import type { SpokenItem } from "./bench-encode";

export const DATA_FORMAT = 1;
const SHARD = 50;

export interface BuildStats {
  pairedStories: number;
  audioHours: number;
  frames: number;
  benchItems: Record<string, number>;
  seconds: Record<string, number>;
}

export interface Dataset {
  config: DataConfig;
  dir: string;
  bpe: BpeTokenizer;
  vocab: Vocab;
  paired: AlignedUtterance[];
  bench: Record<BenchKind, SpokenItem[]>;
  stats: BuildStats;
  /** the i-th text-only training document (unbounded, deterministic) */
  textAt: (i: number) => string;
  /** the unit model (acoustic) or phoneme inventory (phonetic), to encode new audio */
  unitModel: { kind: "acoustic"; unitizer: SpeechUnitizer } | { kind: "phonetic"; inventory: PhonemeInventory };
}

export interface BuildOptions {
  /** root of the caches (default <LST_DATA_DIR>/cache, i.e. data/cache; lib/paths.ts) */
  root?: string;
  /** progress callback: stage name, done, total */
  onProgress?: (stage: string, done: number, total: number) => void;
}

export function datasetDir(cfg: DataConfig, root = cacheDir()): string {
  return path.join(root, `${cfg.name}-${configHash(cfg)}`);
}

interface StoredUtt {
  id: string;
  text: string;
  voice: string;
  words: Utterance["words"];
  phonemes: Utterance["phonemes"];
  offset: number;
  n: number;
}

function trainVoices(cfg: DataConfig): VoiceSpec[] {
  const n = cfg.trainVoices > 0 ? Math.min(cfg.trainVoices, TRAIN_VOICES.length) : TRAIN_VOICES.length;
  return TRAIN_VOICES.slice(0, n);
}

/** Synthesize a list of (id, text, voice) into shards under dir/prefix, skipping shards already written. */
function synthShards(tts: Tts, dir: string, prefix: string, jobs: { id: string; parts: string[]; voice: VoiceSpec }[], progress: (d: number, t: number) => void): void {
  for (let s = 0; s * SHARD < jobs.length; s++) {
    const base = path.join(dir, prefix, String(s).padStart(3, "0"));
    if (fs.existsSync(`${base}.json`)) continue;
    const utts: StoredUtt[] = [];
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const job of jobs.slice(s * SHARD, (s + 1) * SHARD)) {
      // Each part (a prompt, an ending) is synthesized separately, as the paper did for its benchmarks.
      const parts = job.parts.map((t) => tts.synthesize(t, job.voice));
      parts.forEach((u, k) => {
        utts.push({ id: `${job.id}/${k}`, text: u.text, voice: u.voice, words: u.words, phonemes: u.phonemes, offset, n: u.audio.length });
        chunks.push(floatToPcm16(u.audio));
        offset += u.audio.length;
      });
    }
    const pcm = new Uint8Array(offset * 2);
    let o = 0;
    for (const c of chunks) {
      pcm.set(c, o);
      o += c.length;
    }
    writeFileAtomic(`${base}.pcm`, pcm);
    writeJsonAtomic(`${base}.json`, utts); // written last: its presence marks the shard complete
    progress(Math.min((s + 1) * SHARD, jobs.length), jobs.length);
  }
}

/** Read every shard under dir/prefix back as utterances. */
export function readShards(dir: string, prefix: string): (Utterance & { id: string })[] {
  const d = path.join(dir, prefix);
  if (!fs.existsSync(d)) return [];
  const out: (Utterance & { id: string })[] = [];
  for (const f of fs.readdirSync(d).filter((x) => x.endsWith(".json")).sort()) {
    const utts = readJson<StoredUtt[]>(path.join(d, f), "audio shard");
    const pcm = new Uint8Array(fs.readFileSync(path.join(d, f.replace(/\.json$/, ".pcm"))));
    for (const u of utts) {
      out.push({ id: u.id, text: u.text, voice: u.voice, sampleRate: 16000, audio: pcm16ToFloat(pcm, u.offset, u.n), words: u.words, phonemes: u.phonemes });
    }
  }
  return out;
}

function benchJobs(cfg: DataConfig, kind: BenchKind): { items: BenchItem[]; jobs: { id: string; parts: string[]; voice: VoiceSpec }[] } {
  const items = makeBenchmark(kind, { seed: hashSeed(cfg.seed, "bench", kind), split: "test", n: cfg.bench[kind] });
  const jobs = items.map((it, i) => ({ id: it.id, parts: [it.context, ...it.endings], voice: TEST_VOICES[i % TEST_VOICES.length] }));
  return { items, jobs };
}

/**
 * Build (or load from the cache) the dataset of a data config. Every stage is skipped when its output
 * exists, so an interrupted build resumes where it stopped.
 */
export async function buildDataset(preset: string | DeepPartial<DataConfig> = "small", overrides?: DeepPartial<DataConfig>, opts: BuildOptions = {}): Promise<Dataset> {
  const cfg = resolveDataConfig(preset, overrides);
  const dir = datasetDir(cfg, opts.root);
  const manifestPath = path.join(dir, "manifest.json");
  if (fs.existsSync(manifestPath)) return loadDatasetDir(dir);
  ensureDir(dir);
  writeJsonAtomic(path.join(dir, "config.json"), { format: DATA_FORMAT, config: cfg });
  const progress = opts.onProgress ?? (() => undefined);
  const seconds: Record<string, number> = {};
  const timed = async <T>(stage: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await f();
    seconds[stage] = (seconds[stage] ?? 0) + (Date.now() - t0) / 1000;
    return r;
  };

  // 1. text BPE
  const bpePath = path.join(dir, "bpe.json");
  if (!fs.existsSync(bpePath)) {
    await timed("bpe", () => {
      const texts = makeStories(hashSeed(cfg.seed, "bpe"), "train", cfg.bpeStories).map((s) => s.text);
      writeJsonAtomic(bpePath, BpeTokenizer.train(texts, cfg.textVocab).toJSON());
    });
  }
  const bpe = BpeTokenizer.load(bpePath, `delete ${bpePath} and rebuild`);

  // 2. paired speech (training voices) and benchmark speech (test voices)
  const tts = await createTts();
  const voices = trainVoices(cfg);
  const pairedJobs = makeStories(hashSeed(cfg.seed, "paired"), "train", cfg.pairedStories).map((s, i) => ({
    id: s.id,
    parts: [s.text],
    voice: voices[i % voices.length],
  }));
  await timed("tts-paired", () => synthShards(tts, dir, "paired", pairedJobs, (d, t) => progress("tts paired stories", d, t)));
  const bench = BENCH_KINDS.map((k) => ({ kind: k, ...benchJobs(cfg, k) }));
  for (const b of bench) {
    await timed("tts-bench", () => synthShards(tts, dir, `bench-${b.kind}`, b.jobs, (d, t) => progress(`tts ${b.kind} benchmark`, d, t)));
  }

  // 3. the unit model, fitted on the training split only
  const pairedUtts = readShards(dir, "paired");
  const unitsPath = path.join(dir, "units.json");
  if (!fs.existsSync(unitsPath)) {
    await timed("units-fit", () => {
      if (cfg.units.source === "phonetic") {
        writeJsonAtomic(unitsPath, { kind: "phonetic", model: PhonemeInventory.fromUtterances(pairedUtts).toJSON() });
      } else {
        progress("fit k-means", 0, 1);
        const unitizer = SpeechUnitizer.train(
          pairedUtts.map((u) => ({ samples: u.audio, sampleRate: u.sampleRate })),
          { k: cfg.units.k, frameRate: cfg.units.frameRate, seed: hashSeed(cfg.seed, "kmeans"), maxFrames: cfg.units.kmeansFrames },
        );
        writeJsonAtomic(unitsPath, { kind: "acoustic", model: unitizer.toJSON() });
        progress("fit k-means", 1, 1);
      }
    });
  }
  const align = makeAligner(cfg, bpe, loadUnitModel(unitsPath));

  // 4. aligned paired corpus
  const pairedPath = path.join(dir, "paired.json");
  if (!fs.existsSync(pairedPath)) {
    await timed("units-paired", () => writeJsonAtomic(pairedPath, pairedUtts.map((u, i) => (progress("encode paired units", i + 1, pairedUtts.length), serializeAligned(align(u))))));
  }

  // 5. aligned spoken benchmarks
  for (const b of bench) {
    const p = path.join(dir, `bench-${b.kind}.json`);
    if (fs.existsSync(p)) continue;
    await timed("units-bench", () => writeJsonAtomic(p, alignBenchItems(dir, `bench-${b.kind}`, b.items, align)));
  }

  const frames = readJson<SerializedAligned[]>(pairedPath, "paired corpus").reduce((a, u) => a + u.units.length, 0);
  const stats: BuildStats = {
    pairedStories: cfg.pairedStories,
    audioHours: pairedUtts.reduce((a, u) => a + u.audio.length / u.sampleRate, 0) / 3600,
    frames,
    benchItems: Object.fromEntries(bench.map((b) => [b.kind, b.items.length])),
    seconds,
  };
  writeJsonAtomic(manifestPath, { format: DATA_FORMAT, config: cfg, stats, builtAt: new Date().toISOString() });
  return loadDatasetDir(dir);
}

/** Units of an utterance (the dataset's unit model) and its word/silence/BPE alignment. */
function makeAligner(cfg: DataConfig, bpe: BpeTokenizer, unitModel: Dataset["unitModel"]): (u: Utterance & { id: string }) => AlignedUtterance {
  const encodeUnits = (u: Utterance & { id: string }): Int32Array =>
    unitModel.kind === "phonetic"
      ? phoneticUnits(u, { frameRate: cfg.units.frameRate, noise: cfg.units.noise, seed: hashSeed(cfg.seed, "noise", u.id), inventory: unitModel.inventory })
      : unitModel.unitizer.encode(u.audio, u.sampleRate).units;
  return (u) => {
    const a = alignUtterance(u.id, u, encodeUnits(u), bpe, { frameRate: cfg.units.frameRate, jitterFrames: cfg.jitterFrames, seed: hashSeed(cfg.seed, "jitter", u.id) });
    checkAlignment(a);
    return a;
  };
}

/** The synthesized parts (prompt, then each ending) of benchmark items, aligned. */
function alignBenchItems(dir: string, prefix: string, items: readonly BenchItem[], align: (u: Utterance & { id: string }) => AlignedUtterance): SerializedBench[] {
  const byId = new Map(readShards(dir, prefix).map((u) => [u.id, u]));
  return items.map((item) => {
    const parts = [0, ...item.endings.map((_, k) => k + 1)].map((k) => {
      const u = byId.get(`${item.id}/${k}`);
      if (!u) throw new Error(`benchmark audio for ${item.id}/${k} is missing under ${path.join(dir, prefix)}: delete that folder and build again`);
      return serializeAligned(align(u));
    });
    return { item, prompt: parts[0], endings: parts.slice(1) };
  });
}

/** An extra benchmark's items for a data config (as many as its hs benchmark) and their content key. */
export function extraBenchmark(cfg: DataConfig, kind: ExtraBenchKind): { key: string; items: BenchItem[] } {
  if (!EXTRA_BENCH_KINDS.includes(kind)) throw new Error(`unknown extra benchmark '${kind}': use one of ${EXTRA_BENCH_KINDS.join(", ")}`);
  const items = makeBenchmark(kind, { seed: hashSeed(cfg.seed, "bench", kind), split: "test", n: cfg.bench.hs });
  return { key: `${kind}-${createHash("sha256").update(canonicalJson(items)).digest("hex").slice(0, 12)}`, items };
}

/**
 * Speak and align an extra benchmark in the dataset's unseen test voices, with its unit model (built once,
 * then read back). Returns the content key (for caches of scores) and the spoken items.
 */
export async function buildExtraBenchmark(ds: Dataset, kind: ExtraBenchKind, opts: Pick<BuildOptions, "onProgress"> = {}): Promise<{ key: string; items: SpokenItem[] }> {
  const { key, items } = extraBenchmark(ds.config, kind);
  return { key, items: await speakBenchmark(ds, key, items, { ...opts, label: `${kind} benchmark` }) };
}

/**
 * Speak and align any benchmark items into a finished dataset (the extra benchmarks above, a loaded
 * StoryCloze / HellaSwag file): the prompt and every ending separately, item i in TEST_VOICES[i % 3], with
 * the dataset's unit model and text BPE. Written once as `extra-<key>.json` + `extra-<key>/` audio shards,
 * then read back; `key` must name the items' content (a hash of them), since it alone decides reuse.
 */
export async function speakBenchmark(ds: Dataset, key: string, items: readonly BenchItem[], opts: Pick<BuildOptions, "onProgress"> & { label?: string } = {}): Promise<SpokenItem[]> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(key)) throw new Error(`speakBenchmark: key '${key}' must be lower-case letters, digits and '-' (it names files in ${ds.dir})`);
  const label = opts.label ?? key;
  const file = path.join(ds.dir, `extra-${key}.json`);
  if (!fs.existsSync(file)) {
    const tts = await createTts();
    const jobs = items.map((it, i) => ({ id: it.id, parts: [it.context, ...it.endings], voice: TEST_VOICES[i % TEST_VOICES.length] }));
    synthShards(tts, ds.dir, `extra-${key}`, jobs, (d, t) => opts.onProgress?.(`tts ${label}`, d, t));
    writeJsonAtomic(file, alignBenchItems(ds.dir, `extra-${key}`, items, makeAligner(ds.config, ds.bpe, ds.unitModel)));
  }
  return readJson<SerializedBench[]>(file, label).map(deserializeBench);
}

type SerializedAligned = Omit<AlignedUtterance, "units"> & { units: number[] };
type SerializedBench = { item: BenchItem; prompt: SerializedAligned; endings: SerializedAligned[] };

function deserializeBench(x: SerializedBench): SpokenItem {
  return { item: x.item, prompt: deserializeAligned(x.prompt), endings: x.endings.map(deserializeAligned) };
}

function serializeAligned(a: AlignedUtterance): SerializedAligned {
  return { ...a, units: Array.from(a.units) };
}

function deserializeAligned(a: SerializedAligned): AlignedUtterance {
  return { ...a, units: i32.fromJson(a.units) };
}

function loadUnitModel(file: string): Dataset["unitModel"] {
  const j = readJson<{ kind: string; model: unknown }>(file, "unit model");
  if (j.kind === "phonetic") return { kind: "phonetic", inventory: PhonemeInventory.fromJSON(j.model) };
  if (j.kind === "acoustic") return { kind: "acoustic", unitizer: SpeechUnitizer.fromJSON(j.model) };
  throw new Error(`unit model ${file} has unknown kind '${j.kind}': delete the dataset directory and rebuild`);
}

function unitCount(m: Dataset["unitModel"]): number {
  return m.kind === "phonetic" ? m.inventory.size : m.unitizer.nUnits;
}

/** Load a built dataset directory; a directory from another format version is reported, not reused. */
export function loadDatasetDir(dir: string): Dataset {
  const manifestPath = path.join(dir, "manifest.json");
  if (!fs.existsSync(manifestPath)) throw new Error(`dataset ${dir} is not built (no manifest.json): run buildDataset for its config`);
  const m = readJson<{ format: number; config: DataConfig; stats: BuildStats }>(manifestPath, "dataset manifest");
  if (m.format !== DATA_FORMAT) {
    throw new Error(`dataset ${dir} was written by data format ${m.format}, this lab reads format ${DATA_FORMAT}: delete the directory and rebuild`);
  }
  const bpe = BpeTokenizer.load(path.join(dir, "bpe.json"), `delete the dataset directory ${dir} and rebuild`);
  const unitModel = loadUnitModel(path.join(dir, "units.json"));
  const vocab = makeVocab(bpe.vocabSize, unitCount(unitModel));
  const paired = readJson<SerializedAligned[]>(path.join(dir, "paired.json"), "paired corpus").map(deserializeAligned);
  const bench = Object.fromEntries(
    BENCH_KINDS.map((k) => {
      const items = readJson<SerializedBench[]>(path.join(dir, `bench-${k}.json`), `${k} benchmark`);
      return [k, items.map(deserializeBench)];
    }),
  ) as Record<BenchKind, SpokenItem[]>;
  const seed = m.config.seed;
  const textAt = (i: number) => storyAt(hashSeed(seed, "text"), "train", i).text;
  return { config: m.config, dir, bpe, vocab, paired, bench, stats: m.stats, textAt, unitModel };
}

