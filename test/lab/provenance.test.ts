import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { RunStore } from "../../lib/experiment/runs";
import {
  codeHash,
  codeWarning,
  gitInfo,
  moveRunAside,
  provenanceNow,
  readProvenance,
  runCode,
  runFreshness,
  PROVENANCE_FILE,
  UNKNOWN_CODE,
} from "../../lib/experiment/provenance";

const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-prov-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const cells = [{ benchmark: "sc", direction: "S2S", n: 10, correct: 6, accuracy: 0.6, chance: 0.5 }];
const exec = async () => ({ eval: { cells } });

test("provenance names the code, git state, packages, backend and CPU of this process", () => {
  const p = provenanceNow();
  assert.match(p.code, /^lib:[0-9a-f]{12}$/);
  assert.equal(p.code, provenanceNow().code, "the code key is stable within a process");
  assert.equal(p.packages.node, process.version);
  assert.match(p.packages["tfjs-core"], /^\d+\.\d+\.\d+$/);
  assert.ok(p.packages.libtensorflow.length > 0 && p.backend.length > 0);
  assert.match(p.cpu, /^\d+ x .+/);
  // this checkout is a git repository (a worktree); its state is recorded, dirty or not
  assert.equal(p.git.available, true, JSON.stringify(p.git));
  if (p.git.available) {
    assert.match(p.git.commit, /^[0-9a-f]{40}$/);
    assert.equal(p.git.dirty, p.git.diffHash !== null);
  }
});

test("without git, or outside a repository, provenance says why instead of failing", () => {
  const notRepo = gitInfo(tmp());
  assert.equal(notRepo.available, false);
  if (!notRepo.available) assert.match(notRepo.why, /not a git repository|git failed/);
  const noGit = gitInfo(process.cwd(), path.join(tmp(), "no-such-git"));
  assert.deepEqual(noGit.available, false);
  if (!noGit.available) assert.match(noGit.why, /git is not installed/);
});

test("the code key follows result-making files under lib/, not the presentation ones", () => {
  const lib = tmp();
  for (const d of ["viz", "model", "experiment"]) fs.mkdirSync(path.join(lib, d));
  fs.writeFileSync(path.join(lib, "model", "lst.ts"), "export const a = 1;\n");
  fs.writeFileSync(path.join(lib, "viz", "tables.ts"), "export const t = 1;\n");
  const a = codeHash(lib);
  fs.writeFileSync(path.join(lib, "viz", "tables.ts"), "export const t = 2;\n");
  fs.writeFileSync(path.join(lib, "viz", "new-figure.ts"), "export const f = 1;\n");
  fs.writeFileSync(path.join(lib, "experiment", "runs.ts"), "export const r = 1;\n");
  fs.writeFileSync(path.join(lib, "experiment", "findings.ts"), "export const claims = [];\n");
  assert.equal(
    codeHash(lib),
    a,
    "presentation (viz/, a table, a new figure), the run store and the report's findings do not change runs",
  );
  fs.writeFileSync(path.join(lib, "model", "lst.ts"), "export const a = 2;\n");
  const b = codeHash(lib);
  assert.notEqual(b, a, "the model's code does");
  fs.writeFileSync(path.join(lib, "experiment", "new-stage.ts"), "export const n = 1;\n");
  assert.notEqual(codeHash(lib), b, "a new experiment file counts as code until listed as presentation");
});

test("the run store records provenance per start; a run without it loads as unknown code", async () => {
  const store = new RunStore(tmp());
  const cfg = { name: "b", seed: 1 };
  const rec = await store.ensure(cfg, "b", exec);
  const p = readProvenance(rec.dir);
  assert.equal(p?.segments.length, 1);
  assert.equal(rec.code, provenanceNow().code);
  assert.equal(rec.rows[0].code, rec.code, "rows carry the code, so tables can compare it");
  assert.equal(runFreshness(rec.dir), "current");
  // a run resumed under other code is 'mixed', which is stale for everybody
  const seg = { ...p!.segments[0], code: "lib:000000000000" };
  fs.writeFileSync(path.join(rec.dir, PROVENANCE_FILE), JSON.stringify({ format: 1, segments: [seg, p!.segments[0]] }));
  assert.equal(runCode(readProvenance(rec.dir)), `mixed:lib:000000000000+${rec.code}`);
  assert.equal(runFreshness(rec.dir), "stale");
  // an old run store: no provenance.json at all
  fs.rmSync(path.join(rec.dir, PROVENANCE_FILE));
  const old = store.load(rec.dir);
  assert.equal(old.provenance, null);
  assert.equal(old.code, UNKNOWN_CODE);
  assert.equal(old.rows[0].code, UNKNOWN_CODE);
  assert.equal(runFreshness(rec.dir), "unknown");
  fs.writeFileSync(path.join(rec.dir, PROVENANCE_FILE), "{not json");
  assert.throws(() => store.load(rec.dir), /provenance .* is corrupt .*delete the directory/);
});

test("tables warn when the runs compared come from different code, and once for unknown code", () => {
  const row = (run: string, code?: string) => ({ run, code });
  assert.equal(codeWarning([row("a", "lib:1"), row("b", "lib:1")], "lib:1"), null);
  assert.equal(codeWarning([row("a"), row("b")], "lib:1"), null, "hand-made rows carry no code and are not judged");
  const mixed = codeWarning([row("a", "lib:1"), row("a", "lib:1"), row("b", "lib:2"), row("c", UNKNOWN_CODE)], "lib:2");
  assert.ok(mixed);
  assert.match(mixed, /2 different versions of the code/);
  assert.match(mixed, /1 run from lib:1;/, "runs are counted once, not per row");
  assert.match(mixed, /1 run from lib:2 \(the code running now\)/);
  assert.match(mixed, /1 run from unknown code/);
  assert.match(mixed, /--rerun-stale/);
  const legacy = codeWarning([row("a", UNKNOWN_CODE), row("b", UNKNOWN_CODE)], "lib:2");
  assert.match(legacy ?? "", /no record of the code .*2 runs from unknown code/);
});

test("a stale run moves aside whole, so the next ensure trains it again", async () => {
  const root = path.join(tmp(), "runs");
  const store = new RunStore(root);
  const cfg = { name: "b", seed: 1 };
  let calls = 0;
  const rec = await store.ensure(cfg, "b", async () => {
    calls++;
    fs.writeFileSync(path.join(store.runDir(cfg), "checkpoint.bin"), "weights");
    return { eval: { cells } };
  });
  const files = fs.readdirSync(rec.dir).sort();
  const aside = moveRunAside(rec.dir);
  assert.equal(fs.existsSync(rec.dir), false);
  assert.equal(path.dirname(aside), `${root}-stale`);
  assert.deepEqual(fs.readdirSync(aside).sort(), files, "every file moved, none lost");
  await store.ensure(cfg, "b", exec);
  assert.equal(calls, 1);
  assert.equal(runFreshness(rec.dir), "current");
  // an unfinished or locked run is never moved
  const partial = path.join(root, "x-1");
  fs.mkdirSync(partial);
  assert.throws(() => moveRunAside(partial), /not finished/);
  fs.writeFileSync(path.join(rec.dir, "lock"), "{}");
  assert.throws(() => moveRunAside(rec.dir), /locked/);
});
