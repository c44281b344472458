import { test } from "node:test";
import assert from "node:assert/strict";
import { lossCurves, accuracyBars, scoringBars } from "../../lib/viz/figures";
import { accuracyVsKnob, accuracyVsMix, accuracyVsSize, computeSavingBars } from "../../lib/viz/knob-figures";
import { patchFigure, spansFromAligned, speechPatchLengths } from "../../lib/viz/patch-figure";
import { modelColor, MODEL_COLORS, PALETTE, paperLayout, SIZES } from "../../lib/viz/paper-style";
import type { ResultRow } from "../../lib/eval/metrics";
import type { AlignedUtterance, LmSequence } from "../../lib/data/types";

const round = (xs: readonly unknown[]) => xs.map((x) => (typeof x === "number" ? Math.round(x * 1e6) / 1e6 : x));

test("paper style: model kinds keep their colour, unknown names take the palette", () => {
  assert.equal(modelColor("lst-curriculum", 5), MODEL_COLORS["lst-curriculum"]);
  assert.equal(modelColor("lst-static-p6", 0), MODEL_COLORS["lst-static"]);
  assert.equal(modelColor("lst-x", 0), MODEL_COLORS.lst);
  assert.equal(modelColor("mystery", 2), PALETTE[2]);
  const l = paperLayout({ xTitle: "x", yTitle: "y", size: "wide", logX: true });
  assert.equal(l.width, SIZES.wide.width);
  assert.equal(l.xaxis.type, "log");
});

test("lossCurves: one line per series and field; steps sorted; smoothing; cumulative FLOPs on a log axis", () => {
  const metrics = [
    { step: 1, loss: 2, lossSpeech: 3, lossText: 1, flops: 10 },
    { step: 0, loss: 4, lossSpeech: 5, lossText: 3, flops: { total: 10, global: 6, local: 4 } },
  ];
  const f = lossCurves([
    { name: "baseline", metrics },
    { name: "lst-static", metrics },
  ]);
  assert.deepEqual(
    f.data.map((t) => t.name),
    ["baseline", "lst-static"],
  );
  assert.deepEqual(f.data[0].x, [0, 1]);
  assert.deepEqual(f.data[0].y, [4, 2]);
  assert.equal((f.data[1].line as { color: string }).color, MODEL_COLORS["lst-static"]);
  assert.deepEqual(lossCurves([{ name: "a", metrics }], { smooth: 0.5 }).data[0].y, [4, 3]);
  const byFlops = lossCurves([{ name: "a", metrics }], { x: "flops" });
  assert.deepEqual(byFlops.data[0].x, [10, 20]);
  assert.equal(byFlops.layout.xaxis.type, "log");
  const two = lossCurves([{ name: "a", metrics }], { fields: ["lossSpeech", "lossText"] });
  assert.deepEqual(
    two.data.map((t) => t.name),
    ["a lossSpeech", "a lossText"],
  );
  const noFlops = [{ step: 0, loss: 1 }];
  assert.throws(() => lossCurves([{ name: "a", metrics: noFlops }], { x: "flops" }), /series 'a' step 0 has no flops/);
  // a NaN (no speech targets in that step) is a gap and does not poison the moving average
  const gaps = [
    { step: 0, loss: 4 },
    { step: 1, loss: NaN },
    { step: 2, loss: 2 },
  ];
  assert.deepEqual(lossCurves([{ name: "a", metrics: gaps }], { smooth: 0.5 }).data[0].y, [4, null, 3]);
  assert.throws(() => lossCurves([{ name: "a", metrics }], { fields: ["nope"] }), /no numeric 'nope'/);
});

function row(
  model: string,
  seed: number,
  benchmark: string,
  direction: ResultRow["direction"],
  accuracy: number,
  group?: Record<string, string | number>,
): ResultRow {
  return {
    run: `${model}-${seed}-${JSON.stringify(group ?? {})}`,
    model,
    benchmark,
    direction,
    accuracy,
    n: 100,
    seed,
    ...(group ? { group } : {}),
  };
}

