/**
 * Fault injection on a run directory, in process: a disk that fills at a random write (seeded), a half line at
 * the end of metrics.jsonl, a truncated checkpoint.json and .bin, a truncated run.json. Each case asserts that
 * the run either resumes to the losses of an uninterrupted run, or fails with an error naming the path and the
 * fix, and that nothing already written is lost (following the fix then resumes).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import path from "path";
import { initBackend } from "../../lib/backend";
import { fileFaults } from "../../lib/files";
import { Rng } from "../../lib/rng";
import { loadCheckpoint } from "../../lib/train/checkpoint";
import { syntheticSource } from "../../lib/train/synthetic";
import { train, type StepMetrics, type TrainOptions } from "../../lib/train/train";
import { RunStore } from "../../lib/experiment/runs";
import { TINY_MODEL, TINY_TRAIN, checkpointSha, lossesOf, mountTmpfs, tempFiles, tmpDir } from "./helpers";

const opts = (dir?: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  model: TINY_MODEL,
  train: TINY_TRAIN,
  source: syntheticSource(0),
  dir,
  ...over,
});
let reference: StepMetrics[] = [];
let totalBytes = 0;

before(async () => {
  await initBackend();
  // the reference run, and the bytes a whole run writes (the fault hook counts them)
  fileFaults.freeBytes = Number.MAX_SAFE_INTEGER;
  const r = await train(opts(tmpDir()));
  totalBytes = Number.MAX_SAFE_INTEGER - fileFaults.freeBytes;
  fileFaults.freeBytes = undefined;
  reference = r.metrics;
  r.model.dispose();
});

/** Resume `dir` to the end and check every step's loss against the reference run (bit for bit). */
async function resumeAndCompare(dir: string, over: Partial<TrainOptions> = {}): Promise<void> {
  const r = await train(opts(dir, over));
  r.model.dispose();
  const got = lossesOf(dir);
  assert.equal(got.length, reference.length);
  got.forEach((g, i) => {
    assert.equal(g.loss, reference[i].loss, `step ${i} loss`);
    assert.equal(g.gradNorm, reference[i].gradNorm, `step ${i} gradient norm`);
  });
}

/** Interrupt a run in step `steps - 1` (an exception from onStep, as a crash would): its checkpoint is at step `steps - 1`. */
async function interrupted(dir: string, steps: number): Promise<void> {
  await assert.rejects(
    train(
      opts(dir, {
        onStep: (m) => {
          if (m.step === steps - 1) throw new Error("crash");
        },
      }),
    ),
    /crash/,
  );
}

test("a disk that fills at a random write (5 seeded points): the error names the path and the fix, no temp file is left, and the same command then resumes to identical losses", async () => {
  assert.ok(totalBytes > 200_000, `a run writes ${totalBytes} bytes`);
  const rng = new Rng(20);
  for (let k = 0; k < 5; k++) {
    const dir = tmpDir();
    const budget = Math.floor(rng.next() * totalBytes);
    fileFaults.freeBytes = budget;
    try {
      await assert.rejects(train(opts(dir)), (e: Error) => {
        assert.match(e.message, /ENOSPC/);
        assert.ok(e.message.includes(dir), `names the run dir: ${e.message}`);
        assert.match(e.message, /free some space .* run the same command again/);
        return true;
      });
    } finally {
      fileFaults.freeBytes = undefined;
    }
    assert.deepEqual(tempFiles(dir), [], `budget ${budget}: temp files left`);
    // what was written is intact: every metrics line parses, the checkpoint loads
    const before = fs.existsSync(path.join(dir, "metrics.jsonl")) ? lossesOf(dir).length : 0;
    const ckpt = loadCheckpoint(dir);
    assert.ok(before >= (ckpt?.step ?? 0), `budget ${budget}: ${before} metric lines, checkpoint at ${ckpt?.step}`);
    await resumeAndCompare(dir);
  }
});

