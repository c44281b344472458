import { test } from "node:test";
import assert from "node:assert/strict";
import { formatRatio, medianRound, ratioLines, sizeRatios, type RoundRuns } from "../../bench/train-bench/ratios";
import { parseArgs } from "../../bench/train-bench/args";

/** tokens/s per round -> results whose step time is its inverse (the median round is the median tokens/s) */
const rounds = (...tps: number[]) => tps.map((t) => ({ tokensPerS: t, msStep: 1e6 / t }));

// the worked example of bench/train-bench/ratios.ts
const RUNS: RoundRuns = {
  "tfjs baseline reference": rounds(100, 120, 110),
  "tfjs lst reference": rounds(250, 240, 330),
  "torch baseline reference": rounds(200, 100, 100),
  "torch.compile baseline reference": rounds(150, 160, 140),
};

test("ratios pair the runs of one round, then take the median over rounds", () => {
  const r = sizeRatios(RUNS, "reference", ["eager", "compile"]);
  assert.equal(r.lstOverBaseline, 2.5); // per round [2.5, 2.0, 3.0]
  // torch.compile's median round (150 tokens/s) beats torch's (100), so it is the baseline's strongest peer
  assert.deepEqual(r.strongestPeer, { baseline: "torch.compile", lst: null });
  assert.equal(r.baselineOverPeer, 0.75); // per round [0.667, 0.75, 0.786]
  assert.equal(r.lstOverPeerLst, null); // no peer LST ran, so it has no strongest peer
  assert.equal(r.byPeerMode.eager?.baselineOverPeer, 1.1); // per round [0.5, 1.2, 1.1]
  assert.equal(medianRound(RUNS["torch baseline reference"]).tokensPerS, 100);
});

test("ratio lines mark the targets met or MISSED only where asked, with the spread of the rounds", () => {
  const r = sizeRatios(RUNS, "reference", ["eager", "compile"]);
  const withTargets = ratioLines(RUNS, "reference", r, ["eager", "compile"], true);
  assert.match(withTargets[0], /^LST raw tokens\/s \/ baseline: +2\.50x \(target >= 2\.5x: met\), rounds 2\.00-3\.00$/);
  assert.match(withTargets[1], /^baseline \/ strongest peer \(torch\.compile\): +0\.75x \(target >= 1x: MISSED\)/);
  assert.ok(withTargets.some((l) => /^baseline \/ torch: +1\.10x, rounds 0\.50-1\.20$/.test(l)));
  const plain = ratioLines(RUNS, "reference", r, ["eager", "compile"], false);
  assert.ok(plain.every((l) => !l.includes("target")));
  assert.equal(formatRatio(null, 1), "n/a");
});

test("the bench's flags reject a bad size, peer mode or count, naming the flag", () => {
  assert.throws(() => parseArgs(["--sizes=reference,d1024"]), /unknown size 'd1024'; use smoke, reference, d512/);
  assert.throws(() => parseArgs(["--peer-modes=jit"]), /--peer-modes must list eager and\/or compile/);
  assert.throws(() => parseArgs(["--steps=-1"]), /--steps must be a non-negative integer/);
  assert.deepEqual(parseArgs(["--peer-modes=compile,compile", "--no-peer"]).peerModes, ["compile"]);
});
