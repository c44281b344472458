import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { spawn, spawnSync } from "child_process";
import { RunStore, RUN_FORMAT, readMetrics, toCsv, safeName } from "../../lib/experiment/runs";
import { configHash } from "../../lib/config";
import { runKey } from "../../lib/experiment/run-layout";

const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-runs-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const cells = [
  { benchmark: "sc", direction: "S2S", n: 10, correct: 6, accuracy: 0.6, chance: 0.5 },
  { benchmark: "sc", direction: "T2T", n: 10, correct: 8, accuracy: 0.8, chance: 0.5 },
];
const cfg = { name: "lst-static", seed: 1, model: { dModel: 32 } };

test("a finished run comes back without executing again", async () => {
  const store = new RunStore(tmp());
  let calls = 0;
  const exec = async (dir: string) => {
    calls++;
    fs.appendFileSync(path.join(dir, "metrics.jsonl"), JSON.stringify({ step: 0, loss: 2 }) + "\n");
    return { eval: { cells }, steps: 1 };
  };
  const a = await store.ensure(cfg, "lst-static", exec);
  const b = await store.ensure(cfg, "lst-static", exec);
  assert.equal(calls, 1);
  assert.equal(a.id, runKey(cfg));
  assert.equal(a.id, configHash({ seed: 1, model: { dModel: 32 } }), "the key is the config's hash less its name");
  assert.equal(b.dir, store.runDir(cfg));
  assert.deepEqual(
    b.rows.map((r) => [r.run, r.model, r.benchmark, r.direction, r.accuracy, r.seed]),
    [
      [a.id, "lst-static", "sc", "S2S", 0.6, 1],
      [a.id, "lst-static", "sc", "T2T", 0.8, 1],
    ],
  );
  assert.deepEqual(b.metrics, [{ step: 0, loss: 2 }]);
  assert.deepEqual(b.result, { eval: { cells }, steps: 1 });
  assert.equal(fs.existsSync(path.join(a.dir, "lock")), false);
  // another config is another run
  const c = await store.ensure({ ...cfg, seed: 2 }, "lst-static", exec);
  assert.equal(calls, 2);
  assert.notEqual(c.dir, a.dir);
  assert.equal(store.list().length, 2);
  assert.equal(store.toRows().length, 4);
});

test("an interrupted run resumes from its own checkpoint on the next ensure", async () => {
  const store = new RunStore(tmp());
  const steps: number[] = [];
  const exec = async (dir: string) => {
    const ckpt = path.join(dir, "ckpt.json");
    let step = fs.existsSync(ckpt) ? (JSON.parse(fs.readFileSync(ckpt, "utf8")) as { step: number }).step : 0;
    for (; step < 4; step++) {
      if (step === 2 && !fs.existsSync(path.join(dir, "crashed"))) {
        fs.writeFileSync(path.join(dir, "crashed"), "");
        throw new Error("killed at step 2");
      }
      steps.push(step);
      fs.writeFileSync(ckpt, JSON.stringify({ step: step + 1 }));
    }
    return { eval: { cells } };
  };
  await assert.rejects(store.ensure(cfg, "x", exec), /killed at step 2/);
  const dir = store.runDir(cfg);
  assert.equal(fs.existsSync(path.join(dir, "done")), false);
  assert.equal(fs.existsSync(path.join(dir, "lock")), false, "the lock is released when execute throws");
  assert.deepEqual(store.unfinished(), [dir]);
  assert.throws(() => store.load(dir), /not finished/);
  const rec = await store.ensure(cfg, "x", exec);
  assert.deepEqual(steps, [0, 1, 2, 3]);
  assert.equal(rec.rows.length, 2);
  assert.deepEqual(store.unfinished(), []);
});

