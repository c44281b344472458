/**
 * Training speed: the batch stream and patchers alone (pure JS), then optimiser steps of the baseline and LST
 * at the default model size (dModel 256, 4 layers; LST local 128) under the compute-controlled default budget
 * (8 rows x 128 global units; LST rows up to 256 raw tokens), on the synthetic corpus.
 * Run: npx tsx bench/train.ts [--steps=12]
 */
import {
  describeBackend,
  initBackend,
  fitUnitEntropyModel,
  makePatcher,
  resolvePatchingConfig,
  type PatchingScheme,
  makeBatchStream,
  measureStream,
  syntheticSource,
  train,
} from "../lib";
import { cli, syntheticSequence } from "../lib/internal";

async function main(): Promise<void> {
  const { values } = cli({
    command: "npx tsx bench/train.ts",
    summary:
      "Patcher and batch-stream speed, then optimiser steps of the baseline and LST at the default size on the synthetic corpus.",
    flags: { steps: { type: "number", default: 12, help: "training steps per model (the first 2 are warm-up)" } },
  } as const);
  const steps = values.steps;
  if (!Number.isInteger(steps) || steps < 3)
    throw new Error(`bench/train: --steps must be an integer >= 3, got ${steps}`);
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const source = syntheticSource(0);

  const seqs = Array.from({ length: 2000 }, (_, i) => syntheticSequence(0, i));
  const tokens = seqs.reduce((a, s) => a + s.ids.length, 0);
  const entropyModel = fitUnitEntropyModel(seqs, {
    unitOffset: source.unitOffset,
    nUnits: source.vocabSize - source.unitOffset,
    order: 3,
  });
  for (const scheme of ["static", "aligned", "curriculum", "entropy"] as PatchingScheme[]) {
    const patcher = makePatcher(resolvePatchingConfig({ scheme, entropyThreshold: 1 }), {
      totalSteps: 100,
      entropyModel,
    });
    const t0 = performance.now();
    seqs.forEach((s, i) => patcher(s, i % 100));
    const ms = performance.now() - t0;
    console.log(`patcher ${scheme.padEnd(10)} ${(((tokens / ms) * 1000) / 1e6).toFixed(2)} M tokens/s`);
  }

  const patcher = makePatcher(resolvePatchingConfig({}), { totalSteps: 100 });
  const lstStream = makeBatchStream(source, {
    kind: "lst",
    batchSize: 8,
    seqLen: 128,
    globalLen: 128,
    maxRawLen: 256,
    patcher,
    seed: 0,
  });
  let t0 = performance.now();
  const m = measureStream(lstStream, 50);
  console.log(
    `LST batch stream: ${((performance.now() - t0) / 50).toFixed(2)} ms/batch, ${m.tokensPerGlobalUnit.toFixed(3)} raw tokens per patch, speech ${(100 * m.speechFraction).toFixed(1)}%`,
  );

  for (const kind of ["baseline", "lst"] as const) {
    t0 = performance.now();
    const r = await train({
      model: { kind },
      train: { steps, batchSize: 8, seqLen: 128, globalLen: 128, maxRawLen: 256, ckptEvery: 0 },
      source,
    });
    const ms = r.metrics.slice(2).map((x) => x.ms);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const raw = r.metrics.slice(2).reduce((a, x) => a + x.rawTokens.speech + x.rawTokens.text, 0) / ms.length;
    const units = r.metrics.slice(2).reduce((a, x) => a + x.globalUnits, 0) / ms.length;
    console.log(
      `${kind.padEnd(8)} ${r.model.paramCount().total} params: ${mean.toFixed(0)} ms/step (after 2 warm-up steps), ` +
        `${units.toFixed(0)} global units and ${raw.toFixed(0)} raw tokens per step, ${((raw / mean) * 1000).toFixed(0)} raw tokens/s; ` +
        `loss ${r.metrics[0].loss.toFixed(3)} -> ${r.metrics[r.metrics.length - 1].loss.toFixed(3)}; total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    r.model.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