test("accuracyBars: a trace per model, a bar per benchmark × direction, mean and sample-std error bars in %", () => {
  const rows = [
    row("baseline", 0, "hs", "S2S", 0.36),
    row("baseline", 1, "hs", "S2S", 0.38),
    row("baseline", 0, "hs", "T2T", 0.46),
    row("lst-curriculum", 0, "hs", "S2S", 0.41),
    row("lst-curriculum", 0, "sc", "T2T", 0.7),
    row("lst-curriculum", 0, "sc", "S2T", 0.6), // not a default direction: left out
  ];
  const f = accuracyBars(rows);
  assert.deepEqual(
    f.data.map((t) => [t.type, t.name]),
    [
      ["bar", "baseline"],
      ["bar", "lst-curriculum"],
    ],
  );
  assert.deepEqual(f.data[0].x, ["HS S→S", "HS T→T", "SC S→S", "SC T→T"]);
  assert.deepEqual(round(f.data[0].y as number[]), [37, 46, null, null]);
  assert.deepEqual(round(f.data[0].error_y!.array), [round([100 * Math.sqrt(0.0002)])[0], 0, 0, 0]);
  assert.deepEqual(round(f.data[1].y as number[]), [41, null, null, 70]);
  assert.equal(f.layout.barmode, "group");
  // a dashed chance line over each category's bars: 25 for HS, 50 for SC; none with chance: {}
  assert.deepEqual(
    f.layout.shapes?.map((s) => [s.x0, s.x1, s.y0, s.y1, s.line?.dash]),
    [
      [-0.45, 0.45, 25, 25, "dash"],
      [0.55, 1.45, 25, 25, "dash"],
      [1.55, 2.45, 50, 50, "dash"],
      [2.55, 3.45, 50, 50, "dash"],
    ],
  );
  assert.equal(accuracyBars(rows, { chance: {} }).layout.shapes, undefined);
  assert.deepEqual(
    accuracyBars(rows, { directions: ["S2T"], models: ["lst-curriculum"] }).data.map((t) => t.x),
    [["SC S→T"]],
  );
  assert.throws(() => accuracyBars(rows, { directions: ["T2S"] }), /no rows/);
});

test("accuracyBars: models of one colour (baseline, baseline-data) differ by hatching, others stay plain", () => {
  const rows = ["baseline", "lst-static", "baseline-data", "lst-static-data"].map((m) => row(m, 1, "hs", "T2T", 0.5));
  const f = accuracyBars(rows, { directions: ["T2T"] });
  const markers = f.data.map((t) => t.marker as { color: string; pattern?: { shape: string } });
  assert.equal(markers[0].color, markers[2].color);
  assert.deepEqual(
    markers.map((m) => m.pattern?.shape ?? ""),
    ["", "", "/", "/"],
  );
});

test("accuracyVsKnob / accuracyVsMix: lines per model × direction over the knob, categorical order kept", () => {
  const rows: ResultRow[] = [];
  for (const [mix, acc] of [
    ["1:1", 0.41],
    ["1:2", 0.43],
    ["1:4", 0.4],
  ] as const) {
    for (const seed of [0, 1]) {
      rows.push(row("lst", seed, "hs", "S2S", acc + seed * 0.01, { mixRatio: mix }));
      rows.push(row("lst", seed, "hs", "T2T", acc + 0.1, { mixRatio: mix }));
      rows.push(row("baseline", seed, "hs", "S2S", acc - 0.05, { mixRatio: mix }));
    }
  }
  const f = accuracyVsMix(rows);
  assert.deepEqual(
    f.data.map((t) => t.name),
    ["lst S→S", "lst T→T", "baseline S→S"],
  );
  assert.deepEqual(f.data[0].x, ["1:4", "1:2", "1:1"]);
  assert.deepEqual(round(f.data[0].y as number[]), [40.5, 43.5, 41.5]);
  assert.equal(f.data[0].error_y!.array.length, 3);
  assert.ok(f.data[0].error_y!.array.every((e) => Math.abs(e - 100 * Math.sqrt(0.00005)) < 1e-9));
  assert.deepEqual(f.data[1].error_y!.array, [0, 0, 0]);
  assert.equal(f.layout.xaxis.type, "category");
  assert.throws(
    () => accuracyVsKnob([row("lst", 0, "hs", "S2S", 0.4)], { knob: "mixRatio", benchmark: "hs" }),
    /no group value 'mixRatio'/,
  );
});

