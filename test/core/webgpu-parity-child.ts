/**
 * Child of webgpu-parity.test.ts (the backend is process-global, so each backend runs in its own process):
 * trains the smoke-size baseline and LST under every patching scheme for a few steps from fixed seeds on the
 * backend named by LST_BACKEND, writing a checkpoint at step 2 and at the end, scores a few benchmark-like
 * items with each trained model, and prints one JSON line: per run the losses, gradient norms, a few
 * parameters and the ending NLLs.
 */
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { describeBackend, initBackend } from "../../lib/backend";
import { endingNll, endingRow } from "../../lib/eval/score";
import { fitUnitEntropyModel } from "../../lib/model/entropy";
import { makePatcher, resolvePatchingConfig, type PatchingScheme } from "../../lib/model/patching";
import { loadCheckpoint } from "../../lib/train/checkpoint";
import { syntheticSequence, syntheticSource } from "../../lib/train/synthetic";
import { train } from "../../lib/train/train";

export const STEPS = 4;
const SCHEMES: PatchingScheme[] = ["static", "aligned", "curriculum", "entropy"];
const model = (kind: "baseline" | "lst") => ({
  kind,
  dModel: 32,
  nLayers: 1,
  nHeads: 2,
  maxSeqLen: 64,
  lst: { dLocal: 16, nHeadsLocal: 2, decoderLayers: 1, encoderLayers: 1, crossAttnK: 2, localWindow: 16 },
});
const trainCfg = {
  batchSize: 2,
  seqLen: 24,
  globalLen: 24,
  maxRawLen: 48,
  lr: 1e-2,
  warmupSteps: 1,
  steps: STEPS,
  ckptEvery: 2,
  logEvery: 0,
};

/** A few values of the first and the last parameter (embedding-side and head-side). */
async function sample(vars: readonly tf.Variable[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const v of [vars[0], vars[vars.length - 1]])
    out[v.name.replace(/_\d+$/, "")] = Array.from((await v.data()).slice(0, 16));
  return out;
}

async function main(): Promise<void> {
  const report = await initBackend();
  const source = syntheticSource(7);
  const seqs = Array.from({ length: 400 }, (_, i) => syntheticSequence(7, i));
  const entropyModel = fitUnitEntropyModel(seqs, {
    unitOffset: source.unitOffset,
    nUnits: source.vocabSize - source.unitOffset,
    order: 2,
  });
  // scoring rows: prompt = the first half of a sequence (at most 12 tokens), ending = up to 6 more
  const rows = Array.from({ length: 4 }, (_, i) => {
    const s = syntheticSequence(11, i);
    const np = Math.min(12, Math.floor(s.ids.length / 2));
    const ne = Math.min(6, s.ids.length - np);
    const cut = <T extends Int32Array | Uint8Array>(x: T, a: number, b: number): T => x.slice(a, b) as T;
    const part = (a: number, b: number) => ({
      ids: cut(s.ids, a, b),
      isSpeech: cut(s.isSpeech, a, b),
      wordStart: cut(s.wordStart, a, b),
      silence: cut(s.silence, a, b),
      bpeStart: cut(s.bpeStart, a, b),
    });
    return endingRow(part(0, np), part(np, np + ne));
  });
  const runs: Record<string, unknown> = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-webgpu-parity-"));
  try {
    for (const scheme of [null, ...SCHEMES]) {
      const name = scheme ? `lst-${scheme}` : "baseline";
      const runDir = path.join(dir, name);
      const patching = scheme ? { scheme, entropyThreshold: 1 } : undefined;
      const steps: number[] = [];
      const r = await train({
        model: model(scheme ? "lst" : "baseline"),
        train: trainCfg,
        patching,
        entropyModel: scheme === "entropy" ? entropyModel : undefined,
        source,
        dir: runDir,
        onStep: (m) => steps.push(m.step),
      });
      const evalPatcher = scheme
        ? makePatcher(
            resolvePatchingConfig({ scheme: scheme === "curriculum" ? "static" : scheme, entropyThreshold: 1 }),
            { totalSteps: 1, entropyModel },
          )
        : undefined;
      const nll = await endingNll(r.model, rows, evalPatcher, 2);
      const ckpt = loadCheckpoint(runDir);
      runs[name] = {
        steps,
        loss: r.metrics.map((m) => m.loss),
        gradNorm: r.metrics.map((m) => m.gradNorm),
        params: await sample(r.model.variables),
        checkpointStep: ckpt?.step ?? null,
        checkpointAdamT: ckpt?.optimizer.t ?? null,
        checkpointFirst: ckpt ? Array.from(ckpt.params[0].data.slice(0, 4)) : null,
        endingNll: Array.from(nll),
      };
      r.model.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      backend: report.backend,
      describe: describeBackend(report),
      adapter: report.adapter ?? null,
      runs,
    }),
  );
}

main().catch((e: unknown) => {
  console.error(`ERR: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(3);
});
