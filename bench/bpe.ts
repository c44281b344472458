/**
 * Text BPE speed: train on 5000 generated stories to a 1000-id vocabulary (the `small` data preset), encode
 * the corpus (cold, then warm word cache), then train on an open-vocabulary corpus to 1000 and 4000 ids.
 * Run: npx tsx bench/bpe.ts
 */
import { BpeTokenizer, makeStories, Rng } from "../lib";
import { cli } from "../lib/internal";

/** A corpus with an open vocabulary (random pseudo-words), so training can reach larger vocabularies. */
function diverseTexts(n: number): string[] {
  const rng = new Rng(7);
  const syl = ["ka", "to", "ri", "mu", "sen", "lo", "va", "pe", "dri", "ston", "el", "qua", "zi", "bor", "ny"];
  const word = () => Array.from({ length: rng.range(1, 4) }, () => rng.pick(syl)).join("");
  return Array.from({ length: n }, () => Array.from({ length: rng.range(15, 40) }, word).join(" ") + ".");
}

function main(): void {
  cli({
    command: "npx tsx bench/bpe.ts",
    summary: "Text BPE training and encoding speed on generated stories and an open-vocabulary corpus.",
    flags: {},
  } as const);
  let t0 = Date.now();
  const texts = makeStories(1234, "train", 5000).map((s) => s.text);
  const genMs = Date.now() - t0;
  t0 = Date.now();
  const bpe = BpeTokenizer.train(texts, 1000);
  const trainMs = Date.now() - t0;
  const chars = texts.reduce((a, t) => a + t.length, 0);
  t0 = Date.now();
  let tokens = 0;
  for (const t of texts) tokens += bpe.encode(t).length;
  const coldMs = Date.now() - t0;
  t0 = Date.now();
  for (const t of texts) bpe.encodeWithOffsets(t);
  const warmMs = Date.now() - t0;
  console.log(`stories: 5000 generated in ${genMs} ms (${chars} chars)`);
  console.log(`train to vocab ${bpe.vocabSize}: ${trainMs} ms`);
  console.log(
    `encode: ${tokens} tokens, ${(chars / tokens).toFixed(2)} chars/token; cold ${coldMs} ms, warm encodeWithOffsets ${warmMs} ms`,
  );
  // subtle: the story world has ~200 words and tokens never cross words, so merges run out below 1000 ids
  const diverse = diverseTexts(5000);
  for (const v of [1000, 4000]) {
    t0 = Date.now();
    const b = BpeTokenizer.train(diverse, v);
    console.log(
      `open-vocabulary corpus (5000 lines, ${diverse.reduce((a, t) => a + t.length, 0)} chars): train to vocab ${b.vocabSize} in ${Date.now() - t0} ms`,
    );
  }
}

main();
