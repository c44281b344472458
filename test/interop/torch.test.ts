/**
 * Lab checkpoints in PyTorch: a tiny baseline and a tiny LST train a few steps into run dirs (which writes
 * model.safetensors + config.json), Python loads them with `safetensors` + `torch` into the reference models
 * of ../shared/peers/torch_lm_bench.py (scripts/interop/lab_torch.py maps the names), and the loss on the same
 * batch must match the lab's within 1e-4 relative, and every position's NLL within 1e-3.
 * Two forwards are checked: the peer's own (`model(ids)`, on batches in the peer's terms: no EOS; LST with
 * static patches and the peer's decoder shift) and the lab's (lab_torch.lab_logits, on real training batches
 * with document resets and variable patches). A last check shows where the two LSTs differ by design.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { train } from "../../lib/train/train";
import { makeBatchStream } from "../../lib/train/batches";
import { makePatcher, resolvePatchingConfig } from "../../lib/model/patching";
import { syntheticSource, SYNTHETIC_VOCAB } from "../../lib/train/synthetic";
import { loadModelSafetensors } from "../../lib/train/model-export";
import { Rng } from "../../lib/rng";
import type { Batch, LanguageModel } from "../../lib/model/types";
import { interopPython, runInterop } from "./python";

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-interop-"));
  made.push(d);
  return d;
};

const P = 4; // static patch size
const tiny = (kind: "baseline" | "lst") => ({
  kind,
  dModel: 32,
  nLayers: 2,
  nHeads: 2,
  maxSeqLen: 64,
  ropeTheta: 1e4,
  lst: { dLocal: 16, nHeadsLocal: 2, decoderLayers: 2, encoderLayers: 1, crossAttnK: 2, localWindow: 8 },
});
const trainCfg = {
  steps: 12,
  batchSize: 3,
  seqLen: 32,
  globalLen: 16,
  maxRawLen: 32,
  lr: 2e-2,
  warmupSteps: 2,
  ckptEvery: 6,
};

interface Check {
  kind: string;
  forward: string;
  loss: number;
  lab_loss: number;
  rel_diff: number;
  max_nll_diff: number;
  worst_positions: unknown[];
  diff: number[];
}

/** The lab's per-position NLL and mean loss on a batch, as train() computes them. */
function labNumbers(model: LanguageModel, batch: Batch): { nll: number[]; loss: number } {
  const nll = tf.tidy(() => model.tokenNll(batch).dataSync() as Float32Array);
  let n = 0;
  for (const t of batch.targets) if (t >= 0) n++;
  return { nll: Array.from(nll), loss: nll.reduce((a, b) => a + b, 0) / n };
}

function writeBatch(dir: string, name: string, batch: Batch, model: LanguageModel, forward: "peer" | "lab"): string {
  const file = path.join(dir, `${name}.json`);
  const plain = {
    B: batch.B,
    T: batch.T,
    inputs: Array.from(batch.inputs),
    targets: Array.from(batch.targets),
    patchIds: batch.patchIds ? Array.from(batch.patchIds) : undefined,
    targetPatchIds: batch.targetPatchIds ? Array.from(batch.targetPatchIds) : undefined,
  };
  fs.writeFileSync(file, JSON.stringify({ ...plain, forward, patch: P, ...labNumbers(model, batch) }));
  return file;
}

/** A batch in the peer's terms: random non-special ids (no EOS), B x T. */
function peerBaselineBatch(B: number, T: number, seed: number): Batch {
  const rng = new Rng(seed);
  const ids = Int32Array.from({ length: B * (T + 1) }, () => 5 + rng.int(SYNTHETIC_VOCAB.size - 5));
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      [inputs[b * T + t], targets[b * T + t]] = [ids[b * (T + 1) + t], ids[b * (T + 1) + t + 1]];
  return { B, T, inputs, targets };
}

/**
 * The peer's LST layout as a lab batch: static patches of P over every position, patch 0's targets ignored
 * and patch 0 the same in every row (the peer's patch 0 reads its learned g_bos, which the lab does not have;
 * check_model.py sets it to the global output of that shared patch). shift 'peer': a token reads the patch before its
 * own (targetPatchIds = patchIds); shift 'lab': the patch before its target's (the lab's training batches).
 */
function peerLstBatch(B: number, T: number, seed: number, shift: "peer" | "lab"): Batch {
  const base = peerBaselineBatch(B, T, seed);
  for (let b = 1; b < B; b++) base.inputs.copyWithin(b * T, 0, P); // every row shares its first patch (check_model.py: g_bos)
  const patchIds = new Int32Array(B * T);
  const targetPatchIds = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      patchIds[i] = Math.floor(t / P);
      targetPatchIds[i] = shift === "peer" ? patchIds[i] : Math.floor((t + 1) / P);
      if (t < P) [base.targets[i], targetPatchIds[i]] = [-1, -1];
    }
  }
  return { ...base, patchIds, targetPatchIds, P: T / P };
}

