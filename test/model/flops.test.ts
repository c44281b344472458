import { test } from "node:test";
import assert from "node:assert/strict";
import { computeSaving, flopsPerStep, paramCountFromConfig } from "../../lib/model/flops";
import { MODEL_SIZE_NAMES, modelSizeConfig, paramTable } from "../../lib/model/sizes";
import { initBackend } from "../../lib/backend";
import { createModel } from "../../lib/model/create";

test("flopsPerStep: the baseline at the bench size equals the PyTorch peer's formula", () => {
  // peer: base_flops(B=16, T=256, d=256, L=4, V=1000, f=704)['flops_per_step']
  const cfg = modelSizeConfig("reference", "baseline", 1000);
  const f = flopsPerStep(cfg, { globalUnits: 16 * 256, rawTokens: 16 * 256, seqLen: 256 });
  assert.equal(f.total, 98096381952);
  assert.equal(f.local, 0);
  assert.equal(f.global, f.total);
});

test("flopsPerStep: LST at the bench size equals the peer's lst_flops, split global/local", () => {
  // peer: lst_flops(B=16, T=256, p=4, dl=128, fl=352, W=64, enc=1, dec=2, dg=256, Lg=4, fg=704, k=2, V=1000)
  const cfg = modelSizeConfig("reference", "lst", 1000, { lst: { dLocal: 128, crossAttnK: 2, decoderLayers: 2 } });
  const f = flopsPerStep(cfg, { globalUnits: 16 * 64, rawTokens: 16 * 256, seqLen: 64, localSeqLen: 256 });
  assert.equal(f.total, 43952111616);
  assert.equal(f.global, 20535312384);
  assert.equal(f.local, 23416799232);
  // defaults: a row of maxSeqLen raw tokens
  const d = flopsPerStep(cfg, { globalUnits: 256, rawTokens: 1024 });
  const e = flopsPerStep(cfg, { globalUnits: 256, rawTokens: 1024, seqLen: 256, localSeqLen: 1024 });
  assert.deepEqual(d, e);
  assert.throws(
    () => flopsPerStep(modelSizeConfig("reference", "baseline", 1000), { globalUnits: 10, rawTokens: 40 }),
    /one global unit per token/,
  );
});

test("computeSaving reproduces the paper's 19.3% for static p = 4 at the paper's sizes (Table 4)", () => {
  const base = modelSizeConfig("paper1B", "baseline", 32000 + 501 + 5);
  const lst = modelSizeConfig("paper1B", "lst", 32000 + 501 + 5);
  const s = computeSaving(base, lst, 4);
  assert.equal(Math.round(s.units * 1000) / 10, 19.3);
  // same global sizes and row length: global FLOPs scale with the units
  assert.ok(Math.abs(s.global - s.units) < 1e-9, `global saving ${s.global} vs units ${s.units}`);
  // the local modules (ignored by the paper) eat part of it
  assert.ok(s.withLocal < s.global);
  // longer patches save more; patches of 1 save nothing on the global model
  assert.ok(computeSaving(base, lst, 5.8).units > s.units);
  assert.equal(computeSaving(base, lst, 1).units, 0);
  assert.throws(() => computeSaving(lst, base, 4), /got kinds 'lst' and 'baseline'/);
});

test("sizes: every preset resolves for both kinds; overrides apply and unknown names throw", () => {
  for (const name of MODEL_SIZE_NAMES) {
    for (const kind of ["baseline", "lst"] as const) {
      const cfg = modelSizeConfig(name, kind, 500);
      assert.equal(cfg.kind, kind);
      assert.equal(cfg.lst.crossAttnK * cfg.lst.dLocal, cfg.dModel, `${name}: k * dLocal should equal dModel`);
    }
  }
  const c = modelSizeConfig("cpuSmall", "lst", 500, { nLayers: 2, lst: { pooling: "max" } }, 300);
  assert.equal(c.nLayers, 2);
  assert.equal(c.lst.pooling, "max");
  assert.equal(c.lst.unitOffset, 300);
  assert.equal(c.dModel, 128);
  assert.throws(() => modelSizeConfig("huge", "lst", 500), /unknown model size 'huge'/);
  assert.throws(
    () => modelSizeConfig("smoke", "lst", 500, { nLayer: 2 } as never),
    /unknown config key 'model.nLayer'/,
  );
});

test("paramTable: counts per preset, and they match built models for the small presets", async () => {
  const rows = paramTable(1000);
  assert.equal(rows.length, MODEL_SIZE_NAMES.length * 2);
  const ref = rows.find((r) => r.size === "reference" && r.kind === "baseline");
  assert.equal(ref?.total, 3725568); // d256 L4 V1000: the peer's BaseLM has 3,725,568 parameters
  for (let i = 2; i < rows.length; i++)
    assert.ok(
      rows[i].total > rows[i - 2].total,
      `${rows[i].size} ${rows[i].kind} should be larger than ${rows[i - 2].size}`,
    );
  await initBackend();
  for (const size of ["smoke", "cpuSmall", "reference"]) {
    for (const kind of ["baseline", "lst"] as const) {
      const cfg = modelSizeConfig(size, kind, 1000);
      const m = createModel(cfg);
      assert.deepEqual(m.paramCount(), paramCountFromConfig(cfg), `${size} ${kind}`);
      m.dispose();
    }
  }
});