test(
  "a real full disk at a metrics append (a tmpfs filled to the last page while the run goes on): the append is cut back, the error names the file and the fix, and after space is freed the same command ends with every file of an uninterrupted run",
  { skip: mountTmpfs("1k") === null ? "needs root to mount a tmpfs" : false },
  async () => {
    // 24 steps, checkpoints at 12 and 24: the disk is filled right after the checkpoint at 12, and the metric
    // lines (about 240 bytes) then fill the file's 4 KiB page before step 24, so an append is what fails
    const run = { ...TINY_TRAIN, steps: 24, ckptEvery: 12 };
    const refDir = tmpDir();
    (await train(opts(refDir, { train: run }))).model.dispose();
    const mnt = mountTmpfs("1m") as string;
    const dir = path.join(mnt, "run");
    const filler = path.join(mnt, "filler");
    const fill = () => {
      const fd = fs.openSync(filler, "w");
      const chunk = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
      } finally {
        fs.closeSync(fd);
      }
    };
    const file = path.join(dir, "metrics.jsonl");
    let failedAt = -1;
    await assert.rejects(
      train(
        opts(dir, {
          train: run,
          onStep: (m) => {
            failedAt = m.step + 1;
            if (m.step === 12) fill();
          },
        }),
      ),
      (e: Error) => {
        assert.match(e.message, /ENOSPC/);
        assert.ok(e.message.includes(`append to ${file} `), e.message);
        assert.match(e.message, /free some space .* run the same command again/);
        return true;
      },
    );
    assert.ok(failedAt > 13 && failedAt < 24, `the append of step ${failedAt} failed`);
    assert.equal(lossesOf(dir).length, failedAt, "the failed append was cut back; every line before it is whole");
    assert.deepEqual(tempFiles(dir), []);
    fs.rmSync(filler); // space freed
    (await train(opts(dir, { train: run }))).model.dispose();
    const lines = (d: string) =>
      fs
        .readFileSync(path.join(d, "metrics.jsonl"), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), ms: 0 }));
    assert.deepEqual(lines(dir), lines(refDir));
    assert.deepEqual(checkpointSha(dir), checkpointSha(refDir));
    for (const f of ["checkpoint-00000024.bin", "model.safetensors"])
      assert.ok(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(refDir, f))), `${f} differs`);
  },
);

test("a half line at the end of metrics.jsonl (a write cut short) is dropped on resume", async () => {
  const dir = tmpDir();
  await interrupted(dir, 5);
  fs.appendFileSync(path.join(dir, "metrics.jsonl"), '{"step":5,"loss":3.1');
  await resumeAndCompare(dir);
});

test("a broken line inside metrics.jsonl is an error naming the file, the line and the fix", async () => {
  const dir = tmpDir();
  await interrupted(dir, 5);
  const f = path.join(dir, "metrics.jsonl");
  const lines = fs.readFileSync(f, "utf8").split("\n");
  lines[1] = lines[1].slice(0, 10);
  fs.writeFileSync(f, lines.join("\n"));
  await assert.rejects(
    train(opts(dir)),
    (e: Error) => e.message.includes(f) && /line 2 is corrupt/.test(e.message) && /remove that line/.test(e.message),
  );
});

test("a truncated checkpoint.json names the path and how to resume from the previous checkpoint; following it resumes to identical losses", async () => {
  const dir = tmpDir();
  await interrupted(dir, 5);
  const manifest = path.join(dir, "checkpoint.json");
  const text = fs.readFileSync(manifest, "utf8");
  fs.writeFileSync(manifest, text.slice(0, 300));
  const prev = path.join(dir, "checkpoint.prev.json");
  let message = "";
  await assert.rejects(train(opts(dir)), (e: Error) => {
    message = e.message;
    return e.message.includes(manifest) && /truncated/.test(e.message) && e.message.includes(`mv ${prev} ${manifest}`);
  });
  assert.match(message, /previous checkpoint \(step 3\) is intact/);
  fs.renameSync(prev, manifest); // the fix, as the message gives it
  await resumeAndCompare(dir);
});

test("a truncated checkpoint .bin names the file and the fix; the previous checkpoint was not deleted, and following the fix resumes to identical losses", async () => {
  const dir = tmpDir();
  await interrupted(dir, 5);
  const bin = path.join(dir, "checkpoint-00000004.bin");
  fs.truncateSync(bin, 1000);
  const manifest = path.join(dir, "checkpoint.json");
  const prev = path.join(dir, "checkpoint.prev.json");
  await assert.rejects(
    train(opts(dir)),
    (e: Error) =>
      e.message.includes(bin) && /is truncated/.test(e.message) && e.message.includes(`mv ${prev} ${manifest}`),
  );
  assert.ok(fs.existsSync(path.join(dir, "checkpoint-00000003.bin")));
  fs.renameSync(prev, manifest);
  await resumeAndCompare(dir);
});

test("with no intact previous checkpoint, the fix is to start the run over (and that works)", async () => {
  const dir = tmpDir();
  await interrupted(dir, 2);
  const bin = path.join(dir, "checkpoint-00000001.bin");
  fs.truncateSync(bin, 0);
  await assert.rejects(
    train(opts(dir)),
    (e: Error) => e.message.includes(bin) && e.message.includes(`delete ${path.join(dir, "checkpoint*")}`),
  );
  for (const f of fs.readdirSync(dir)) if (f.startsWith("checkpoint")) fs.rmSync(path.join(dir, f));
  await resumeAndCompare(dir);
});

test("a truncated run.json of the run store names the path and the fix", async () => {
  const root = tmpDir();
  const store = new RunStore(root);
  const cfg = { name: "r", seed: 1 };
  const rec = await store.ensure(cfg, "r", async () => ({ eval: { cells: [] } }));
  const f = path.join(rec.dir, "run.json");
  fs.writeFileSync(f, fs.readFileSync(f, "utf8").slice(0, 20));
  assert.throws(
    () => store.load(rec.dir),
    (e: Error) =>
      e.message.includes(f) &&
      /corrupt \(truncated/.test(e.message) &&
      e.message.includes(`delete the directory ${rec.dir}`),
  );
});
