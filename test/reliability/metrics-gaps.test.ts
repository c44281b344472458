/**
 * Gaps in what a run keeps, in process: model.safetensors behind its checkpoint (a full disk at its write, a
 * kill between the checkpoint and it), metric lines lost before the checkpoint, a finished run of the run store
 * with a missing, empty or short metrics.jsonl, an eval.json without cells, and a speech loss of null read
 * back from metrics.jsonl (a step with no speech target). Each either resumes to the files of an uninterrupted
 * run, or is an error naming the damaged path and the fix, and following the fix works.
 */
import { test, before, mock } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import path from "path";
import { initBackend } from "../../lib/backend";
import { appendLine, fileFaults, writeFileDurable } from "../../lib/files";
import { syntheticSource } from "../../lib/train/synthetic";
import { decodeSafetensors, encodeSafetensors } from "../../lib/train/safetensors";
import { train, type StepMetrics, type TrainOptions } from "../../lib/train/train";
import { RunStore, readMetrics } from "../../lib/experiment/runs";
import { finalLossSummary } from "../../lib/experiment/study";
import { TINY_MODEL, TINY_TRAIN, checkpointSha, lossesOf, tempFiles, tmpDir } from "./helpers";

const STEPS = TINY_TRAIN.steps;
const opts = (dir?: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  model: TINY_MODEL,
  train: TINY_TRAIN,
  source: syntheticSource(0),
  dir,
  ...over,
});
let refDir = "";
let totalBytes = 0;

before(async () => {
  await initBackend();
  refDir = tmpDir();
  fileFaults.freeBytes = Number.MAX_SAFE_INTEGER;
  const r = await train(opts(refDir));
  totalBytes = Number.MAX_SAFE_INTEGER - fileFaults.freeBytes;
  fileFaults.freeBytes = undefined;
  r.model.dispose();
});

/** The metric lines without their wall time (the one field that differs between two runs). */
function metricLines(dir: string): string[] {
  return fs
    .readFileSync(path.join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const { ms: _ms, ...rest } = JSON.parse(l) as StepMetrics;
      return JSON.stringify(rest);
    });
}

/** Every file a run keeps equals the uninterrupted run's: metric lines, checkpoint, model.safetensors bytes. */
function assertSameFiles(dir: string): void {
  lossesOf(dir); // each step once, in order
  assert.deepEqual(metricLines(dir), metricLines(refDir));
  assert.deepEqual(checkpointSha(dir), checkpointSha(refDir));
  const bin = `checkpoint-${String(STEPS).padStart(8, "0")}.bin`;
  assert.ok(fs.readFileSync(path.join(dir, bin)).equals(fs.readFileSync(path.join(refDir, bin))), bin);
  const model = (d: string) => fs.readFileSync(path.join(d, "model.safetensors"));
  assert.ok(model(dir).equals(model(refDir)), "model.safetensors has the bytes of the uninterrupted run's");
  assert.deepEqual(tempFiles(dir), []);
}

async function resume(dir: string): Promise<void> {
  const r = await train(opts(dir));
  r.model.dispose();
}

test("a disk that fills at the final model.safetensors write: the error names the file and the fix, no temp file is left, and the same command rewrites it from the checkpoint", async () => {
  const dir = tmpDir();
  const modelBytes = fs.statSync(path.join(refDir, "model.safetensors")).size;
  // the model file of the last checkpoint is the run's last write: room for every byte before it and 100 of it
  fileFaults.freeBytes = totalBytes - modelBytes + 100;
  const file = path.join(dir, "model.safetensors");
  try {
    await assert.rejects(train(opts(dir)), (e: Error) => {
      assert.match(e.message, /ENOSPC/);
      assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
      assert.match(e.message, /free some space .* run the same command again/);
      return true;
    });
  } finally {
    fileFaults.freeBytes = undefined;
  }
  assert.deepEqual(tempFiles(dir), []);
  assert.equal(checkpointSha(dir).step, STEPS, "the last checkpoint was committed before the model file");
  await resume(dir);
  assertSameFiles(dir);
});

