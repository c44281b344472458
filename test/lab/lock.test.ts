import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { RunStore } from "../../lib/experiment/runs";
import { acquireLock, judgeLock, lockNow, procStart, tryLock } from "../../lib/experiment/lock";

const ROOT = path.join(__dirname, "..", "..");
const CHILD = path.join(__dirname, "lock-child.ts");
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-lock-"));
  made.push(d);
  return d;
};
const kids: ChildProcess[] = [];
after(() => {
  for (const k of kids) if (k.exitCode === null) k.kill("SIGKILL");
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cells = [{ benchmark: "sc", direction: "S2S", n: 2, correct: 1, accuracy: 0.5, chance: 0.5 }];
const lockText = (x: object): string => JSON.stringify(x);

function child(args: string[]): { p: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const p = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  kids.push(p);
  let out = "";
  p.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => p.on("exit", (code) => r(code)));
  return { p, out: () => out, exited };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test("five processes racing on one store, through stale locks of dead processes: each run is computed once", async () => {
  const root = tmp();
  const counters = tmp();
  // seed two runs with locks of a dead process: the racers must take each over exactly once
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
  const store = new RunStore(root);
  for (const name of ["r0", "r1"]) {
    const dir = store.runDir({ name, seed: 1, run: name });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "lock"),
      lockText({
        host: os.hostname(),
        pid: dead,
        token: "x",
        startedAt: "then",
        heartbeatAt: new Date().toISOString(),
        beats: 3,
      }),
    );
  }
  const racers = Array.from({ length: 5 }, () => child(["race", root, counters, "300", "60000"]));
  const codes = await Promise.all(racers.map((r) => r.exited));
  assert.deepEqual(codes, [0, 0, 0, 0, 0], racers.map((r) => r.out()).join("\n"));
  const ids = racers.map((r) => r.out().trim().split("\n").pop());
  assert.equal(new Set(ids).size, 1, "every racer got the same three runs");
  for (const name of ["r0", "r1", "r2"])
    assert.equal(
      fs.readFileSync(path.join(counters, name), "utf8").trim().split("\n").length,
      1,
      `${name} computed once`,
    );
  assert.equal(store.list().length, 3);
  for (const r of store.list())
    assert.deepEqual(
      fs.readdirSync(r.dir).sort(),
      ["done", "eval.json", "provenance.json", "run.json"],
      "no lock or temp file is left",
    );
});

test("the heartbeat advances while the holder's event loop is blocked, and a holder killed with SIGKILL is taken over at once", async () => {
  const dir = tmp();
  const file = path.join(dir, "lock");
  const h = child(["hold", file, "100", "2000"]);
  await until(() => h.out().includes("held"), "the holder");
  const first = JSON.parse(fs.readFileSync(file, "utf8")) as {
    beats: number;
    heartbeatAt: string;
    token: string;
    procStart?: string;
  };
  await sleep(1000);
  assert.ok(!h.out().includes("blocked-done"), "still inside its blocking loop");
  const later = JSON.parse(fs.readFileSync(file, "utf8")) as { beats: number; heartbeatAt: string; token: string };
  assert.ok(later.beats > first.beats, `beats ${first.beats} -> ${later.beats} while the main thread was busy`);
  assert.notEqual(later.heartbeatAt, first.heartbeatAt);
  assert.equal(later.token, first.token);
  if (process.platform === "linux") assert.equal(first.procStart, procStart(h.p.pid as number));

  // a live holder is waited on; lockNow refuses, naming it
  assert.throws(
    () => lockNow(file),
    (e: Error) => e.message.includes(`pid ${h.p.pid}`) && /Another process works in this directory/.test(e.message),
  );
  h.p.kill("SIGKILL");
  await h.exited;
  const lines: string[] = [];
  const lock = await acquireLock(file, { pollMs: 20, log: (l) => lines.push(l) });
  assert.ok(lock);
  assert.match(lines.join("\n"), new RegExp(`pid ${h.p.pid} since \\S+, which is gone: taking it over`));
  lock.release();
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(dir), [], "nothing left behind");
});

test("a holder on another host is waited on while its heartbeat moves, and taken over once it stops", async () => {
  const dir = tmp();
  const file = path.join(dir, "lock");
  const info = { host: "node-elsewhere", pid: process.pid, token: "t1", startedAt: new Date().toISOString(), beats: 0 };
  const beat = () => {
    info.beats++;
    fs.writeFileSync(file, lockText({ ...info, heartbeatAt: new Date().toISOString() }));
  };
  beat();
  const timer = setInterval(beat, 100);
  const lines: string[] = [];
  let got = false;
  const waiting = acquireLock(file, { pollMs: 20, staleMs: 800, noticeMs: 60_000, log: (l) => lines.push(l) }).then(
    (l) => {
      got = true;
      return l;
    },
  );
  await sleep(2000); // 2.5x the stale limit, with a heartbeat every 100 ms
  assert.equal(got, false, "a lock whose heartbeat moves is never taken over");
  assert.equal(lines.length, 1, `the waiter says what it waits for once: ${lines.join(" | ")}`);
  assert.match(lines[0], /waiting for .*lock: held by host node-elsewhere pid \d+ .*heartbeat 0 s ago/);
  clearInterval(timer);
  const lock = await waiting;
  assert.ok(lock);
  assert.match(
    lines[lines.length - 1],
    /held by host node-elsewhere .* has a heartbeat \d+ s old \(stale after 1 s\): taking it over/,
  );
  lock.release();

  // a heartbeat time already older than the limit: taken over at once, without watching it
  fs.writeFileSync(file, lockText({ ...info, heartbeatAt: new Date(Date.now() - 10 * 60_000).toISOString() }));
  assert.equal(judgeLock(file, fs.readFileSync(file, "utf8"), Date.now(), 0, 120_000).stale, true);
  const l2 = lockNow(file, { log: () => undefined });
  l2.release();
});

