import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale } from "../../lib/experiment/experiment";
import { runExperiment } from "../../lib/experiment/study";
import { scoringVariants } from "../../lib/experiment/rescore";
import type { ItemScore } from "../../lib/eval/score";

test("scoringVariants: the same NLLs as the run's own eval, three norms per cell, cached in the run dir", async () => {
  await initBackend({});
  const scale = labScale("smoke");
  const runsRoot = fs.mkdtempSync(path.join(os.tmpdir(), "lst-rescore-"));
  const run = await runExperiment(
    { name: "lst-static", variant: "lst", patching: { scheme: "static", patchSize: 4 } },
    { scale, runsRoot },
  );
  const rows = await scoringVariants([run], { scale, runsRoot });

  const cells = run.rows.length;
  assert.equal(rows.length, 3 * cells, "one row per cell and norm");
  assert.deepEqual([...new Set(rows.map((r) => r.group?.norm))], ["mean", "sum", "pmi"]);
  assert.ok(rows.every((r) => r.model === `lst-static · ${r.group?.norm}`));

  // the conditional NLLs match the run's own evaluation item by item (only batching differs)
  const cache = path.join(run.record.dir, "scores-by-norm.json");
  const cached = JSON.parse(fs.readFileSync(cache, "utf8")) as { items: ItemScore[] };
  const own = (run.record.result as { eval: { items: ItemScore[] } }).eval.items;
  assert.equal(cached.items.length, own.length);
  for (let i = 0; i < own.length; i++) {
    for (let e = 0; e < own[i].nll.length; e++)
      assert.ok(
        Math.abs(cached.items[i].nll[e] - own[i].nll[e]) < 1e-3 * Math.max(1, own[i].nll[e]),
        `item ${own[i].id} ending ${e}`,
      );
    assert.equal(cached.items[i].nllUncond?.length, own[i].nll.length, "pmi needs an unconditional NLL per ending");
  }

  // cached: without the checkpoint the second call answers the same; without the cache too, it says what is missing
  fs.rmSync(path.join(run.record.dir, "train"), { recursive: true });
  assert.deepEqual(await scoringVariants([run], { scale, runsRoot }), rows);
  fs.writeFileSync(cache, "{ truncated");
  await assert.rejects(
    scoringVariants([run], { scale, runsRoot }),
    /scores-by-norm.json is not valid JSON .*delete the file/,
  );
  fs.writeFileSync(cache, JSON.stringify({ format: 99, items: [] }));
  await assert.rejects(scoringVariants([run], { scale, runsRoot }), /has format 99, this lab reads 1/);
  fs.rmSync(cache);
  await assert.rejects(scoringVariants([run], { scale, runsRoot }), /no final checkpoint/);
  fs.rmSync(runsRoot, { recursive: true });
});