test("a kill between the checkpoint and the model.safetensors write (the file missing, or an older one, and a temp file of the dead process): the same command rewrites it from the checkpoint", async () => {
  for (const damage of ["missing", "older"] as const) {
    const dir = tmpDir();
    await resume(dir);
    const file = path.join(dir, "model.safetensors");
    if (damage === "missing") fs.rmSync(file);
    else {
      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
      fs.writeFileSync(file, encodeSafetensors(tensors, { ...metadata, step: "3" }));
    }
    fs.writeFileSync(`${file}.tmp-999999999-0`, "half a file");
    await resume(dir);
    assertSameFiles(dir);
  }
});

test("metric lines lost before the checkpoint step (a cut after the checkpoint was written) are an error naming the file, the steps and the fix; following it gives every step", async () => {
  const dir = tmpDir();
  await assert.rejects(
    train(
      opts(dir, {
        onStep: (m) => {
          if (m.step === 5) throw new Error("crash");
        },
      }),
    ),
    /crash/,
  );
  // checkpoint at step 5; the file loses its end from the middle of step 3's line
  const f = path.join(dir, "metrics.jsonl");
  const text = fs.readFileSync(f, "utf8");
  const at = text.split("\n").slice(0, 3).join("\n").length + 1;
  fs.writeFileSync(f, text.slice(0, at + 20));
  let message = "";
  await assert.rejects(train(opts(dir)), (e: Error) => {
    message = e.message;
    return true;
  });
  assert.ok(message.includes(f), message);
  assert.match(message, /steps 3, 4/);
  assert.match(message, /checkpoint \(step 5\)/);
  const fix = /delete (\S+checkpoint\*)/.exec(message);
  assert.ok(fix, message);
  for (const g of fs.readdirSync(dir)) if (g.startsWith("checkpoint")) fs.rmSync(path.join(dir, g));
  await resume(dir);
  assertSameFiles(dir);
});

test("metric appends are fsynced before the step goes on (a power cut cannot lose a line the checkpoint after it counts)", () => {
  const f = path.join(tmpDir(), "m.jsonl");
  const fsync = mock.method(fs, "fsyncSync");
  try {
    appendLine(f, '{"step":0}');
    assert.equal(fsync.mock.callCount(), 1);
  } finally {
    fsync.mock.restore();
  }
});

const cells = [
  { benchmark: "sc", direction: "S2S", n: 10, correct: 6, accuracy: 0.6, chance: 0.5 },
  { benchmark: "sc", direction: "T2T", n: 10, correct: 8, accuracy: 0.8, chance: 0.5 },
];

/** A finished run of the store in the study's layout (lib/experiment/study.ts): training in <run>/train. */
async function finishedRun(store: RunStore, cfg = { name: "tiny", seed: 1 }) {
  let calls = 0;
  const rec = await store.ensure(cfg, cfg.name, async (dir) => {
    calls++;
    const trainDir = path.join(dir, "train");
    await resume(trainDir);
    writeFileDurable(path.join(dir, "metrics.jsonl"), fs.readFileSync(path.join(trainDir, "metrics.jsonl")));
    return { eval: { cells }, steps: STEPS };
  });
  return { rec, calls };
}

