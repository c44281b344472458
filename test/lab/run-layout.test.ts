import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { RunStore, RUN_FORMAT, safeName } from "../../lib/experiment/runs";
import { migrateRunStore, runKey } from "../../lib/experiment/run-layout";
import { configHash } from "../../lib/config";

const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-runkey-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const cells = [{ benchmark: "sc", direction: "S2S", n: 10, correct: 6, accuracy: 0.6, chance: 0.5 }];
const json = (x: unknown): string => JSON.stringify(x);
const read = (f: string): Record<string, unknown> => JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, unknown>;

/** A run directory as the old layout wrote it: `<name>-<configHash(config with name)>`, run.json { format, name, hash, config }. */
function oldRun(
  root: string,
  cfg: { name: string } & Record<string, unknown>,
  finished: boolean,
  extra: Record<string, string> = {},
): string {
  const dir = path.join(root, `${safeName(cfg.name)}-${configHash(cfg)}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, "run.json"),
    json({ format: RUN_FORMAT, name: cfg.name, hash: configHash(cfg), config: cfg }),
  );
  for (const [f, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), text);
  if (finished) {
    fs.writeFileSync(path.join(dir, "metrics.jsonl"), json({ step: 0, loss: 2 }) + "\n");
    fs.writeFileSync(path.join(dir, "eval.json"), json({ format: RUN_FORMAT, result: { eval: { cells } } }));
    fs.writeFileSync(path.join(dir, "done"), json({ format: RUN_FORMAT, finishedAt: "then" }));
  }
  return dir;
}

test("one config asked for under two names is one run, trained once, labelled by the name asked for", async () => {
  const store = new RunStore(tmp());
  let calls = 0;
  const exec = async () => {
    calls++;
    return { eval: { cells } };
  };
  const a = await store.ensure({ name: "lst-static", seed: 1, patchSize: 4 }, "lst-static", exec);
  const b = await store.ensure({ name: "lst-static-p4", seed: 1, patchSize: 4 }, "lst-static-p4", exec);
  assert.equal(calls, 1, "trained once");
  assert.equal(a.dir, b.dir);
  assert.equal(path.basename(a.dir), runKey({ seed: 1, patchSize: 4 }));
  assert.equal(b.name, "lst-static-p4");
  assert.deepEqual(
    b.rows.map((r) => r.model),
    ["lst-static-p4"],
    "the rows carry the name the second grid asked under",
  );
  assert.deepEqual(read(path.join(a.dir, "run.json")).names, ["lst-static", "lst-static-p4"]);
  assert.deepEqual(
    read(path.join(a.dir, "run.json")).config,
    { seed: 1, patchSize: 4 },
    "run.json keeps the config less its labels",
  );
  assert.equal(store.load(a.dir).name, "lst-static", "a listed run is labelled by its first name");
  // another knob is another run
  await store.ensure({ name: "lst-static", seed: 1, patchSize: 6 }, "lst-static", exec);
  assert.equal(calls, 2);
  assert.equal(store.list().length, 2);
});

test("opening a store in the old <name>-<hash> layout moves every run to its config key, once, losing nothing", async () => {
  const root = tmp();
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  const fin = oldRun(root, { name: "lst-static", seed: 1, patchSize: 4 }, true, {
    "provenance.json": json({ format: 1, segments: [] }),
  });
  const part = oldRun(root, { name: "baseline", seed: 1 }, false, { "ckpt.json": json({ step: 2 }) });
  // the same experiment under a second name (old stores could hold it twice): one stays, the other is kept aside
  const twin = oldRun(root, { name: "lst-static-p4", seed: 1, patchSize: 4 }, true);
  // a run an old process is still working on is left alone
  const busy = oldRun(root, { name: "busy", seed: 5 }, false, {
    lock: json({ host: os.hostname(), pid: process.pid }),
  });
  // a crash between rewriting run.json and the rename: new run.json, old directory name
  const half = oldRun(root, { name: "half", seed: 7 }, true);
  fs.writeFileSync(
    path.join(half, "run.json"),
    json({ format: RUN_FORMAT, names: ["half"], hash: runKey({ seed: 7 }), config: { seed: 7 } }),
  );

  const store = new RunStore(root, { log });
  const key = runKey({ seed: 1, patchSize: 4 });
  assert.deepEqual(
    fs.readdirSync(root).sort(),
    [key, runKey({ seed: 1 }), runKey({ seed: 7 }), path.basename(busy)].sort(),
  );
  for (const d of [fin, part, twin, half]) assert.equal(fs.existsSync(d), false);
  assert.equal(lines.length, 5, lines.join("\n"));
  assert.ok(
    lines.some((l) => l.includes(path.basename(busy)) && /holds its lock/.test(l)),
    lines.join("\n"),
  );
  // the finished run: its files are all there, its names are both old names
  const rec = store.load(path.join(root, key));
  assert.deepEqual(rec.names, ["lst-static", "lst-static-p4"]);
  assert.deepEqual(rec.config, { seed: 1, patchSize: 4 });
  assert.deepEqual(rec.metrics, [{ step: 0, loss: 2 }]);
  assert.ok(fs.existsSync(path.join(rec.dir, "provenance.json")));
  const aside = fs.readdirSync(`${root}-stale`);
  assert.equal(aside.length, 1);
  assert.ok(aside[0].startsWith(`${path.basename(twin)}@migrated-`), aside[0]);
  // asking for either name trains nothing; the interrupted run resumes from its checkpoint in its new directory
  let calls = 0;
  for (const name of ["lst-static", "lst-static-p4"]) {
    const r = await store.ensure({ name, seed: 1, patchSize: 4 }, name, async () => ({ eval: { cells }, n: ++calls }));
    assert.equal(r.name, name);
  }
  assert.equal(calls, 0);
  let resumedFrom = -1;
  await store.ensure({ name: "baseline", seed: 1 }, "baseline", async (dir) => {
    resumedFrom = (read(path.join(dir, "ckpt.json")) as { step: number }).step;
    return { eval: { cells } };
  });
  assert.equal(resumedFrom, 2);
  // opening it again changes nothing; once the lock is gone the busy run moves too
  lines.length = 0;
  new RunStore(root, { log });
  assert.equal(lines.length, 1, lines.join("\n"));
  fs.rmSync(path.join(busy, "lock"));
  assert.deepEqual(migrateRunStore(root).length, 1);
  assert.ok(fs.existsSync(path.join(root, runKey({ seed: 5 }), "run.json")));
  assert.deepEqual(migrateRunStore(root), []);
});

test("an old-layout directory read directly is refused with the fix; a corrupt one stops the store opening with its path", () => {
  const root = tmp();
  const aside = tmp();
  const dir = oldRun(aside, { name: "x", seed: 1 }, true);
  assert.throws(
    () => new RunStore(root).load(dir),
    (e: Error) => /old <name>-<hash> layout/.test(e.message) && e.message.includes(`new RunStore('${aside}')`),
  );
  const bad = oldRun(root, { name: "y", seed: 1 }, true);
  const f = path.join(bad, "run.json");
  fs.writeFileSync(f, json({ ...read(f), hash: "000000000000" }));
  assert.throws(
    () => new RunStore(root),
    (e: Error) =>
      e.message.includes(f) &&
      /does not match its hash/.test(e.message) &&
      /move .* out of the run store/.test(e.message),
  );
});
