import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale } from "../../lib/experiment/experiment";
import { runExperiment, datasetFor } from "../../lib/experiment/study";
import { extraBenchmarkItems } from "../../lib/experiment/extra-eval";
import { runItems } from "../../lib/experiment/rescore";
import { extraBenchmark } from "../../lib/data/build";
import { tierTableOfItems } from "../../lib/viz/tables";

test("the chain tier of a finished smoke run: built into its dataset, scored S→S and T→T from the checkpoint, cached; runItems re-scores a run without stored items", async () => {
  await initBackend({});
  const scale = labScale("smoke");
  const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), "lst-extra-"));
  const run = await runExperiment(
    { name: "lst-static", variant: "lst", patching: { scheme: "static", patchSize: 4 } },
    { scale, runsRoot },
  );
  const ds = await datasetFor(run.config);
  const before = fs.readdirSync(ds.dir).sort();

  const [chain] = await extraBenchmarkItems([run], "chain", { scale, runsRoot });
  const { key, items } = extraBenchmark(run.config.data, "chain");
  assert.equal(items.length, run.config.data.bench.hs);
  assert.equal(chain.items.length, 2 * items.length, "one score per item in S2S and T2T");
  assert.deepEqual([...new Set(chain.items.map((x) => x.direction))], ["S2S", "T2T"]);
  assert.ok(chain.items.every((x) => x.benchmark === "chain" && x.tier === 5 && x.scores.length === 4));
  assert.deepEqual(
    tierTableOfItems([chain]).map((t) => [t.benchmark, t.direction, t.tier, t.items]),
    [
      ["chain", "S2S", 5, items.length],
      ["chain", "T2T", 5, items.length],
    ],
  );
  // the dataset gained the extra files only; its own files (and so its key and every run's) are untouched
  const after = fs.readdirSync(ds.dir).sort();
  assert.deepEqual(
    after.filter((f) => !before.includes(f)).sort(),
    [`extra-${key}`, `extra-${key}.json`].filter((f) => !before.includes(f)).sort(),
  );
  assert.ok(before.every((f) => after.includes(f)));

  // cached in the run dir: the second call needs no checkpoint
  const cache = path.join(run.record.dir, `extra-${key}.json`);
  assert.ok(fs.existsSync(cache));
  const trainDir = path.join(run.record.dir, "train");
  const kept = path.join(runsRoot, "train-kept");
  fs.renameSync(trainDir, kept);
  assert.deepEqual(await extraBenchmarkItems([run], "chain", { scale, runsRoot }), [chain]);
  fs.renameSync(kept, trainDir);

  // per-item scores: stored ones as they are; a run whose eval.json has none is re-scored from its checkpoint
  const [stored] = await runItems([run]);
  const own = (run.record.result as { eval: { items: { id: string; correct: boolean }[] } }).eval.items;
  assert.deepEqual(stored.items, own);
  const bare = { ...run, record: { ...run.record, result: { steps: 1 } } };
  const [rescored] = await runItems([bare], { scale, runsRoot });
  assert.deepEqual(
    rescored.items.map((x) => x.id),
    own.map((x) => x.id),
  );
  const agree = rescored.items.filter((x, i) => x.correct === own[i].correct).length;
  assert.ok(agree >= own.length - 1, `re-scored items agree with the stored ones on ${agree} of ${own.length}`);
  fs.rmSync(runsRoot, { recursive: true });
});