test("accuracyVsMix on a grid's runs: each knob value's run has its own name, the line follows the group's model", () => {
  const rows: ResultRow[] = [];
  for (const [mix, tag] of [
    ["1:4", "-mix-1-4"],
    ["1:2", ""],
    ["1:1", "-mix-1-1"],
  ] as const) {
    for (const seed of [1, 2]) {
      rows.push(row(`baseline${tag}`, seed, "hs", "T2T", 0.4 + seed * 0.01, { model: "baseline", mixRatio: mix }));
      rows.push(row(`lst-static${tag}`, seed, "hs", "T2T", 0.5, { model: "lst-static", mixRatio: mix }));
    }
  }
  const f = accuracyVsMix(rows);
  assert.deepEqual(
    f.data.map((t) => t.name),
    ["baseline T→T", "lst-static T→T"],
  );
  assert.deepEqual(f.data[0].x, ["1:4", "1:2", "1:1"]);
  assert.deepEqual(round(f.data[0].y as number[]), [41.5, 41.5, 41.5]);
  assert.deepEqual(round(f.data[1].y as number[]), [50, 50, 50]);
});

test("accuracyVsSize: numeric knob sorted on a log axis", () => {
  const rows = [
    row("lst", 0, "hs", "S2S", 0.39, { params: 1.8e9 }),
    row("lst", 0, "hs", "S2S", 0.29, { params: 4.2e8 }),
    row("baseline", 0, "hs", "S2S", 0.28, { params: 4.2e8 }),
  ];
  const f = accuracyVsSize(rows);
  assert.deepEqual(f.data[0].x, [4.2e8, 1.8e9]);
  assert.deepEqual(round(f.data[0].y as number[]), [29, 39]);
  assert.deepEqual(f.data[1].x, [4.2e8]);
  assert.equal(f.layout.xaxis.type, "log");
});

test("computeSavingBars: ours, and the paper's where given", () => {
  const f = computeSavingBars([
    { name: "bpe-speech", saving: 0.08, paper: 0.082 },
    { name: "lst-static", saving: 0.2 },
  ]);
  assert.deepEqual(
    f.data.map((t) => t.name),
    ["this lab", "paper"],
  );
  assert.deepEqual(round(f.data[0].y as number[]), [8, 20]);
  assert.deepEqual(round(f.data[1].y as number[]), [8.2, null]);
  assert.equal(computeSavingBars([{ name: "a", saving: 0.1 }]).data.length, 1);
});

