import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale } from "../../lib/experiment/experiment";
import { runExperiment, datasetFor } from "../../lib/experiment/study";
import { fileBenchmark, fileBenchmarkItems, fileEvalLines } from "../../lib/experiment/file-eval";
import { summarize } from "../../lib/eval/metrics";

const FIXTURES = path.join("test", "fixtures", "benchmarks");

test("real-format StoryCloze CSV and HellaSwag JSONL: spoken into a finished smoke run's dataset, scored S→S and T→T from its checkpoint, cached; long endings skipped and counted", async () => {
  await initBackend({});
  const scale = labScale("smoke");
  const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), "lst-file-eval-"));
  const run = await runExperiment(
    { name: "lst-static", variant: "lst", patching: { scheme: "static", patchSize: 4 } },
    { scale, runsRoot },
  );
  const ds = await datasetFor(run.config);

  for (const [name, benchmark, endings] of [
    ["storycloze-6.csv", "storycloze", 2],
    ["hellaswag-6.jsonl", "hellaswag", 4],
  ] as const) {
    const file = path.join(FIXTURES, name);
    const r = await fileBenchmarkItems([run], file, { scale, runsRoot });
    assert.equal(r.benchmark, benchmark);
    assert.equal(r.items, 6);
    assert.equal(r.endings, endings);
    assert.deepEqual(r.skipped, []);
    const [scored] = r.runs;
    assert.equal(scored.items.length, 12, "6 items in S2S and in T2T");
    assert.deepEqual([...new Set(scored.items.map((x) => x.direction))], ["S2S", "T2T"]);
    assert.ok(
      scored.items.every(
        (x) =>
          x.benchmark === benchmark &&
          x.type === "real" &&
          x.scores.length === endings &&
          x.scores.every(Number.isFinite),
      ),
    );
    // the items' labels reach the scores: the file's answer is each item's label
    const { items } = fileBenchmark(file);
    assert.deepEqual(
      scored.items.filter((x) => x.direction === "T2T").map((x) => x.label),
      items.map((x) => x.label),
    );
    assert.deepEqual(
      r.rows.map((x) => [x.benchmark, x.direction, x.n]),
      [
        [benchmark, "S2S", 6],
        [benchmark, "T2T", 6],
      ],
    );
    assert.ok(r.rows.every((x) => x.accuracy >= 0 && x.accuracy <= 1));
    assert.equal(summarize(r.rows).length, 2);
    // one item of each fixture is written in the story world's words only (lab-sc-0003, lab-hs-0003)
    assert.equal(r.lexicon.itemsOutside, 5);
    assert.ok(r.lexicon.outside.length > 20);
    const lines = fileEvalLines(r);
    assert.match(lines[0], new RegExp(`^${benchmark} \\(${name.replace(".", "\\.")}\\): 6 items, 1-in-${endings}`));
    assert.match(lines[1], /outside the story world's lexicon \(\d+ words\): 5 of 6 items/);
    // cached in the dataset (audio) and the run dir (scores): the second call needs no checkpoint
    assert.ok(fs.existsSync(path.join(ds.dir, `extra-${r.key}.json`)));
    assert.ok(fs.existsSync(path.join(run.record.dir, `extra-${r.key}.json`)));
    const trainDir = path.join(run.record.dir, "train");
    const kept = path.join(runsRoot, "train-kept");
    fs.renameSync(trainDir, kept);
    assert.deepEqual((await fileBenchmarkItems([run], file, { scale, runsRoot })).runs, r.runs);
    fs.renameSync(kept, trainDir);
  }

  // the text is lower-cased by default (the story world is), which is part of the items' key
  const sc = path.join(FIXTURES, "storycloze-6.csv");
  assert.notEqual(fileBenchmark(sc).key, fileBenchmark(sc, { lowercase: false }).key);
  assert.match(fileBenchmark(sc, { lowercase: false }).items[0].context, /^Maya wanted/);

  // an ending longer than the run's context cannot be scored in speech: skipped and counted, text still scored
  const long = path.join(runsRoot, "long.jsonl");
  const words = Array.from(
    { length: 64 },
    (_, i) => ["then", "the", "kite", "flew", "over", "a", "lake", "slowly"][i % 8],
  ).join(" ");
  fs.writeFileSync(
    long,
    `${JSON.stringify({ ind: 1, ctx: "tom took his kite to the lake. he", endings: [`${words}.`, "sang."], label: 0 })}\n`,
  );
  const lr = await fileBenchmarkItems([run], long, { scale, runsRoot });
  assert.deepEqual(
    lr.skipped.map((s) => [s.direction, s.items]),
    [["S2S", 1]],
  );
  assert.deepEqual(
    lr.rows.map((x) => [x.direction, x.n]),
    [["T2T", 1]],
  );
  assert.match(
    fileEvalLines(lr).join("\n"),
    /skipped for lst-static .* S2S: 1 items with an ending longer than the run's context/,
  );

  await assert.rejects(fileBenchmarkItems([], sc), /no runs given/);
  fs.rmSync(runsRoot, { recursive: true });
});