test("two processes ensuring the same run: one executes, both get the same valid run", async () => {
  const root = tmp();
  const counter = path.join(tmp(), "counter");
  const child = path.join(__dirname, "run-child.ts");
  const runOne = () =>
    new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ["--import", "tsx", child, root, counter, "1500"], {
        cwd: path.join(__dirname, "..", ".."),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (err += d.toString()));
      p.on("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${err}`))));
    });
  const [a, b] = await Promise.all([runOne(), runOne()]);
  assert.equal(a, b);
  assert.deepEqual(JSON.parse(a), { id: runKey({ seed: 3, lr: 0.001 }), rows: 1 });
  assert.equal(fs.readFileSync(counter, "utf8").trim().split("\n").length, 1, "execute ran exactly once");
  const store = new RunStore(root);
  assert.equal(store.list().length, 1);
  assert.equal(fs.existsSync(path.join(store.list()[0].dir, "lock")), false);
});

test("a stale lock left by a dead process is broken", async () => {
  const store = new RunStore(tmp(), { pollMs: 10 });
  const dir = store.runDir(cfg);
  fs.mkdirSync(dir, { recursive: true });
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
  fs.writeFileSync(path.join(dir, "lock"), JSON.stringify({ pid: dead, host: os.hostname(), startedAt: "then" }));
  let calls = 0;
  const rec = await store.ensure(cfg, cfg.name, async () => {
    calls++;
    return { eval: { cells } };
  });
  assert.equal(calls, 1);
  assert.equal(rec.rows.length, 2);
});

test("a lock from another host is broken once its heartbeat is older than staleMs", async () => {
  const store = new RunStore(tmp(), { pollMs: 10, staleMs: 50 });
  const dir = store.runDir(cfg);
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, "lock");
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "another-host", startedAt: "then" }));
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(lock, old, old);
  let calls = 0;
  await store.ensure(cfg, cfg.name, async () => {
    calls++;
    return { eval: { cells } };
  });
  assert.equal(calls, 1);
});

test("a run held by a live process is waited for, then returned", async () => {
  const store = new RunStore(tmp(), { pollMs: 10 });
  const dir = store.runDir(cfg);
  fs.mkdirSync(dir, { recursive: true });
  // pretend the test's parent (alive) holds the lock, and finish the run "from there" a little later
  fs.writeFileSync(
    path.join(dir, "lock"),
    JSON.stringify({ pid: process.ppid, host: os.hostname(), startedAt: "now" }),
  );
  setTimeout(() => {
    fs.writeFileSync(
      path.join(dir, "run.json"),
      JSON.stringify({
        format: RUN_FORMAT,
        names: [cfg.name],
        hash: runKey(cfg),
        config: { seed: cfg.seed, model: cfg.model },
      }),
    );
    fs.writeFileSync(path.join(dir, "eval.json"), JSON.stringify({ format: RUN_FORMAT, result: { eval: { cells } } }));
    fs.writeFileSync(path.join(dir, "done"), JSON.stringify({ format: RUN_FORMAT, finishedAt: "now" }));
  }, 100);
  let calls = 0;
  const rec = await store.ensure(cfg, cfg.name, async () => {
    calls++;
    return {};
  });
  assert.equal(calls, 0);
  assert.equal(rec.rows.length, 2);
});

async function finished(): Promise<{ store: RunStore; dir: string }> {
  const store = new RunStore(tmp());
  const rec = await store.ensure(cfg, cfg.name, async () => ({ eval: { cells } }));
  return { store, dir: rec.dir };
}

test("a corrupt run.json or eval.json is reported with its path and the fix", async () => {
  for (const file of ["run.json", "eval.json", "done"]) {
    const { store, dir } = await finished();
    const f = path.join(dir, file);
    fs.writeFileSync(f, "{ not json");
    assert.throws(
      () => store.load(dir),
      (e: Error) =>
        e.message.includes(f) && /corrupt/.test(e.message) && e.message.includes(`delete the directory ${dir}`),
    );
    await assert.rejects(
      store.ensure(cfg, cfg.name, async () => ({})),
      /corrupt/,
    );
    assert.throws(() => store.list(), /corrupt/);
  }
});