test("a reused pid (a live process that is not the holder) is taken over at once; without a start time, once the heartbeat stops", async () => {
  const file = path.join(tmp(), "lock");
  // the test runner's own pid is alive, but it was not started at the time this lock records
  const now = new Date().toISOString();
  const raw = lockText({
    host: os.hostname(),
    pid: process.ppid,
    token: "t",
    startedAt: now,
    heartbeatAt: now,
    beats: 1,
    procStart: "1",
  });
  if (process.platform === "linux") {
    const v = judgeLock(file, raw, Date.now(), 0, 120_000);
    assert.equal(v.stale, true);
    assert.match(v.message, /that pid now belongs to another process/);
  }
  // no start time recorded: the heartbeat decides, so a live unrelated pid cannot hold the lock forever
  const noStart = lockText({
    host: os.hostname(),
    pid: process.ppid,
    token: "t",
    startedAt: now,
    heartbeatAt: now,
    beats: 1,
  });
  assert.equal(judgeLock(file, noStart, Date.now(), 0, 120_000).stale, false);
  assert.equal(judgeLock(file, noStart, Date.now(), 120_000, 120_000).stale, true);
  fs.writeFileSync(file, noStart);
  const lock = await acquireLock(file, { pollMs: 20, staleMs: 300, log: () => undefined });
  assert.ok(lock);
  lock.release();
});

test("an empty or garbage lock is taken over once it stays unchanged for the stale limit, with a message", async () => {
  for (const content of ["", "{ garbage"]) {
    const file = path.join(tmp(), "lock");
    fs.writeFileSync(file, content);
    const v = judgeLock(file, content, Date.now(), 0, 120_000);
    assert.equal(v.stale, false);
    assert.match(
      v.message,
      content === ""
        ? /is empty \(a writer killed while creating it\?\): it is taken over if it stays so for 120 s/
        : /not a lab lock/,
    );
    const lines: string[] = [];
    const lock = await acquireLock(file, { pollMs: 20, staleMs: 300, log: (l) => lines.push(l) });
    assert.ok(lock);
    assert.match(lines.join("\n"), /has not changed for \d+ s: taking it over/);
    lock.release();
  }
});

test("a holder whose lock was taken over finds out at its next check, and does not delete the new holder's lock", async () => {
  const file = path.join(tmp(), "lock");
  const a = tryLock(file, { heartbeatMs: 50 });
  assert.ok(a);
  a.check(); // still ours
  assert.equal(tryLock(file), null, "exclusive");
  // another process judged it stale and replaced it
  fs.renameSync(file, `${file}.gone`);
  const b = tryLock(file);
  assert.ok(b);
  await sleep(1100);
  assert.throws(() => a.check(), /lost the lock .* now held by host .* pid \d+/);
  a.release();
  assert.equal(fs.existsSync(file), true, "the new holder's lock is kept");
  b.check();
  b.release();
  assert.equal(fs.existsSync(file), false);
});

test("two scripts/train.ts on one --runDir: the second refuses while the first trains; after a SIGKILL a third resumes", async () => {
  const runDir = path.join(tmp(), "run");
  const args = [
    "scripts/train.ts",
    "--model.kind=baseline",
    "--model.dModel=32",
    "--model.nLayers=1",
    "--model.nHeads=2",
    "--train.steps=300",
    "--train.batchSize=2",
    "--train.seqLen=32",
    "--train.globalLen=32",
    "--train.ckptEvery=20",
    "--train.logEvery=0",
    `--runDir=${runDir}`,
  ];
  const start = () => {
    const p = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    kids.push(p);
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    return { p, out: () => out, exited: new Promise<number | null>((r) => p.on("exit", (c) => r(c))) };
  };
  const metrics = path.join(runDir, "metrics.jsonl");
  const lines = () =>
    fs.existsSync(metrics)
      ? fs
          .readFileSync(metrics, "utf8")
          .split("\n")
          .filter((l) => l.trim() !== "")
      : [];
  const first = start();
  await until(
    () => lines().length >= 25 || first.p.exitCode !== null,
    "the first copy to train past its first checkpoint",
  );
  const second = start();
  const code2 = await second.exited;
  assert.equal(first.p.exitCode, null, "the first copy was still training when the second gave up");
  assert.equal(code2, 1);
  assert.match(
    second.out(),
    new RegExp(`held by host ${os.hostname()} pid ${first.p.pid} .*Another process works in this directory`),
  );
  first.p.kill("SIGKILL");
  await first.exited;
  const third = start();
  assert.equal(await third.exited, 0, third.out());
  assert.match(third.out(), /done: baseline, .* steps [1-9]\d*\.\.300/);
  const steps = lines().map((l) => (JSON.parse(l) as { step: number }).step);
  assert.deepEqual(
    steps,
    Array.from({ length: 300 }, (_, i) => i),
    "every step logged once, in order",
  );
  assert.equal(fs.existsSync(path.join(runDir, "lock")), false);
});