test("a finished run with a missing, empty or short metrics.jsonl names the run and the fix; following it gives every step", async () => {
  // the run dir's copy alone, or the trainer's own file too (then the lines are lost for good)
  for (const [damage, both] of [
    ["missing", false],
    ["empty", false],
    ["short", false],
    ["short", true],
  ] as const) {
    const store = new RunStore(tmpDir());
    const { rec } = await finishedRun(store);
    assert.equal(rec.metrics.length, STEPS);
    const f = path.join(rec.dir, "metrics.jsonl");
    for (const g of both ? [f, path.join(rec.dir, "train", "metrics.jsonl")] : [f]) {
      if (damage === "missing") fs.rmSync(g);
      else if (damage === "empty") fs.writeFileSync(g, "");
      else fs.writeFileSync(g, fs.readFileSync(g, "utf8").split("\n").slice(1).join("\n")); // step 0 lost
    }
    const done = path.join(rec.dir, "done");
    const fix = both ? `delete the directory ${rec.dir}` : `delete ${done}`;
    const check = (e: Error) => {
      assert.ok(e.message.includes(f), e.message);
      assert.match(e.message, damage === "short" ? /lacks step 0 / : /lacks steps 0-7 /);
      assert.ok(e.message.includes(fix), e.message);
      return true;
    };
    assert.throws(() => store.load(rec.dir), check);
    await assert.rejects(finishedRun(store), check);
    assert.throws(() => store.list(), check);
    fs.rmSync(both ? rec.dir : done, { recursive: true }); // the fix
    const again = await finishedRun(store);
    assert.equal(again.calls, 1);
    assert.deepEqual(
      again.rec.metrics.map((m) => m.step),
      [...Array(STEPS).keys()],
    );
  }
});

test("a finished run whose model.safetensors is missing or older than its checkpoint is not taken as finished; the fix rewrites it", async () => {
  for (const damage of ["missing", "older"] as const) {
    const store = new RunStore(tmpDir());
    const { rec } = await finishedRun(store);
    const file = path.join(rec.dir, "train", "model.safetensors");
    const good = fs.readFileSync(file);
    if (damage === "missing") fs.rmSync(file);
    else {
      const { tensors, metadata } = decodeSafetensors(good);
      fs.writeFileSync(file, encodeSafetensors(tensors, { ...metadata, step: "6" }));
    }
    const done = path.join(rec.dir, "done");
    let message = "";
    assert.throws(
      () => store.load(rec.dir),
      (e: Error) => {
        message = e.message;
        return true;
      },
    );
    assert.ok(message.includes(file), message);
    assert.match(message, damage === "missing" ? /does not exist/ : /holds step 6, but the checkpoint .* is at step 8/);
    assert.ok(message.includes(`delete ${done}`), message);
    fs.rmSync(done); // the fix
    const again = await finishedRun(store);
    assert.equal(again.calls, 1);
    assert.ok(fs.readFileSync(file).equals(good));
    assert.equal(again.rec.metrics.length, STEPS);
  }
});

test("an eval.json without accuracy cells names the file and the fix; following it evaluates again", async () => {
  const store = new RunStore(tmpDir());
  const { rec } = await finishedRun(store);
  const f = path.join(rec.dir, "eval.json");
  const ev = JSON.parse(fs.readFileSync(f, "utf8")) as { result: { eval: { cells?: unknown } } };
  delete ev.result.eval.cells;
  fs.writeFileSync(f, JSON.stringify(ev));
  const done = path.join(rec.dir, "done");
  assert.throws(
    () => store.load(rec.dir),
    (e: Error) => /no accuracy cells/.test(e.message) && e.message.includes(`delete ${f} and ${done}`),
  );
  fs.rmSync(done);
  const again = await finishedRun(store);
  assert.equal(again.calls, 1);
  assert.equal(again.rec.rows.length, 2);
});

test("a speech loss stored as null (a step with no speech target) reads back as NaN, and the summary shows the last finite value or n/a", () => {
  const f = path.join(tmpDir(), "metrics.jsonl");
  const row = (step: number, lossSpeech: number | null) =>
    JSON.stringify({ step, loss: 2 + step, lossSpeech, lossText: 1.5, lr: 0.1, gradNorm: 1 });
  fs.writeFileSync(f, [row(0, 3.25), row(1, 3.125), row(2, null)].join("\n") + "\n");
  const metrics = readMetrics(f);
  assert.ok(Number.isNaN(metrics[2].lossSpeech));
  assert.equal(finalLossSummary(metrics), "3 steps, final loss 4.000 (speech 3.125 at step 1, text 1.500)");
  fs.writeFileSync(f, [row(0, null), row(1, null)].join("\n") + "\n");
  assert.equal(finalLossSummary(readMetrics(f)), "2 steps, final loss 3.000 (speech n/a, text 1.500)");
  assert.equal(finalLossSummary([]), "0 steps");
});
