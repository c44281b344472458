/**
 * Scoring speed: multiple-choice items per second for the baseline and LST (static patches of 4) at the
 * default model size (dModel 256, 4 layers; LST local 128), on HellaSwag-shaped S2S items (a ~250-unit
 * prompt and 4 endings of ~60 units) for several batch sizes, with the mean and pmi normalisations.
 * tokens/s counts the prompt+ending rows only (pmi's extra unconditional rows are extra work on top).
 * Run: npx tsx bench/eval.ts [--items=32]
 */
import {
  describeBackend,
  initBackend,
  scoreEndings,
  type Norm,
  type EncodedItem,
  type LmSequence,
  createModel,
  makePatcher,
  resolvePatchingConfig,
  BOS,
  SPEECH,
  makeVocab,
  Rng,
} from "../lib";
import { cli } from "../lib/internal";

const vocab = makeVocab(1000, 128);

/** Speech run of n units with a word segment every ~6 frames. */
function speech(rng: Rng, n: number, head: number[] = []): LmSequence {
  const len = head.length + n;
  const ids = new Int32Array(len);
  const isSpeech = new Uint8Array(len);
  const wordStart = new Uint8Array(len);
  ids.set(head, 0);
  for (let i = head.length; i < len; i++) {
    ids[i] = vocab.unitOffset + rng.int(vocab.nUnits);
    isSpeech[i] = 1;
    wordStart[i] = i === head.length || rng.next() < 1 / 6 ? 1 : 0;
  }
  return { ids, isSpeech, wordStart, silence: new Uint8Array(len), bpeStart: wordStart.slice() };
}

function items(n: number): EncodedItem[] {
  const rng = new Rng(7);
  return Array.from({ length: n }, (_, i) => ({
    id: `hs${i}`,
    benchmark: "hs",
    direction: "S2S",
    type: "t",
    tier: 0,
    label: i % 4,
    prompt: speech(rng, 200 + rng.int(100), [BOS, SPEECH]),
    endings: [0, 1, 2, 3].map(() => speech(rng, 40 + rng.int(40))),
  }));
}

async function main(): Promise<void> {
  const { values } = cli({
    command: "npx tsx bench/eval.ts",
    summary: "Multiple-choice scoring speed of the baseline and LST at several batch sizes, mean and PMI.",
    flags: { items: { type: "number", default: 32, help: "HellaSwag-shaped items to score" } },
  } as const);
  const n = values.items;
  if (!Number.isInteger(n) || n < 2) throw new Error(`bench/eval: --items must be an integer >= 2, got ${n}`);
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const list = items(n);
  const tokens = list.reduce((a, it) => a + it.endings.reduce((b, e) => b + it.prompt.ids.length + e.ids.length, 0), 0);
  console.log(`${n} items x 4 endings, ${(tokens / (4 * n)).toFixed(0)} tokens per row`);
  for (const kind of ["baseline", "lst"] as const) {
    const model = createModel({ kind, vocabSize: vocab.size, maxSeqLen: 512 });
    const patcher =
      kind === "lst"
        ? makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 })
        : undefined;
    await scoreEndings(model, list.slice(0, 2), { patcher, batchSize: 8 }); // warm-up
    for (const [batchSize, norm] of [
      [1, "mean"],
      [8, "mean"],
      [32, "mean"],
      [32, "pmi"],
    ] as [number, Norm][]) {
      // best of two passes: the first pass at a new batch shape also builds the model's cached masks
      let s = Infinity;
      for (let rep = 0; rep < 2; rep++) {
        const t0 = performance.now();
        await scoreEndings(model, list, { patcher, batchSize, norm });
        s = Math.min(s, (performance.now() - t0) / 1000);
      }
      console.log(
        `${kind.padEnd(8)} batch ${String(batchSize).padStart(2)} ${norm.padEnd(4)}  ${(n / s).toFixed(1)} items/s  ${((4 * n) / s).toFixed(1)} rows/s  ${(tokens / s / 1000).toFixed(1)} k tokens/s`,
      );
    }
    model.dispose();
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