test("patchFigure: heatmap transposed to [mels][frames], boundary lines between patches, word boxes", () => {
  const spec = { frames: Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), nFrames: 5, nMels: 2 }; // [5 frames x 2 mels]
  const f = patchFigure({
    spectrogram: spec,
    patchLengths: [2, 3],
    spans: [
      { start: 0, end: 1, label: "·", silence: true },
      { start: 1, end: 5, label: "cat" },
    ],
  });
  assert.equal(f.data[0].type, "heatmap");
  assert.deepEqual(f.data[0].z, [
    [0, 2, 4, 6, 8],
    [1, 3, 5, 7, 9],
  ]);
  const lines = f.layout.shapes!.filter((s) => s.type === "line");
  assert.deepEqual(
    lines.map((s) => s.x0),
    [2],
  );
  assert.deepEqual(
    f.layout.shapes!.filter((s) => s.type === "rect").map((s) => [s.x0, s.x1]),
    [
      [0, 1],
      [1, 5],
    ],
  );
  assert.deepEqual(
    f.layout.annotations!.map((a) => [a.text, a.x]),
    [
      ["·", 0.5],
      ["cat", 3],
    ],
  );
  // a 100 Hz spectrogram (4 frames per unit frame) over 2 unit frames
  const fast = patchFigure({
    spectrogram: [[0], [0], [0], [0], [1], [1], [1], [1]],
    framesPerUnit: 4,
    patchLengths: [1, 1],
  });
  assert.equal(fast.data[0].dx, 0.25);
  assert.deepEqual(fast.layout.xaxis.range, [0, 2]);
  assert.throws(
    () => patchFigure({ spectrogram: spec, patchLengths: [2, 2] }),
    /sum to 4 frames but the spectrogram has 5/,
  );
  assert.throws(() => patchFigure({ spectrogram: spec, spans: [{ start: 3, end: 9, label: "x" }] }), /outside/);
});

test("spansFromAligned and speechPatchLengths: the worked example", () => {
  const u: AlignedUtterance = {
    id: "u",
    text: "the cat",
    words: ["the", "cat"],
    wordChars: [
      [0, 3],
      [4, 7],
    ],
    voice: "v",
    units: Int32Array.from([0, 1, 1, 2, 2]),
    spans: [
      { kind: "sil", start: 0, end: 1, wordIndex: -1 },
      { kind: "word", start: 1, end: 3, wordIndex: 0 },
      { kind: "word", start: 3, end: 5, wordIndex: 1 },
    ],
    tokenSpans: [],
  };
  assert.deepEqual(
    spansFromAligned(u).map((s) => s.label),
    ["·", "the", "cat"],
  );
  const mk = (xs: number[]) => Uint8Array.from(xs);
  // tokens BOS <s> u u u u u <t> w
  const seq: LmSequence = {
    ids: Int32Array.from([1, 4, 9, 9, 9, 9, 9, 3, 7]),
    isSpeech: mk([0, 0, 1, 1, 1, 1, 1, 0, 0]),
    wordStart: mk([0, 0, 0, 0, 0, 0, 0, 0, 0]),
    silence: mk([0, 0, 0, 0, 0, 0, 0, 0, 0]),
    bpeStart: mk([0, 0, 0, 0, 0, 0, 0, 0, 0]),
  };
  assert.deepEqual(speechPatchLengths(seq, Int32Array.from([1, 1, 3, 2, 1, 1])), [3, 2]);
  assert.throws(() => speechPatchLengths(seq, Int32Array.from([1, 2, 2, 2, 1, 1])), /mixes 1 speech and 1 other/);
  assert.throws(() => speechPatchLengths(seq, Int32Array.from([1, 1, 3])), /sum to 5/);
});

test("scoringBars: a model's variants share its colour and differ by hatching; other names are rejected", () => {
  const rows: ResultRow[] = [];
  for (const model of ["baseline", "lst-static"]) {
    for (const norm of ["mean", "sum", "pmi"])
      rows.push({
        run: `${model}-1`,
        model: `${model} · ${norm}`,
        benchmark: "hs",
        direction: "S2S",
        accuracy: 0.3,
        n: 10,
        seed: 1,
      });
  }
  const fig = scoringBars(rows);
  assert.equal(fig.data.length, 6);
  const marker = (i: number) => fig.data[i].marker as { color: string; pattern: { shape: string } };
  assert.deepEqual(
    [0, 1, 2].map((i) => marker(i).color),
    Array(3).fill(MODEL_COLORS.baseline),
  );
  assert.deepEqual(
    [3, 4, 5].map((i) => marker(i).color),
    Array(3).fill(MODEL_COLORS["lst-static"]),
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => marker(i).pattern.shape),
    ["", "/", "."],
  );
  assert.throws(() => scoringBars([{ ...rows[0], model: "baseline" }]), /not '<model> · <norm>'/);
});