let runs: Record<"baseline" | "lst", { dir: string; model: LanguageModel }>;

before(async () => {
  await initBackend();
  interopPython(); // make the venv first (a minute the first time), so its time is not a test's
  const out = {} as typeof runs;
  for (const kind of ["baseline", "lst"] as const) {
    const dir = tmp();
    const r = await train({
      model: tiny(kind),
      train: trainCfg,
      source: syntheticSource(3),
      dir,
      ...(kind === "lst" ? { patching: { scheme: "static", patchSize: P } } : {}),
    });
    out[kind] = { dir, model: r.model };
  }
  runs = out;
});

after(() => Object.values(runs ?? {}).forEach((r) => r.model.dispose()));

test("training writes model.safetensors that the lab reads back to the same model", () => {
  for (const kind of ["baseline", "lst"] as const) {
    const { dir, model } = runs[kind];
    const { model: back, step } = loadModelSafetensors(path.join(dir, "model.safetensors"));
    assert.equal(step, trainCfg.steps);
    const batch = kind === "baseline" ? peerBaselineBatch(2, 16, 1) : peerLstBatch(2, 16, 1, "lab");
    assert.deepEqual(labNumbers(back, batch).nll, labNumbers(model, batch).nll);
    back.dispose();
  }
});

test("PyTorch gives the lab's loss with the reference models' own forward, and the lab's forward on training batches", () => {
  const work = tmp();
  const pairs: string[] = [];
  const expect: string[] = [];
  const add = (kind: "baseline" | "lst", name: string, batch: Batch, forward: "peer" | "lab") => {
    pairs.push(runs[kind].dir, writeBatch(work, name, batch, runs[kind].model, forward));
    expect.push(name);
  };
  add("baseline", "baseline-peer", peerBaselineBatch(3, 32, 7), "peer");
  add("lst", "lst-peer", peerLstBatch(3, 32, 7, "peer"), "peer");
  // real training batches of the synthetic corpus: several documents per row (EOS resets), text patches of 1
  const src = syntheticSource(3);
  const base = makeBatchStream(src, {
    kind: "baseline",
    batchSize: 3,
    seqLen: 32,
    globalLen: 16,
    maxRawLen: 32,
    seed: 5,
  }).batchAt(2).batch;
  const patcher = makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: P }), {
    totalSteps: trainCfg.steps,
  });
  const lst = makeBatchStream(src, {
    kind: "lst",
    batchSize: 3,
    seqLen: 32,
    globalLen: 16,
    maxRawLen: 32,
    patcher,
    seed: 5,
  }).batchAt(2).batch;
  assert.ok(
    Array.from(base.inputs).slice(0, -1).includes(2),
    "the baseline batch should pack several documents (an EOS inside a row)",
  );
  add("baseline", "baseline-lab", base, "lab");
  add("lst", "lst-lab", lst, "lab");

  const results = runInterop("check_model.py", pairs)
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Check);
  assert.equal(results.length, expect.length);
  results.forEach((r, i) => {
    const where = `${expect[i]}: torch ${r.loss} vs lab ${r.lab_loss}; largest per-position differences ${JSON.stringify(r.worst_positions.slice(0, 3))}`;
    assert.ok(r.rel_diff < 1e-4, where);
    assert.ok(r.max_nll_diff < 1e-3, where);
  });
});

test("where the peer's LSTLM differs from the lab's by design: from the last token of patch 1 on (decoder shift)", () => {
  // the lab's shift through the peer's forward: a token that ends its patch reads that patch in the lab and the
  // patch before in the peer. Positions before the first such token (t = 2P-1) agree; from there the decoder's
  // self-attention carries the difference forward.
  const T = 32;
  const batch = peerLstBatch(2, T, 11, "lab");
  const file = writeBatch(tmp(), "lst-shift", batch, runs.lst.model, "peer");
  const r = JSON.parse(runInterop("check_model.py", [runs.lst.dir, file]).trim()) as Check;
  for (let b = 0; b < 2; b++) {
    const row = r.diff.slice(b * T, (b + 1) * T);
    assert.ok(
      Math.max(...row.slice(0, 2 * P - 1)) < 1e-4,
      `row ${b}: positions before ${2 * P - 1} should agree: ${row.slice(0, 2 * P - 1).map((d) => d.toFixed(5))}`,
    );
    assert.ok(
      row[2 * P - 1] > 1e-3,
      `row ${b}: position ${2 * P - 1} (the last token of patch 1) should differ, got ${row[2 * P - 1]}`,
    );
  }
});