test("an eval.json whose accuracy cells are malformed is reported", async () => {
  const { store, dir } = await finished();
  const f = path.join(dir, "eval.json");
  fs.writeFileSync(f, JSON.stringify({ format: RUN_FORMAT, result: { eval: { cells: [{ benchmark: "sc" }] } } }));
  assert.throws(
    () => store.load(dir),
    (e: Error) => e.message.includes(f) && /cell 0 lacks/.test(e.message),
  );
});

test("a run directory of another format version is refused, not reused", async () => {
  const { store, dir } = await finished();
  const f = path.join(dir, "run.json");
  const meta = JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, unknown>;
  fs.writeFileSync(f, JSON.stringify({ ...meta, format: RUN_FORMAT + 1 }));
  assert.throws(
    () => store.load(dir),
    (e: Error) =>
      e.message.includes(f) && e.message.includes(`format ${RUN_FORMAT + 1}`) && /delete the directory/.test(e.message),
  );
  // an unfinished directory of an old version is refused too when a run resumes in it
  fs.unlinkSync(path.join(dir, "done"));
  let calls = 0;
  await assert.rejects(
    store.ensure(cfg, cfg.name, async () => {
      calls++;
      return {};
    }),
    /run format/,
  );
  assert.equal(calls, 0);
});

test("a hand-edited run.json no longer matches its hash", async () => {
  const { store, dir } = await finished();
  const f = path.join(dir, "run.json");
  const meta = JSON.parse(fs.readFileSync(f, "utf8")) as { config: { seed: number } };
  meta.config.seed = 99;
  fs.writeFileSync(f, JSON.stringify(meta));
  assert.throws(() => store.load(dir), /does not match its hash/);
});

test("execute must return results or write eval.json", async () => {
  const store = new RunStore(tmp());
  await assert.rejects(
    store.ensure(cfg, cfg.name, async () => undefined),
    /wrote no eval.json/,
  );
});

test("metrics.jsonl: a resumed run's repeated steps keep the last, a torn last line is skipped, a broken line is an error", () => {
  const dir = tmp();
  const f = path.join(dir, "metrics.jsonl");
  fs.writeFileSync(
    f,
    ['{"step":0,"loss":3}', '{"step":1,"loss":2.5}', '{"step":1,"loss":2.4}', '{"step":2,"lo'].join("\n"),
  );
  assert.deepEqual(readMetrics(f), [
    { step: 0, loss: 3 },
    { step: 1, loss: 2.4 },
  ]);
  fs.writeFileSync(f, ['{"step":0,"loss":3}', "garbage", '{"step":1,"loss":2}', ""].join("\n"));
  assert.throws(() => readMetrics(f), /line 2 is corrupt/);
  assert.deepEqual(readMetrics(path.join(dir, "none.jsonl")), []);
});

test("CSV export and a danfo DataFrame of the rows", async () => {
  const { store } = await finished();
  const rows = store.toRows().map((r) => ({ ...r, group: { mixRatio: "1:2", model: "ignored" } }));
  const csv = toCsv(rows);
  const lines = csv.trim().split("\n");
  // `code` is the code that made the run (experiment/provenance.ts)
  assert.equal(lines[0], "run,model,benchmark,direction,accuracy,n,seed,code,mixRatio");
  assert.match(lines[1], /^[0-9a-f]{12},lst-static,sc,S2S,0.6,10,1,lib:[0-9a-f]{12},1:2$/);
  assert.equal(
    toCsv([{ ...rows[0], model: 'a,"b"' }])
      .split("\n")[1]
      .split(",")[1],
    '"a',
  );
  const out = path.join(tmp(), "rows.csv");
  store.exportCsv(out);
  assert.equal(fs.readFileSync(out, "utf8").split("\n").length, 4);
  const df = await store.toDataFrame(rows);
  assert.deepEqual(df.shape, [2, 9]);
  assert.deepEqual(df.columns, ["run", "model", "benchmark", "direction", "accuracy", "n", "seed", "code", "mixRatio"]);
});

test("run names are made safe for directory names", () => {
  assert.equal(safeName("lst curriculum/1:2"), "lst_curriculum_1_2");
  assert.throws(() => safeName("///"), /no usable characters/);
});
